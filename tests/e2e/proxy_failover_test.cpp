// The stream proxy's failover against live upstreams (tests/e2e/proxy_fixture.hpp):
// a live HLS upstream that stops growing while ffmpeg plays through the
// proxy (stall), the primary coming back after the cool-down, the
// failover resolver, and a continuous stream whose bitrate drops.
#include "tests/e2e/proxy_fixture.hpp"

namespace hlsgate::test {
namespace {

using namespace proxy_fixture;

/// ffmpeg writing a live HLS stream (1 s segments, a window of 6) into `dir`.
std::string live_hls(const std::string& dir, double ts_offset, int start_number) {
  return "exec ffmpeg -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i "
         "sine -c:v libx264 -preset ultrafast -g 25 -keyint_min 25 -sc_threshold 0 -c:a aac "
         "-output_ts_offset " +
         std::to_string(ts_offset) + " -f hls -hls_time 1 -hls_list_size 6 -start_number " +
         std::to_string(start_number) +
         " -hls_flags delete_segments+temp_file -hls_segment_filename " +
         shell_quote(dir + "/s_%05d.ts") + " " + shell_quote(dir + "/v.m3u8");
}

/// Waits (bounded: 30 s) until `dir`/v.m3u8 lists at least `n` segments.
bool has_segments(const std::string& dir, size_t n) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    std::error_code ec;
    const auto text = fs::exists(dir + "/v.m3u8", ec) ? read_file(dir + "/v.m3u8") : "";
    size_t count = 0;
    for (size_t at = 0; (at = text.find("#EXTINF", at)) != std::string::npos; ++at)
      ++count;
    if (count >= n)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
  }
  return false;
}

/// A tag's integer value in a playlist (-1 when absent; 0 for an absent
/// EXT-X-DISCONTINUITY-SEQUENCE, as RFC 8216 reads it).
int64_t tag_value(const std::string& playlist, const std::string& tag) {
  const auto at = playlist.find("#" + tag + ":");
  if (at == std::string::npos)
    return tag == "EXT-X-DISCONTINUITY-SEQUENCE" ? 0 : -1;
  return std::stoll(playlist.substr(at + tag.size() + 2));
}

class proxy_failover : public proxy {
protected:
  void SetUp() override {
    env["HLSGATE_PROXY_PRIMARY_RETRY_S"] = "3";
    proxy::SetUp();
  }
  /// Polls `ok` on the stream's record (bounded: `seconds`).
  bool wait_stream(const std::string& id, int seconds, const std::function<bool(const json&)>& ok) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < until) {
      if (ok(stream(id)))
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    }
    return false;
  }
};

TEST_F(proxy_failover, a_live_upstream_that_stalls_fails_over_while_ffmpeg_plays_and_comes_back) {
  start();
  const auto root = ladder_root() + "/live-" + std::to_string(web);
  const auto dir_a = root + "/a", dir_b = root + "/b";
  fs::create_directories(dir_a);
  fs::create_directories(dir_b);
  run_command("chmod -R a+rX " + shell_quote(root));
  const auto t0 = std::chrono::steady_clock::now();
  auto primary = std::make_unique<child>(live_hls(dir_a, 0, 0));
  child backup{live_hls(dir_b, 0, 0)}; // the same clock: timestamps go on across a switch
  ASSERT_TRUE(has_segments(dir_a, 3) && has_segments(dir_b, 3));
  const auto rel = "/live-" + std::to_string(web);
  auto made = create({{"url", base + rel + "/a/v.m3u8"},
                      {"failover_urls", {base + rel + "/b/v.m3u8"}},
                      {"public", true}});
  const std::string id = made["stream_id"];
  const std::string url = srv->base_url() + "/hls/" + id + "/playlist.m3u8";

  // ffmpeg plays 24 s through the proxy: stall, failover, and the primary's return.
  auto reader = std::async(std::launch::async, [&] {
    return run_tool("ffmpeg -v error -xerror -i " + shell_quote(url) + " -t 24 -map 0:v -f null -",
                    120);
  });
  // A second viewer reads the playlist as players do: its numbering must
  // never go back, and every version must be a valid media playlist.
  std::atomic<bool> stop{false};
  std::vector<std::string> problems;
  auto watcher = std::async(std::launch::async, [&] {
    int64_t last_seq = -1, last_disc = -1;
    size_t seen_disc = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!stop && std::chrono::steady_clock::now() < until) {
      auto r = http_get(port(), "/hls/" + id + "/playlist.m3u8");
      if (r.status == 200) {
        const auto seq = tag_value(r.body, "EXT-X-MEDIA-SEQUENCE");
        const auto disc = tag_value(r.body, "EXT-X-DISCONTINUITY-SEQUENCE");
        if (seq < last_seq || disc < last_disc)
          problems.push_back("numbering went back: " + r.body);
        auto v = validate_media_playlist(r.body);
        if (!v.ok())
          problems.push_back(v.str() + r.body);
        if (r.body.find("#EXT-X-DISCONTINUITY\n") != std::string::npos)
          ++seen_disc;
        last_seq = seq;
        last_disc = disc;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500)); // a player's reload interval
    }
    return seen_disc;
  });
  ASSERT_TRUE(wait_stream(id, 30, [](const json& s) { return s["client_count"] >= 1; }));
  primary.reset(); // killed: its playlist stays, and stops growing
  EXPECT_TRUE(wait_stream(id, 30, [](const json& s) { return s["current_failover_index"] == 1; }))
      << stream(id).dump();
  // The primary comes back (a new encoder on the same clock): after the
  // cool-down the proxy checks it, finds it growing, and goes back.
  primary = std::make_unique<child>(live_hls(dir_a, players_support::seconds_since(t0), 1000));
  EXPECT_TRUE(wait_stream(id, 30, [](const json& s) { return s["current_failover_index"] == 0; }))
      << stream(id).dump();
  auto r = reader.get();
  stop = true;
  const size_t seen_disc = watcher.get();
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const auto& p : problems)
    ADD_FAILURE() << p;
  EXPECT_GE(seen_disc, 1u);
  EXPECT_GE(stream(id)["failover_count"].get<int>(), 2);
}

TEST_F(proxy_failover, asks_the_resolver_when_every_listed_url_failed) {
  webhook_receiver rx;
  start();
  subscribe(rx, {"failover_triggered"});
  auto made = create({{"url", base + "/missing/master.m3u8"},
                      {"failover_resolver_url", base + "/resolve"},
                      {"public", true}});
  const std::string id = made["stream_id"];
  // The viewer's request waits for the resolver's answer, then is served from it.
  auto first = get(id, "playlist.m3u8");
  EXPECT_EQ(first.status, 200u) << first.body;
  EXPECT_TRUE(validate_master_playlist(first.body).ok()) << first.body;
  auto s = stream(id);
  EXPECT_EQ(s["current_url"], base + "/b/master.m3u8") << s.dump();
  EXPECT_EQ(upstream_hits("GET /resolve?stream_id=" + id +
                          "&current_url=http%3A%2F%2F127.0.0.1%3A" + std::to_string(web) +
                          "%2Fmissing%2Fmaster.m3u8&current_index=0"),
            1u);
  ASSERT_TRUE(rx.wait_for(1));
  auto event = json::parse(rx.requests().at(0).body);
  EXPECT_EQ(event["data"]["reason"], "playlist_error_resolved") << event.dump();
  // A variant and a segment play from the resolved upstream.
  auto variant = get(id, playlist_uris(first.body).at(0));
  ASSERT_EQ(variant.status, 200u);
  EXPECT_EQ(get(id, playlist_uris(variant.body).at(0)).status, 200u);

  // A resolver answering something that is not an http(s) URL: no switch,
  // and the answer's bytes appear nowhere.
  auto bad = create({{"url", base + "/missing/master.m3u8"},
                     {"failover_resolver_url", base + "/resolve-bad"},
                     {"metadata", {{"case", "bad resolver"}}}, // not the same registration
                     {"public", true}});
  auto refused = get(bad["stream_id"], "playlist.m3u8");
  EXPECT_EQ(refused.status, 502u) << refused.body;
  EXPECT_EQ(refused.body.find("passwd"), std::string::npos);
  auto sb = stream(bad["stream_id"]);
  EXPECT_EQ(sb["current_failover_index"], 0) << sb.dump();
  EXPECT_EQ(sb.dump().find("passwd"), std::string::npos);
  // A manual failover of a stream with only a resolver is accepted.
  EXPECT_EQ(http_request(port(), "POST",
                         "/streams/" + bad["stream_id"].get<std::string>() + "/failover", op)
                .status,
            200u);
}

TEST_F(proxy_failover, a_continuous_stream_below_its_minimum_bitrate_fails_over) {
  webhook_receiver rx;
  start();
  subscribe(rx, {"failover_triggered"});
  const uint16_t a = free_port(), b = free_port();
  // The primary: one small frame a second (a few kbit/s); the backup: the usual pattern.
  child primary{"exec ffmpeg -loglevel error -re -f lavfi -i color=c=gray:size=64x64:rate=1 "
                "-c:v libx264 -preset ultrafast -g 1 -f mpegts -listen 1 http://127.0.0.1:" +
                std::to_string(a) + "/live.ts"};
  child backup{ts_server(b, "blue")};
  ASSERT_TRUE(listening(a) && listening(b));
  auto made = create({{"url", "http://127.0.0.1:" + std::to_string(a) + "/live.ts"},
                      {"failover_urls", {"http://127.0.0.1:" + std::to_string(b) + "/live.ts"}},
                      {"min_bitrate_kbps", 64},
                      {"public", true}});
  const std::string id = made["stream_id"];
  EXPECT_EQ(stream(id)["min_bitrate_kbps"], 64);
  child viewer{"exec curl -s -o /dev/null --max-time 60 " +
               shell_quote(srv->base_url() + "/stream/" + id)};
  EXPECT_TRUE(wait_stream(id, 40, [](const json& s) { return s["current_failover_index"] == 1; }))
      << stream(id).dump();
  ASSERT_TRUE(rx.wait_for(1));
  auto event = json::parse(rx.requests().at(0).body);
  EXPECT_EQ(event["data"]["reason"], "low_bitrate") << event.dump();
  // The viewer's connection is still open, now carrying the backup.
  auto s = stream(id);
  EXPECT_EQ(s["client_count"], 1) << s.dump();
}

TEST_F(proxy_failover, a_continuous_stream_keeps_one_clock_across_a_failover_from_25_to_50_fps) {
  start();
  const uint16_t a = free_port(), b = free_port();
  // The backup: 50 fps, its clock 1000 s ahead (another encoder).
  child primary{ts_server(a, "red")};
  child backup{"exec ffmpeg -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=50 -f lavfi "
               "-i sine=frequency=880 -c:v libx264 -preset ultrafast -g 50 -c:a aac "
               "-output_ts_offset 1000 -f mpegts -listen 1 http://127.0.0.1:" +
               std::to_string(b) + "/live.ts"};
  ASSERT_TRUE(listening(a) && listening(b));
  auto made = create({{"url", "http://127.0.0.1:" + std::to_string(a) + "/live.ts"},
                      {"failover_urls", {"http://127.0.0.1:" + std::to_string(b) + "/live.ts"}},
                      {"public", true}});
  const std::string id = made["stream_id"];
  const auto capture = make_temp_dir("proxy-capture") + "/viewer.ts";
  auto viewer = std::async(std::launch::async, [&] {
    return run_tool("curl -s --max-time 16 -o " + shell_quote(capture) + " " +
                        shell_quote(srv->base_url() + "/stream/" + id),
                    60);
  });
  ASSERT_TRUE(wait_stream(id, 30, [&](const json& s) {
    std::error_code ec;
    return s["client_count"] == 1 && fs::file_size(capture, ec) > 200000 && !ec;
  })) << stream(id).dump();
  primary.kill();
  EXPECT_TRUE(wait_stream(id, 30, [](const json& s) { return s["current_failover_index"] == 1; }))
      << stream(id).dump();
  viewer.get();
  // What the viewer got: whole packets only (curl stopped it mid-packet).
  fs::resize_file(capture, fs::file_size(capture) / 188 * 188);
  // Frames pass through with their own timestamps: the rate doubles midway,
  // which a constant-rate output clock could not hold (the CLI's, not the stream's).
  auto strict = run_tool("ffmpeg -v error -xerror -i " + shell_quote(capture) +
                             " -fps_mode passthrough -f null -",
                         60);
  EXPECT_EQ(strict.rc, 0) << strict.err;
  EXPECT_EQ(strict.err, "");
  auto probe = run_tool("ffprobe -v error -show_entries packet=codec_type,dts_time -of csv=p=0 " +
                            shell_quote(capture),
                        60);
  ASSERT_EQ(probe.rc, 0) << probe.err;
  // Both streams' clocks go on without a jump back or a gap, and audio
  // lasts as long as video: nothing lost at the switch from 25 to 50 fps.
  std::map<std::string, std::vector<double>> dts;
  std::istringstream in{probe.out};
  for (std::string line; std::getline(in, line);) {
    const auto comma = line.find(',');
    if (comma == std::string::npos || line.substr(comma + 1) == "N/A")
      continue;
    dts[line.substr(0, comma)].push_back(std::stod(line.substr(comma + 1)));
  }
  ASSERT_GT(dts["video"].size(), 100u) << probe.out.substr(0, 400);
  ASSERT_GT(dts["audio"].size(), 100u);
  for (const auto& [kind, t] : dts) {
    for (size_t i = 1; i < t.size(); ++i) {
      EXPECT_GT(t[i], t[i - 1]) << kind << " packet " << i;
      EXPECT_LT(t[i] - t[i - 1], 1.0) << kind << " packet " << i;
    }
  }
  const double video_span = dts["video"].back() - dts["video"].front();
  const double audio_span = dts["audio"].back() - dts["audio"].front();
  EXPECT_GT(video_span, 8.0);
  EXPECT_LT(std::abs(video_span - audio_span), 1.0) << video_span << " vs " << audio_span;
  EXPECT_LT(dts["video"].back(), 100.0); // the backup's clock (1000 s on) did not leak through
}

TEST_F(proxy_failover, an_hls_upstream_below_its_minimum_bitrate_fails_over) {
  start();
  // The 160x120 variant runs at well under 1 Mbit/s: below 100 Mbit/s, above 1 kbit/s.
  auto low = create({{"url", base + "/a/lo/v.m3u8"},
                     {"failover_urls", {base + "/b/lo/v.m3u8"}},
                     {"min_bitrate_kbps", 100000},
                     {"public", true}});
  auto fine = create({{"url", base + "/a/lo/v.m3u8"},
                      {"failover_urls", {base + "/b/lo/v.m3u8"}},
                      {"min_bitrate_kbps", 1},
                      {"metadata", {{"case", "fine"}}},
                      {"public", true}});
  for (const json* made : {&low, &fine}) {
    const std::string id = (*made)["stream_id"];
    auto media = get(id, "playlist.m3u8");
    ASSERT_EQ(media.status, 200u) << media.body;
    for (const auto& seg : playlist_uris(media.body))
      EXPECT_EQ(get(id, seg).status, 200u);
  }
  EXPECT_TRUE(wait_stream(low["stream_id"], 10, [](const json& s) {
    return s["current_failover_index"] == 1;
  })) << stream(low["stream_id"]).dump();
  EXPECT_EQ(stream(fine["stream_id"])["current_failover_index"], 0);
}

/// Plays `url` in `player` (tests/players/play.js in headless Chromium):
/// every warning and error the player or the browser reports is a failure.
void play_in_browser(const std::string& url, const std::string& player, int variants) {
  using namespace players_support;
  ASSERT_EQ(missing_for(player), "") << setup_hint;
  auto r = run_tool("node " + shell_quote(players_dir + "/play.js") + " " + shell_quote(url) +
                        " --player " + player + " --expect-duration 6 --rate 2 --timeout 150" +
                        (variants > 1 ? " --switch-levels" : ""),
                    200);
  auto result = json::parse(play_result_line(r.out), nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << "play.js printed no result (exit " << r.rc << "):\n"
                                      << r.out << r.err;
  EXPECT_EQ(result["errors"].size(), 0u) << player << ":\n" << describe_errors(result);
  EXPECT_TRUE(result.value("ended", false)) << player << " did not play to the end";
  EXPECT_EQ(r.rc, 0);
  if (variants > 1) {
    EXPECT_EQ(result["levels_switched"].size(), static_cast<size_t>(variants))
        << result["levels_switched"].dump();
  }
}

TEST_F(proxy_failover, proxied_playlists_play_in_hls_js_and_shaka_without_a_warning) {
  start();
  auto ladder = create({{"url", base + "/a/master.m3u8"}, {"public", true}});
  auto variant = create({{"url", base + "/a/hi/v.m3u8"}, {"public", true}});
  auto single = create({{"url", base + "/single/v.m3u8"}, {"public", true}});
  const auto url = [&](const json& made) {
    return srv->base_url() + "/hls/" + made["stream_id"].get<std::string>() + "/playlist.m3u8";
  };
  // hls.js: the master (both variants switched, a seek) and the byte ranges.
  play_in_browser(url(ladder), "hls.js", 2);
  play_in_browser(url(single), "hls.js", 1);
  // Shaka: one variant and the byte ranges. (Shaka also fails ffmpeg's
  // two-variant muxed ladder served by nginx directly, code 3018: the
  // upstream's, not the proxy's.)
  play_in_browser(url(variant), "shaka", 1);
  play_in_browser(url(single), "shaka", 1);
}

} // namespace
} // namespace hlsgate::test
