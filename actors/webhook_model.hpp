// Webhooks: what is registered, what is delivered, and the pure rules
// around them (event names, header checks, the envelope, the signature, the
// retry schedule). The webhooks actor (actors/webhooks.hpp) applies them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlsgate::actors {

/// A registered endpoint. `secret` signs its deliveries; it is returned
/// once, by the registration.
struct webhook {
  std::string id;
  std::string url;
  std::vector<std::string> events;
  std::vector<std::pair<std::string, std::string>> headers; ///< sent with every delivery
  unsigned timeout_seconds = 10;
  unsigned retry_attempts = 3;
  std::string secret;
  int64_t created_at = 0;

  bool wants(std::string_view event_type) const;
};

enum class delivery_state { pending, delivered, failed };
std::string_view to_string(delivery_state s);
bool from_string(std::string_view s, delivery_state& out);

/// One event for one endpoint. Durable from the moment it is queued.
struct webhook_delivery {
  std::string id;
  std::string webhook_id;
  std::string event_id;
  std::string event_type;
  std::string body; ///< the envelope, exactly as signed and sent
  int64_t created_at = 0;
  int64_t updated_at = 0;
  unsigned attempts = 0;  ///< made so far
  int64_t next_at_ms = 0; ///< unix milliseconds of the next attempt (pending only)
  delivery_state state = delivery_state::pending;
  unsigned last_status = 0; ///< HTTP status of the last attempt; 0 = no answer
  std::string last_error;
};

/// Something that happened, for the endpoints that want it.
struct webhook_event {
  std::string type;        ///< e.g. "media.ready"
  std::string subject_key; ///< "media_id" or "stream_id"
  std::string subject_id;
  std::string data_json = "{}"; ///< the envelope's "data" object
};

/// Which webhooks a delete or test names: by id, or every one with a URL.
struct webhook_selector {
  std::string id;
  std::string url;
};

namespace webhook_rules {

inline constexpr unsigned max_timeout_seconds = 30;
inline constexpr unsigned max_retry_attempts = 10;
inline constexpr size_t max_headers = 20;
inline constexpr size_t max_header_bytes = 1024;
inline constexpr size_t max_webhooks = 100;
/// Finished deliveries kept per endpoint for GET /webhooks/{id}/deliveries.
inline constexpr size_t kept_deliveries = 100;
/// Pending deliveries per endpoint beyond which new events are dropped (and
/// recorded as failed): a dead endpoint cannot fill memory.
inline constexpr size_t max_pending = 10000;
/// No attempt is made for a delivery older than this (e.g. after a long
/// outage of hlsgate itself).
inline constexpr int64_t max_age_seconds = 24 * 3600;
/// Longest wait between two attempts.
inline constexpr int64_t max_delay_ms = 5 * 60 * 1000;

/// Every event type an endpoint can ask for.
const std::vector<std::string>& event_types();
bool known_event(std::string_view type);

/// Why a custom header cannot be sent (empty = it can): names are RFC 9110
/// tokens other than those hlsgate sets or that frame the message; values
/// have no control characters; both bounded.
std::string header_refusal(std::string_view name, std::string_view value);

/// The envelope every event is sent in (the shape m3u-proxy uses):
/// {"event_id", "event_type", "timestamp", <subject_key>, "data"}.
std::string envelope(const std::string& event_id, const webhook_event& e, int64_t unix_seconds);

/// The HLSGATE-Signature header value: "t=<unix seconds>,v1=<hex
/// HMAC-SHA256(secret, t + "." + body)>" (as Stripe and Mux sign).
std::string signature(std::string_view secret, int64_t unix_seconds, std::string_view body);

/// Whether another attempt could succeed after an answer `status` (0 = no
/// answer): yes for no answer, 408, 425, 429 and 5xx; no for other 4xx and
/// for redirects (which are never followed).
bool worth_retrying(unsigned status);

/// The wait before attempt `attempt` + 1 after `attempt` failed attempts:
/// base * 2^(attempt-1), capped at max_delay_ms, then scaled by
/// 0.5 + 0.5 * `jitter` (jitter in [0, 1)) so endpoints that fail together
/// do not retry together.
int64_t retry_delay_ms(unsigned attempt, int64_t base_ms, double jitter);

} // namespace webhook_rules

} // namespace hlsgate::actors
