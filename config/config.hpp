// The one place hlsgate's configuration is parsed:
//   embedded defaults < config file < environment < command-line flags.
// The result is a plain struct, handed down by const& and never mutated.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/ladder.hpp"

#ifndef HLSGATE_DEFAULT_WEB_DIR // set by config/CMakeLists.txt
#define HLSGATE_DEFAULT_WEB_DIR "web"
#endif

namespace hlsgate::config {

struct settings {
  // -- network -------------------------------------------------------------
  std::string bind = "127.0.0.1";       ///< HLSGATE_BIND
  uint16_t port = 8000;                 ///< HLSGATE_PORT (0 = any free port)
  std::string public_url;               ///< HLSGATE_PUBLIC_URL, empty = http://{bind}:{port}
  unsigned http_threads = 0;            ///< HLSGATE_HTTP_THREADS: I/O threads (resolved: >= 1)
  unsigned max_connections = 16384;     ///< HLSGATE_MAX_CONNECTIONS: open sockets beyond get 503
  unsigned header_timeout_seconds = 10; ///< HLSGATE_HEADER_TIMEOUT_SECONDS: whole request head
  unsigned idle_timeout_seconds = 60;   ///< HLSGATE_IDLE_TIMEOUT_SECONDS: keep-alive idle
  /// HLSGATE_MIN_BODY_RATE: bytes/s a request body must average over every
  /// HLSGATE_BODY_RATE_WINDOW_SECONDS window, or the connection is cut.
  unsigned min_body_rate = 1024;
  unsigned body_rate_window_seconds = 30;
  unsigned request_timeout_seconds = 30;    ///< HLSGATE_REQUEST_TIMEOUT_SECONDS: actor reply or 503
  unsigned shutdown_seconds = 20;           ///< HLSGATE_SHUTDOWN_SECONDS: drain deadline on SIGTERM
  std::string cors_origins_text;            ///< HLSGATE_CORS_ORIGINS as given
  std::vector<std::string> cors_origins;    ///< parsed: allowed origins (exact match)
  std::string trusted_proxies_text;         ///< HLSGATE_TRUSTED_PROXIES as given
  std::vector<std::string> trusted_proxies; ///< parsed: peers whose X-Forwarded-For is believed
  bool cors_any = false;                    ///< parsed: "*" was listed

  // -- storage -------------------------------------------------------------
  std::string data_dir = "./data"; ///< HLSGATE_DATA_DIR: database, uploads, originals, secret
  /// HLSGATE_WEB_DIR: where scripts/build-web.sh installed the front-end
  /// packages (node_modules/ inside); the source tree's web/ by default.
  std::string web_dir = HLSGATE_DEFAULT_WEB_DIR;
  std::string media_dir;   ///< HLSGATE_MEDIA_DIR (resolved: default DATA_DIR/media)
  std::string media_group; ///< HLSGATE_MEDIA_GROUP: group of media files (name or GID)
  std::string import_root; ///< HLSGATE_IMPORT_ROOT: imports only read below it
  /// HLSGATE_RTMP_URL: the nginx-rtmp application hlsgate reads published
  /// streams from (rtmp://HOST:PORT/APP); empty = no RTMP ingest.
  std::string rtmp_url;
  /// HLSGATE_RTMP_PUBLIC_URL: the ingest_url given to publishers (default rtmp_url).
  std::string rtmp_public_url;
  /// HLSGATE_SRT_PORT: the UDP port of hlsgate's SRT listener, where
  /// publishers push MPEG-TS with their channel's stream key as stream id
  /// (on HLSGATE_BIND); 0 = no SRT ingest.
  uint16_t srt_port = 8890;
  /// HLSGATE_SRT_PUBLIC_URL: the ingest_url given to SRT publishers
  /// (default srt://HOST:PORT with the host of the public URL).
  std::string srt_public_url;
  /// HLSGATE_LIVE_RECONNECT_SECONDS: a channel whose source stays away this
  /// long ends (ENDLIST).
  unsigned live_reconnect_seconds = 300;

  // -- secrets ---------------------------------------------------------------
  std::string secret_key; ///< SECRET_KEY (PyHLS): >= 32 bytes; empty = generated, persisted
  std::string algorithm = "HS256"; ///< ALGORITHM (PyHLS); only HS256 is accepted
  std::string edge_secret;         ///< HLSGATE_EDGE_SECRET: URL-signing key; empty = derived
  std::string edge_key_file;       ///< HLSGATE_EDGE_KEY_FILE: edge key written here at start
  std::string api_token;           ///< HLSGATE_API_TOKEN: admin surface; uploads need it when set

  // -- media ---------------------------------------------------------------
  unsigned workers = 0;                   ///< HLSGATE_WORKERS: transcode workers (resolved: >= 1)
  double segment_seconds = 6;             ///< HLSGATE_SEGMENT_SECONDS: target HLS segment length
  uint64_t max_upload_bytes = 4ull << 30; ///< HLSGATE_MAX_UPLOAD_BYTES
  unsigned max_uploads = 32;              ///< HLSGATE_MAX_UPLOADS: bodies received at once
  /// HLSGATE_MIN_FREE_BYTES: an upload that would leave less free space on
  /// the data volume is refused (507) before its body is read.
  uint64_t min_free_bytes = 1ull << 30;
  /// HLSGATE_SIGNING_BUCKET_SECONDS: segment URLs expire at min(token exp,
  /// media deadline) rounded up to a multiple of this, so a playlist renders
  /// the same URLs (and can be cached) for a whole bucket.
  unsigned signing_bucket_seconds = 3600;
  /// HLSGATE_EDGE_REVOCATION_SECONDS: how long an nginx edge may cache the
  /// origin's answer to "is this revocation handle still good?".
  unsigned edge_revocation_seconds = 60;
  unsigned token_minutes = 0;           ///< HLSGATE_TOKEN_MINUTES: 0 = media lifetime
  unsigned default_expiry_minutes = 60; ///< HLSGATE_DEFAULT_EXPIRY_MINUTES
  unsigned queue_limit = 32;            ///< HLSGATE_QUEUE_LIMIT: queued jobs before 429
  unsigned max_channels =
      4; ///< HLSGATE_MAX_CHANNELS: live channels at once (each encodes its ladder)
  unsigned watchdog_seconds = 300;             ///< HLSGATE_WATCHDOG_SECONDS: silent job = hung
  std::vector<rung> ladder = default_ladder(); ///< HLSGATE_LADDER, parsed
  unsigned thumbnail_seconds = 10;             ///< HLSGATE_THUMBNAIL_SECONDS: 0 = no thumbnails
  unsigned ondemand_wait_seconds = 30;         ///< HLSGATE_ONDEMAND_WAIT_SECONDS
  unsigned upload_wait_seconds = 600;     ///< HLSGATE_UPLOAD_WAIT_SECONDS: synchronous upload wait
  std::string x264_preset = "veryfast";   ///< HLSGATE_X264_PRESET
  unsigned max_source_seconds = 6 * 3600; ///< HLSGATE_MAX_SOURCE_SECONDS: longer sources: 422
  /// HLSGATE_MAX_PIXEL_RATE: width x height x fps of a source; above: 422
  /// (default: 4K at 60 fps).
  uint64_t max_pixel_rate = 3840ull * 2160 * 60;

  // -- logs ----------------------------------------------------------------
  std::string log_level = "info";  ///< HLSGATE_LOG_LEVEL: debug, info, warn, error
  std::string log_format = "text"; ///< HLSGATE_LOG_FORMAT: text (key=value) or json
  bool access_log = true;          ///< HLSGATE_ACCESS_LOG: one line per request (on/off)

  // -- webhooks --------------------------------------------------------------
  /// HLSGATE_WEBHOOK_ALLOW_PRIVATE: deliver to loopback, private and
  /// link-local addresses too (off: only globally routable ones).
  bool webhook_allow_private = false;
  /// HLSGATE_ALLOW_PRIVATE_UPSTREAMS: pulled live sources (and every URL
  /// their playlists name) may be on loopback and private addresses too;
  /// link-local (cloud metadata) stays refused.
  bool allow_private_upstreams = false;
  /// HLSGATE_PROXY_PRIMARY_RETRY_S: a proxied stream on a failover URL
  /// checks its primary again after this many seconds, and moves back to it
  /// when it answers.
  unsigned proxy_primary_retry_s = 60;
  /// HLSGATE_WEBHOOK_RETRY_BASE_MS: wait before the first retry (doubling
  /// after each failed attempt, at most 5 minutes, with jitter).
  unsigned webhook_retry_base_ms = 1000;

  /// Base for URLs returned to clients (never derived from the Host header).
  std::string effective_public_url() const;
  /// Where SRT publishers push (HLSGATE_SRT_PUBLIC_URL, or srt://HOST:PORT
  /// with the public URL's host); "" when SRT ingest is off.
  std::string effective_srt_url() const;
};

/// The outcome of parsing: settings, or a message for the user (and whether
/// --help was asked, in which case `message` is the help text).
struct parse_result {
  bool ok = false;
  bool help = false;
  std::string message;
  settings value;
  /// Positional arguments (sub-commands), in order.
  std::vector<std::string> args;
};

/// Parses everything. `env` is the environment as a map (tests pass their own).
/// The config file comes from `--config FILE` or HLSGATE_CONFIG; it holds
/// `KEY = value` lines with the environment names (`#` starts a comment).
parse_result parse(int argc, const char* const* argv,
                   const std::map<std::string, std::string>& env);

/// The process environment as a map.
std::map<std::string, std::string> process_environment();

/// The --help text, listing every option with its variable and default.
std::string help_text();

} // namespace hlsgate::config
