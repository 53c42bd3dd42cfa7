// Every error becomes an HTTP response here and nowhere else: the body is
// {"detail": "..."} (short, user-safe text: never a filesystem path), and
// the headers that belong to a status are added by the status itself
// (Retry-After on 429/503, RFC 9110 §10.2.3; WWW-Authenticate on 401,
// RFC 9110 §11.6.1; Allow on 405, RFC 9110 §15.5.6).
#pragma once

#include <string>
#include <string_view>

#include "actors/types.hpp"
#include "http/server.hpp"

namespace hlsgate::http {

/// The status of a service error.
unsigned to_status(actors::api_errc e) noexcept;

/// {"detail": detail} with `status` and the headers that status requires.
/// `allow` is the Allow value of a 405 (ignored otherwise).
response error_response(unsigned status, std::string_view detail, std::string_view allow = {});

/// A service error as a response (try_later: Retry-After 5, the on-demand
/// job is starting; queue_full/shutting_down/unavailable: Retry-After 30).
response error_response(const actors::api_error& e);

/// Appends `s` as the contents of a JSON string (RFC 8259 §7).
void append_json_escaped(std::string& out, std::string_view s);

} // namespace hlsgate::http
