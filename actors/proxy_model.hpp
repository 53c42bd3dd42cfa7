// What the stream proxy's HTTP routes and its actors exchange (plain
// structs, no CAF), and the pure rules around them: a registration as POST
// /streams takes it (m3u-proxy's fields), its durable form, which streams a
// lookup or a metadata filter finds, and how a viewer becomes a client id.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlsgate::actors {

/// One registered upstream stream (durable: survives a restart).
struct proxy_config {
  std::string id; ///< 22 random base64url characters
  std::string url;
  std::vector<std::string> failover_urls;
  /// Asked for a new URL when every listed one has failed (GET, see
  /// resolver_request_url); "" when none.
  std::string failover_resolver_url;
  std::string user_agent;
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string> metadata;
  bool is_public = false; ///< viewers need no token
  bool direct = false;    ///< a continuous stream (MPEG-TS over HTTP), else HLS
  /// Below this many kbit/s the stream fails over (0: never): a continuous
  /// stream over proxy_rules::bitrate_window_ms, or three HLS segments in a
  /// row (size over the playlist's target duration).
  unsigned min_bitrate_kbps = 0;
  int64_t created_at = 0;
  uint64_t token_gen = 1;

  /// The primary URL, then every failover URL.
  std::vector<std::string> all_urls() const;
};

namespace proxy_rules {
inline constexpr size_t max_failover_urls = 10;
inline constexpr size_t max_metadata = 50;
inline constexpr size_t max_metadata_bytes = 256;
inline constexpr size_t max_streams = 1000;
inline constexpr const char* default_user_agent = "hlsgate";
inline constexpr unsigned max_min_bitrate_kbps = 1000000;
inline constexpr int64_t bitrate_window_ms = 10000;
inline constexpr size_t max_resolver_answer = 16u << 10;
inline constexpr size_t max_resolver_url = 2048; ///< net::parse_url's limit
} // namespace proxy_rules

/// Parses a POST /streams body into `out` (id, created_at left alone): every
/// URL an absolute http(s) URL, headers hlsgate does not set itself,
/// metadata of at most 50 string, number or boolean values. "" or why not.
std::string parse_stream_request(std::string_view body, proxy_config& out);

/// "direct" when the URL does not name an .m3u8/.m3u playlist (m3u-proxy's
/// rule), unless the body said "stream_type".
bool looks_direct(std::string_view url);

std::string to_json(const proxy_config& c);
bool from_json(std::string_view text, proxy_config& out);

/// What hlsgate asks a stream's failover resolver: GET
/// `failover_resolver_url` with stream_id, current_url, current_index and
/// reason added to its query (current_url left out when the question would
/// be longer than max_resolver_url).
std::string resolver_request_url(const proxy_config& c, std::string_view current_url,
                                 size_t current_index, std::string_view reason);

/// A resolver's answer: a JSON object with "url", or a body that is one
/// URL (a trailing line break allowed). The URL must be absolute http(s);
/// "" or why not (the answer's bytes are never part of the reason).
std::string parse_resolver_answer(std::string_view body, std::string& url);

/// A continuous upstream's bytes sampled over time (one sample per tick),
/// to tell a persistently low bitrate.
class rate_meter {
public:
  /// `total` bytes received so far, at `now_ms`.
  void sample(int64_t now_ms, uint64_t total);
  void reset() { n_ = 0; }
  /// kbit/s over at least the last `window_ms`; -1 while less than that is sampled.
  int64_t kbps(int64_t window_ms) const;

private:
  static constexpr size_t cap = 32;
  std::pair<int64_t, uint64_t> s_[cap]{}; ///< a ring of (ms, total)
  size_t head_ = 0, n_ = 0;
};

/// True when `c` is what a create of `url` with `metadata` would make (the
/// same URL and the same metadata: m3u-proxy returns the existing stream).
bool same_registration(const proxy_config& c, const proxy_config& wanted);

/// True when metadata `field` equals `value`.
bool metadata_matches(const proxy_config& c, std::string_view field, std::string_view value);

/// One viewer of a proxied stream as the stats show it.
struct proxy_client_info {
  std::string client_id;
  std::string stream_id;
  std::string user_agent;
  std::string address;
  int64_t connected_at = 0; ///< unix seconds
  int64_t last_seen = 0;
  uint64_t bytes_served = 0;
  uint64_t segments_served = 0;
  bool direct = false; ///< a continuous-stream connection (else HLS requests)
};

/// A stream's state as GET /streams and the stats show it.
struct proxy_stream_info {
  proxy_config config;
  std::string current_url;
  size_t current_index = 0; ///< into config.all_urls()
  uint64_t failovers = 0;
  uint64_t bytes_served = 0;
  uint64_t segments_served = 0;
  uint64_t upstream_requests = 0;
  uint64_t upstream_errors = 0;
  uint64_t coalesced = 0; ///< requests served by a fetch another request started
  uint64_t last_access = 0;
  bool upstream_active = false;
  std::vector<proxy_client_info> clients;
};

/// Who asks, as the HTTP layer saw it.
struct proxy_viewer {
  std::string address;    ///< the peer, or X-Forwarded-For's from a trusted proxy
  std::string user_agent; ///< at most 256 bytes
  std::string token;      ///< the viewer token (?token= or bearer)
};

/// A piece of body for one viewer.
struct byte_piece {
  std::shared_ptr<const std::string> data; ///< null with end or failed
  size_t offset = 0;                       ///< the piece is data[offset, offset + size)
  size_t size = 0;
  bool end = false;
  bool failed = false;
};

/// What a viewer's response reads (the HTTP layer adapts it to its
/// body_stream). next()'s callback runs exactly once, from any thread.
class byte_source {
public:
  virtual ~byte_source() = default;
  virtual void next(std::function<void(byte_piece)> ready) = 0;
  /// The viewer is done (finished, failed or gone); called once.
  virtual void close() noexcept = 0;
};

/// What a viewer request is answered with: a playlist's text, or a body
/// read from a shared fetch.
struct proxy_body {
  unsigned status = 200;
  std::string content_type;
  std::string text;
  std::shared_ptr<byte_source> stream;
  int64_t length = -1;
};

/// A registration's answer.
struct proxy_created {
  proxy_config config;
  std::string access_token; ///< a viewer token ("" for a public stream)
  bool existed = false;     ///< the same URL and metadata were registered already
};

/// A stable client id for a viewer of `stream_id` that has no reference
/// yet (its first playlist request): a keyed hash of the stream, address
/// and user agent, so a player reloading the same playlist stays one
/// client, and nothing the client sends names another client.
std::string derive_client_id(std::string_view key, std::string_view stream_id,
                             std::string_view address, std::string_view user_agent);

} // namespace hlsgate::actors
