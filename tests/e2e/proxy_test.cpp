// The stream proxy end to end (tests/e2e/proxy_fixture.hpp): viewers are
// ffmpeg, ffprobe and raw HTTP clients. What m3u-proxy lets through (a
// viewer-chosen URL, file://, loopback, a redirect to cloud metadata, a
// forged reference) is refused here.
#include "tests/e2e/proxy_fixture.hpp"

namespace hlsgate::test {
namespace {

using namespace proxy_fixture;

TEST_F(proxy, plays_a_ladder_through_rewritten_playlists) {
  start();
  const std::string url = base + "/a/master.m3u8";
  auto made = create({{"url", url}, {"metadata", {{"channel", "7"}}}});
  const std::string id = made["stream_id"], token = made["access_token"];
  EXPECT_EQ(made["stream_type"], "hls");
  EXPECT_EQ(made["playlist_url"], "/hls/" + id + "/playlist.m3u8?token=" + token);
  // The same URL and metadata: the same stream (found, not a hash of the URL).
  auto again = create({{"url", url}, {"metadata", {{"channel", "7"}}}});
  EXPECT_EQ(again["stream_id"], id);
  EXPECT_NE(create({{"url", url}})["stream_id"], id);
  EXPECT_EQ(parse_json(http_get(port(), "/streams", op))["total"], 2);
  auto found = parse_json(
      http_get(port(), "/streams/by-metadata?field=channel&value=7&active_only=false", op));
  ASSERT_EQ(found["total_matching"], 1) << found.dump();

  // Management needs the API token, in any of m3u-proxy's forms.
  EXPECT_EQ(http_get(port(), "/streams").status, 401u);
  EXPECT_EQ(http_get(port(), "/streams", {{"X-API-Token", "wrong-token-0123456789"}}).status, 403u);
  EXPECT_EQ(http_get(port(), "/streams?api_token=" + k_token).status, 200u);
  EXPECT_EQ(http_get(port(), "/stats", {{"Authorization", "Bearer " + k_token}}).status, 200u);
  // Viewers need the stream's token.
  EXPECT_EQ(get(id, "playlist.m3u8").status, 401u);
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + token + "x").status, 403u);

  auto master = get(id, "playlist.m3u8?token=" + token);
  ASSERT_EQ(master.status, 200u) << master.body;
  EXPECT_EQ(master.header("content-type"), "application/vnd.apple.mpegurl");
  auto master_problems = validate_master_playlist(master.body);
  EXPECT_TRUE(master_problems.ok()) << master_problems.str() << master.body;
  EXPECT_EQ(master.body.find(std::to_string(web)), std::string::npos) << master.body;
  auto variants = playlist_uris(master.body);
  ASSERT_EQ(variants.size(), 2u) << master.body;
  for (const auto& v : variants) {
    EXPECT_EQ(v.rfind("variant.m3u8?r=", 0), 0u) << v;
    auto media = get(id, v);
    ASSERT_EQ(media.status, 200u) << media.body;
    auto problems = validate_media_playlist(media.body);
    EXPECT_TRUE(problems.ok()) << problems.str() << media.body;
    EXPECT_EQ(media.body.find(std::to_string(web)), std::string::npos) << media.body;
    auto segments = playlist_uris(media.body);
    EXPECT_EQ(segments.size(), 3u);
    for (const auto& s : segments) {
      EXPECT_EQ(s.rfind("segment.ts?r=", 0), 0u) << s;
      auto seg = get(id, s);
      EXPECT_EQ(seg.status, 200u);
      EXPECT_EQ(seg.header("content-type"), "video/mp2t");
      ASSERT_GT(seg.body.size(), 188u);
      EXPECT_EQ(seg.body[0], 0x47);
    }
  }
  // The strictest reader decodes every frame through the proxy.
  const std::string proxied = srv->base_url() + "/hls/" + id + "/playlist.m3u8?token=" + token;
  auto play = run_tool("ffmpeg -v error -xerror -i " + shell_quote(proxied) + " -f null -", 120);
  EXPECT_EQ(play.rc, 0) << play.err;
  EXPECT_EQ(play.err, "");
  std::string errors;
  const auto direct_frames = count_frames(url, "", &errors);
  EXPECT_EQ(direct_frames, 150) << errors;
  EXPECT_EQ(count_frames(proxied, "-fflags +discardcorrupt", &errors), direct_frames) << errors;

  // Its viewers and bytes show in the stats (snapshots are a tick old).
  json stats;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    stats = parse_json(http_get(port(), "/stats", op));
  } while ((stats["total_clients"] == 0 || stats["total_bytes_served"] == 0) &&
           std::chrono::steady_clock::now() < until);
  EXPECT_GE(stats["total_clients"].get<int>(), 1) << stats.dump();
  EXPECT_GT(stats["total_bytes_served"].get<uint64_t>(), 100000u) << stats.dump();
  EXPECT_EQ(stats["clients"][0]["ip_address"], "127.0.0.1") << stats.dump();

  // Registrations survive a restart; the viewer's token and references too.
  ASSERT_EQ(srv->stop(), 0);
  start();
  EXPECT_EQ(parse_json(http_get(port(), "/streams", op))["total"], 2);
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + token).status, 200u);
  EXPECT_EQ(get(id, variants[1]).status, 200u);

  EXPECT_EQ(http_request(port(), "DELETE", "/streams/" + id, op).status, 200u);
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + token).status, 404u);
  EXPECT_EQ(get(id, variants[0]).status, 404u);
}

TEST_F(proxy, plays_a_single_file_playlist_of_byte_ranges) {
  start();
  const auto direct = read_file(ladder_root() + "/single/v.m3u8");
  ASSERT_NE(direct.find("#EXT-X-BYTERANGE:"), std::string::npos) << direct;
  auto made = create({{"url", base + "/single/v.m3u8"}, {"public", true}});
  const std::string id = made["stream_id"];
  auto media = get(id, "playlist.m3u8");
  ASSERT_EQ(media.status, 200u) << media.body;
  EXPECT_EQ(media.body.find("BYTERANGE"), std::string::npos) << media.body;
  auto problems = validate_media_playlist(media.body);
  EXPECT_TRUE(problems.ok()) << problems.str() << media.body;
  // Each reference is exactly its range: they add up to the file.
  uint64_t total = 0;
  for (const auto& s : playlist_uris(media.body)) {
    auto seg = get(id, s);
    ASSERT_EQ(seg.status, 200u);
    EXPECT_EQ(static_cast<uint8_t>(seg.body.at(0)), 0x47); // each range starts a TS packet
    total += seg.body.size();
  }
  EXPECT_EQ(total, fs::file_size(ladder_root() + "/single/v.ts"));
  EXPECT_GE(upstream_hits("GET /single/v.ts"), 3u); // one Range request per segment
  const std::string url = srv->base_url() + "/hls/" + id + "/playlist.m3u8";
  auto strict = run_tool("ffmpeg -v error -xerror -i " + shell_quote(url) + " -f null -", 120);
  EXPECT_EQ(strict.rc, 0) << strict.err;
  EXPECT_EQ(strict.err, "");
  std::string errors;
  const auto frames = count_frames(url, "-fflags +discardcorrupt", &errors);
  EXPECT_EQ(frames, count_frames(base + "/single/v.m3u8", "", &errors)) << errors;
  EXPECT_EQ(frames, 150) << errors;
}

TEST_F(proxy, a_rotated_viewer_token_replaces_every_earlier_one) {
  start();
  auto made = create({{"url", base + "/a/master.m3u8"}, {"metadata", {{"case", "rotate"}}}});
  const std::string id = made["stream_id"], old_token = made["access_token"];
  ASSERT_EQ(get(id, "playlist.m3u8?token=" + old_token).status, 200u);
  EXPECT_EQ(http_request(port(), "POST", "/streams/" + id + "/token").status, 401u);
  auto rotated = http_request(port(), "POST", "/streams/" + id + "/token", op);
  ASSERT_EQ(rotated.status, 200u) << rotated.body;
  auto r = parse_json(rotated);
  const std::string token = r["access_token"];
  EXPECT_NE(token, old_token);
  EXPECT_EQ(r["playlist_url"], "/hls/" + id + "/playlist.m3u8?token=" + token);
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + old_token).status, 403u);
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + token).status, 200u);
  // The same registration again hands out the current generation's token.
  auto again = create({{"url", base + "/a/master.m3u8"}, {"metadata", {{"case", "rotate"}}}});
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + again["access_token"].get<std::string>()).status,
            200u);
  // Durable: after a restart the old token stays refused and the new one plays.
  ASSERT_EQ(srv->stop(), 0);
  start();
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + old_token).status, 403u);
  EXPECT_EQ(get(id, "playlist.m3u8?token=" + token).status, 200u);
  auto open = create({{"url", base + "/b/master.m3u8"}, {"public", true}});
  EXPECT_EQ(http_request(port(), "POST",
                         "/streams/" + open["stream_id"].get<std::string>() + "/token", op)
                .status,
            422u);
  EXPECT_EQ(http_request(port(), "POST", "/streams/nope/token", op).status, 404u);
}

TEST_F(proxy, refuses_what_a_viewer_or_an_upstream_must_not_reach) {
  start();
  for (const auto* bad : {"file:///etc/hostname", "ftp://127.0.0.1/x.m3u8",
                          "http://169.254.169.254/latest/meta-data/x.m3u8", "javascript:alert(1)"})
    EXPECT_EQ(http_request(port(), "POST", "/streams", op, json{{"url", bad}}.dump()).status, 422u)
        << bad;
  auto made = create({{"url", base + "/a/master.m3u8"}, {"public", true}});
  const std::string id = made["stream_id"];
  EXPECT_FALSE(made.contains("access_token"));
  // m3u-proxy serves any URL a viewer names; here there is no such parameter.
  EXPECT_EQ(get(id, "segment.ts?client_id=x&url=file:///etc/hostname").status, 404u);
  EXPECT_EQ(get(id, "segment?url=" + base + "/a/hi/v_000.ts").status, 404u);
  // A public stream plays without a token; its references are sealed.
  auto master = get(id, "playlist.m3u8");
  ASSERT_EQ(master.status, 200u) << master.body;
  auto variant = playlist_uris(master.body).at(0);
  auto segment = playlist_uris(get(id, variant).body).at(0);
  ASSERT_EQ(get(id, segment).status, 200u);
  for (size_t i = std::string{"segment.ts?r="}.size(); i < segment.size(); i += 7) {
    auto forged = segment;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(get(id, forged).status, 403u) << forged;
  }
  // A variant's reference is no segment's, and another stream's is refused.
  EXPECT_EQ(get(id, "segment.ts?" + variant.substr(variant.find('?') + 1)).status, 403u);
  auto other = create({{"url", base + "/b/master.m3u8"}, {"public", true}});
  EXPECT_EQ(get(other["stream_id"], segment).status, 403u);
  // A redirect to cloud metadata is not followed.
  auto meta = create({{"url", base + "/to-metadata.m3u8"}, {"public", true}});
  auto refused = get(meta["stream_id"], "playlist.m3u8");
  EXPECT_EQ(refused.status, 502u) << refused.body;
  EXPECT_EQ(refused.body.find("169.254"), std::string::npos) << refused.body;
  srv->stop();
  srv.reset();

  // Without HLSGATE_ALLOW_PRIVATE_UPSTREAMS: loopback is refused, by address
  // at registration and by name when it resolves.
  env.erase("HLSGATE_ALLOW_PRIVATE_UPSTREAMS");
  data = make_temp_dir("proxy-strict");
  start();
  EXPECT_EQ(
      http_request(port(), "POST", "/streams", op, json{{"url", base + "/a/master.m3u8"}}.dump())
          .status,
      422u);
  auto named = create(
      {{"url", "http://localhost:" + std::to_string(web) + "/a/master.m3u8"}, {"public", true}});
  auto r = get(named["stream_id"], "playlist.m3u8");
  EXPECT_EQ(r.status, 502u) << r.body;
  EXPECT_EQ(upstream_hits("GET /a/master.m3u8"), 1u) << "only the first server fetched it";
}

TEST_F(proxy, fifty_viewers_of_one_segment_cause_one_upstream_fetch) {
  start();
  auto made = create({{"url", base + "/slow/master.m3u8"}, {"public", true}});
  const std::string id = made["stream_id"];
  auto variant = playlist_uris(get(id, "playlist.m3u8").body).at(0);
  auto segment = playlist_uris(get(id, variant).body).at(0);
  const std::string expected = read_file(ladder_root() + "/a/hi/v_000.ts");
  // The upstream sends at 64 KiB/s: every viewer asks while the one fetch runs.
  constexpr int viewers = 50;
  std::vector<std::future<http_reply>> got;
  for (int i = 0; i < viewers; ++i)
    got.push_back(std::async(std::launch::async, [&] { return get(id, segment); }));
  int same = 0;
  for (auto& f : got) {
    auto r = f.get();
    EXPECT_EQ(r.status, 200u);
    same += r.body == expected ? 1 : 0;
  }
  EXPECT_EQ(same, viewers);
  EXPECT_EQ(upstream_hits("GET /slow/hi/v_000.ts"), 1u);
  json s;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    s = stream(id);
  } while (s["total_segments_served"] != viewers && std::chrono::steady_clock::now() < until);
  EXPECT_EQ(s["total_segments_served"], viewers) << s.dump();
  EXPECT_GE(s["coalesced_requests"].get<int>(), viewers - 1) << s.dump();
  // Bytes in once (the one fetch), bytes out fifty times.
  const auto metric = [&](const std::string& name) {
    const auto body = http_get(port(), "/metrics").body;
    const auto at = body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(body.substr(at + name.size() + 2, 24));
  };
  const double size = static_cast<double>(expected.size());
  double in = -1;
  const auto until_in = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((in = metric("hlsgate_proxy_bytes_in_total")) < size &&
         std::chrono::steady_clock::now() < until_in)
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval (tick: 2 s)
  EXPECT_GE(in, size);
  EXPECT_LT(in, 2 * size); // one upstream fetch, not fifty
  EXPECT_GE(metric("hlsgate_proxy_bytes_out_total"), viewers * size);
}

TEST_F(proxy, fails_over_with_a_discontinuity_and_tells_webhooks) {
  start();
  webhook_receiver rx, viewers;
  subscribe(rx, {"failover_triggered"});
  subscribe(viewers, {"stream_started", "client_connected"});
  // A primary that answers 404: the first viewer is served from the failover.
  auto dead = create({{"url", base + "/missing/master.m3u8"},
                      {"failover_urls", {base + "/b/master.m3u8"}},
                      {"public", true}});
  auto first = get(dead["stream_id"], "playlist.m3u8");
  EXPECT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(stream(dead["stream_id"])["current_failover_index"], 1);
  ASSERT_TRUE(rx.wait_for(1));
  auto event = json::parse(rx.requests().at(0).body);
  EXPECT_EQ(event["event_type"], "failover_triggered");
  EXPECT_EQ(event["stream_id"], dead["stream_id"]);
  EXPECT_EQ(event["data"]["reason"], "playlist_error");
  // The first viewer started the stream and connected as a client.
  ASSERT_TRUE(viewers.wait_for(2));
  std::set<std::string> seen;
  for (const auto& r : viewers.requests()) {
    auto e = json::parse(r.body);
    EXPECT_EQ(e["stream_id"], dead["stream_id"]) << r.body;
    seen.insert(e["event_type"].get<std::string>());
    if (e["event_type"] == "client_connected") {
      EXPECT_EQ(e["data"]["ip_address"], "127.0.0.1") << r.body;
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"stream_started", "client_connected"}));

  // A manual switch: the viewer's variant playlist goes on from the next
  // sequence number, after EXT-X-DISCONTINUITY.
  auto made = create({{"url", base + "/a/master.m3u8"},
                      {"failover_urls", {base + "/b/master.m3u8"}},
                      {"public", true}});
  const std::string id = made["stream_id"];
  auto variant = playlist_uris(get(id, "playlist.m3u8").body).at(0);
  auto before = get(id, variant).body;
  EXPECT_NE(before.find("#EXT-X-MEDIA-SEQUENCE:0"), std::string::npos) << before;
  auto switched = http_request(port(), "POST", "/streams/" + id + "/failover", op);
  ASSERT_EQ(switched.status, 200u) << switched.body;
  EXPECT_EQ(parse_json(switched)["failover_index"], 1);
  auto after = get(id, variant).body;
  EXPECT_NE(after.find("#EXT-X-MEDIA-SEQUENCE:3"), std::string::npos) << after;
  EXPECT_NE(after.find("#EXT-X-DISCONTINUITY\n"), std::string::npos) << after;
  auto problems = validate_media_playlist(after);
  EXPECT_TRUE(problems.ok()) << problems.str() << after;
  EXPECT_EQ(upstream_hits("GET /b/hi/v.m3u8"), 1u);
  ASSERT_TRUE(rx.wait_for(2));
  // One without failover URLs cannot switch.
  auto single = create({{"url", base + "/b/master.m3u8"}});
  EXPECT_EQ(http_request(port(), "POST",
                         "/streams/" + single["stream_id"].get<std::string>() + "/failover", op)
                .status,
            422u);
}

TEST_F(proxy, a_continuous_stream_fails_over_without_closing_the_viewer) {
  start();
  const uint16_t a = free_port(), b = free_port();
  child primary{ts_server(a, "red")}, backup{ts_server(b, "blue")};
  ASSERT_TRUE(listening(a) && listening(b));
  auto made = create({{"url", "http://127.0.0.1:" + std::to_string(a) + "/live.ts"},
                      {"failover_urls", {"http://127.0.0.1:" + std::to_string(b) + "/live.ts"}},
                      {"public", true}});
  const std::string id = made["stream_id"];
  EXPECT_EQ(made["stream_type"], "direct");
  EXPECT_EQ(made["stream_endpoint"], "/stream/" + id);
  const std::string url = srv->base_url() + "/stream/" + id;
  // Two viewers read 12 s of it; the primary dies once they are in. Each
  // ffmpeg server takes one client only (-listen 1): both viewers share
  // one upstream connection, before the failover and after it.
  auto read = [&] {
    return run_tool("ffmpeg -v error -i " + shell_quote(url) + " -t 12 -map 0:v -f null -", 90);
  };
  auto reader = std::async(std::launch::async, read);
  auto reader2 = std::async(std::launch::async, read);
  json s;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    s = stream(id);
  } while (s["client_count"] < 2 && std::chrono::steady_clock::now() < until);
  ASSERT_EQ(s["client_count"], 2) << s.dump();
  primary.kill();
  auto r = reader.get();
  EXPECT_EQ(r.rc, 0) << r.err;
  auto second = reader2.get();
  EXPECT_EQ(second.rc, 0) << second.err;
  s = stream(id);
  EXPECT_EQ(s["current_failover_index"], 1) << s.dump();
  EXPECT_GE(s["failover_count"].get<int>(), 1) << s.dump();

  // A primary that is down when the first viewer comes: served from the backup.
  const uint16_t c = free_port();
  child other{ts_server(c, "green")};
  ASSERT_TRUE(listening(c));
  auto down = create({{"url", "http://127.0.0.1:" + std::to_string(free_port()) + "/live.ts"},
                      {"failover_urls", {"http://127.0.0.1:" + std::to_string(c) + "/live.ts"}},
                      {"public", true}});
  auto r2 = run_tool(
      "ffmpeg -v error -i " +
          shell_quote(srv->base_url() + "/stream/" + down["stream_id"].get<std::string>()) +
          " -t 2 -map 0:v -f null -",
      60);
  EXPECT_EQ(r2.rc, 0) << r2.err;
  EXPECT_EQ(stream(down["stream_id"])["current_failover_index"], 1);
}

} // namespace
} // namespace hlsgate::test
