// The JSON of /webhooks (field names as m3u-proxy's API has them): the
// registration body parsed strictly, and what the API answers. Pure.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/webhook_model.hpp"

namespace hlsgate::http {

/// POST /webhooks {"url", "events", "headers", "timeout", "retry_attempts"}
/// into `out`. The URL must be http(s) (net::parse_url); unless
/// `allow_private`, an IP literal must be globally routable and "localhost"
/// is refused (names are checked again, by their addresses, at every
/// delivery). "" when valid, else a short reason.
std::string parse_webhook(std::string_view body, bool allow_private, actors::webhook& out);

/// An endpoint as listed (header names only: their values may be
/// credentials); `with_secret` for the registration's answer.
nlohmann::json webhook_json(const actors::webhook& w, bool with_secret);

/// One delivery as GET /webhooks/{id}/deliveries lists it.
nlohmann::json delivery_json(const actors::webhook_delivery& d);

} // namespace hlsgate::http
