// The nginx edge of deploy/nginx.conf verifies hlsgate's signed segment URLs
// (secure_link_md5) and serves the same bytes from the shared media folder.
// Real nginx, started by the test in its own prefix on 127.0.0.1.
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "auth/signed_url.hpp"
#include "tests/e2e/e2e_fixture.hpp"

using namespace hlsgate;
using namespace hlsgate::test;

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
  return s;
}

class nginx_edge : public e2e {
protected:
  pid_t nginx = -1;
  std::string prefix = make_temp_dir("nginx");
  uint16_t edge_port = 0;

  void TearDown() override {
    if (nginx > 0) {
      ::kill(nginx, SIGQUIT);
      int st = 0;
      ::waitpid(nginx, &st, 0);
    }
    e2e::TearDown();
  }

  /// deploy/nginx.conf with this test's secret, folders and ports.
  bool start_nginx(const std::string& secret) {
    auto conf = read_file(std::string{HLSGATE_SOURCE_DIR} + "/deploy/nginx.conf");
    edge_port = free_port();
    conf = replace_all(conf, "EDGE_KEY", secret);
    conf = replace_all(conf, "DATA", data);
    conf = replace_all(conf, "listen 8080;", "listen 127.0.0.1:" + std::to_string(edge_port) + ";");
    conf = replace_all(conf, "server 127.0.0.1:8000;",
                       "server 127.0.0.1:" + std::to_string(port()) + ";");
    conf = replace_all(conf, "http {",
                       "http {\n  access_log off;\n  client_body_temp_path " + prefix +
                           "/cb;\n  proxy_temp_path " + prefix + "/px;\n");
    conf = "daemon off;\nuser nobody www-data;\npid " + prefix + "/nginx.pid;\nerror_log " + prefix +
           "/error.log;\n" + conf;
    std::ofstream{prefix + "/nginx.conf"} << conf;
    std::string bin = "/usr/sbin/nginx";
    std::string conf_path = prefix + "/nginx.conf";
    char* argv[] = {bin.data(),
                    const_cast<char*>("-p"),
                    prefix.data(),
                    const_cast<char*>("-c"),
                    conf_path.data(),
                    const_cast<char*>("-e"),
                    const_cast<char*>((prefix + "/error.log").c_str()),
                    nullptr};
    std::string err_log = prefix + "/error.log";
    argv[6] = err_log.data();
    if (posix_spawn(&nginx, bin.c_str(), nullptr, nullptr, argv, environ) != 0)
      return false;
    // Ready when it answers (bounded).
    for (int i = 0; i < 200; ++i) {
      http_connection c{edge_port, 1};
      if (c.connected())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25)); // polling interval
    }
    return false;
  }
};

} // namespace

TEST_F(nginx_edge, verifies_the_same_signed_urls_as_hlsgate) {
  if (!fs::exists("/usr/sbin/nginx"))
    GTEST_SKIP() << "nginx is not installed (scripts/install-deps.sh installs it)";
  // The edge holds only the edge key, never the master secret.
  const std::string secret = "edge-test-edge-key-0123456789-abcdef";
  env["SECRET_KEY"] = "edge-test-master-secret-0123456789-abcdef";
  env["HLSGATE_EDGE_SECRET"] = secret;
  env["HLSGATE_MEDIA_GROUP"] = "www-data";
  start();
  auto r = upload(make_clip(clip_720p(4)));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  auto pl = http_get(port(), "/stream/" + j["media_id"].get<std::string>() +
                                 "/v0/playlist.m3u8?token=" + j["access_token"].get<std::string>());
  auto seg = playlist_uris(pl.body).at(0);
  // nginx's worker runs as nobody in the media group (www-data): it reaches
  // the media through that group alone. The test's temporary root only needs
  // to be traversable; nginx's own prefix is its business. The data
  // directory is not made readable to anyone else.
  run_command("chmod a+x " + shell_quote(fs::path{data}.parent_path().string()) +
              " && chmod -R a+rX " + shell_quote(prefix));
  struct stat st {};
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0007, 0u) << "the data directory is not world-accessible";
  ASSERT_TRUE(start_nginx(secret)) << read_file(prefix + "/error.log");
  auto origin = http_get(port(), seg);
  auto edge = http_get(edge_port, seg);
  ASSERT_EQ(origin.status, 200u);
  EXPECT_EQ(edge.status, 200u) << read_file(prefix + "/error.log");
  EXPECT_TRUE(edge.body == origin.body) << "the edge serves the same bytes";
  auto tampered = seg;
  tampered[tampered.find("md5=") + 4] = tampered[tampered.find("md5=") + 4] == 'A' ? 'B' : 'A';
  EXPECT_EQ(http_get(edge_port, tampered).status, 403u);
  EXPECT_EQ(http_get(port(), tampered).status, 403u);
  // A valid signature whose time is up: 410 at both.
  auto prefix_path = seg.substr(0, seg.find('/', 5) + 1);
  auth::url_signer signer{secret};
  auto past = std::to_string(std::time(nullptr) - 60);
  auto expired = seg.substr(0, seg.find('?')) +
                 "?md5=" + signer.sign(prefix_path, std::stoll(past)) + "&expires=" + past;
  EXPECT_EQ(http_get(edge_port, expired).status, 410u);
  EXPECT_EQ(http_get(port(), expired).status, 410u);
  // Everything else is proxied to hlsgate.
  EXPECT_EQ(http_get(edge_port, "/health").status, 200u);
}
