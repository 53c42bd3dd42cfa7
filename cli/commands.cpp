// The client commands: each turns an invocation into API calls and prints
// the result for people (tables, progress bars on stderr) or, with --json,
// one JSON document (or one JSON line per file or id) on stdout.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/format.hpp"
#include "cli/http_client.hpp"
#include "cli/options.hpp"
#include "http/query.hpp"

namespace hlsgate::cli {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr auto poll_interval = std::chrono::seconds{1};
constexpr size_t page_size = 100;
constexpr size_t max_listed = 1000000; ///< a server that never ends its pages cannot fill memory

/// A string field, "" when absent or of another type (a server's answer is
/// not trusted to have the documented shape).
std::string text_of(const nlohmann::json& j, const char* key) {
  if (!j.is_object())
    return {};
  auto i = j.find(key);
  return i != j.end() && i->is_string() ? i->get<std::string>() : std::string{};
}
double number_of(const nlohmann::json& j, const char* key, double fallback) {
  if (!j.is_object())
    return fallback;
  auto i = j.find(key);
  return i != j.end() && i->is_number() ? i->get<double>() : fallback;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int code(exit_code c) {
  return static_cast<int>(c);
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// A progress line on stderr, redrawn in place and throttled.
class progress_bar {
public:
  explicit progress_bar(bool on) : on_(on) {}
  void draw(const std::string& line, bool force = false) {
    if (!on_)
      return;
    auto now = steady::now();
    if (!force && now - last_ < std::chrono::milliseconds{100})
      return;
    last_ = now;
    std::string padded = line;
    if (padded.size() < width_)
      padded.append(width_ - padded.size(), ' ');
    width_ = line.size();
    std::fprintf(stderr, "\r%s", padded.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (on_ && drawn_)
      std::fputs("\n", stderr);
    drawn_ = false;
    width_ = 0;
  }

private:
  bool on_;
  bool drawn_ = false;
  size_t width_ = 0;
  steady::time_point last_{};
};

class session {
public:
  explicit session(invocation v)
      : v_(std::move(v)), client_(v_.where),
        progress_(v_.progress == 1 || (v_.progress == -1 && ::isatty(STDERR_FILENO) == 1)) {}

  int dispatch() {
    const auto& c = v_.command;
    if (c == "upload")
      return upload_all();
    if (c == "ls")
      return list();
    if (c == "info")
      return info();
    if (c == "extend")
      return extend();
    if (c == "refresh")
      return refresh();
    if (c == "tokens")
      return tokens();
    if (c == "rm")
      return remove_all();
    return open();
  }

private:
  /// Credentials for one item: its admin key if given, else the API token.
  header_list item_auth() const {
    if (!v_.admin_key.empty())
      return {{"X-Admin-Key", v_.admin_key}};
    return api_auth();
  }
  header_list api_auth() const {
    if (v_.api_token.empty())
      return {};
    return {{"Authorization", "Bearer " + v_.api_token}};
  }
  static std::string item_path(const std::string& id) {
    return "/media/" + http::query::percent_encode(id);
  }

  /// The JSON body of a 2xx answer into `out`; otherwise prints why (stderr)
  /// and returns the exit code.
  int expect(const response& r, const std::string& what, json& out) const {
    if (r.status == 0) {
      std::fprintf(stderr, "hlsgate: %s: %s\n", printable(what).c_str(),
                   printable(r.error).c_str());
      return code(exit_code::unreachable);
    }
    auto body = json::parse(r.body, nullptr, false);
    const auto result = exit_for_status(r.status);
    if (result == exit_code::ok) {
      if (body.is_discarded()) {
        std::fprintf(stderr, "hlsgate: %s: the server's answer is not JSON (HTTP %u)\n",
                     printable(what).c_str(), r.status);
        return code(exit_code::unreachable);
      }
      out = std::move(body);
      return 0;
    }
    std::string detail = "HTTP " + std::to_string(r.status);
    if (body.is_object() && body.contains("detail") && body["detail"].is_string())
      detail = body["detail"].get<std::string>();
    std::fprintf(stderr, "hlsgate: %s: %s (HTTP %u)\n", printable(what).c_str(),
                 printable(detail).c_str(), r.status);
    if (result == exit_code::auth)
      std::fputs("hint: set HLSGATE_API_TOKEN to the server's API token (or --token-file "
                 "DATA_DIR/api_token), or HLSGATE_ADMIN_KEY to the item's admin key\n",
                 stderr);
    return code(result);
  }

  // -- upload ---------------------------------------------------------------
  int upload_all() {
    int result = 0;
    for (auto& path : v_.args) {
      int rc = upload_one(path);
      if (result == 0)
        result = rc;
    }
    return result;
  }

  int upload_one(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec) || ::access(path.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "hlsgate: %s: not a readable file\n", printable(path).c_str());
      if (v_.json)
        std::printf("%s\n", dump({{"file", path},
                                  {"error", "not a readable file"},
                                  {"exit_code", code(exit_code::usage)}})
                                .c_str());
      return code(exit_code::usage);
    }
    std::string target = "/upload?async=true";
    if (v_.expiry_minutes)
      target += "&expiry_minutes=" + std::to_string(*v_.expiry_minutes);
    if (!v_.ladder.empty())
      target += "&ladder=" + http::query::percent_encode(v_.ladder);
    const auto started = steady::now();
    auto r = client_.upload(target, api_auth(), path, "media", [&](uint64_t sent, uint64_t total) {
      const double secs = std::chrono::duration<double>(steady::now() - started).count();
      std::string detail = human_bytes(sent) + " / " + human_bytes(total);
      if (secs > 0.2)
        detail +=
            "  " + human_bytes(static_cast<uint64_t>(static_cast<double>(sent) / secs)) + "/s";
      progress_.draw(progress_line(path, total ? double(sent) / double(total) : 1, detail),
                     sent == total);
    });
    progress_.finish();
    json item;
    if (int rc = expect(r, path, item); rc != 0) {
      if (v_.json)
        std::printf("%s\n",
                    dump({{"file", path}, {"error", "upload failed"}, {"exit_code", rc}}).c_str());
      return rc;
    }
    item["file"] = path;
    if (!v_.json) {
      std::printf("%s: %s %s\n  playlist:  %s\n  admin key: %s  (shown once: keep it)\n",
                  printable(path).c_str(), printable(text_of(item, "media_id")).c_str(),
                  printable(text_of(item, "status")).c_str(),
                  printable(text_of(item, "playlist_url")).c_str(),
                  printable(text_of(item, "admin_key")).c_str());
      std::fflush(stdout);
    }
    int rc = v_.wait ? wait_ready(path, item) : 0;
    if (v_.json)
      std::printf("%s\n", dump(item).c_str());
    else if (v_.wait && rc == 0)
      std::printf("%s: ready (%s)\n", printable(path).c_str(),
                  clock_text(number_of(item, "duration", -1.0)).c_str());
    std::fflush(stdout);
    return rc;
  }

  /// Polls the item until it is ready or failed (or --timeout passes);
  /// `item` gains its final status, progress, duration and error.
  int wait_ready(const std::string& path, json& item) {
    const std::string id = text_of(item, "media_id");
    const header_list auth{{"X-Admin-Key", text_of(item, "admin_key")}};
    const auto deadline =
        v_.timeout_seconds > 0
            ? steady::now() + std::chrono::duration_cast<steady::duration>(
                                  std::chrono::duration<double>(v_.timeout_seconds))
            : steady::time_point::max();
    for (;;) {
      json info;
      auto r = client_.request("GET", item_path(id) + "/info", auth);
      if (int rc = expect(r, path, info); rc != 0) {
        progress_.finish();
        return rc;
      }
      const std::string status = text_of(info, "status");
      item["status"] = status;
      item["progress"] = number_of(info, "progress", 0.0);
      item["duration"] = number_of(info, "duration", 0.0);
      if (status == "ready" || status == "imported") {
        progress_.draw(progress_line(path, 1, "ready"), true);
        progress_.finish();
        return 0;
      }
      if (status == "failed") {
        progress_.finish();
        item["error"] =
            text_of(info, "error").empty() ? "transcoding failed" : text_of(info, "error");
        std::fprintf(stderr, "hlsgate: %s: transcoding failed: %s\n", printable(path).c_str(),
                     printable(item["error"].get<std::string>()).c_str());
        return code(exit_code::transcode_failed);
      }
      const double eta = number_of(info, "eta_seconds", -1.0);
      progress_.draw(
          progress_line(path, number_of(info, "progress", 0.0) / 100,
                        status == "queued" ? "queued" : "transcoding, ETA " + clock_text(eta)),
          true);
      if (steady::now() + poll_interval > deadline) {
        progress_.finish();
        std::fprintf(stderr, "hlsgate: %s: not ready within %.0f s (still %s)\n",
                     printable(path).c_str(), v_.timeout_seconds, status.c_str());
        return code(exit_code::wait_timeout);
      }
      std::this_thread::sleep_for(poll_interval); // the client's polling interval
    }
  }

  // -- the library and one item ---------------------------------------------
  int list() {
    json all = json::array();
    std::string cursor;
    for (;;) {
      size_t want = page_size;
      if (v_.limit > 0)
        want = std::min(want, v_.limit - all.size());
      std::string target = "/media?limit=" + std::to_string(want);
      if (!v_.status.empty())
        target += "&status=" + http::query::percent_encode(v_.status);
      if (!v_.name_query.empty())
        target += "&q=" + http::query::percent_encode(v_.name_query);
      if (!cursor.empty())
        target += "&cursor=" + http::query::percent_encode(cursor);
      json page;
      if (int rc = expect(client_.request("GET", target, api_auth()), "ls", page); rc != 0)
        return rc;
      if (!page.is_object() || !page.contains("items") || !page["items"].is_array()) {
        std::fputs("hlsgate: ls: unexpected answer\n", stderr);
        return code(exit_code::unreachable);
      }
      for (auto& i : page["items"])
        all.push_back(i);
      const auto& next = page["next_cursor"];
      if (!next.is_string() || next.get<std::string>().empty() ||
          next.get<std::string>() == cursor || (v_.limit > 0 && all.size() >= v_.limit) ||
          page["items"].empty() || all.size() >= max_listed)
        break;
      cursor = next.get<std::string>();
    }
    std::fputs(v_.json ? (dump(all) + "\n").c_str() : media_table(all).c_str(), stdout);
    return 0;
  }

  /// One request about the item in args[0]; prints JSON or `human(body)`.
  template <class Human>
  int item_call(const std::string& method, const std::string& target, const std::string& body,
                Human human) {
    json j;
    auto r = client_.request(method, target, item_auth(), body);
    if (int rc = expect(r, v_.args[0], j); rc != 0)
      return rc;
    std::fputs(v_.json ? (dump(j) + "\n").c_str() : human(j).c_str(), stdout);
    return 0;
  }

  int info() {
    return item_call("GET", item_path(v_.args[0]) + "/info", {},
                     [](const json& j) { return info_text(j); });
  }

  int extend() {
    return item_call("POST",
                     item_path(v_.args[0]) + "/extend-expiry?additional_minutes=" + v_.args[1], {},
                     [this](const json& j) {
                       return "extended " + v_.args[0] + " by " + v_.args[1] +
                              " minutes; expires at " + printable(text_of(j, "expires_at")) + "\n";
                     });
  }

  int refresh() {
    return item_call("POST", "/refresh-token/" + http::query::percent_encode(v_.args[0]), {},
                     [this](const json& j) {
                       return "new token for " + v_.args[0] +
                              "; every older link stopped working\n  playlist: " +
                              printable(text_of(j, "playlist_url")) + "\n";
                     });
  }

  std::string token_request() const {
    json body = json::object();
    body["label"] = v_.label.empty() && v_.command == "open" ? "hlsgate open" : v_.label;
    if (v_.ttl_minutes)
      body["expires_in_minutes"] = *v_.ttl_minutes;
    return dump(body);
  }

  int tokens() {
    const std::string base = item_path(v_.args[0]) + "/tokens";
    if (v_.mint)
      return item_call("POST", base, token_request(), [](const json& j) {
        return "token " + printable(text_of(j, "jti")) +
               "\n  playlist: " + printable(text_of(j, "playlist_url")) + "\n";
      });
    if (!v_.revoke.empty())
      return item_call("DELETE", base + "/" + http::query::percent_encode(v_.revoke), {},
                       [this](const json&) { return "revoked " + v_.revoke + "\n"; });
    return item_call("GET", base, {}, [](const json& j) { return tokens_table(j); });
  }

  int open() {
    return item_call("POST", item_path(v_.args[0]) + "/tokens", token_request(),
                     [](const json& j) { return printable(text_of(j, "playlist_url")) + "\n"; });
  }

  int remove_all() {
    int result = 0;
    for (auto& id : v_.args) {
      json j;
      int rc = expect(client_.request("DELETE", item_path(id), item_auth()), id, j);
      if (v_.json)
        std::printf("%s\n",
                    dump(rc == 0 ? json{{"media_id", id}, {"deleted", true}}
                                 : json{{"media_id", id}, {"deleted", false}, {"exit_code", rc}})
                        .c_str());
      else if (rc == 0)
        std::printf("deleted %s\n", id.c_str());
      if (result == 0)
        result = rc;
    }
    return result;
  }

  invocation v_;
  http_client client_;
  progress_bar progress_;
};

} // namespace

int run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  std::signal(SIGPIPE, SIG_IGN);
  auto parsed = parse(args, env, &read_whole_file);
  if (parsed.help) {
    std::fputs(parsed.message.c_str(), stdout);
    return 0;
  }
  if (!parsed.ok) {
    std::fprintf(stderr, "hlsgate: %s\n", parsed.message.c_str());
    return code(exit_code::usage);
  }
  session s{std::move(parsed.value)};
  try {
    return s.dispatch();
  } catch (const std::exception&) { // an answer without the documented shape
    std::fputs("hlsgate: unexpected answer from the server\n", stderr);
    return code(exit_code::unreachable);
  }
}

} // namespace hlsgate::cli
