#include "http/webhooks_json.hpp"

#include <algorithm>

#include "metrics/log.hpp"
#include "net/address_policy.hpp"
#include "net/url.hpp"

namespace hlsgate::http {

namespace {

using json = nlohmann::json;
namespace rules = actors::webhook_rules;

std::string check_url(const std::string& text, bool allow_private) {
  std::string why;
  auto u = hlsgate::net::parse_url(text, why);
  if (!u)
    return "url: " + why;
  if (allow_private)
    return {};
  const bool local_name =
      u->host == "localhost" ||
      (u->host.size() > 10 && u->host.rfind(".localhost") == u->host.size() - 10);
  if (local_name)
    return "url: loopback targets are not allowed (HLSGATE_WEBHOOK_ALLOW_PRIVATE)";
  if (u->host_is_ip) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(u->host, ec);
    if (ec || !hlsgate::net::allowed(a, false))
      return "url: " + std::string{hlsgate::net::to_string(hlsgate::net::classify(a))} +
             " addresses are not allowed (HLSGATE_WEBHOOK_ALLOW_PRIVATE)";
  }
  return {};
}

} // namespace

std::string parse_webhook(std::string_view text, bool allow_private, actors::webhook& out) {
  out = {};
  auto body = json::parse(text, nullptr, false);
  if (!body.is_object())
    return "Body must be a JSON object with at least \"url\"";
  bool has_url = false, has_events = false;
  for (auto& [k, v] : body.items()) {
    if (k == "url") {
      if (!v.is_string())
        return "url must be a string";
      out.url = v.get<std::string>();
      if (auto why = check_url(out.url, allow_private); !why.empty())
        return why;
      has_url = true;
    } else if (k == "events") {
      if (!v.is_array() || v.empty())
        return "events must be a non-empty array of event types";
      for (auto& e : v) {
        if (!e.is_string() || !rules::known_event(e.get<std::string>()))
          return "unknown event type (known: media.ready, media.failed, media.expired, "
                 "media.deleted, media.progress, webhook.test, stream_started, stream_stopped, "
                 "client_connected, client_disconnected, failover_triggered)";
        auto name = e.get<std::string>();
        if (std::find(out.events.begin(), out.events.end(), name) == out.events.end())
          out.events.push_back(std::move(name));
      }
      has_events = true;
    } else if (k == "headers") {
      if (v.is_null())
        continue;
      if (!v.is_object())
        return "headers must be an object of strings";
      if (v.size() > rules::max_headers)
        return "at most 20 headers";
      for (auto& [name, value] : v.items()) {
        if (!value.is_string())
          return "headers must be an object of strings";
        if (auto why = rules::header_refusal(name, value.get<std::string>()); !why.empty())
          return why;
        out.headers.emplace_back(name, value.get<std::string>());
      }
    } else if (k == "timeout") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 ||
          v.get<int64_t>() > rules::max_timeout_seconds)
        return "timeout must be an integer in [1, 30] (seconds)";
      out.timeout_seconds = v.get<unsigned>();
    } else if (k == "retry_attempts") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
          v.get<int64_t>() > rules::max_retry_attempts)
        return "retry_attempts must be an integer in [0, 10]";
      out.retry_attempts = v.get<unsigned>();
    } else {
      return "Unknown field '" + k.substr(0, 40) + "'";
    }
  }
  if (!has_url)
    return "url is required";
  if (!has_events)
    for (auto& e : rules::event_types())
      if (e != "webhook.test" && e != "media.progress") // progress: ask for it
        out.events.push_back(e);
  return {};
}

json webhook_json(const actors::webhook& w, bool with_secret) {
  json names = json::array();
  for (auto& [k, v] : w.headers)
    names.push_back(k);
  json j{{"id", w.id},
         {"url", w.url},
         {"events", w.events},
         {"header_names", std::move(names)},
         {"timeout", w.timeout_seconds},
         {"retry_attempts", w.retry_attempts},
         {"created_at", logging::utc_iso8601(w.created_at)}};
  if (with_secret)
    j["secret"] = w.secret;
  return j;
}

json delivery_json(const actors::webhook_delivery& d) {
  json j{{"delivery_id", d.id},
         {"event_id", d.event_id},
         {"event_type", d.event_type},
         {"state", std::string{actors::to_string(d.state)}},
         {"attempts", d.attempts},
         {"last_status", d.last_status == 0 ? json(nullptr) : json(d.last_status)},
         {"last_error", d.last_error},
         {"created_at", logging::utc_iso8601(d.created_at)},
         {"updated_at", logging::utc_iso8601(d.updated_at)},
         {"next_attempt_at", nullptr}};
  if (d.state == actors::delivery_state::pending && d.next_at_ms > 0)
    j["next_attempt_at"] = logging::utc_iso8601(d.next_at_ms / 1000);
  return j;
}

} // namespace hlsgate::http
