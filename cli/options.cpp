#include "cli/options.hpp"

#include "http/routes.hpp"
#include "net/url.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace hlsgate::cli {

namespace {

bool parse_int(std::string_view s, int lo, int hi, int& out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

/// Options that take a value, and the commands that accept each option.
struct option_spec {
  std::string_view name;
  bool takes_value;
  std::string_view commands; ///< space-separated; "*" = every command
};

constexpr option_spec option_table[] = {
    {"server", true, "*"},
    {"token-file", true, "*"},
    {"json", false, "*"},
    {"progress", false, "upload"},
    {"no-progress", false, "upload"},
    {"wait", false, "upload"},
    {"expiry", true, "upload"},
    {"ladder", true, "upload"},
    {"timeout", true, "upload"},
    {"status", true, "ls"},
    {"name", true, "ls"},
    {"limit", true, "ls"},
    {"new", false, "tokens"},
    {"label", true, "tokens open"},
    {"ttl", true, "tokens open"},
    {"revoke", true, "tokens"},
};

bool applies(const option_spec& o, std::string_view command) {
  if (o.commands == "*")
    return true;
  std::string_view rest = o.commands;
  while (!rest.empty()) {
    auto sp = rest.find(' ');
    if (rest.substr(0, sp) == command)
      return true;
    if (sp == std::string_view::npos)
      break;
    rest.remove_prefix(sp + 1);
  }
  return false;
}

constexpr size_t many = static_cast<size_t>(-1);

/// Positional arguments each command takes: [min, max].
struct arity {
  std::string_view command;
  size_t min, max;
};
constexpr arity arities[] = {{"upload", 1, many}, {"ls", 0, 0},      {"info", 1, 1},
                             {"extend", 2, 2},    {"refresh", 1, 1}, {"tokens", 1, 1},
                             {"rm", 1, many},     {"open", 1, 1}};

parse_result fail(std::string message) {
  parse_result r;
  r.message = std::move(message);
  return r;
}

} // namespace

exit_code exit_for_status(unsigned status) {
  if (status >= 200 && status < 300)
    return exit_code::ok;
  if (status == 401 || status == 403)
    return exit_code::auth;
  if (status == 404 || status == 410)
    return exit_code::not_found;
  if (status == 0)
    return exit_code::unreachable;
  return exit_code::failed;
}

std::optional<endpoint> parse_server_url(std::string_view text, std::string& why) {
  auto u = net::parse_url(text, why);
  if (!u)
    return std::nullopt;
  if (u->target.find('?') != std::string::npos) {
    why = "the server URL must not have a query";
    return std::nullopt;
  }
  endpoint ep;
  ep.tls = u->tls;
  ep.host = u->host;
  ep.port = u->port;
  ep.base_path = u->target;
  while (!ep.base_path.empty() && ep.base_path.back() == '/')
    ep.base_path.pop_back();
  return ep;
}

bool is_client_command(std::string_view name) {
  return std::any_of(std::begin(arities), std::end(arities),
                     [name](const arity& a) { return a.command == name; });
}

bool valid_media_id(std::string_view id) {
  return http::valid_id(id);
}

parse_result parse(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env,
                   std::optional<std::string> (*read_file)(const std::string& path)) {
  if (args.empty() || !is_client_command(args[0]))
    return fail("unknown command (see hlsgate --help)");
  parse_result r;
  invocation& v = r.value;
  v.command = args[0];
  if (auto i = env.find("HLSGATE_SERVER"); i != env.end() && !i->second.empty())
    v.server = i->second;
  if (auto i = env.find("HLSGATE_API_TOKEN"); i != env.end())
    v.api_token = i->second;
  if (auto i = env.find("HLSGATE_ADMIN_KEY"); i != env.end())
    v.admin_key = i->second;
  std::string token_file;
  bool options_done = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!options_done && (a == "--help" || a == "-h")) {
      r.help = true;
      r.ok = true;
      r.message = usage();
      return r;
    }
    if (options_done || a.size() < 2 || a.rfind("--", 0) != 0) {
      v.args.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    std::string_view name = std::string_view{a}.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      value = std::string{name.substr(eq + 1)};
      name = name.substr(0, eq);
    }
    const option_spec* spec = nullptr;
    for (auto& o : option_table)
      if (o.name == name)
        spec = &o;
    if (spec == nullptr || !applies(*spec, v.command))
      return fail("unknown option --" + std::string{name} + " for '" + v.command + "'");
    if (spec->takes_value && !value) {
      if (i + 1 >= args.size())
        return fail("--" + std::string{name} + " needs a value");
      value = args[++i];
    } else if (!spec->takes_value && value) {
      return fail("--" + std::string{name} + " takes no value");
    }
    int n = 0;
    if (name == "server") {
      v.server = *value;
    } else if (name == "token-file") {
      token_file = *value;
    } else if (name == "json") {
      v.json = true;
    } else if (name == "progress" || name == "no-progress") {
      v.progress = name == "progress" ? 1 : 0;
    } else if (name == "wait") {
      v.wait = true;
    } else if (name == "expiry") {
      if (!parse_int(*value, 1, 10080, n))
        return fail("--expiry takes minutes, 1 to 10080");
      v.expiry_minutes = n;
    } else if (name == "ladder") {
      v.ladder = *value;
    } else if (name == "timeout") {
      if (!parse_int(*value, 1, 7 * 24 * 3600, n))
        return fail("--timeout takes seconds, 1 to 604800");
      v.timeout_seconds = n;
    } else if (name == "status") {
      static const std::set<std::string> statuses{"queued", "processing", "ready", "failed",
                                                  "imported"};
      if (statuses.count(*value) == 0)
        return fail("--status is one of queued, processing, ready, failed, imported");
      v.status = *value;
    } else if (name == "name") {
      v.name_query = *value;
    } else if (name == "limit") {
      if (!parse_int(*value, 1, 1000000, n))
        return fail("--limit takes a count, 1 to 1000000");
      v.limit = static_cast<size_t>(n);
    } else if (name == "new") {
      v.mint = true;
    } else if (name == "label") {
      v.label = *value;
    } else if (name == "ttl") {
      if (!parse_int(*value, 1, 10080, n))
        return fail("--ttl takes minutes, 1 to 10080");
      v.ttl_minutes = n;
    } else if (name == "revoke") {
      v.revoke = *value;
    }
  }
  for (auto& a : arities) {
    if (a.command != v.command)
      continue;
    if (v.args.size() < a.min || v.args.size() > a.max)
      return fail("wrong number of arguments for '" + v.command + "' (see hlsgate " + v.command +
                  " --help)");
  }
  if (v.command != "upload" && v.command != "ls") {
    size_t ids = v.command == "extend" ? 1 : v.args.size();
    for (size_t i = 0; i < ids; ++i)
      if (!valid_media_id(v.args[i]))
        return fail("not a media id: '" + v.args[i] + "'");
  }
  if (v.command == "extend") {
    int minutes = 0;
    if (!parse_int(v.args[1], 1, 10080, minutes))
      return fail("extend takes minutes, 1 to 10080");
  }
  if (v.mint && !v.revoke.empty())
    return fail("--new and --revoke exclude each other");
  if ((!v.label.empty() || v.ttl_minutes) && v.command == "tokens" && !v.mint)
    return fail("--label and --ttl go with --new");
  if (!v.revoke.empty() && !valid_media_id(v.revoke))
    return fail("not a token id: '" + v.revoke + "'");
  if (v.timeout_seconds > 0 && !v.wait)
    return fail("--timeout goes with --wait");
  if (!token_file.empty()) {
    auto t = read_file(token_file);
    if (!t)
      return fail("cannot read the token file");
    while (!t->empty() && (t->back() == '\n' || t->back() == '\r' || t->back() == ' '))
      t->pop_back();
    v.api_token = *t;
  }
  std::string why;
  auto ep = parse_server_url(v.server, why);
  if (!ep)
    return fail(why);
  v.where = *ep;
  r.ok = true;
  return r;
}

std::string usage() {
  return "usage: hlsgate COMMAND [options] ARGS\n"
         "\n"
         "Client commands, against a running server (--server URL or HLSGATE_SERVER,\n"
         "default http://127.0.0.1:8000):\n"
         "  upload FILE... [--wait [--timeout S]] [--expiry MIN] [--ladder L]\n"
         "                       upload; --wait follows the transcode until ready\n"
         "  ls [--status S] [--name TEXT] [--limit N]\n"
         "                       the library, newest first (API token)\n"
         "  info ID              everything about an item\n"
         "  extend ID MINUTES    push an item's deadline back\n"
         "  refresh ID           replace every token of an item (old links stop)\n"
         "  tokens ID [--new [--label L] [--ttl MIN] | --revoke JTI]\n"
         "                       list, mint or revoke access tokens\n"
         "  rm ID...             delete items\n"
         "  open ID [--label L] [--ttl MIN]\n"
         "                       mint a token and print the playlist URL to play\n"
         "\n"
         "Options: --json (machine-readable output on stdout), --progress/--no-progress\n"
         "(progress bar on stderr; default: when stderr is a terminal), --server URL,\n"
         "--token-file PATH (read the API token from a file, e.g. DATA_DIR/api_token).\n"
         "\n"
         "Credentials come from the environment, never from the command line:\n"
         "  HLSGATE_API_TOKEN   the server's API token (any item; needed for ls)\n"
         "  HLSGATE_ADMIN_KEY   an item's admin key (per-item commands)\n"
         "\n"
         "Exit codes: 0 done; 1 refused by the server; 2 bad command line;\n"
         "3 server unreachable; 4 API token or admin key missing or wrong;\n"
         "5 no such media (deleted or expired); 6 transcoding failed (--wait);\n"
         "7 not ready within --timeout.\n";
}

} // namespace hlsgate::cli
