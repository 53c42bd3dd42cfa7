// Live channels over real HTTP: the real server runs the built-in test
// pattern through libav in real time; the test reads its playlists like a
// player would, checks the sliding window, PROGRAM-DATE-TIME, markers as
// EXT-X-DATERANGE, deletion of old segments, ffmpeg decoding the live
// stream, the end of the event, a restart of the server, RTMP (through a
// real nginx-rtmp) and SRT publishers pushed by the ffmpeg CLI, and the refusals.
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

int64_t parse_pdt(const std::string& s) {
  // 2026-12-06T22:54:52.082Z
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr || rest[0] != '.' || std::strlen(rest) != 5 || rest[4] != 'Z')
    return 0;
  return int64_t{timegm(&tm)} * 1000 + std::atoi(rest + 1);
}

live_playlist parse_live(const std::string& body) {
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

int64_t now_ms() {
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
    std::string out;
    EXPECT_EQ(run_command("timeout 60 ffmpeg -nostdin -v error -xerror -i " + shell_quote(url) +
                              " -f null - 2>&1",
                          &out),
              0)
        << out;
    EXPECT_EQ(out, "") << "decoder reported errors";
    out.clear();
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

TEST_F(live, test_pattern_window_slides_with_markers_and_ends) {
  start();
  auto ch = create();
  const std::string id = ch["channel_id"];
  const std::string token = ch["access_token"];
  const std::string key = ch["admin_key"];
  EXPECT_EQ(ch["playlist_url"], srv->base_url() + "/live/" + id + "/playlist.m3u8?token=" + token);

  // The window slides: at 1 s segments and a 6 s window the sequence moves.
  auto pl = poll(ch, [](const live_playlist& p) { return p.media_sequence >= 4; });
  ASSERT_FALSE(pl.segments.empty());
  EXPECT_LE(pl.segments.size(), 8u);
  int64_t prev = 0;
  for (auto& s : pl.segments) {
    EXPECT_GT(s.pdt_ms, prev) << "PROGRAM-DATE-TIME must increase";
    prev = s.pdt_ms;
    EXPECT_NEAR(s.duration, 1.0, 0.05);
  }
  const auto& edge = pl.segments.back();
  EXPECT_LT(std::llabs(now_ms() - (edge.pdt_ms + int64_t(edge.duration * 1000))), 2000)
      << "the live edge's capture time is within 2 s of the wall clock";

  // Segments are signed /seg/ URLs of this channel, served as MPEG-TS.
  auto seg = http_get(port(), edge.uri);
  ASSERT_EQ(seg.status, 200u) << edge.uri;
  EXPECT_EQ(seg.header("content-type"), "video/mp2t");
  ASSERT_GT(seg.body.size(), 188u);
  EXPECT_EQ(seg.body[0], 0x47);

  // What left the window is deleted after its grace: seg_00000 goes.
  const auto dir = channel_dir();
  ASSERT_FALSE(dir.empty());
  const auto first = dir / "v0" / "seg_00000.ts";
  poll(ch, [&](const live_playlist&) { return !fs::exists(first); });
  size_t files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir / "v0"))
    ++files;
  EXPECT_LE(files, 20u) << "old segments are removed";

  // A marker appears as EXT-X-DATERANGE in the next playlist and in the list.
  auto m =
      http_request(port(), "POST", "/live/" + id + "/markers", {{"X-Admin-Key", key}},
                   R"({"label":"Goal","class":"sports.goal","duration":3,"data":{"team":"A"}})");
  ASSERT_EQ(m.status, 201u) << m.body;
  auto marker = parse_json(m);
  const std::string mid = marker["id"];
  pl = poll(ch, [&](const live_playlist& p) {
    for (auto& d : p.dateranges)
      if (d.find("ID=\"" + mid + "\"") != std::string::npos)
        return true;
    return false;
  });
  bool found = false;
  for (auto& d : pl.dateranges)
    if (d.find("ID=\"" + mid + "\"") != std::string::npos) {
      found = true;
      EXPECT_NE(d.find("CLASS=\"sports.goal\""), std::string::npos) << d;
      EXPECT_NE(d.find("DURATION=3"), std::string::npos) << d;
      EXPECT_NE(d.find("X-LABEL=\"Goal\""), std::string::npos) << d;
      EXPECT_NE(d.find("X-DATA=\"eyJ0ZWFtIjoiQSJ9\""), std::string::npos) << d;
    }
  EXPECT_TRUE(found);
  auto list = parse_json(http_get(port(), "/live/" + id + "/markers?token=" + token));
  ASSERT_EQ(list["markers"].size(), 1u) << list.dump();
  EXPECT_EQ(list["markers"][0]["data"]["team"], "A");
  const int64_t start = list["markers"][0]["start_ms"];
  auto later = parse_json(http_get(port(), "/live/" + id + "/markers?token=" + token +
                                               "&since=" + std::to_string(start)));
  EXPECT_TRUE(later["markers"].empty()) << later.dump();

  // ffmpeg reads 10 s of the live stream without one error.
  std::string out;
  const auto url = srv->base_url() + "/live/" + id + "/playlist.m3u8?token=" + token;
  int rc = run_command("timeout 60 ffmpeg -nostdin -v error -xerror -i " + shell_quote(url) +
                           " -t 10 -f null - 2>&1",
                       &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "decoder reported errors";

  // Status, then the end of the event: ENDLIST.
  auto info = parse_json(http_get(port(), "/live/" + id, {{"X-Admin-Key", key}}));
  EXPECT_EQ(info["status"], "live");
  EXPECT_EQ(info["resolution"], "426x240");
  EXPECT_GT(info["ingest_bitrate"].get<uint64_t>(), 0u);
  EXPECT_GE(info["viewers"].get<unsigned>(), 1u);
  auto stopped = http_request(port(), "POST", "/live/" + id + "/stop", {{"X-Admin-Key", key}});
  ASSERT_EQ(stopped.status, 200u) << stopped.body;
  EXPECT_EQ(parse_json(stopped)["status"], "ended");
  pl = poll(ch, [](const live_playlist& p) { return p.ended; });
  EXPECT_FALSE(pl.segments.empty());

  // Deleted: playlists, segments and status answer 404.
  ASSERT_EQ(http_request(port(), "DELETE", "/live/" + id, {{"X-Admin-Key", key}}).status, 200u);
  EXPECT_EQ(http_get(port(), media_url(ch)).status, 404u);
  EXPECT_EQ(http_get(port(), edge.uri).status, 404u);
  EXPECT_EQ(http_get(port(), "/live/" + id, op).status, 404u);
}

TEST_F(live, archive_makes_a_vod_item_of_the_window) {
  start();
  auto ch = create();
  const std::string id = ch["channel_id"];
  const header_list admin{{"X-Admin-Key", ch["admin_key"].get<std::string>()}};
  const std::string path = "/live/" + id + "/archive";
  // Nothing to archive before the first segment (the pattern runs in real
  // time: its first 1 s segment cannot be there yet).
  EXPECT_EQ(http_request(port(), "POST", path, admin).status, 409u);
  EXPECT_EQ(http_request(port(), "POST", path).status, 401u);
  EXPECT_EQ(http_request(port(), "POST", path, {{"X-Admin-Key", ch["access_token"]}}).status, 403u);
  EXPECT_EQ(http_request(port(), "POST", "/live/unknown/archive", op).status, 404u);
  EXPECT_EQ(http_request(port(), "POST", path + "?expiry_minutes=0", admin).status, 422u);

  auto pl = poll(ch, [](const live_playlist& p) { return p.media_sequence >= 3; });
  double window = 0;
  for (auto& s : pl.segments)
    window += s.duration;
  auto r = http_request(port(), "POST", path + "?expiry_minutes=30", admin);
  ASSERT_EQ(r.status, 202u) << r.body;
  auto a = parse_json(r);
  EXPECT_EQ(a["channel_id"], id);
  EXPECT_EQ(a["expires_in_minutes"], 30);
  const std::string media_id = a["media_id"];
  const std::string token = a["access_token"];
  EXPECT_EQ(a["playlist_url"],
            srv->base_url() + "/stream/" + media_id + "/playlist.m3u8?token=" + token);

  // The item transcodes like an upload, then plays as VOD: every frame of
  // the window (at least what was listed when it was asked for) decodes.
  const double seconds = archive_seconds(a);
  EXPECT_GE(seconds, window - 0.5) << "the archive holds the window listed before it was asked for";
  EXPECT_LE(seconds, window + 8) << "and not more than the window it saw";
  // The channel goes on; the item is the channel admin's no more than any
  // viewer's: its own keys manage it.
  EXPECT_EQ(status_of(id), "live");
  EXPECT_EQ(http_get(port(), "/media/" + media_id + "/info", admin).status, 403u);
}

TEST_F(live, keep_event_archives_the_whole_event_across_a_restart) {
  start();
  auto ch = create(R"(,"keep_event":true)");
  const std::string id = ch["channel_id"];
  const header_list admin{{"X-Admin-Key", ch["admin_key"].get<std::string>()}};
  // 12 one-second segments: the first ones left the 6 s window long enough
  // ago that a channel without keep_event would have deleted them.
  EXPECT_EQ(parse_json(http_get(port(), "/live/" + id, admin))["keep_event"], true);
  auto before = poll(ch, [](const live_playlist& p) { return p.media_sequence >= 12; });
  const auto first = channel_dir() / "v0" / "seg_00000.ts";
  EXPECT_TRUE(fs::exists(first)) << "a kept event's first segment stays";
  ASSERT_EQ(srv->stop(), 0);
  start();
  poll_resumed(ch, before.media_sequence + before.segments.size());
  EXPECT_TRUE(fs::exists(first)) << "and survives the restart's sweep";
  auto r = http_request(port(), "POST", "/live/" + id + "/archive", admin);
  ASSERT_EQ(r.status, 202u) << r.body;
  const double seconds = archive_seconds(parse_json(r));
  EXPECT_GE(seconds, 14.0) << "the archive holds the event from its start, both sessions";
  ASSERT_EQ(http_request(port(), "DELETE", "/live/" + id, admin).status, 200u);
  // Its folder goes once the ingest has stopped writing.
  const auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs::exists(first.parent_path().parent_path()) &&
         std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
  EXPECT_FALSE(fs::exists(first.parent_path().parent_path())) << "deleted with its channel";
}

TEST_F(live, channels_and_markers_survive_a_restart) {
  start();
  auto ch = create();
  const std::string id = ch["channel_id"];
  const std::string key = ch["admin_key"];
  auto before = poll(ch, [](const live_playlist& p) { return p.segments.size() >= 2; });
  auto m = http_request(port(), "POST", "/live/" + id + "/markers", {{"X-Admin-Key", key}},
                        R"({"label":"Kick-off"})");
  ASSERT_EQ(m.status, 201u) << m.body;
  ASSERT_EQ(srv->stop(), 0);
  start();
  // The saved window is served again, and the ingest resumes after a
  // discontinuity; numbering goes on.
  auto after = poll(ch, [&](const live_playlist& p) {
    for (auto& s : p.segments)
      if (s.discontinuity)
        return true;
    return false;
  });
  EXPECT_GE(after.media_sequence, before.media_sequence);
  // What was listed before the restart and is still in the window plays.
  for (auto& s : after.segments) {
    if (s.discontinuity)
      break;
    EXPECT_EQ(http_get(port(), s.uri).status, 200u) << s.uri;
  }
  int64_t prev = 0;
  for (auto& s : after.segments) {
    EXPECT_GT(s.pdt_ms, prev);
    prev = s.pdt_ms;
  }
  auto list = parse_json(
      http_get(port(), "/live/" + id + "/markers?token=" + ch["access_token"].get<std::string>()));
  ASSERT_EQ(list["markers"].size(), 1u);
  EXPECT_EQ(list["markers"][0]["label"], "Kick-off");
  auto all = parse_json(http_get(port(), "/live", op));
  ASSERT_EQ(all["channels"].size(), 1u);
  EXPECT_EQ(all["channels"][0]["channel_id"], id);
}

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

TEST_F(live, rtmp_push_reconnect_and_wrong_keys) {
  if (::access("/usr/lib/nginx/modules/ngx_rtmp_module.so", R_OK) != 0)
    GTEST_SKIP() << "libnginx-mod-rtmp is not installed (scripts/install-deps.sh --test)";
  const uint16_t rtmp_port = free_port();
  const std::string rtmp = "rtmp://127.0.0.1:" + std::to_string(rtmp_port) + "/live";
  env["HLSGATE_RTMP_URL"] = rtmp;
  start();
  nginx_process nginx{make_temp_dir("nginx-rtmp")};
  ASSERT_TRUE(nginx.start("load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\n"
                          "events { worker_connections 64; }\n"
                          "rtmp { server { listen 127.0.0.1:" +
                              std::to_string(rtmp_port) +
                              ";\n application live { live on;\n"
                              "  on_publish http://127.0.0.1:" +
                              std::to_string(port()) +
                              "/ingest/rtmp/on_publish;\n"
                              "  allow play 127.0.0.1; deny play all; } } }\n",
                          rtmp_port))
      << read_file(nginx.error_log());

  auto r = http_request(port(), "POST", "/live", op,
                        R"({"name":"Push","source":{"type":"rtmp"},"segment_seconds":1,)"
                        R"("dvr_window_seconds":30,"ladder":"240:300k"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  auto ch = parse_json(r);
  const std::string id = ch["channel_id"];
  const std::string key = ch["stream_key"];
  EXPECT_EQ(ch["ingest_url"], rtmp);
  ASSERT_FALSE(key.empty());
  auto status = [&] { return status_of(id); };
  EXPECT_EQ(status(), "waiting");

  // Publishing with an unknown key is refused by hlsgate's on_publish.
  auto push_refused = [&](const std::string& name) {
    std::string out;
    const int rc = run_command(
        "timeout 30 ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=160x120:rate=10 -t 2 "
        "-c:v libx264 -preset ultrafast -f flv " +
            shell_quote(rtmp + "/" + name) + " 2>&1",
        &out);
    EXPECT_NE(rc, 0) << "publishing as " << name << " must be refused: " << out;
  };
  push_refused("wrong-key");

  // The publisher's picture becomes the channel's window.
  publisher first{rtmp + "/" + key};
  ASSERT_TRUE(first.started());
  auto pl = poll(ch, [](const live_playlist& p) { return p.segments.size() >= 3; });
  EXPECT_EQ(status(), "live");
  std::string out;
  const auto url = srv->base_url() + "/live/" + id +
                   "/playlist.m3u8?token=" + ch["access_token"].get<std::string>();
  EXPECT_EQ(run_command("timeout 60 ffmpeg -nostdin -v error -xerror -i " + shell_quote(url) +
                            " -t 3 -f null - 2>&1",
                        &out),
            0)
      << out;

  // The publisher goes away: reconnecting; it comes back: a discontinuity,
  // and the window goes on.
  first.kill();
  // The name the accepted stream was renamed to (the channel's folder, seen
  // in its segment URLs) is no key either.
  const auto& u = pl.segments.front().uri; // /seg/<folder>/v0/seg_N.ts?...
  push_refused(u.substr(5, u.find('/', 5) - 5));
  wait_for_status(id, "reconnecting");
  if (HasFatalFailure())
    return;
  const uint64_t before = pl.media_sequence + pl.segments.size();
  publisher second{rtmp + "/" + key};
  pl = poll_resumed(ch, before);
  EXPECT_EQ(status(), "live");
  int64_t prev = 0;
  for (auto& s : pl.segments) {
    EXPECT_GT(s.pdt_ms, prev);
    prev = s.pdt_ms;
  }
  second.kill();
}

TEST_F(live, srt_push_reconnect_and_wrong_keys) {
  const uint16_t srt_port = free_port(); // a free TCP port; UDP is free there too here
  env["HLSGATE_SRT_PORT"] = std::to_string(srt_port);
  start();
  auto r = http_request(port(), "POST", "/live", op,
                        R"({"name":"SRT","source":{"type":"srt"},"segment_seconds":1,)"
                        R"("dvr_window_seconds":30,"ladder":"240:300k"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  auto ch = parse_json(r);
  const std::string id = ch["channel_id"];
  const std::string key = ch["stream_key"];
  const std::string srt = "srt://127.0.0.1:" + std::to_string(srt_port);
  EXPECT_EQ(ch["ingest_url"], srt + "?streamid=" + key);
  auto status = [&] { return status_of(id); };
  EXPECT_EQ(status(), "waiting");

  // Unknown keys are refused in the SRT handshake, before any media.
  for (const std::string& bad :
       std::vector<std::string>{"wrong-key", "", "#!::r=" + key + ",m=request"})
    expect_srt_push_refused(srt + "?streamid=" + bad);
  const auto metrics = http_get(port(), "/metrics").body;
  const auto at = metrics.find(R"(reason="bad_stream_key"} )");
  ASSERT_NE(at, std::string::npos) << "refusals are counted";
  EXPECT_GE(std::stod(metrics.substr(at + 25, 12)), 3.0);

  publisher first{srt + "?streamid=" + key, {"-f", "mpegts"}};
  ASSERT_TRUE(first.started());
  auto pl = poll(ch, [](const live_playlist& p) { return p.segments.size() >= 3; });
  EXPECT_EQ(status(), "live");
  std::string out;
  const auto url = srv->base_url() + "/live/" + id +
                   "/playlist.m3u8?token=" + ch["access_token"].get<std::string>();
  EXPECT_EQ(run_command("timeout 60 ffmpeg -nostdin -v error -xerror -i " + shell_quote(url) +
                            " -t 3 -f null - 2>&1",
                        &out),
            0)
      << out;

  // The publisher vanishes (no SRT shutdown): reconnecting once the
  // connection times out; it comes back with SRT's access-control stream id
  // syntax: a discontinuity, and the window goes on.
  first.kill();
  wait_for_status(id, "reconnecting");
  if (HasFatalFailure())
    return;
  const uint64_t before = pl.media_sequence + pl.segments.size();
  // (ffmpeg 5.1 passes the stream id from the URL as it is, undecoded.)
  publisher second{srt + "?streamid=#!::r=" + key + ",m=publish", {"-f", "mpegts"}};
  pl = poll_resumed(ch, before);
  EXPECT_EQ(status(), "live");
  // Segment files are never reused across sessions.
  std::set<std::string> uris;
  for (auto& s : pl.segments)
    EXPECT_TRUE(uris.insert(s.uri.substr(0, s.uri.find('?'))).second) << s.uri;
  second.kill();
}

TEST_F(live, srt_encrypted_channel_needs_its_passphrase) {
  const uint16_t srt_port = free_port();
  env["HLSGATE_SRT_PORT"] = std::to_string(srt_port);
  start();
  auto r = http_request(port(), "POST", "/live", op,
                        R"({"name":"AES","source":{"type":"srt","encrypted":true},)"
                        R"("segment_seconds":1,"dvr_window_seconds":30,"ladder":"240:300k"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  auto ch = parse_json(r);
  const std::string id = ch["channel_id"];
  const std::string key = ch["stream_key"];
  const std::string pass = ch["passphrase"];
  const std::string srt = "srt://127.0.0.1:" + std::to_string(srt_port) + "?streamid=" + key;
  EXPECT_EQ(ch["ingest_url"], srt + "&passphrase=" + pass);
  EXPECT_GE(pass.size(), 10u);
  // The right key without the passphrase, or with another, is refused.
  expect_srt_push_refused(srt);
  expect_srt_push_refused(srt + "&passphrase=" + std::string(pass.size(), 'x'));
  EXPECT_EQ(status_of(id), "waiting");
  publisher pub{ch["ingest_url"].get<std::string>(), {"-f", "mpegts"}};
  ASSERT_TRUE(pub.started());
  poll(ch, [](const live_playlist& p) { return p.segments.size() >= 2; });
  auto info = parse_json(http_get(port(), "/live/" + id, op));
  EXPECT_EQ(info["status"], "live");
  EXPECT_EQ(info["source"]["encrypted"], true);
  EXPECT_FALSE(info.dump().find(pass) != std::string::npos) << "the passphrase is shown only once";
  std::string out;
  const auto url = srv->base_url() + "/live/" + id +
                   "/playlist.m3u8?token=" + ch["access_token"].get<std::string>();
  EXPECT_EQ(run_command("timeout 60 ffmpeg -nostdin -v error -xerror -i " + shell_quote(url) +
                            " -t 2 -f null - 2>&1",
                        &out),
            0)
      << out;
  pub.kill();
}

TEST_F(live, srt_damaged_source_counts_dropped_frames) {
  const uint16_t srt_port = free_port();
  env["HLSGATE_SRT_PORT"] = std::to_string(srt_port);
  start();
  auto r = http_request(port(), "POST", "/live", op,
                        R"({"name":"Noise","source":{"type":"srt"},"segment_seconds":1,)"
                        R"("ladder":"240:300k"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  auto ch = parse_json(r);
  const std::string id = ch["channel_id"];
  auto dropped = [&] {
    return parse_json(http_get(port(), "/live/" + id, op))["dropped_frames"].get<uint64_t>();
  };
  {
    publisher clean{ch["ingest_url"].get<std::string>(), {"-f", "mpegts"}};
    ASSERT_TRUE(clean.started());
    poll(ch, [](const live_playlist& p) { return p.segments.size() >= 2; });
    EXPECT_EQ(dropped(), 0u) << "a clean source drops nothing";
    clean.kill();
  }
  wait_for_status(id, "reconnecting");
  // Bytes of the H.264 packets flipped on the way (ffmpeg's noise filter):
  // the decoder fails or conceals, and the channel counts those frames.
  std::string out;
  run_command("timeout 30 ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=320x240:rate=25 "
              "-t 5 -c:v libx264 -preset ultrafast -g 25 -bsf:v noise=amount=2000 -f mpegts " +
                  shell_quote(ch["ingest_url"].get<std::string>()) + " 2>&1",
              &out);
  // Counted as segments are listed: read once the push is over and its
  // last segment listed (the source is gone again).
  wait_for_status(id, "reconnecting");
  const uint64_t n = dropped();
  std::printf("[ measure ] dropped frames of a damaged 5 s source (125 frames): %llu\n",
              static_cast<unsigned long long>(n));
  EXPECT_GT(n, 0u) << out;
  EXPECT_LE(n, 125u);
  // The gauge is set every second.
  const std::string series =
      "hlsgate_live_dropped_frames{channel=\"" + id + "\"} " + std::to_string(n) + "\n";
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (http_get(port(), "/metrics").body.find(series) == std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
  EXPECT_NE(http_get(port(), "/metrics").body.find(series), std::string::npos) << series;
}

TEST_F(live, refusals) {
  env["HLSGATE_MAX_CHANNELS"] = "1";
  start();
  const std::string body = R"({"name":"x","source":{"type":"test"},"ladder":"240:300k"})";
  EXPECT_EQ(http_request(port(), "POST", "/live", {}, body).status, 401u);
  EXPECT_EQ(http_request(port(), "POST", "/live", {{"Authorization", "Bearer wrong"}}, body).status,
            403u);
  EXPECT_EQ(http_get(port(), "/live").status, 401u);
  for (std::string bad :
       {std::string{R"({"source":{"type":"test"}})"}, std::string{R"({"name":"x"})"},
        std::string{R"({"name":"x","source":{"type":"rtmp"}})"},
        std::string{R"({"name":"x","source":{"type":"pull"}})"},
        std::string{R"({"name":"x","source":{"type":"file:///etc/passwd"}})"},
        std::string{R"({"name":"x","source":{"type":"test"},"url":"y"})"},
        std::string{R"({"name":"x","source":{"type":"test","encrypted":true}})"},
        std::string{R"({"name":"x","source":{"type":"srt","encrypted":"yes"}})"},
        std::string{R"({"name":"a\"b","source":{"type":"test"}})"},
        std::string{R"({"name":"x","source":{"type":"test"},"ladder":"9"})"},
        std::string{R"({"name":"x","source":{"type":"test"},"segment_seconds":0})"},
        std::string{"not json"}, std::string(5000, '{')}) {
    auto r = http_request(port(), "POST", "/live", op, bad);
    EXPECT_EQ(r.status, 422u) << bad.substr(0, 60) << " -> " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json") << r.body;
  }
  auto ch = create();
  const std::string id = ch["channel_id"];
  const std::string token = ch["access_token"];
  // RTMP needs HLSGATE_RTMP_URL.
  EXPECT_EQ(http_request(port(), "POST", "/live", op,
                         R"({"name":"x","source":{"type":"rtmp"},"ladder":"240:300k"})")
                .status,
            422u);
  EXPECT_EQ(http_request(port(), "POST", "/ingest/rtmp/on_publish", {}, "name=anything").status,
            403u);
  // SRT is off in the tests' servers unless a test sets HLSGATE_SRT_PORT.
  EXPECT_EQ(http_request(port(), "POST", "/live", op,
                         R"({"name":"x","source":{"type":"srt"},"ladder":"240:300k"})")
                .status,
            422u);
  // One channel is the limit here.
  EXPECT_EQ(http_request(port(), "POST", "/live", op, body).status, 422u);
  // Its management needs its admin key or the API token.
  EXPECT_EQ(http_get(port(), "/live/" + id).status, 401u);
  EXPECT_EQ(http_get(port(), "/live/" + id, {{"X-Admin-Key", "nope"}}).status, 403u);
  EXPECT_EQ(http_request(port(), "POST", "/live/" + id + "/stop", {{"X-Admin-Key", token}}).status,
            403u);
  EXPECT_EQ(http_request(port(), "POST", "/live/" + id + "/markers", {}, R"({"label":"x"})").status,
            401u);
  EXPECT_EQ(
      http_request(port(), "POST", "/live/" + id + "/markers", op, R"({"label":"x","at":"y"})")
          .status,
      422u);
  EXPECT_EQ(http_request(port(), "DELETE", "/live/" + id + "/markers/none", op).status, 404u);
  // Viewers need a token of this channel.
  EXPECT_EQ(http_get(port(), "/live/" + id + "/playlist.m3u8").status, 401u);
  EXPECT_EQ(http_get(port(), "/live/" + id + "/playlist.m3u8?token=x.y.z").status, 403u);
  EXPECT_EQ(http_get(port(), "/live/" + id + "/markers?token=" + token + "&since=soon").status,
            422u);
  EXPECT_EQ(http_get(port(), "/live/unknown/playlist.m3u8?token=" + token).status, 403u);
  EXPECT_EQ(http_get(port(), "/live/unknown", op).status, 404u);
  // A refresh revokes every older token of the channel at once.
  auto refreshed = http_request(port(), "POST", "/live/" + id + "/refresh-token",
                                {{"X-Admin-Key", ch["admin_key"]}});
  ASSERT_EQ(refreshed.status, 200u) << refreshed.body;
  const std::string fresh = parse_json(refreshed)["access_token"];
  EXPECT_EQ(http_get(port(), "/live/" + id + "/markers?token=" + token).status, 403u);
  EXPECT_EQ(http_get(port(), "/live/" + id + "/markers?token=" + fresh).status, 200u);
  ASSERT_EQ(http_request(port(), "DELETE", "/live/" + id, op).status, 200u);
  EXPECT_EQ(http_request(port(), "DELETE", "/live/" + id, op).status, 404u);
  // The place is free again.
  create();
}

} // namespace
} // namespace hlsgate::test
