#include "actors/webhook_model.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "auth/crypto.hpp"
#include "metrics/log.hpp"

namespace hlsgate::actors {

bool webhook::wants(std::string_view event_type) const {
  return std::find(events.begin(), events.end(), event_type) != events.end();
}

std::string_view to_string(delivery_state s) {
  switch (s) {
  case delivery_state::pending:
    return "pending";
  case delivery_state::delivered:
    return "delivered";
  case delivery_state::failed:
    return "failed";
  }
  return "failed";
}

bool from_string(std::string_view s, delivery_state& out) {
  for (auto v : {delivery_state::pending, delivery_state::delivered, delivery_state::failed})
    if (to_string(v) == s) {
      out = v;
      return true;
    }
  return false;
}

namespace webhook_rules {

const std::vector<std::string>& event_types() {
  static const std::vector<std::string> types{
      "media.ready",      "media.failed",        "media.expired",     "media.deleted",
      "media.progress",   "webhook.test",        "stream_started",    "stream_stopped",
      "client_connected", "client_disconnected", "failover_triggered"};
  return types;
}

bool known_event(std::string_view type) {
  const auto& t = event_types();
  return std::find(t.begin(), t.end(), type) != t.end();
}

std::string header_refusal(std::string_view name, std::string_view value) {
  if (name.empty() || name.size() > 100)
    return "header names are 1 to 100 characters";
  for (char c : name) {
    const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
    if (!token)
      return "header names are HTTP tokens";
  }
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static constexpr std::string_view reserved[] = {"host",
                                                  "content-length",
                                                  "content-type",
                                                  "transfer-encoding",
                                                  "connection",
                                                  "upgrade",
                                                  "te",
                                                  "trailer",
                                                  "keep-alive",
                                                  "proxy-connection",
                                                  "expect",
                                                  "user-agent",
                                                  "hlsgate-signature",
                                                  "hlsgate-event",
                                                  "hlsgate-delivery"};
  if (std::find(std::begin(reserved), std::end(reserved), lower) != std::end(reserved))
    return "header '" + lower + "' is set by hlsgate";
  if (value.size() > max_header_bytes)
    return "header values are at most 1024 bytes";
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f)
      return "header values cannot contain control characters";
  }
  return {};
}

std::string envelope(const std::string& event_id, const webhook_event& e, int64_t unix_seconds) {
  using json = nlohmann::ordered_json;
  json j;
  j["event_id"] = event_id;
  j["event_type"] = e.type;
  j["timestamp"] = logging::utc_iso8601(static_cast<std::time_t>(unix_seconds));
  j[e.subject_key.empty() ? "media_id" : e.subject_key] = e.subject_id;
  auto data = json::parse(e.data_json, nullptr, false);
  j["data"] = data.is_object() ? data : json::object();
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string signature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string signed_text;
  signed_text.reserve(t.size() + 1 + body.size());
  signed_text.append(t).append(".").append(body);
  auto mac = auth::hmac_sha256{secret}.sign(signed_text);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "t=" + t + ",v1=";
  for (unsigned char b : mac) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

bool worth_retrying(unsigned status) {
  return status == 0 || status == 408 || status == 425 || status == 429 || status >= 500;
}

int64_t retry_delay_ms(unsigned attempt, int64_t base_ms, double jitter) {
  if (attempt == 0)
    return 0;
  double d = static_cast<double>(std::max<int64_t>(base_ms, 1)) *
             std::pow(2.0, static_cast<double>(std::min(attempt - 1, 30u)));
  d = std::min(d, static_cast<double>(max_delay_ms));
  jitter = std::clamp(jitter, 0.0, 1.0);
  return std::max<int64_t>(1, static_cast<int64_t>(d * (0.5 + 0.5 * jitter)));
}

} // namespace webhook_rules

} // namespace hlsgate::actors
