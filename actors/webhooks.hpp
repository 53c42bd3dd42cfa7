// The webhooks actor: the one webhook system of hlsgate. It owns the
// registered endpoints, every pending delivery and their retry timers; it
// writes each change to its store before it answers or sends (a detached
// actor: SQLite's fsync never runs on a scheduler thread). POSTs go out
// through net::http_poster on a thread of their own, so a slow or dead
// endpoint only ever waits on itself: each endpoint has its own queue and at
// most `per_endpoint_in_flight` deliveries on the wire.
#pragma once

#include <functional>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "actors/webhook_store.hpp"

namespace hlsgate::actors {

struct webhooks_params {
  std::shared_ptr<webhook_store> store;
  bool allow_private = false;   ///< HLSGATE_WEBHOOK_ALLOW_PRIVATE
  int64_t retry_base_ms = 1000; ///< HLSGATE_WEBHOOK_RETRY_BASE_MS
  metrics::registry* metrics = nullptr;
  std::function<int64_t()> now_ms; ///< unix milliseconds
};

inline constexpr size_t per_endpoint_in_flight = 4;

/// Loads the endpoints and the pending deliveries (resuming them) and runs.
webhooks_actor spawn_webhooks(caf::actor_system& sys, webhooks_params p);

} // namespace hlsgate::actors
