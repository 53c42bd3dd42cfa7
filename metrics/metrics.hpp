// Prometheus metrics of hlsgate (prometheus-cpp). Every series used on a hot
// path is created at start-up, so recording is an atomic add: no label
// lookup, no allocation, no lock per request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace hlsgate::metrics {

/// HTTP routes, the `route` label of the request metrics.
enum class route : uint8_t {
  segment,         ///< GET /seg/... (signed, stateless)
  stream_playlist, ///< GET /stream/{id}/...m3u8
  stream_file,     ///< GET /stream/{id}/{name} (PyHLS-compatible segment)
  upload,
  refresh_token,
  info,
  extend_expiry,
  delete_media,
  stream_info,   ///< GET /media/{id}/stream-info
  import_media,  ///< POST /import
  library,       ///< GET/DELETE /media (admins: list, bulk delete)
  webhooks,      ///< /webhooks...
  docs,          ///< GET /openapi.json, /docs
  web,           ///< GET /, /app/{name}, /embed/{id} (the web app)
  tokens,        ///< /media/{id}/tokens[/{jti}]
  subtitles,     ///< POST /media/{id}/subtitles
  edge_check,    ///< GET /edge/check (an nginx edge's auth_request)
  live,          ///< /live, /live/{id}... (channel management, markers)
  live_playlist, ///< GET /live/{id}/...m3u8
  proxy,         ///< /streams..., /stats..., /clients... (the stream proxy's management)
  proxy_stream,  ///< GET /hls/{id}/..., /stream/{id} (proxied playlists, segments, streams)
  health,
  ready,
  metrics,
  other,
  count_
};
const char* to_string(route r) noexcept;

/// Request methods, the `method` label of the request counter.
enum class method : uint8_t { get, head, post, del, options, other, count_ };
/// The method of its name (case-sensitive, as RFC 9110 §9.1 has it).
method method_of(std::string_view name) noexcept;

/// `imported`: a library file never played (queued for its first request).
enum class media_state : uint8_t { queued, processing, ready, failed, imported, count_ };
enum class job_state : uint8_t { queued, running, count_ };

class registry {
public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // -- http ------------------------------------------------------------------
  /// Counted by route, method and status class (`code`: 1xx..5xx, else
  /// "other"); the duration by route.
  void http_request(route r, method m, unsigned status, double seconds) noexcept;
  void bytes_served(uint64_t n) noexcept;

  // -- media / tokens --------------------------------------------------------
  void media_items_add(media_state s, double delta) noexcept;
  void token_issued() noexcept;
  /// reason: "missing", "malformed", "bad_algorithm", "bad_signature",
  /// "expired", "revoked", "wrong_media", "bad_admin_key", "bad_url_signature",
  /// "expired_url", "bad_stream_key" (an RTMP publisher with an unknown key).
  void auth_failure(const char* reason) noexcept;

  // -- transcoding -------------------------------------------------------------
  void transcode_jobs_add(job_state s, double delta) noexcept;
  void transcode_queue_depth(double depth) noexcept;
  void transcode_queue_limit(double limit) noexcept;

  // -- store ---------------------------------------------------------------------
  /// One durable write (a record put or removed, fsynced) took `seconds`.
  void store_write(double seconds, bool ok) noexcept;
  void transcode_finished(double seconds, double realtime_factor) noexcept;
  void transcode_failure(const char* reason) noexcept;
  /// A webhook attempt's outcome: "delivered", "retried", "failed", "dropped".
  void webhook_delivery(const char* outcome) noexcept;

  // -- live channels -------------------------------------------------------------
  /// `status`: "waiting", "live", "reconnecting", "ended".
  void live_channels_add(const char* status, double delta) noexcept;
  /// A segment was listed `latency_seconds` after its last frame was captured.
  void live_segment_listed(double latency_seconds) noexcept;
  /// A channel's ingest bit rate, estimated viewers and dropped frames
  /// (about once a second).
  void live_channel_gauges(const std::string& channel, double bitrate, double viewers,
                           double dropped_frames);
  /// The channel is gone: its series go too.
  void live_channel_gone(const std::string& channel);

  // -- stream proxy ----------------------------------------------------------------
  /// A proxied request's upstream outcome: "ok", "error", "coalesced".
  void proxy_upstream(const char* result) noexcept;
  void proxy_failover() noexcept;
  void proxy_viewers(double delta) noexcept;
  void proxy_bytes_out(uint64_t n) noexcept;
  void proxy_bytes_in(uint64_t n) noexcept;

  // -- read at each scrape ------------------------------------------------------
  /// Open HTTP connections and upload bodies being received (the server's
  /// counters; called from serialize(), so they must be thread-safe).
  void http_gauges(std::function<double()> connections, std::function<double()> uploads);
  /// The folder whose file system's free and total bytes are exported
  /// (hlsgate_data_free_bytes, hlsgate_data_size_bytes): the data volume.
  void data_volume(std::string path);

  /// Text exposition format (version 0.0.4) of everything registered,
  /// including process metrics.
  std::string serialize() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::metrics
