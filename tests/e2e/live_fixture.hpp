// The fixture of the live end-to-end tests (live_test.cpp, live_srt_test.cpp):
// a real server with an API token, helpers that read live playlists like a
// player, poll a channel's status, wait for archives, and an ffmpeg CLI
// publisher for RTMP and SRT.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <set>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/nginx_process.hpp"

extern char** environ;

namespace hlsgate::test {
namespace {

const std::string k_token = "live-token-0123456789abcdef";

struct live_segment {
  int64_t pdt_ms = 0;
  double duration = 0;
  bool discontinuity = false;
  std::string uri;
};

struct live_playlist {
  uint64_t media_sequence = 0;
  uint64_t discontinuity_sequence = 0;
  bool ended = false;
  std::vector<std::string> dateranges;
  std::vector<live_segment> segments;
};

inline int64_t parse_pdt(const std::string& s) {
  // 2026-12-06T22:54:52.082Z
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr || rest[0] != '.' || std::strlen(rest) != 5 || rest[4] != 'Z')
    return 0;
  return int64_t{timegm(&tm)} * 1000 + std::atoi(rest + 1);
}

inline live_playlist parse_live(const std::string& body) {
  live_playlist p;
  std::istringstream in{body};
  std::string line;
  live_segment next;
  auto value = [&](const char* tag) { return line.substr(std::strlen(tag)); };
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0)
      p.media_sequence = std::stoull(value("#EXT-X-MEDIA-SEQUENCE:"));
    else if (line.rfind("#EXT-X-DISCONTINUITY-SEQUENCE:", 0) == 0)
      p.discontinuity_sequence = std::stoull(value("#EXT-X-DISCONTINUITY-SEQUENCE:"));
    else if (line == "#EXT-X-ENDLIST")
      p.ended = true;
    else if (line == "#EXT-X-DISCONTINUITY")
      next.discontinuity = true;
    else if (line.rfind("#EXT-X-DATERANGE:", 0) == 0)
      p.dateranges.push_back(line);
    else if (line.rfind("#EXT-X-PROGRAM-DATE-TIME:", 0) == 0)
      next.pdt_ms = parse_pdt(value("#EXT-X-PROGRAM-DATE-TIME:"));
    else if (line.rfind("#EXTINF:", 0) == 0)
      next.duration = std::atof(value("#EXTINF:").c_str());
    else if (!line.empty() && line[0] != '#') {
      next.uri = line;
      p.segments.push_back(next);
      next = {};
    }
  }
  return p;
}

inline int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class live : public e2e {
protected:
  header_list op{{"Authorization", "Bearer " + k_token}};

  void SetUp() override {
    env["HLSGATE_API_TOKEN"] = k_token;
    env["HLSGATE_X264_PRESET"] = "ultrafast";
  }

  /// A one-second-segment test channel of one small rung (cheap to encode).
  json create(const std::string& extra = "") {
    auto r = http_request(port(), "POST", "/live", op,
                          R"({"name":"Test","source":{"type":"test"},"segment_seconds":1,)"
                          R"("dvr_window_seconds":6,"ladder":"240:300k")" +
                              extra + "}");
    EXPECT_EQ(r.status, 201u) << r.body;
    return parse_json(r);
  }
  std::string media_url(const json& ch) {
    return "/live/" + ch["channel_id"].get<std::string>() +
           "/v0/playlist.m3u8?token=" + ch["access_token"].get<std::string>();
  }
  /// Polls the rendition's playlist (bounded: 60 s) until `pred` holds.
  template <class Pred> live_playlist poll(const json& ch, Pred pred) {
    live_playlist last;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      auto r = http_get(port(), media_url(ch));
      if (r.status == 200) {
        last = parse_live(r.body);
        if (pred(last))
          return last;
      } else {
        EXPECT_EQ(r.status, 503u) << r.body; // waiting for the first segments
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    }
    ADD_FAILURE() << "the playlist never reached the expected state";
    return last;
  }
  std::string status_of(const std::string& id) {
    return parse_json(http_get(port(), "/live/" + id, op))["status"].get<std::string>();
  }
  /// Polls (bounded: 60 s) until channel `id` shows `status`.
  void wait_for_status(const std::string& id, const std::string& status) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (status_of(id) != status && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    ASSERT_EQ(status_of(id), status);
  }
  /// The media sequence number after the last segment `ch` lists now.
  uint64_t pl_end(const json& ch) {
    auto p = poll(ch, [](const live_playlist&) { return true; });
    return p.media_sequence + p.segments.size();
  }
  /// Publishers refused for an unknown stream key so far (/metrics).
  double bad_stream_keys() {
    const std::string series = R"(reason="bad_stream_key"} )"; // hlsgate_auth_failures_total
    const auto metrics = http_get(port(), "/metrics").body;
    const auto at = metrics.find(series);
    return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + series.size(), 24));
  }
  /// The playlist once a discontinuity at or after media sequence `before`
  /// has two segments after it (a resumed source).
  live_playlist poll_resumed(const json& ch, uint64_t before) {
    return poll(ch, [&](const live_playlist& p) {
      for (size_t i = 0; i < p.segments.size(); ++i)
        if (p.segments[i].discontinuity && p.media_sequence + i >= before &&
            i + 2 < p.segments.size())
          return true;
      return false;
    });
  }
  /// The master playlist URL of channel `ch` (a create reply) with its token.
  std::string master_url(const json& ch) {
    return srv->base_url() + "/live/" + ch["channel_id"].get<std::string>() +
           "/playlist.m3u8?token=" + ch["access_token"].get<std::string>();
  }
  /// ffmpeg -xerror decodes `url` (its first `seconds`; 0: all of it)
  /// without printing a word.
  void expect_decodes(const std::string& url, int seconds = 0) {
    std::string out;
    const std::string first = seconds > 0 ? " -t " + std::to_string(seconds) : "";
    EXPECT_EQ(run_command("timeout 60 ffmpeg -nostdin -v error -xerror -i " + shell_quote(url) +
                              first + " -f null - 2>&1",
                          &out),
              0)
        << out;
    EXPECT_EQ(out, "") << "decoder reported errors on " << url;
  }
  /// Waits (bounded: 90 s) for the archive item `a` (the reply of POST
  /// /live/{id}/archive) to be ready, decodes it with ffmpeg -xerror and
  /// returns its duration in seconds.
  double archive_seconds(const json& a) {
    const std::string media_id = a["media_id"];
    const header_list item_admin{{"X-Admin-Key", a["admin_key"].get<std::string>()}};
    json info;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
      info = parse_json(http_get(port(), "/media/" + media_id + "/info", item_admin));
    } while (info["status"] != "ready" && info["status"] != "failed" &&
             std::chrono::steady_clock::now() < until);
    EXPECT_EQ(info["status"], "ready") << info.dump();
    const std::string url = a["playlist_url"];
    expect_decodes(url);
    std::string out;
    run_command("ffprobe -v error -show_entries format=duration -of csv=p=0 " + shell_quote(url),
                &out);
    std::printf("[ measure ] archive %s: %s s\n", media_id.c_str(), out.c_str());
    return std::atof(out.c_str());
  }
  /// Two seconds of MPEG-TS pushed to `url` with the ffmpeg CLI must fail.
  void expect_srt_push_refused(const std::string& url) {
    std::string out;
    const int rc = run_command(
        "timeout 30 ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=160x120:rate=10 -t 2 "
        "-c:v libx264 -preset ultrafast -f mpegts " +
            shell_quote(url) + " 2>&1",
        &out);
    EXPECT_NE(rc, 0) << "publishing to '" << url << "' must be refused: " << out;
  }
  fs::path channel_dir() {
    for (auto& e : fs::directory_iterator(fs::path{data} / "media"))
      if (e.path().filename().string().rfind("live-", 0) == 0)
        return e.path();
    return {};
  }
};

/// A publisher: the ffmpeg CLI pushing a lavfi source in real time (at most
/// 120 s) as FLV (RTMP) or MPEG-TS (SRT, `output` options first), killed by
/// the test or the destructor.
class publisher {
public:
  explicit publisher(const std::string& url, std::vector<std::string> output = {"-f", "flv"}) {
    std::vector<std::string> args = {"ffmpeg",
                                     "-nostdin",
                                     "-v",
                                     "error",
                                     "-re",
                                     "-f",
                                     "lavfi",
                                     "-i",
                                     "testsrc2=size=426x240:rate=25",
                                     "-f",
                                     "lavfi",
                                     "-i",
                                     "sine=frequency=440",
                                     "-c:v",
                                     "libx264",
                                     "-preset",
                                     "ultrafast",
                                     "-tune",
                                     "zerolatency",
                                     "-g",
                                     "25",
                                     "-pix_fmt",
                                     "yuv420p",
                                     "-c:a",
                                     "aac",
                                     "-t",
                                     "120"};
    args.insert(args.end(), output.begin(), output.end());
    args.push_back(url);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "ffmpeg", nullptr, nullptr, argv.data(), environ) != 0)
      pid_ = -1;
  }
  ~publisher() { kill(); }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  bool started() const { return pid_ > 0; }

private:
  pid_t pid_ = -1;
};

} // namespace
} // namespace hlsgate::test
