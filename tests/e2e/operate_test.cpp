// What an operator sees of a running server, over real HTTP: one access-log
// line per request (JSON with HLSGATE_LOG_FORMAT=json; never a token, key or
// signature), X-Request-Id kept or made and returned, the build's identity
// (--version and the hlsgate_build_info metric), job lines naming the
// upload that created the item (media_id and request_id).
#include <set>

#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

std::vector<json> json_lines(const std::string& path, std::vector<std::string>* bad = nullptr) {
  std::ifstream in{path};
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      if (bad)
        bad->push_back(line);
      continue;
    }
    out.push_back(std::move(j));
  }
  return out;
}

class operate : public e2e {
protected:
  std::string log_path = make_temp_dir("operate-log") + "/hlsgate.log";
  void start_logging() {
    srv = std::make_unique<server_process>(data, env);
    srv->log_to(log_path);
    ASSERT_TRUE(srv->start()) << "server did not start";
  }
};

TEST_F(operate, every_request_is_one_json_access_line_without_secrets) {
  env["HLSGATE_LOG_FORMAT"] = "json";
  start_logging();
  // A client's id is kept and returned; a bad one is replaced.
  auto h = http_get(port(), "/health", {{"X-Request-Id", "check-42"}});
  EXPECT_EQ(h.header("x-request-id"), "check-42");
  auto bad = http_get(port(), "/health", {{"X-Request-Id", "no spaces<>"}});
  const std::string made = bad.header("x-request-id");
  EXPECT_EQ(made.size(), 29u) << made;
  EXPECT_NE(made, "no spaces<>");

  // The upload's request id follows its job into the log.
  auto [type, body] = multipart_body("media", "clip.mp4", read_file(make_clip(clip_720p(4))));
  http_connection uploader{port(), 300};
  auto up = uploader.request("POST", "/upload/?expiry_minutes=60",
                             {{"Content-Type", type}, {"X-Request-Id", "upload-7"}}, body);
  ASSERT_EQ(up.status, 200u) << up.body;
  auto j = parse_json(up);
  const std::string id = j["media_id"], key = j["admin_key"], token = j["access_token"];
  auto master = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
  ASSERT_EQ(master.status, 200u);
  auto media_pl = http_get(port(), "/stream/" + id + "/" + playlist_uris(master.body)[0]);
  ASSERT_EQ(media_pl.status, 200u);
  const std::string seg_uri = playlist_uris(media_pl.body)[0];
  auto seg = http_get(port(), seg_uri);
  ASSERT_EQ(seg.status, 200u);
  EXPECT_EQ(info(id, key)["status"], "ready");
  ASSERT_EQ(srv->stop(), 0);
  srv.reset();

  std::vector<std::string> not_json;
  const auto lines = json_lines(log_path, &not_json);
  EXPECT_TRUE(not_json.empty()) << "a log line that is not JSON: " << not_json[0];
  std::map<std::string, json> by_route;
  for (const auto& l : lines) {
    EXPECT_TRUE(l.contains("time") && l.contains("level") && l.contains("msg")) << l.dump();
    if (l.value("msg", "") == "request")
      by_route[l.value("route", "")] = l;
  }
  ASSERT_TRUE(by_route.count("health")) << "no access line for /health";
  ASSERT_TRUE(by_route.count("upload"));
  ASSERT_TRUE(by_route.count("segment"));
  const json& s = by_route["segment"];
  EXPECT_EQ(s["status"], "200");
  EXPECT_EQ(s["method"], "GET");
  EXPECT_EQ(s["client"], "127.0.0.1");
  EXPECT_EQ(s["bytes"], std::to_string(seg.body.size()));
  EXPECT_EQ(s["path"], seg_uri.substr(0, seg_uri.find('?'))) << "the path, never the query";
  EXPECT_GE(std::stod(s["ms"].get<std::string>()), 0.0);
  bool kept = false;
  for (const auto& l : lines)
    kept = kept || l.value("request_id", "") == "check-42";
  EXPECT_TRUE(kept) << "the client's request id is in its access line";
  std::set<std::string> job_lines;
  for (const auto& l : lines)
    if (l.value("media_id", "") == id && l.value("request_id", "") == "upload-7")
      job_lines.insert(l.value("msg", ""));
  EXPECT_TRUE(job_lines.count("transcode job started")) << "the job's lines name the upload";
  EXPECT_TRUE(job_lines.count("media ready"));

  // No secret reaches the log: not the token, the admin key, a URL signature.
  std::ifstream in{log_path};
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find(token), std::string::npos);
  EXPECT_EQ(all.find(key), std::string::npos);
  const std::string sig = seg_uri.substr(seg_uri.find("md5=") + 4, 22);
  EXPECT_EQ(all.find(sig), std::string::npos) << sig;
  EXPECT_EQ(all.find("token="), std::string::npos);
}

TEST_F(operate, the_access_log_can_be_turned_off) {
  env["HLSGATE_ACCESS_LOG"] = "off";
  start_logging();
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
  ASSERT_EQ(srv->stop(), 0);
  srv.reset();
  std::ifstream in{log_path};
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find("msg=request"), std::string::npos) << all;
  EXPECT_NE(all.find("msg=\"shutting down\""), std::string::npos) << "the other lines stay";
}

TEST_F(operate, version_and_build_info_agree) {
  std::string out;
  ASSERT_EQ(run_command(std::string(HLSGATE_BINARY) + " --version", &out), 0);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(out, m, std::regex{R"(^hlsgate ([0-9.]+) \(commit ([0-9a-f]+|unknown), )"}))
      << out;
  start();
  auto metrics = http_get(port(), "/metrics");
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.body.find("hlsgate_build_info{"), std::string::npos);
  EXPECT_NE(metrics.body.find("version=\"" + m[1].str() + "\""), std::string::npos);
  EXPECT_NE(metrics.body.find("commit=\"" + m[2].str() + "\""), std::string::npos);
}

} // namespace
} // namespace hlsgate::test
