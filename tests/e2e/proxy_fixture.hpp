// The stream proxy's end-to-end fixture: upstreams are a real nginx serving
// an HLS ladder the ffmpeg CLI made (and a rate-limited copy of it) and
// ffmpeg itself serving continuous MPEG-TS over HTTP; a server with an API
// token that may reach loopback upstreams and webhook receivers.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <future>
#include <set>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/players_support.hpp"
#include "tests/support/nginx_process.hpp"
#include "tests/support/webhook_receiver.hpp"

extern char** environ;

namespace hlsgate::test::proxy_fixture {

using players_support::count_frames;
using players_support::run_tool;

inline const std::string k_token = "proxy-token-0123456789abcdef";
inline const header_list op{{"X-API-Token", k_token}};

/// A 440 Hz tone delayed by the AAC encoder's priming (1024 samples at
/// 44.1 kHz), so audio and video both start at 0: otherwise hls.js and
/// Shaka report the 23 ms hole at the start (of the upstream itself).
inline const std::string aligned_tone = "-itsoffset 0.0232199 -f lavfi -i sine=frequency=440";

/// A two-variant VOD ladder (3 segments of 2 s each) made once, in a/ and,
/// copied, in b/ (the failover copy); and single/, one variant whose
/// segments are byte ranges of one file.
inline const std::string& ladder_root() {
  static const std::string root = [] {
    const auto dir = make_temp_dir("proxy-up");
    for (auto [name, size] : {std::pair{"hi", "320x240"}, std::pair{"lo", "160x120"}}) {
      const auto out = dir + "/a/" + name;
      fs::create_directories(out);
      const int rc =
          run_command("cd " + shell_quote(out) +
                      " && ffmpeg -loglevel error -y -f lavfi -i testsrc=size=" + size +
                      ":rate=25 " + aligned_tone +
                      " -t 6 -c:v libx264 -pix_fmt yuv420p -g 50"
                      " -keyint_min 50"
                      " -sc_threshold 0 -c:a aac -f hls -hls_time 2 -hls_playlist_type vod"
                      " -hls_segment_filename 'v_%03d.ts' v.m3u8");
      EXPECT_EQ(rc, 0) << "ffmpeg could not make the upstream ladder";
    }
    std::ofstream{dir + "/a/master.m3u8"}
        << "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x240,CODECS=\""
           "avc1.64000d,mp4a.40.2\",FRAME-RATE=25.000\nhi/"
           "v.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION="
           "160x120,CODECS=\"avc1.64000b,mp4a.40.2\",FRAME-RATE=25.000\nlo/v.m3u8\n";
    fs::copy(dir + "/a", dir + "/b", fs::copy_options::recursive);
    // One file, its segments byte ranges of it (EXT-X-BYTERANGE).
    fs::create_directories(dir + "/single");
    EXPECT_EQ(
        run_command("cd " + shell_quote(dir + "/single") +
                    " && ffmpeg -loglevel error -y -f lavfi -i testsrc=size=160x120:rate=25 " +
                    aligned_tone +
                    " -t 6 -c:v libx264 -pix_fmt yuv420p -g 50 -c:a aac"
                    " -f hls -hls_time 2 -hls_playlist_type vod -hls_flags single_file v.m3u8"),
        0);
    // nginx's workers run as another user.
    run_command("chmod a+x " + shell_quote(fs::path{dir}.parent_path().string()) +
                " && chmod -R a+rX " + shell_quote(dir));
    return dir;
  }();
  return root;
}

/// A child process (ffmpeg serving a stream), killed by the destructor.
class child {
public:
  explicit child(const std::string& command) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    if (posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
      pid_ = -1;
  }
  ~child() { kill(); }
  void kill() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

private:
  pid_t pid_ = -1;
};

/// ffmpeg serving a continuous MPEG-TS stream (test pattern) to one client.
inline std::string ts_server(uint16_t port, const char* color) {
  return "exec ffmpeg -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i "
         "sine -vf drawbox=c=" +
         std::string{color} +
         ":t=20 -c:v libx264 -preset ultrafast -g 25 -c:a aac -f mpegts -listen 1 "
         "http://127.0.0.1:" +
         std::to_string(port) + "/live.ts";
}

/// Waits (bounded: 30 s) until something listens on 127.0.0.1:`port`,
/// reading /proc/net/tcp (a probing connection would be ffmpeg's one client).
inline bool listening(uint16_t port) {
  char want[16];
  std::snprintf(want, sizeof want, ":%04X", port);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    std::istringstream in{read_file("/proc/net/tcp")};
    for (std::string line; std::getline(in, line);) {
      std::istringstream f{line};
      std::string sl, local, remote, state;
      f >> sl >> local >> remote >> state;
      if (local.size() > 5 && local.substr(local.size() - 5) == want && state == "0A")
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // polling interval
  }
  return false;
}

class proxy : public e2e {
protected:
  uint16_t web = free_port();
  std::unique_ptr<nginx_process> nginx;
  std::string base;

  void SetUp() override {
    env["HLSGATE_API_TOKEN"] = k_token;
    env["HLSGATE_ALLOW_PRIVATE_UPSTREAMS"] = "1";
    env["HLSGATE_WEBHOOK_ALLOW_PRIVATE"] = "1";
    const auto& root = ladder_root();
    nginx = std::make_unique<nginx_process>(make_temp_dir("proxy-nginx"));
    ASSERT_TRUE(nginx->start(
        "events { worker_connections 256; }\nhttp {\n types { application/vnd.apple.mpegurl m3u8; "
        "video/mp2t ts; }\n access_log " +
            nginx->prefix() + "/access.log;\n server { listen 127.0.0.1:" + std::to_string(web) +
            ";\n root " + root + ";\n location /slow/ { alias " + root +
            "/a/; limit_rate 64k; }\n"
            " location = /to-metadata.m3u8 { return 302 "
            "http://169.254.169.254/latest/meta-data/; }\n"
            // A failover resolver naming the b/ copy, and one answering nonsense.
            " location = /resolve { default_type application/json; return 200 "
            "'{\"url\":\"http://127.0.0.1:" +
            std::to_string(web) +
            "/b/master.m3u8\"}'; }\n"
            " location = /resolve-bad { default_type text/plain; return 200 "
            "'file:///etc/passwd'; } } }\n",
        web))
        << read_file(nginx->error_log());
    base = "http://127.0.0.1:" + std::to_string(web);
  }

  json create(const json& body, unsigned expect = 200) {
    auto r = http_request(port(), "POST", "/streams", op, body.dump());
    EXPECT_EQ(r.status, expect) << body.dump() << " -> " << r.body;
    return parse_json(r);
  }
  http_reply get(const std::string& id, const std::string& name) {
    return http_get(port(), "/hls/" + id + "/" + name);
  }
  /// How many requests nginx logged whose line contains `what`.
  size_t upstream_hits(const std::string& what) {
    std::istringstream in{read_file(nginx->prefix() + "/access.log")};
    size_t n = 0;
    for (std::string line; std::getline(in, line);)
      n += line.find(what) != std::string::npos ? 1 : 0;
    return n;
  }
  /// Registers `rx` for webhook `events` (201 expected).
  void subscribe(const webhook_receiver& rx, const json& events) {
    ASSERT_EQ(http_request(port(), "POST", "/webhooks", op,
                           json{{"url", rx.url()}, {"events", events}}.dump())
                  .status,
              201u);
  }
  json stream(const std::string& id) {
    return parse_json(http_get(port(), "/streams/" + id, op))["stream"];
  }
};

} // namespace hlsgate::test::proxy_fixture
