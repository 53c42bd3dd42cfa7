// Live channels fed over SRT by the ffmpeg CLI, through hlsgate's own
// listener: wrong keys refused in the handshake, reconnects, encrypted
// channels and their passphrase, frames a damaged source loses.
#include "tests/e2e/live_fixture.hpp"

namespace hlsgate::test {
namespace {

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
  EXPECT_GE(bad_stream_keys(), 3.0) << "refusals are counted";

  publisher first{srt + "?streamid=" + key, {"-f", "mpegts"}};
  ASSERT_TRUE(first.started());
  auto pl = poll(ch, [](const live_playlist& p) { return p.segments.size() >= 3; });
  EXPECT_EQ(status(), "live");
  expect_decodes(master_url(ch), 3);

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
  expect_decodes(master_url(ch), 2);

  // A new stream key and passphrase (leaked ones are replaced without
  // losing the channel): the publisher of the old ones is cut off, they are
  // refused from now on, and a publisher with the new ones goes on.
  const uint64_t before = pl_end(ch);
  const std::string rekey = "/live/" + id + "/stream-key";
  EXPECT_EQ(http_request(port(), "POST", rekey, {}, "").status, 401u);
  EXPECT_EQ(http_request(port(), "POST", rekey, {{"X-Admin-Key", "wrong"}}, "").status, 403u);
  auto k = http_request(port(), "POST", rekey,
                        {{"X-Admin-Key", ch["admin_key"].get<std::string>()}}, "");
  ASSERT_EQ(k.status, 200u) << k.body;
  auto fresh = parse_json(k);
  const std::string key2 = fresh["stream_key"];
  const std::string pass2 = fresh["passphrase"];
  EXPECT_NE(key2, key);
  EXPECT_NE(pass2, pass);
  const std::string url2 =
      "srt://127.0.0.1:" + std::to_string(srt_port) + "?streamid=" + key2 + "&passphrase=" + pass2;
  EXPECT_EQ(fresh["ingest_url"], url2);
  wait_for_status(id, "reconnecting");
  if (HasFatalFailure())
    return;
  const double refused = bad_stream_keys();
  expect_srt_push_refused(ch["ingest_url"].get<std::string>());
  EXPECT_GT(bad_stream_keys(), refused) << "the old key is refused as unknown";
  expect_srt_push_refused(srt + "&passphrase=" + pass2); // the new passphrase, the old key
  publisher next{url2, {"-f", "mpegts"}};
  ASSERT_TRUE(next.started());
  poll_resumed(ch, before);
  EXPECT_EQ(status_of(id), "live");
  next.kill();
  pub.kill();
  // A channel nobody pushes to has no key to rotate.
  auto test_ch = create();
  EXPECT_EQ(http_request(port(), "POST",
                         "/live/" + test_ch["channel_id"].get<std::string>() + "/stream-key", op,
                         "")
                .status,
            409u);
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

} // namespace
} // namespace hlsgate::test
