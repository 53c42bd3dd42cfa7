// Live channels over real HTTP: the real server runs the built-in test
// pattern through libav in real time; the test reads its playlists like a
// player would, checks the sliding window, PROGRAM-DATE-TIME, markers as
// EXT-X-DATERANGE, deletion of old segments, ffmpeg decoding the live
// stream, the end of the event, a restart of the server, RTMP (through a
// real nginx-rtmp) publisher pushed by the ffmpeg CLI, archives, and the
// refusals. SRT publishers: live_srt_test.cpp.
#include "auth/crypto.hpp"
#include "auth/keys.hpp"
#include "tests/e2e/live_fixture.hpp"

namespace hlsgate::test {
namespace {

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
  expect_decodes(master_url(ch), 10);

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

TEST_F(live, a_kept_event_is_capped_at_the_longest_archive) {
  env["HLSGATE_MAX_SOURCE_SECONDS"] = "8";
  start();
  auto ch = create(R"(,"keep_event":true)");
  const std::string id = ch["channel_id"];
  const header_list admin{{"X-Admin-Key", ch["admin_key"].get<std::string>()}};
  // 20 one-second segments have left the 6 s window: an uncapped event
  // would keep all of them.
  poll(ch, [](const live_playlist& p) { return p.media_sequence >= 20; });
  const auto dir = channel_dir() / "v0";
  EXPECT_FALSE(fs::exists(dir / "seg_00000.ts")) << "the oldest kept segments went";
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir))
    files += e.path().extension() == ".ts";
  // The 7 kept seconds overlap what the window lists and keeps in its
  // grace; an uncapped event would have kept all 26 or more.
  EXPECT_LT(files, 20u);
  std::printf("[ measure ] segment files of a capped 8 s event after 20 s: %zu\n", files);
  auto r = http_request(port(), "POST", "/live/" + id + "/archive", admin);
  ASSERT_EQ(r.status, 202u) << r.body;
  const double seconds = archive_seconds(parse_json(r));
  EXPECT_GE(seconds, 5.5);
  EXPECT_LE(seconds, 8.0) << "at most HLSGATE_MAX_SOURCE_SECONDS";
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

TEST_F(live, rtmp_push_reconnect_and_wrong_keys) {
  if (::access("/usr/lib/nginx/modules/ngx_rtmp_module.so", R_OK) != 0)
    GTEST_SKIP() << "libnginx-mod-rtmp is not installed (scripts/install-deps.sh --test)";
  const uint16_t rtmp_port = free_port();
  const std::string rtmp = "rtmp://127.0.0.1:" + std::to_string(rtmp_port) + "/live";
  env["HLSGATE_RTMP_URL"] = rtmp;
  start();
  // No play ACL here (as in the compose stack): the keyed name hlsgate
  // reads a channel back under is what keeps others from playing it.
  nginx_process nginx{make_temp_dir("nginx-rtmp")};
  ASSERT_TRUE(nginx.start("load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\n"
                          "events { worker_connections 64; }\n"
                          "rtmp { server { listen 127.0.0.1:" +
                              std::to_string(rtmp_port) +
                              ";\n application live { live on;\n"
                              "  on_publish http://127.0.0.1:" +
                              std::to_string(port()) + "/ingest/rtmp/on_publish; } } }\n",
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
  expect_decodes(master_url(ch), 3);
  // While it publishes, playing the channel's folder name (seen in its
  // segment URLs) from the RTMP server gives nothing: hlsgate reads it
  // under a keyed name, which plays (what only hlsgate's secret gives).
  const auto& u = pl.segments.front().uri; // /seg/<folder>/v0/seg_N.ts?...
  const std::string folder = u.substr(5, u.find('/', 5) - 5);
  auto plays = [&](const std::string& name, std::string& out) {
    return run_command("timeout 5 ffmpeg -nostdin -v error -i " + shell_quote(rtmp + "/" + name) +
                           " -t 1 -f null - 2>&1",
                       &out) == 0;
  };
  {
    std::string out;
    EXPECT_FALSE(plays(folder, out)) << "the channel's folder name played from nginx-rtmp: " << out;
    EXPECT_TRUE(plays(auth::rtmp_stream_name(keys().rtmp, folder, auth::sha256_hex(key)), out))
        << out;
  }

  // The publisher goes away: reconnecting; it comes back: a discontinuity,
  // and the window goes on.
  first.kill();
  // Nor is the channel's folder name a key.
  push_refused(folder);
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

  // A new stream key: the channel stops reading the publisher of the old
  // one (still connected to nginx-rtmp), which is refused from now on; a
  // publisher with the new key goes on.
  auto k = http_request(port(), "POST", "/live/" + id + "/stream-key", op, "");
  ASSERT_EQ(k.status, 200u) << k.body;
  const std::string key2 = parse_json(k)["stream_key"];
  EXPECT_EQ(parse_json(k)["ingest_url"], rtmp);
  wait_for_status(id, "reconnecting");
  if (HasFatalFailure())
    return;
  push_refused(key);
  const uint64_t rotated = pl_end(ch);
  publisher third{rtmp + "/" + key2};
  poll_resumed(ch, rotated);
  EXPECT_EQ(status(), "live");
  third.kill();
  second.kill();
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
