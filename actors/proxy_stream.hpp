// One actor per proxied stream: it owns the stream's registration, which
// upstream URL is current (failover), the short cache of upstream fetches
// that viewers share (coalescing), the continuous stream's pump and the
// stream's clients and counters. Upstream bodies are read by pumps on
// threads of their own (actors/proxy_fetch.hpp); viewers read them through
// shared_fetch readers, so no byte of a segment passes through a mailbox.
//
//   service ──► proxy_actor ──spawns──► pump (own thread, net::http_reader)
//      ▲ directory   │ ▲ fetched / pump ended / viewer left     │
//      └─ snapshots ◄┘ └────────────────────────────────────────┘
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/proxy_fetch.hpp"
#include "actors/proxy_model.hpp"
#include "actors/proxy_store.hpp"
#include "proxy/reference.hpp"

namespace hlsgate::actors {

using proxy_actor = caf::typed_actor<
    // viewers (through the service)
    caf::reacts_to<playlist_atom, proxy_viewer, int32_t, std::string, completion<proxy_body>>,
    caf::reacts_to<segment_atom, proxy_viewer, proxy::ref_payload, completion<proxy_body>>,
    caf::reacts_to<run_atom, proxy_viewer, completion<proxy_body>>,
    // operators
    caf::reacts_to<info_atom, completion<proxy_stream_info>>,
    caf::reacts_to<delete_atom, completion<done>>,
    caf::reacts_to<failover_atom, std::string, completion<proxy_stream_info>>,
    caf::reacts_to<refresh_atom, completion<proxy_stream_info>>, // a new viewer-token generation
    caf::reacts_to<client_del_atom, std::string, completion<done>>,
    // its pumps, fetches and viewers' connections
    caf::reacts_to<fetched_atom, std::string>, caf::reacts_to<pump_atom, uint64_t, std::string>,
    caf::reacts_to<left_atom, std::string, uint64_t, bool>,
    // its timer
    caf::reacts_to<tick_atom>>;

/// The streams of this process: id -> actor and its latest snapshot.
class proxy_directory {
public:
  void put(const std::string& id, proxy_actor a, proxy_stream_info info);
  void update(const proxy_stream_info& info);
  void erase(const std::string& id);
  proxy_actor find(const std::string& id, proxy_config* config = nullptr) const;
  /// True when a stream with the same URL and metadata is registered (or
  /// being registered); `found` gets its registration.
  bool find_same(const proxy_config& wanted, proxy_config& found) const;
  std::vector<proxy_stream_info> list() const;
  size_t size() const;
  /// Empties the directory (shutdown): every actor it held.
  std::vector<proxy_actor> clear();

private:
  struct entry {
    proxy_actor actor;
    proxy_stream_info info;
  };
  mutable std::mutex mu_;
  std::map<std::string, entry> entries_;
};

/// What every stream actor shares.
struct proxy_env {
  bool allow_private = false; ///< HLSGATE_ALLOW_PRIVATE_UPSTREAMS
  std::shared_ptr<proxy_store> store;
  std::shared_ptr<const proxy::reference_codec> refs;
  std::string client_key; ///< derive_client_id's key
  std::shared_ptr<proxy_directory> directory;
  event_sink events;
  metrics::registry* metrics = nullptr;
  std::function<int64_t()> now_ms; ///< unix milliseconds
  /// On a failover URL this long: the primary is checked again (HLSGATE_PROXY_PRIMARY_RETRY_S).
  int64_t primary_retry_ms = 60000;
};
using proxy_env_ptr = std::shared_ptr<const proxy_env>;

struct proxy_params {
  proxy_env_ptr env;
  proxy_config config;
  /// A new stream: the actor writes its record first and only then answers.
  bool fresh = false;
  proxy_created created;
  completion<proxy_created> creator;
};

proxy_actor spawn_proxy_stream(caf::actor_system& sys, proxy_params p);

/// Timing of the proxy (tests shorten none of it).
namespace proxy_timing {
inline constexpr int64_t tick_ms = 2000;
inline constexpr int64_t client_idle_ms = 30000; ///< an HLS client without a request this long left
inline constexpr int64_t live_playlist_ttl_ms = 1000;
inline constexpr int64_t vod_playlist_ttl_ms = 10000;
inline constexpr int64_t segment_ttl_ms = 30000;
inline constexpr size_t cache_bytes = 64u << 20; ///< finished bodies kept per stream
inline constexpr size_t ring_bytes = 4u << 20;   ///< a continuous stream's shared ring
inline constexpr int64_t reference_lifetime_s = 24 * 3600;
} // namespace proxy_timing

} // namespace hlsgate::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::proxy_viewer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::proxy::ref_payload)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::proxy_body>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::proxy_stream_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::proxy_created>)
