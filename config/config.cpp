#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>
#include <thread>

extern char** environ;

namespace hlsgate::config {

namespace {

using setter = std::function<std::string(settings&, const std::string&)>;

struct option {
  const char* env;  ///< environment / config-file key
  const char* flag; ///< command-line flag without "--"
  const char* help;
  setter set; ///< returns an error message, empty on success
  std::function<std::string(const settings&)> show;
};

template <class T> bool parse_unsigned(const std::string& s, T& out, T min, T max) {
  unsigned long long v = 0;
  auto* first = s.data();
  auto* last = s.data() + s.size();
  auto [p, ec] = std::from_chars(first, last, v);
  if (ec != std::errc{} || p != last || s.empty() || v < min || v > max)
    return false;
  out = static_cast<T>(v);
  return true;
}

template <class T>
option unsigned_option(const char* env, const char* flag, const char* help, T settings::*field,
                       T min, T max) {
  return {env, flag, help,
          [=](settings& s, const std::string& v) -> std::string {
            if (!parse_unsigned(v, s.*field, min, max))
              return std::string{env} + " must be an integer in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "]";
            return {};
          },
          [=](const settings& s) { return std::to_string(s.*field); }};
}

option string_option(const char* env, const char* flag, const char* help,
                     std::string settings::*field, bool secret = false) {
  return {env, flag, help,
          [=](settings& s, const std::string& v) -> std::string {
            s.*field = v;
            return {};
          },
          [=](const settings& s) {
            if (secret)
              return std::string{(s.*field).empty() ? "(unset)" : "(set)"};
            return (s.*field).empty() ? std::string{"(empty)"} : s.*field;
          }};
}

/// 1/true/on/yes or 0/false/off/no.
option bool_option(const char* env, const char* flag, const char* help, bool settings::*field) {
  return {env, flag, help,
          [=](settings& s, const std::string& v) -> std::string {
            if (v == "1" || v == "true" || v == "on" || v == "yes")
              s.*field = true;
            else if (v == "0" || v == "false" || v == "off" || v == "no")
              s.*field = false;
            else
              return std::string{env} + " must be 1 or 0";
            return {};
          },
          [=](const settings& s) -> std::string { return s.*field ? "1" : "0"; }};
}

const std::vector<option>& options() {
  static const std::vector<option> opts = {
      string_option("HLSGATE_BIND", "bind", "address to listen on", &settings::bind),
      unsigned_option<uint16_t>("HLSGATE_PORT", "port", "TCP port (0 = any free port)",
                                &settings::port, 0, 65535),
      string_option("HLSGATE_DATA_DIR", "data-dir",
                    "data directory (SQLite database, uploads, originals, generated secret); one "
                    "process per data directory",
                    &settings::data_dir),
      string_option("HLSGATE_MEDIA_DIR", "media-dir",
                    "media tree (segments, thumbnails); may be shared (default DATA_DIR/media)",
                    &settings::media_dir),
      string_option("HLSGATE_MEDIA_GROUP", "media-group",
                    "group (name or GID) of media files, so an nginx edge in that group can "
                    "serve them (default: the process's group)",
                    &settings::media_group),
      unsigned_option<unsigned>("HLSGATE_WORKERS", "workers",
                                "transcode workers (0 = number of cores)", &settings::workers, 0,
                                256),
      unsigned_option<unsigned>("HLSGATE_HTTP_THREADS", "http-threads",
                                "HTTP I/O threads (0 = number of cores)", &settings::http_threads,
                                0, 256),
      unsigned_option<unsigned>("HLSGATE_MAX_CONNECTIONS", "max-connections",
                                "open client connections; new ones beyond get 503 and are closed",
                                &settings::max_connections, 16, 1000000),
      unsigned_option<unsigned>("HLSGATE_HEADER_TIMEOUT_SECONDS", "header-timeout-seconds",
                                "deadline for a whole request head (line and headers)",
                                &settings::header_timeout_seconds, 1, 3600),
      unsigned_option<unsigned>("HLSGATE_IDLE_TIMEOUT_SECONDS", "idle-timeout-seconds",
                                "keep-alive connections idle this long are closed",
                                &settings::idle_timeout_seconds, 1, 3600),
      unsigned_option<unsigned>("HLSGATE_MIN_BODY_RATE", "min-body-rate",
                                "bytes per second a request body must average over each window "
                                "(HLSGATE_BODY_RATE_WINDOW_SECONDS), or the connection is cut",
                                &settings::min_body_rate, 1, 1u << 30),
      unsigned_option<unsigned>("HLSGATE_BODY_RATE_WINDOW_SECONDS", "body-rate-window-seconds",
                                "window of the minimum body rate check",
                                &settings::body_rate_window_seconds, 1, 3600),
      unsigned_option<unsigned>("HLSGATE_REQUEST_TIMEOUT_SECONDS", "request-timeout-seconds",
                                "a request waiting this long for its answer gets 503 (uploads "
                                "and on-demand playlists wait their own limits on top)",
                                &settings::request_timeout_seconds, 1, 3600),
      unsigned_option<unsigned>("HLSGATE_SHUTDOWN_SECONDS", "shutdown-seconds",
                                "on SIGTERM, how long in-flight responses may take to finish",
                                &settings::shutdown_seconds, 0, 3600),
      {"HLSGATE_SEGMENT_SECONDS", "segment-seconds", "target HLS segment length in seconds (1-30)",
       [](settings& s, const std::string& v) -> std::string {
         char* end = nullptr;
         errno = 0;
         double d = std::strtod(v.c_str(), &end);
         if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(d) || d < 1 || d > 30)
           return "HLSGATE_SEGMENT_SECONDS must be a number in [1, 30]";
         s.segment_seconds = d;
         return {};
       },
       [](const settings& s) {
         std::ostringstream os;
         os << s.segment_seconds;
         return os.str();
       }},
      unsigned_option<uint64_t>("HLSGATE_MAX_UPLOAD_BYTES", "max-upload-bytes",
                                "largest accepted upload in bytes", &settings::max_upload_bytes, 1,
                                UINT64_MAX),
      unsigned_option<unsigned>("HLSGATE_MAX_UPLOADS", "max-uploads",
                                "upload bodies received at once; one more gets 503 before its "
                                "body is read",
                                &settings::max_uploads, 1, 100000),
      unsigned_option<uint64_t>("HLSGATE_MIN_FREE_BYTES", "min-free-bytes",
                                "free space the data volume keeps: an upload that would leave "
                                "less gets 507 before its body is read",
                                &settings::min_free_bytes, 0, UINT64_MAX),
      string_option("HLSGATE_PUBLIC_URL", "public-url",
                    "base URL for links in replies (default http://BIND:PORT)",
                    &settings::public_url),
      string_option("SECRET_KEY", "secret-key",
                    "master secret (at least 32 bytes); the token key and the edge URL key are "
                    "derived from it (default: generated once, kept in DATA_DIR/secret.key)",
                    &settings::secret_key, true),
      string_option("HLSGATE_EDGE_SECRET", "edge-secret",
                    "key of signed segment URLs, the only secret an nginx edge holds (at least "
                    "32 bytes; default: derived from SECRET_KEY)",
                    &settings::edge_secret, true),
      string_option("HLSGATE_EDGE_KEY_FILE", "edge-key-file",
                    "write the edge key to this file at start (mode 0640, group "
                    "HLSGATE_MEDIA_GROUP), for an nginx edge in another container "
                    "(default: not written)",
                    &settings::edge_key_file),
      {"ALGORITHM", "algorithm", "JWT algorithm; only HS256 is accepted",
       [](settings& s, const std::string& v) -> std::string {
         if (v != "HS256")
           return "ALGORITHM must be HS256";
         s.algorithm = v;
         return {};
       },
       [](const settings& s) { return s.algorithm; }},
      unsigned_option<unsigned>(
          "HLSGATE_SIGNING_BUCKET_SECONDS", "signing-bucket-seconds",
          "segment URLs expire at the token's or the media's end, rounded "
          "up to a multiple of this (a rendered playlist is reused that long)",
          &settings::signing_bucket_seconds, 60, 86400),
      unsigned_option<unsigned>("HLSGATE_EDGE_REVOCATION_SECONDS", "edge-revocation-seconds",
                                "how long an nginx edge caches the origin's revocation answer",
                                &settings::edge_revocation_seconds, 1, 3600),
      unsigned_option<unsigned>("HLSGATE_TOKEN_MINUTES", "token-minutes",
                                "access token lifetime in minutes (0 = until the media expires)",
                                &settings::token_minutes, 0, 10080),
      unsigned_option<unsigned>("HLSGATE_DEFAULT_EXPIRY_MINUTES", "default-expiry-minutes",
                                "media lifetime when the upload does not say (1-10080)",
                                &settings::default_expiry_minutes, 1, 10080),
      unsigned_option<unsigned>("HLSGATE_QUEUE_LIMIT", "queue-limit",
                                "queued transcode jobs before uploads get 429",
                                &settings::queue_limit, 1, 100000),
      unsigned_option<unsigned>("HLSGATE_MAX_CHANNELS", "max-channels",
                                "live channels that may exist at once (each encodes its ladder "
                                "in real time)",
                                &settings::max_channels, 0, 1000),
      unsigned_option<unsigned>("HLSGATE_WATCHDOG_SECONDS", "watchdog-seconds",
                                "a transcode job that reports no progress this long is failed and "
                                "its worker replaced",
                                &settings::watchdog_seconds, 1, 86400),
      {"HLSGATE_LADDER", "ladder",
       "default ladder as height:bitrate pairs (at most 8), e.g. 1080:5000k,720:2800k,480:1400k,"
       "360:800k",
       [](settings& s, const std::string& v) -> std::string {
         if (auto err = parse_ladder(v, s.ladder); !err.empty())
           return "HLSGATE_LADDER: " + err;
         return {};
       },
       [](const settings& s) { return format_ladder(s.ladder); }},
      unsigned_option<unsigned>("HLSGATE_THUMBNAIL_SECONDS", "thumbnail-seconds",
                                "storyboard thumbnail interval in seconds (0 = no thumbnails)",
                                &settings::thumbnail_seconds, 0, 3600),
      unsigned_option<unsigned>("HLSGATE_ONDEMAND_WAIT_SECONDS", "ondemand-wait-seconds",
                                "how long the first playlist request of an imported item waits for "
                                "its first segments before 503",
                                &settings::ondemand_wait_seconds, 1, 600),
      string_option("HLSGATE_WEB_DIR", "web-dir",
                    "folder holding the front-end packages (node_modules/) that "
                    "scripts/build-web.sh installs: Swagger UI at /docs",
                    &settings::web_dir),
      string_option("HLSGATE_RTMP_URL", "rtmp-url",
                    "nginx-rtmp application hlsgate reads published streams from, "
                    "rtmp://HOST:PORT/APP (empty = no RTMP ingest)",
                    &settings::rtmp_url),
      string_option("HLSGATE_RTMP_PUBLIC_URL", "rtmp-public-url",
                    "RTMP URL publishers are told to push to (default: HLSGATE_RTMP_URL)",
                    &settings::rtmp_public_url),
      unsigned_option<uint16_t>(
          "HLSGATE_SRT_PORT", "srt-port",
          "UDP port of the SRT listener for live channels (0 = no SRT ingest)", &settings::srt_port,
          0, 65535),
      string_option("HLSGATE_SRT_PUBLIC_URL", "srt-public-url",
                    "SRT URL publishers are told to push to (default: srt://HOST:PORT, the host "
                    "of the public URL)",
                    &settings::srt_public_url),
      unsigned_option<unsigned>("HLSGATE_LIVE_RECONNECT_SECONDS", "live-reconnect-seconds",
                                "a live channel whose source stays away this long ends (10-86400)",
                                &settings::live_reconnect_seconds, 10, 86400),
      string_option("HLSGATE_IMPORT_ROOT", "import-root",
                    "folder the admin import API may read from (empty = import API disabled)",
                    &settings::import_root),
      unsigned_option<unsigned>("HLSGATE_UPLOAD_WAIT_SECONDS", "upload-wait-seconds",
                                "how long a synchronous upload waits for its media to be ready",
                                &settings::upload_wait_seconds, 1, 86400),
      string_option(
          "HLSGATE_API_TOKEN", "api-token",
          "admin API token (import, any item's admin actions); when set, uploads need it too "
          "('Authorization: Bearer <token>' or ?api_token=)",
          &settings::api_token, true),
      string_option("HLSGATE_CORS_ORIGINS", "cors-origins",
                    "comma-separated allowed CORS origins, '*' for any (empty = no CORS)",
                    &settings::cors_origins_text),
      string_option("HLSGATE_TRUSTED_PROXIES", "trusted-proxies",
                    "comma-separated addresses of reverse proxies whose X-Forwarded-For names "
                    "the client (proxied streams' client stats)",
                    &settings::trusted_proxies_text),
      string_option("HLSGATE_X264_PRESET", "x264-preset", "x264 preset for transcoding",
                    &settings::x264_preset),
      unsigned_option<unsigned>("HLSGATE_MAX_SOURCE_SECONDS", "max-source-seconds",
                                "longest accepted source duration (longer: 422)",
                                &settings::max_source_seconds, 1, 30 * 24 * 3600),
      unsigned_option<uint64_t>("HLSGATE_MAX_PIXEL_RATE", "max-pixel-rate",
                                "largest accepted width x height x frame rate of a source "
                                "(larger: 422)",
                                &settings::max_pixel_rate, 1, UINT64_MAX),
      {"HLSGATE_LOG_LEVEL", "log-level", "debug, info, warn or error",
       [](settings& s, const std::string& v) -> std::string {
         if (v != "debug" && v != "info" && v != "warn" && v != "error")
           return "HLSGATE_LOG_LEVEL must be debug, info, warn or error";
         s.log_level = v;
         return {};
       },
       [](const settings& s) { return s.log_level; }},
      {"HLSGATE_LOG_FORMAT", "log-format", "text (key=value) or json (one object per line)",
       [](settings& s, const std::string& v) -> std::string {
         if (v != "text" && v != "json")
           return "HLSGATE_LOG_FORMAT must be text or json";
         s.log_format = v;
         return {};
       },
       [](const settings& s) { return s.log_format; }},
      {"HLSGATE_ACCESS_LOG", "access-log", "on or off: one log line per request",
       [](settings& s, const std::string& v) -> std::string {
         if (v != "on" && v != "off")
           return "HLSGATE_ACCESS_LOG must be on or off";
         s.access_log = v == "on";
         return {};
       },
       [](const settings& s) -> std::string { return s.access_log ? "on" : "off"; }},
      bool_option("HLSGATE_WEBHOOK_ALLOW_PRIVATE", "webhook-allow-private",
                  "1 or 0: deliver webhooks to loopback and private addresses too (tests, a "
                  "receiver on the same host or network)",
                  &settings::webhook_allow_private),
      bool_option("HLSGATE_ALLOW_PRIVATE_UPSTREAMS", "allow-private-upstreams",
                  "1 or 0: pull live sources from loopback and private addresses too (tests, "
                  "a source on the same host or network)",
                  &settings::allow_private_upstreams),
      unsigned_option<unsigned>("HLSGATE_PROXY_PRIMARY_RETRY_S", "proxy-primary-retry-s",
                                "seconds a proxied stream stays on a failover URL before its "
                                "primary is checked again (and used when it answers)",
                                &settings::proxy_primary_retry_s, 1, 86400),
      unsigned_option<unsigned>("HLSGATE_WEBHOOK_RETRY_BASE_MS", "webhook-retry-base-ms",
                                "wait before a webhook's first retry, in milliseconds (doubles "
                                "after each failed attempt, at most 5 minutes, with jitter)",
                                &settings::webhook_retry_base_ms, 10, 600000),
  };
  return opts;
}

const option* find_env(const std::string& key) {
  for (auto& o : options())
    if (key == o.env)
      return &o;
  return nullptr;
}

const option* find_flag(const std::string& flag) {
  for (auto& o : options())
    if (flag == o.flag)
      return &o;
  return nullptr;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

/// Reads `KEY = value` lines; quotes around the value are stripped.
std::string apply_file(const std::string& path, settings& s) {
  std::ifstream in{path};
  if (!in)
    return "cannot read config file " + path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto t = trim(line);
    if (t.empty() || t[0] == '#')
      continue;
    auto eq = t.find('=');
    if (eq == std::string::npos)
      return path + ":" + std::to_string(n) + ": expected KEY = value";
    auto key = trim(t.substr(0, eq));
    auto value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    auto* o = find_env(key);
    if (o == nullptr)
      return path + ":" + std::to_string(n) + ": unknown key " + key;
    if (auto err = o->set(s, value); !err.empty())
      return path + ":" + std::to_string(n) + ": " + err;
  }
  return {};
}

/// The non-empty, trimmed items of a comma-separated list.
std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string item{list.substr(0, comma)};
    item = trim(item);
    if (!item.empty())
      out.push_back(std::move(item));
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

/// Comma-separated origins; "*" allows any.
void parse_cors(settings& s) {
  s.cors_origins.clear();
  s.cors_any = false;
  for (auto& item : split_list(s.cors_origins_text)) {
    if (item == "*")
      s.cors_any = true;
    else
      s.cors_origins.push_back(std::move(item));
  }
}

/// Values derived from others, checked together; empty on success.
std::string resolve(settings& s) {
  constexpr size_t min_secret = 32;
  if (!s.secret_key.empty() && s.secret_key.size() < min_secret)
    return "SECRET_KEY must be at least 32 bytes (generate one with: openssl rand -base64 32)";
  if (!s.edge_secret.empty() && s.edge_secret.size() < min_secret)
    return "HLSGATE_EDGE_SECRET must be at least 32 bytes";
  if (!s.edge_secret.empty() && s.edge_secret == s.secret_key)
    return "HLSGATE_EDGE_SECRET must differ from SECRET_KEY";
  if (s.data_dir.empty())
    return "HLSGATE_DATA_DIR must not be empty";
  if (!s.api_token.empty() && s.api_token.size() < 16)
    return "HLSGATE_API_TOKEN must be at least 16 characters";
  if (s.media_dir.empty())
    s.media_dir = s.data_dir + "/media";
  for (auto* u : {&s.rtmp_url, &s.rtmp_public_url}) {
    while (!u->empty() && u->back() == '/')
      u->pop_back();
    // hlsgate appends a stream name and hands the URL to libav: nothing but
    // rtmp://host[:port]/app in plain characters.
    if (!u->empty() && (u->rfind("rtmp://", 0) != 0 || u->size() > 200 ||
                        u->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789.-_:/[]") != std::string::npos ||
                        u->find('/', 7) == std::string::npos))
      return "HLSGATE_RTMP_URL and HLSGATE_RTMP_PUBLIC_URL must look like rtmp://HOST:PORT/APP";
  }
  if (s.rtmp_public_url.empty())
    s.rtmp_public_url = s.rtmp_url;
  while (!s.srt_public_url.empty() && s.srt_public_url.back() == '/')
    s.srt_public_url.pop_back();
  if (!s.srt_public_url.empty() &&
      (s.srt_public_url.rfind("srt://", 0) != 0 || s.srt_public_url.size() > 200 ||
       s.srt_public_url.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789.-_:[]",
                                          6) != std::string::npos))
    return "HLSGATE_SRT_PUBLIC_URL must look like srt://HOST:PORT";
  if (!s.import_root.empty()) {
    // Compared against resolved paths when files are opened: absolute,
    // normalised, no trailing slash.
    std::error_code ec;
    auto root = std::filesystem::absolute(s.import_root, ec).lexically_normal().string();
    while (root.size() > 1 && root.back() == '/')
      root.pop_back();
    s.import_root = root;
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (s.workers == 0)
    s.workers = cores;
  if (s.http_threads == 0)
    s.http_threads = cores;
  parse_cors(s);
  s.trusted_proxies = split_list(s.trusted_proxies_text);
  return {};
}

} // namespace

std::string settings::effective_public_url() const {
  if (!public_url.empty()) {
    auto url = public_url;
    while (!url.empty() && url.back() == '/')
      url.pop_back();
    return url;
  }
  auto host = bind == "0.0.0.0" || bind == "::" ? std::string{"127.0.0.1"} : bind;
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

std::string settings::effective_srt_url() const {
  if (srt_port == 0)
    return "";
  if (!srt_public_url.empty())
    return srt_public_url;
  // The host of the public URL (scheme://host[:port]/...), bracketed IPv6 kept.
  const auto url = effective_public_url();
  const size_t start = url.find("://");
  std::string host = start == std::string::npos ? url : url.substr(start + 3);
  host = host.substr(0, host.find('/'));
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos)
    host.resize(colon);
  return "srt://" + host + ":" + std::to_string(srt_port);
}

std::string help_text() {
  std::ostringstream os;
  settings defaults;
  os << "usage: hlsgate [options] [command]\n\n"
        "commands:\n"
        "  serve (default)   run the server\n"
        "  import PATH...    register media files or folders (no copy) as on-demand\n"
        "                    items; prints one JSON line per file (server stopped)\n"
        "  edge-key          print the key an nginx edge verifies segment URLs with\n"
        "  upload, ls, info, extend, refresh, tokens, rm, open\n"
        "                    client commands against a running server\n"
        "                    (hlsgate upload --help)\n\n"
        "options (flag / environment variable or config-file key; default):\n"
        "  --config FILE / HLSGATE_CONFIG\n"
        "      config file of KEY = value lines using the variable names below\n";
  for (auto& o : options()) {
    os << "  --" << o.flag << " VALUE / " << o.env << "  (default: " << o.show(defaults)
       << ")\n      " << o.help << "\n";
  }
  os << "  --help\n      print this text\n  --version\n      print the version and build\n\n"
        "Precedence: defaults < config file < environment < flags.\n";
  return os.str();
}

parse_result parse(int argc, const char* const* argv,
                   const std::map<std::string, std::string>& env) {
  parse_result res;
  // Collect flags first: --help and --config change what happens next.
  std::vector<std::pair<const option*, std::string>> flags;
  std::string config_file;
  if (auto i = env.find("HLSGATE_CONFIG"); i != env.end())
    config_file = i->second;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      res.ok = true;
      res.help = true;
      res.message = help_text();
      return res;
    }
    if (arg.rfind("--", 0) != 0) {
      res.args.push_back(arg);
      continue;
    }
    auto name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        res.message = "missing value for --" + name;
        return res;
      }
      value = argv[++i];
    }
    if (name == "config") {
      config_file = value;
      continue;
    }
    auto* o = find_flag(name);
    if (o == nullptr) {
      res.message = "unknown option --" + name + " (see --help)";
      return res;
    }
    flags.emplace_back(o, value);
  }
  settings s;
  if (!config_file.empty()) {
    if (auto err = apply_file(config_file, s); !err.empty()) {
      res.message = err;
      return res;
    }
  }
  for (auto& o : options()) {
    if (auto i = env.find(o.env); i != env.end()) {
      if (auto err = o.set(s, i->second); !err.empty()) {
        res.message = err;
        return res;
      }
    }
  }
  for (auto& [o, value] : flags) {
    if (auto err = o->set(s, value); !err.empty()) {
      res.message = "--" + std::string{o->flag} + ": " + err;
      return res;
    }
  }
  if (auto err = resolve(s); !err.empty()) {
    res.message = err;
    return res;
  }
  res.ok = true;
  res.value = std::move(s);
  return res;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

} // namespace hlsgate::config
