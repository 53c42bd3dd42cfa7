// The nginx edge of deploy/nginx.conf verifies hlsgate's signed segment URLs
// (secure_link_md5) and serves the same bytes from the shared media folder.
// Real nginx, started by the test in its own prefix on 127.0.0.1.
#include <grp.h>
#include <sys/stat.h>

#include "auth/signed_url.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/nginx_process.hpp"

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
  std::string prefix = make_temp_dir("nginx");
  nginx_process nginx{prefix};
  uint16_t edge_port = 0;

  void TearDown() override {
    nginx.stop();
    e2e::TearDown();
  }

  /// deploy/nginx.conf with this test's secret, folders and ports.
  bool start_nginx(const std::string& secret) {
    auto conf = read_file(std::string{HLSGATE_SOURCE_DIR} + "/deploy/nginx.conf");
    edge_port = free_port();
    conf = replace_all(conf, "EDGE_KEY", secret);
    conf = replace_all(conf, "MEDIA_DIR", data + "/media");
    conf = replace_all(conf, "CACHE_DIR", prefix);
    conf = replace_all(conf, "listen 8080;", "listen 127.0.0.1:" + std::to_string(edge_port) + ";");
    conf = replace_all(conf, "server 127.0.0.1:8000;",
                       "server 127.0.0.1:" + std::to_string(port()) + ";");
    conf = replace_all(conf, "http {",
                       "http {\n  access_log off;\n  client_body_temp_path " + prefix +
                           "/cb;\n  proxy_temp_path " + prefix + "/px;\n");
    return nginx.start("user nobody www-data;\n" + conf, edge_port);
  }
};

} // namespace

TEST_F(nginx_edge, verifies_the_same_signed_urls_as_hlsgate) {
  if (!fs::exists(nginx_binary))
    GTEST_SKIP() << "nginx is not installed (scripts/install-deps.sh installs it)";
  // The edge holds only the edge key, never the master secret.
  const std::string secret = "edge-test-edge-key-0123456789-abcdef";
  env["SECRET_KEY"] = "edge-test-master-secret-0123456789-abcdef";
  env["HLSGATE_EDGE_SECRET"] = secret;
  env["HLSGATE_MEDIA_GROUP"] = "www-data";
  env["HLSGATE_EDGE_REVOCATION_SECONDS"] = "2";
  env["HLSGATE_EDGE_KEY_FILE"] = prefix + "/edge.key";
  start();
  // The key an edge in another container reads (HLSGATE_EDGE_KEY_FILE): the
  // edge key alone, readable by the media group only.
  struct stat key_st {};
  ASSERT_EQ(::stat((prefix + "/edge.key").c_str(), &key_st), 0);
  EXPECT_EQ(key_st.st_mode & 0777, 0640u);
  struct group* media_group = ::getgrnam("www-data");
  ASSERT_NE(media_group, nullptr);
  EXPECT_EQ(key_st.st_gid, media_group->gr_gid);
  std::string key_text = read_file(prefix + "/edge.key");
  ASSERT_EQ(key_text, secret + "\n");
  key_text.pop_back();
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
  ASSERT_TRUE(start_nginx(key_text)) << read_file(prefix + "/error.log");
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
  const auto handle = seg.substr(seg.find("&r=") + 3);
  auto expired = seg.substr(0, seg.find('?')) +
                 "?md5=" + signer.sign(prefix_path, std::stoll(past), handle) + "&expires=" + past +
                 "&r=" + handle;
  EXPECT_EQ(http_get(edge_port, expired).status, 410u);
  EXPECT_EQ(http_get(port(), expired).status, 410u);
  // Everything else is proxied to hlsgate, but not the metrics.
  EXPECT_EQ(http_get(edge_port, "/health").status, 200u);
  EXPECT_EQ(http_get(edge_port, "/metrics").status, 404u);
  EXPECT_EQ(http_get(edge_port, "/metrics/").status, 404u);
  EXPECT_EQ(http_get(edge_port, "//metrics").status, 404u);

  // Revocation: a second token's URLs work at the edge until the token is
  // revoked; then the edge refuses them within HLSGATE_EDGE_REVOCATION_SECONDS
  // (2 s here), and the origin at once.
  const std::string id = j["media_id"], key = j["admin_key"];
  auto minted = http_request(port(), "POST", "/media/" + id + "/tokens",
                             {{"X-Admin-Key", key}, {"Content-Type", "application/json"}},
                             R"({"label":"edge test"})");
  ASSERT_EQ(minted.status, 201u) << minted.body;
  auto t2 = parse_json(minted);
  auto pl2 = http_get(
      port(), "/stream/" + id + "/v0/playlist.m3u8?token=" + t2["access_token"].get<std::string>());
  auto seg2 = playlist_uris(pl2.body).at(0);
  EXPECT_EQ(http_get(edge_port, seg2).status, 200u) << read_file(prefix + "/error.log");
  auto revoked =
      http_request(port(), "DELETE", "/media/" + id + "/tokens/" + t2["jti"].get<std::string>(),
                   {{"X-Admin-Key", key}});
  ASSERT_EQ(revoked.status, 200u) << revoked.body;
  EXPECT_EQ(http_get(port(), seg2).status, 403u) << "the origin refuses at once";
  auto revoked_at = std::chrono::steady_clock::now();
  unsigned edge_status = 0;
  while (std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(10)) {
    edge_status = http_get(edge_port, seg2).status;
    if (edge_status != 200u)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - revoked_at).count();
  EXPECT_EQ(edge_status, 403u);
  // nginx keeps cache validity in whole seconds (an answer cached at
  // t = 0.9 s with max-age=2 is fresh until t = 3 s): the bound is the
  // configured time + 1 s, plus this poll's own interval and load.
  EXPECT_LE(took, 2.0 + 1.0 + 0.5) << "revocation reaches the edge within the configured bound";
  std::printf("[ measure ] revocation reached the edge after %.2f s (bound 2 s + 1 s)\n", took);
  EXPECT_EQ(http_get(edge_port, seg).status, 200u) << "the first token is untouched";
  // A refresh revokes every token, at the edge too.
  auto refreshed = http_request(port(), "POST", "/refresh-token/" + id, {{"X-Admin-Key", key}});
  ASSERT_EQ(refreshed.status, 200u);
  revoked_at = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(10)) {
    edge_status = http_get(edge_port, seg).status;
    if (edge_status != 200u)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
  }
  EXPECT_EQ(edge_status, 403u);
}
