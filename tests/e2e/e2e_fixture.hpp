// Shared fixture of the end-to-end suites: starts the real hlsgate binary
// on 127.0.0.1 with its own data folder, uploads clips over HTTP, and checks
// playback by fetching every playlist and segment.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "auth/keys.hpp"
#include "tests/e2e/server_process.hpp"
#include "tests/media/clip_fixture.hpp"
#include "tests/support/hls_validator.hpp"
#include "tests/support/http_client.hpp"

namespace hlsgate::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

inline constexpr uint64_t upload_limit = 30ull << 20;

inline int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

inline int64_t parse_iso(const std::string& s) {
  std::tm tm{};
  if (strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr)
    return 0;
  return timegm(&tm);
}

inline json parse_json(const http_reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  return j;
}

inline std::vector<std::string> playlist_uris(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in{body};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#')
      out.push_back(line);
  return out;
}

inline std::vector<double> extinf(const std::string& body) {
  std::vector<double> out;
  std::regex re{"#EXTINF:([0-9.]+),"};
  for (std::sregex_iterator i{body.begin(), body.end(), re}, e; i != e; ++i)
    out.push_back(std::stod((*i)[1]));
  return out;
}

inline size_t count_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return 0;
  size_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir, ec)) {
    (void)e;
    ++n;
  }
  return n;
}

inline int64_t row_count(const std::string& data_dir) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2((data_dir + "/hlsgate.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM media", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

class e2e : public ::testing::Test {
protected:
  std::string data = make_temp_dir("e2e-data");
  std::map<std::string, std::string> env{{"HLSGATE_WORKERS", "1"},
                                         {"HLSGATE_MAX_UPLOAD_BYTES", std::to_string(upload_limit)},
                                         {"HLSGATE_SEGMENT_SECONDS", "6"}};
  std::unique_ptr<server_process> srv;

  void start() {
    srv = std::make_unique<server_process>(data, env);
    ASSERT_TRUE(srv->start()) << "server did not start";
  }
  void TearDown() override {
    if (srv) {
      EXPECT_EQ(srv->stop(), 0);
    }
  }
  uint16_t port() const { return srv->port(); }

  http_reply upload(const std::string& path, const std::string& query = "",
                    const std::string& field = "media") {
    auto content = read_file(path);
    auto [type, body] = multipart_body(field, fs::path{path}.filename().string(), content);
    http_connection c{port(), 300};
    return c.request("POST", "/upload/" + query, {{"Content-Type", type}}, body);
  }

  std::string secret() const {
    std::ifstream in{data + "/secret.key"};
    std::string s;
    std::getline(in, s);
    return s;
  }
  /// The keys the server derives from its generated secret.
  auth::signing_keys keys() const { return auth::derive_keys(secret()); }

  /// Fetches master and media playlists; checks every segment of every
  /// variant; returns the first (top) media playlist body.
  std::string check_playback(const std::string& id, const std::string& token,
                             const std::string& expect_codecs, size_t expect_variants = 1) {
    auto master = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
    EXPECT_EQ(master.status, 200u) << master.body;
    EXPECT_EQ(master.header("content-type"), "application/vnd.apple.mpegurl");
    EXPECT_NE(master.body.find("#EXT-X-STREAM-INF:"), std::string::npos) << master.body;
    EXPECT_NE(master.body.find("CODECS=\"" + expect_codecs), std::string::npos) << master.body;
    auto problems = validate_master_playlist(master.body);
    EXPECT_TRUE(problems.ok()) << problems.str() << master.body;
    auto variants = playlist_uris(master.body);
    EXPECT_EQ(variants.size(), expect_variants) << master.body;
    std::string top;
    for (auto& variant : variants) {
      auto media_pl = http_get(port(), "/stream/" + id + "/" + variant);
      EXPECT_EQ(media_pl.status, 200u) << media_pl.body;
      EXPECT_NE(media_pl.body.find("#EXT-X-PLAYLIST-TYPE:VOD"), std::string::npos);
      EXPECT_NE(media_pl.body.find("#EXT-X-ENDLIST"), std::string::npos);
      auto media_problems = validate_media_playlist(media_pl.body);
      EXPECT_TRUE(media_problems.ok()) << media_problems.str() << media_pl.body;
      for (auto& uri : playlist_uris(media_pl.body)) {
        EXPECT_EQ(uri.rfind("/seg/", 0), 0u) << uri;
        auto seg = http_get(port(), uri);
        EXPECT_EQ(seg.status, 200u) << uri;
        EXPECT_EQ(seg.header("content-type"), "video/mp2t");
        EXPECT_GT(seg.body.size(), 188u);
        EXPECT_EQ(seg.body[0], 0x47) << "not an MPEG-TS packet";
      }
      if (top.empty())
        top = media_pl.body;
    }
    return top;
  }

  json info(const std::string& id, const std::string& key) {
    return parse_json(http_get(port(), "/media/" + id + "/info", {{"X-Admin-Key", key}}));
  }

  /// Polls the info endpoint (bounded) until `pred(info)` holds; returns the
  /// last info seen.
  template <class Pred>
  json poll_info(const std::string& id, const std::string& key, Pred pred, int seconds = 300) {
    json last;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      last = info(id, key);
      if (pred(last))
        return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100)); // polling interval
    }
    return last;
  }

  /// Decodes the whole stream from its HTTP URL with the ffmpeg CLI.
  void check_decodes(const std::string& id, const std::string& token, double expect_seconds) {
    auto url = srv->base_url() + "/stream/" + id + "/playlist.m3u8?token=" + token;
    std::string out;
    int rc =
        run_command("ffmpeg -nostdin -v error -i " + shell_quote(url) + " -f null - 2>&1", &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "") << "decoder reported errors";
    std::string dur;
    rc = run_command("ffprobe -v error -show_entries format=duration -of csv=p=0 " +
                         shell_quote(url) + " 2>/dev/null",
                     &dur);
    EXPECT_EQ(rc, 0);
    EXPECT_NEAR(std::atof(dur.c_str()), expect_seconds, 0.6) << dur;
  }
};

} // namespace hlsgate::test
