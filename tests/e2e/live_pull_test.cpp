// Live channels that pull their source over HTTP: an HLS playlist (another
// channel of the same server, signed segment URLs and all), a continuous
// MPEG-TS stream (the ffmpeg CLI as an HTTP server), and what a pulled
// playlist must not make hlsgate fetch (served by a real nginx).
#include <fstream>
#include <sstream>

#include "tests/e2e/live_fixture.hpp"

namespace hlsgate::test {
namespace {

class live_pull : public live {
protected:
  void SetUp() override {
    live::SetUp();
    env["HLSGATE_ALLOW_PRIVATE_UPSTREAMS"] = "1";
    env["HLSGATE_MAX_CHANNELS"] = "10";
  }
  /// POST /live for a pull channel of `url`: the reply.
  json create_pull(const std::string& url, unsigned expect = 201) {
    auto r = http_request(port(), "POST", "/live", op,
                          R"({"name":"Pulled","source":{"type":"pull","url":")" + url +
                              R"("},"segment_seconds":1,"dvr_window_seconds":6,)"
                              R"("ladder":"240:300k"})");
    EXPECT_EQ(r.status, expect) << url << " -> " << r.body;
    return parse_json(r);
  }
  json status(const std::string& id) { return parse_json(http_get(port(), "/live/" + id, op)); }
  /// Polls (bounded: 60 s) until channel `id`'s last_error contains `what`;
  /// it never went live meanwhile.
  void expect_refused(const std::string& id, const std::string& what) {
    json s;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
      s = status(id);
    } while (s.value("last_error", "").find(what) == std::string::npos &&
             std::chrono::steady_clock::now() < until);
    EXPECT_NE(s.value("last_error", "").find(what), std::string::npos) << s.dump();
    EXPECT_EQ(s["status"], "waiting") << s.dump();
    EXPECT_EQ(s["segments"], 0) << s.dump();
  }
};

TEST_F(live_pull, relays_a_live_hls_channel_and_notices_its_loss) {
  start();
  auto up = create();
  poll(up, [](const live_playlist& p) { return p.segments.size() >= 2; });
  auto ch = create_pull(master_url(up));
  const std::string id = ch["channel_id"];
  auto pl = poll(ch, [](const live_playlist& p) { return p.segments.size() >= 3; });
  auto s = status(id);
  EXPECT_EQ(s["status"], "live");
  EXPECT_EQ(s["resolution"], "426x240");
  // The source's own token is not shown back.
  EXPECT_EQ(s["source"]["url"], master_url(up).substr(0, master_url(up).find('?')));
  expect_decodes(master_url(ch), 3);
  // Its segments have capture times (the pulled channel's clock) in order.
  for (size_t i = 1; i < pl.segments.size(); ++i)
    EXPECT_GT(pl.segments[i].pdt_ms, pl.segments[i - 1].pdt_ms);

  // The upstream channel goes away (its playlist answers 404): reconnecting.
  ASSERT_EQ(
      http_request(port(), "DELETE", "/live/" + up["channel_id"].get<std::string>(), op).status,
      200u);
  wait_for_status(id, "reconnecting");
  s = status(id);
  EXPECT_FALSE(s.value("last_error", "").empty()) << s.dump();
  EXPECT_GE(s["restarts"].get<int>(), 1) << s.dump();
}

TEST_F(live_pull, relays_a_continuous_mpegts_stream) {
  start();
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port()) + "/live.ts";
  publisher server{url, {"-f", "mpegts", "-listen", "1"}}; // ffmpeg as the HTTP server
  ASSERT_TRUE(server.started());
  auto ch = create_pull(url);
  poll(ch, [](const live_playlist& p) { return p.segments.size() >= 3; });
  EXPECT_EQ(status_of(ch["channel_id"]), "live");
  expect_decodes(master_url(ch), 3);
}

TEST_F(live_pull, refuses_what_a_pulled_playlist_must_not_reach) {
  start();
  // A real playlist with MPEG-TS segments, and copies whose entries point
  // elsewhere; nginx serves them, with redirects.
  const auto www = fs::path{make_temp_dir("pull-www")};
  fs::create_directory(www / "sub");
  std::string out;
  ASSERT_EQ(
      run_command("cd " + shell_quote((www / "sub").string()) +
                      " && ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=25 "
                      "-t 3 -c:v libx264 -preset ultrafast -g 25 -f hls -hls_time 1 "
                      "-hls_list_size 0 ok.m3u8 2>&1",
                  &out),
      0)
      << out;
  const std::string ok = read_file(www / "sub" / "ok.m3u8");
  auto rewrite = [&](const std::string& name, const std::string& prefix) {
    std::istringstream in{ok};
    std::ofstream o{www / name};
    for (std::string line; std::getline(in, line);)
      o << (line.rfind("ok", 0) == 0 ? prefix + line : line) << "\n";
  };
  rewrite("metadata.m3u8", "http://169.254.169.254/");
  rewrite("file.m3u8", "file:///etc/passwd?");
  rewrite("crypto.m3u8", "crypto+http://127.0.0.1/");
  // A master playlist whose one variant is a redirect into /sub/.
  std::ofstream{www / "master.m3u8"}
      << "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x240\nto-ok\n";
  {
    std::ofstream big{www / "big.m3u8"}; // 2 MiB of long comment lines
    big << "#EXTM3U\n#EXT-X-TARGETDURATION:1\n";
    for (int i = 0; i < 2100; ++i)
      big << "#" << std::string(1000, 'x') << "\n";
  }
  // nginx's worker runs as nobody: the folder only needs to be readable.
  run_command("chmod a+x " + shell_quote(www.parent_path().string()) + " && chmod -R a+rX " +
              shell_quote(www.string()));
  const uint16_t web = free_port();
  nginx_process nginx{make_temp_dir("pull-nginx")};
  ASSERT_TRUE(nginx.start("events { worker_connections 64; }\nhttp { server { listen 127.0.0.1:" +
                              std::to_string(web) + ";\n root " + www.string() +
                              ";\n location = /to-metadata { return 302 "
                              "http://169.254.169.254/latest/meta-data/; }\n"
                              " location = /to-ok { return 302 /sub/ok.m3u8; }\n"
                              " location = /loop { return 302 /loop; } } }\n",
                          web))
      << read_file(nginx.error_log());
  const std::string base = "http://127.0.0.1:" + std::to_string(web);

  const std::pair<std::string, std::string> probes[] = {
      {"/metadata.m3u8", "address not allowed"},
      {"/file.m3u8", "only http and https"},
      {"/crypto.m3u8", "only http and https"},
      {"/to-metadata", "address not allowed"},
      {"/loop", "too many redirects"},
      {"/missing.m3u8", "upstream answered 404"},
      {"/big.m3u8", "playlist larger than 1 MiB"},
  };
  std::vector<std::string> ids;
  for (auto& [path, why] : probes)
    ids.push_back(create_pull(base + path)["channel_id"]);
  for (size_t i = 0; i < ids.size(); ++i)
    expect_refused(ids[i], probes[i].second);

  // A redirect to an allowed place is followed; the playlist's relative
  // segment names are read relative to where it was found (/sub/).
  auto moved = create_pull(base + "/to-ok");
  poll(moved, [](const live_playlist& p) { return !p.segments.empty(); });
  EXPECT_EQ(status(moved["channel_id"])["resolution"], "320x240");
  // So are a redirected variant playlist's (the master is at /, the
  // variant's segments in /sub/, where the redirect led).
  auto nested = create_pull(base + "/master.m3u8");
  poll(nested, [](const live_playlist& p) { return !p.segments.empty(); });
  EXPECT_EQ(status(nested["channel_id"])["resolution"], "320x240");

  // Literal addresses that are never allowed are refused at once.
  for (const std::string bad : {"http://169.254.169.254/x.m3u8", "http://[fe80::1]/x.m3u8",
                                "http://0.0.0.0/x.m3u8", "http://224.0.0.1/x.ts"})
    create_pull(bad, 422);
}

TEST_F(live_pull, private_addresses_need_the_operator) {
  env["HLSGATE_ALLOW_PRIVATE_UPSTREAMS"] = "0"; // the default
  start();
  create_pull("http://127.0.0.1:9/x.m3u8", 422);
  create_pull("http://10.1.2.3/x.m3u8", 422);
  // A name is judged by what it resolves to, when each session connects.
  auto ch = create_pull("http://localhost:9/x.m3u8");
  const std::string id = ch["channel_id"];
  json s;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // polling interval
    s = status(id);
  } while (!s.contains("last_error") && std::chrono::steady_clock::now() < until);
  EXPECT_NE(s.value("last_error", "").find("address not allowed"), std::string::npos) << s.dump();
}

} // namespace
} // namespace hlsgate::test
