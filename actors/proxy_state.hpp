// Private to the proxy stream actor's translation units (proxy_stream.cpp:
// the actor, its clients and timer; proxy_upstream.cpp: fetching, caching,
// failover and rewriting): the actor's state and what they share.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/proxy_stream.hpp"
#include "proxy/rewrite.hpp"

namespace hlsgate::actors::proxy_detail {

/// One upstream body in the stream's cache.
struct cache_entry {
  std::shared_ptr<shared_fetch> fetch;
  int64_t started_ms = 0;
  int64_t ttl_ms = 0; ///< of a good body; a failure is kept failure_ttl_ms
  bool playlist = false;
  uint64_t gen = 0; ///< the upstream generation it was fetched under
  /// Its failure may count towards a failover: asked for with a reference
  /// issued under the current upstream, recently (not a replayed old one).
  bool counts = true;
};

/// A failed fetch answers the same URL's requests this long (no refetch storm).
constexpr int64_t failure_ttl_ms = 2000;
/// Automatic switches (errors, not the operator's) at most this often.
constexpr int64_t min_switch_interval_ms = 10000;
/// Upstream fetches of one stream running at once; more are refused (503).
constexpr size_t max_running_fetches = 32;
/// Clients of one stream; a new one beyond is refused (503).
constexpr size_t max_clients = 1000;

/// A media playlist's numbering as served, kept across upstream switches.
struct numbering {
  uint64_t gen = 0; ///< the upstream generation last served
  int64_t seq_offset = 0, disc_offset = 0, disc_before = -1;
  bool disc_shared = false;   ///< the upstream has its own discontinuity at disc_before
  int64_t last_seq = -1;      ///< shifted sequence number of the last segment served
  int64_t last_disc = 0;      ///< discontinuity sequence number of the last segment served
  int64_t upstream_next = -1; ///< the upstream's next sequence number, last seen
  int64_t advanced_ms = 0;    ///< when upstream_next last changed (stall)
};

struct client_state {
  proxy_client_info info;
  int64_t last_ms = 0;
};

struct proxy_state {
  proxy_env_ptr env;
  proxy_config config;
  std::vector<std::string> urls; ///< the listed ones, then the resolver's latest answer
  size_t listed = 0;             ///< of urls: the primary and failover URLs
  size_t index = 0;
  uint64_t gen = 1; ///< +1 on every upstream switch
  std::map<std::string, cache_entry> cache;
  /// Requests waiting for a playlist fetch, by URL, with the fetch each waits for.
  std::map<std::string,
           std::vector<std::pair<std::shared_ptr<shared_fetch>, std::function<void()>>>>
      waiting;
  std::vector<std::string> variants; ///< of the current upstream's master playlist
  uint64_t variants_gen = 0;
  std::map<int32_t, numbering> numbers;
  std::map<std::string, int64_t> progress; ///< upstream media playlist URL -> its next sequence
  std::map<std::string, client_state> clients;
  std::shared_ptr<shared_fetch> live;           ///< the continuous stream's ring
  std::shared_ptr<media::ts_restamper> restamp; ///< its one timeline across upstreams
  std::shared_ptr<std::atomic<bool>> live_stop; ///< stops the ring's current pump
  uint64_t pump_gen = 0;
  unsigned pump_failures = 0;
  uint64_t pump_start_bytes = 0; ///< the ring's bytes when the current pump started
  unsigned segment_failures = 0;
  unsigned low_segments = 0;  ///< HLS segments in a row below min_bitrate_kbps
  double target_duration = 0; ///< of the last media playlist served (s)
  int64_t last_switch_ms = 0;
  int64_t last_primary_try_ms = 0;
  bool probing_primary = false;
  bool resolving = false; ///< the failover resolver is being asked
  rate_meter rate;        ///< the continuous upstream's bytes (low bitrate)
  /// Continuous viewers' readers, to cut one off (DELETE .../clients/{id}).
  std::map<std::string, std::weak_ptr<byte_source>> direct_readers;
  proxy_stream_info counters;
  /// Upstream body bytes its pumps read (they add; the tick reports).
  std::shared_ptr<std::atomic<uint64_t>> bytes_in = std::make_shared<std::atomic<uint64_t>>(0);
  uint64_t bytes_in_reported = 0;
  bool gone = false;

  /// The resolver's question and the primary's probes stop.
  void cancel_side_fetches() {
    for (auto& [key, w] : waiting)
      for (auto& [f, then] : w)
        f->cancel->store(true);
  }

  /// However the actor ends (deleted, shut down), no pump reads on for it.
  ~proxy_state() {
    cancel_side_fetches();
    for (auto& [url, e] : cache)
      e.fetch->cancel->store(true);
    if (live)
      live->cancel->store(true);
    if (live_stop)
      live_stop->store(true);
  }
};

using proxy_ptr = proxy_actor::stateful_pointer<proxy_state>;

int64_t now_ms(proxy_ptr self);
/// A webhook event about this stream.
void emit(proxy_ptr self, const char* type, nlohmann::json data);
/// The directory's snapshot of this stream, now.
void publish(proxy_ptr self);
/// Starts a pump on a thread of its own (proxy_upstream.cpp).
/// `range`: the bytes of `url` to fetch (a Range request), or the whole body.
void start_pump(proxy_ptr self, const std::shared_ptr<shared_fetch>& f, const std::string& url,
                bool continuous, bool first, const std::string& key,
                const proxy::byte_range& range = {});
/// Starts (or restarts, on the current URL) the continuous stream's pump
/// into its ring (proxy_stream.cpp).
void start_live_pump(proxy_ptr self, bool first);
/// Moves to the next upstream URL; false when there is none, or (automatic)
/// the last switch was less than min_switch_interval_ms ago. When every
/// listed URL has been tried and the stream has a failover resolver, the
/// resolver is asked instead (st.resolving) and the switch follows its answer.
bool switch_upstream(proxy_ptr self, const std::string& reason, bool automatic = true);
/// After a cool-down on a failover URL: checks the primary, and moves back
/// to it when it answers (proxy_timing via proxy_env::primary_retry_ms).
void probe_primary(proxy_ptr self);
/// A content type safe to pass on: the upstream's plain media type, else `fallback`.
std::string safe_type(const std::string& t, const char* fallback);
/// Serves playlist `variant` (-1: the stream's own) rewritten for `client`.
void serve_playlist(proxy_ptr self, int32_t variant, std::string client,
                    completion<proxy_body> done, size_t attempts);
/// Serves the body `ref` names from the shared fetch of its URL.
void serve_segment(proxy_ptr self, const proxy::ref_payload& ref, completion<proxy_body> done);

} // namespace hlsgate::actors::proxy_detail
