// The command line of hlsgate's client commands (`hlsgate upload`, `ls`,
// `info`, ...): what to do, against which server, with which credentials.
// Pure functions: parsing, the server URL, exit codes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlsgate::cli {

/// Exit codes scripts can rely on (documented in README and `--help`).
enum class exit_code : int {
  ok = 0,
  failed = 1,           ///< the server refused the request (another 4xx or 5xx)
  usage = 2,            ///< bad command line
  unreachable = 3,      ///< no connection, TLS failure, timeout, not an hlsgate answer
  auth = 4,             ///< 401/403: API token or admin key missing or wrong
  not_found = 5,        ///< 404/410: no such media (deleted or expired)
  transcode_failed = 6, ///< upload --wait: the item failed to transcode
  wait_timeout = 7,     ///< upload --wait --timeout S: not ready in time
};

/// Which exit code an HTTP status means (2xx: ok).
exit_code exit_for_status(unsigned status);

/// Where the server is: `http(s)://host[:port][/base/path]`.
struct endpoint {
  bool tls = false;
  std::string host; ///< without brackets for IPv6
  uint16_t port = 0;
  std::string base_path; ///< "" or "/prefix" (no trailing slash)
};

/// Parses a server URL (net::parse_url's rules, and no query); nullopt and
/// `why` when it is not one.
std::optional<endpoint> parse_server_url(std::string_view url, std::string& why);

struct invocation {
  std::string command; ///< upload, ls, info, extend, refresh, tokens, rm, open
  std::vector<std::string> args;
  std::string server = "http://127.0.0.1:8000";
  endpoint where;
  std::string api_token; ///< HLSGATE_API_TOKEN or --token-file
  std::string admin_key; ///< HLSGATE_ADMIN_KEY (per-item commands)
  bool json = false;
  int progress = -1; ///< -1: when stderr is a terminal; 0 off; 1 on
  // upload
  bool wait = false;
  std::optional<int> expiry_minutes;
  std::string ladder;
  double timeout_seconds = 0; ///< bound on --wait; 0 = none
  // ls
  std::string status;
  std::string name_query;
  size_t limit = 0; ///< 0 = every item
  // tokens / open
  bool mint = false;
  std::string label;
  std::optional<int> ttl_minutes;
  std::string revoke;
};

struct parse_result {
  bool ok = false;
  bool help = false;   ///< print `message` to stdout, exit 0
  std::string message; ///< usage text or the error
  invocation value;
};

/// True for the names of client commands (argv[1] of `hlsgate`).
bool is_client_command(std::string_view name);

/// `args` = argv without the program name; `env` = the process environment.
/// `read_file` reads a --token-file (nullopt when unreadable).
parse_result parse(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env,
                   std::optional<std::string> (*read_file)(const std::string& path));

/// A media or token id as the server's route table accepts it
/// (http::valid_id): anything else is refused before it becomes part of a URL.
bool valid_media_id(std::string_view id);

std::string usage();

} // namespace hlsgate::cli
