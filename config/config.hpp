// The one place hlsgate's configuration is parsed:
//   embedded defaults < config file < environment < command-line flags.
// The result is a plain struct, handed down by const& and never mutated.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hlsgate::config {

struct settings {
  std::string bind = "127.0.0.1";         ///< HLSGATE_BIND
  uint16_t port = 8000;                   ///< HLSGATE_PORT (0 = any free port)
  std::string data_dir = "./data";        ///< HLSGATE_DATA_DIR: SQLite db, media, uploads, secret
  unsigned workers = 0;                   ///< HLSGATE_WORKERS: transcode workers, 0 = cores
  unsigned http_threads = 0;              ///< HLSGATE_HTTP_THREADS: I/O threads, 0 = cores
  double segment_seconds = 6;             ///< HLSGATE_SEGMENT_SECONDS: target HLS segment length
  uint64_t max_upload_bytes = 4ull << 30; ///< HLSGATE_MAX_UPLOAD_BYTES
  std::string public_url;                 ///< HLSGATE_PUBLIC_URL, empty = http://{bind}:{port}
  std::string secret_key;                 ///< SECRET_KEY (PyHLS); empty = generated and persisted
  std::string algorithm = "HS256";        ///< ALGORITHM (PyHLS); only HS256 is accepted
  unsigned signed_url_seconds = 3600;     ///< HLSGATE_SIGNED_URL_SECONDS: lifetime of segment URLs
  unsigned token_minutes = 0;           ///< HLSGATE_TOKEN_MINUTES: JWT lifetime, 0 = media lifetime
  unsigned default_expiry_minutes = 60; ///< HLSGATE_DEFAULT_EXPIRY_MINUTES
  unsigned queue_limit = 32;            ///< HLSGATE_QUEUE_LIMIT: queued jobs before 429
  unsigned watchdog_seconds = 300; ///< HLSGATE_WATCHDOG_SECONDS: a job silent this long is hung
  std::string ladder;              ///< HLSGATE_LADDER: "1080:5000k,720:2800k,..."; empty = default
  unsigned thumbnail_seconds = 10; ///< HLSGATE_THUMBNAIL_SECONDS: storyboard interval, 0 = off
  unsigned ondemand_wait_seconds =
      30;                  ///< HLSGATE_ONDEMAND_WAIT_SECONDS: first request of an import
  std::string import_root; ///< HLSGATE_IMPORT_ROOT: the import API only reads below it

  unsigned upload_wait_seconds = 600;   ///< HLSGATE_UPLOAD_WAIT_SECONDS: synchronous upload wait
  std::string api_token;                ///< HLSGATE_API_TOKEN: required for uploads when set
  std::string cors_origins;             ///< HLSGATE_CORS_ORIGINS: comma-separated, "*" = any
  std::string x264_preset = "veryfast"; ///< HLSGATE_X264_PRESET
  std::string log_level = "info";       ///< HLSGATE_LOG_LEVEL: debug, info, warn, error

  /// Base for URLs returned to clients (never derived from the Host header).
  std::string effective_public_url() const;
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
