// End-to-end tests of http::server over 127.0.0.1 with the blocking test
// client of tests/support. No sleeps for synchronisation: the test router
// records what it saw before replying, so a received response orders
// everything after it.
#include "http/server.hpp"

#include "auth/revocation.hpp"
#include "auth/signed_url.hpp"
#include "metrics/metrics.hpp"
#include "tests/support/http_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace hlsgate;

namespace {

using test::http_connection;
using test::http_reply;
using test::read_file;

constexpr int k_io_timeout = 10; // seconds; bounds every blocking call of a broken test

/// Sends `raw` on a new connection and reads one response (status 0 on failure).
http_reply roundtrip(uint16_t port, const std::string& raw, bool head = false) {
  http_connection c(port, k_io_timeout);
  if (!c.send(raw))
    return {};
  return c.read_reply(head);
}

std::string get(const std::string& target, const std::string& extra = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

// -- test router ---------------------------------------------------------------------

struct seen_upload {
  std::string path, filename, content, query, header_ct;
  uint64_t bytes = 0;
};

class test_router : public http::router {
public:
  std::string file_for_route; // served for GET /file

  ~test_router() override {
    for (auto& t : threads_)
      t.join();
  }

  http::route_info classify(const http::request& req) const override {
    return {req.path == "/health" ? metrics::route::health : metrics::route::other,
            std::chrono::seconds(10)};
  }

  void handle(http::request req, http::reply_fn reply) override {
    if (!req.upload_path.empty()) {
      seen_upload u;
      u.path = req.upload_path;
      u.filename = req.upload_filename;
      u.bytes = req.upload_bytes;
      u.content = read_file(req.upload_path);
      u.query = req.query;
      u.header_ct = std::string(req.header("content-type"));
      fs::remove(req.upload_path); // the router owns the temp file
      {
        std::lock_guard lk(mu_);
        uploads_.push_back(std::move(u));
      }
      http::response r;
      r.body = "{\"ok\":true}";
      return reply(std::move(r));
    }
    if (req.path == "/file") {
      http::response r;
      r.file_path = file_for_route;
      r.content_type = "application/octet-stream";
      r.headers.emplace_back("X-Test", "file");
      return reply(std::move(r));
    }
    if (req.path == "/async") {
      // Reply from a different thread than the I/O thread that called us.
      std::lock_guard lk(mu_);
      threads_.emplace_back([reply = std::move(reply)] {
        http::response r;
        r.body = "async";
        r.content_type = "text/plain";
        reply(std::move(r));
      });
      return;
    }
    if (req.path == "/teapot")
      return reply(http::json_error(418, "short and \"stout\""));
    // Echo.
    std::string v;
    std::string body = req.method + "|" + req.path + "|" + req.query + "|";
    if (req.query_param("q", v))
      body += v;
    body += "|" + std::to_string(req.body.size()) + "|" + std::string(req.header("x-thing"));
    http::response r;
    r.content_type = "text/plain";
    r.body = std::move(body);
    reply(std::move(r));
  }

  std::vector<seen_upload> uploads() {
    std::lock_guard lk(mu_);
    return uploads_;
  }

private:
  std::mutex mu_;
  std::vector<seen_upload> uploads_;
  std::vector<std::thread> threads_;
};

// -- fixture ---------------------------------------------------------------------------

constexpr const char* k_sid = "AbCdEfGhIjKlMnOpQr_-12";
constexpr const char* k_secret = "test-secret";

class server_test : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hlsgate-http-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    media_ = root_ / "media";
    uploads_ = root_ / "uploads";
    fs::create_directories(media_ / k_sid / "v0");
    fs::create_directories(uploads_);
    std::mt19937 rng(42);
    segment_.resize(200 * 1024);
    for (auto& c : segment_)
      c = static_cast<char>(rng());
    std::ofstream(media_ / k_sid / "v0" / "seg_00001.ts", std::ios::binary) << segment_;
    std::ofstream(root_ / "secret.txt") << "top secret";
    router_.file_for_route = (media_ / k_sid / "v0" / "seg_00001.ts").string();
    start_server({});
  }

  void TearDown() override {
    srv_.reset();
    fs::remove_all(root_);
  }

  void start_server(std::vector<std::string> cors, bool any = false) {
    srv_.reset();
    http::server_options o;
    o.port = 0;
    o.threads = 2;
    o.max_upload_bytes = 1 << 20;
    o.max_body_bytes = 4096;
    o.upload_tmp_dir = uploads_.string();
    o.media_root = media_.string();
    o.header_timeout_seconds = 5;
    o.send_timeout_seconds = 5;
    o.idle_timeout_seconds = 5;
    o.cors_origins = std::move(cors);
    o.cors_any = any;
    srv_ = std::make_unique<http::server>(o, router_, signer_, metrics_, revocations_);
    srv_->start();
    port_ = srv_->port();
    ASSERT_NE(port_, 0);
  }

  std::string signed_target(const std::string& file, int64_t expires,
                            const std::string& rendition = "v0",
                            const std::string& handle = "1.jti") {
    std::string prefix = std::string("/seg/") + k_sid + "/";
    std::string t = prefix + rendition + "/" + file + "?";
    signer_.append_query(prefix, expires, handle, t);
    return t;
  }

  static int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

  size_t upload_dir_entries() {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(uploads_))
      ++n;
    return n;
  }

  /// Polls (bounded) until the upload dir has `n` entries.
  bool upload_dir_reaches(size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (upload_dir_entries() == n)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::string multipart_body(const std::string& boundary, const std::string& field,
                                    const std::string& data, bool with_title = true) {
    std::string b;
    if (with_title)
      b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n";
    b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field +
         "\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n" + data;
    b += "\r\n--" + boundary + "--\r\n";
    return b;
  }

  static std::string upload_request(const std::string& body, const std::string& boundary,
                                    const std::string& extra = {}) {
    return "POST /upload/?expiry_minutes=5 HTTP/1.1\r\nHost: t\r\nContent-Type: "
           "multipart/form-data; boundary=\"" +
           boundary + "\"\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
           "\r\n" + body;
  }

  fs::path root_, media_, uploads_;
  std::string segment_;
  test_router router_;
  auth::url_signer signer_{k_secret};
  const auth::revocation_table* revocations_ = nullptr; ///< none unless a test sets one
  metrics::registry metrics_;
  std::unique_ptr<http::server> srv_;
  uint16_t port_ = 0;
};

// -- /seg/ ------------------------------------------------------------------------------------

TEST_F(server_test, signed_segment_get_returns_exact_bytes) {
  auto r = roundtrip(port_, get(signed_target("seg_00001.ts", now() + 600)));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-type"), "video/mp2t");
  EXPECT_EQ(r.header("accept-ranges"), "bytes");
  EXPECT_EQ(r.header("server"), "hlsgate");
  EXPECT_NE(r.header("cache-control").find("private, max-age="), std::string::npos);
  EXPECT_EQ(r.header("content-length"), std::to_string(segment_.size()));
  EXPECT_TRUE(r.body == segment_);
}

TEST_F(server_test, head_has_length_and_no_body) {
  http_connection c(port_, k_io_timeout);
  const std::string t = signed_target("seg_00001.ts", now() + 600);
  ASSERT_TRUE(c.send("HEAD " + t + " HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read_reply(true);
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-length"), std::to_string(segment_.size()));
  // The same connection continues cleanly: no body bytes were sent.
  ASSERT_TRUE(c.send(get("/echo")));
  auto r2 = c.read_reply();
  ASSERT_NE(r2.status, 0u);
  EXPECT_EQ(r2.status, 200u);
  EXPECT_EQ(r2.body.substr(0, 10), "GET|/echo|");
}

TEST_F(server_test, ranges) {
  const std::string t = signed_target("seg_00001.ts", now() + 600);
  const std::string size = std::to_string(segment_.size());
  auto r = roundtrip(port_, get(t, "Range: bytes=100-1099\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.header("content-range"), "bytes 100-1099/" + size);
  EXPECT_TRUE(r.body == segment_.substr(100, 1000));

  r = roundtrip(port_, get(t, "Range: bytes=-500\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.header("content-range"), "bytes " + std::to_string(segment_.size() - 500) + "-" +
                                           std::to_string(segment_.size() - 1) + "/" + size);
  EXPECT_TRUE(r.body == segment_.substr(segment_.size() - 500));

  r = roundtrip(port_, get(t, "Range: bytes=204000-\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 206u);
  EXPECT_TRUE(r.body == segment_.substr(204000));

  r = roundtrip(port_, get(t, "Range: bytes=999999-\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 416u);
  EXPECT_EQ(r.header("content-range"), "bytes */" + size);

  // Multi-range falls back to the full body.
  r = roundtrip(port_, get(t, "Range: bytes=0-1,5-6\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body.size(), segment_.size());
}

TEST_F(server_test, etag_revalidation) {
  const std::string t = signed_target("seg_00001.ts", now() + 600);
  auto r = roundtrip(port_, get(t));
  ASSERT_NE(r.status, 0u);
  const std::string etag = r.header("etag");
  ASSERT_FALSE(etag.empty());
  r = roundtrip(port_, get(t, "If-None-Match: " + etag + "\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 304u);
}

TEST_F(server_test, signature_failures) {
  std::string t = signed_target("seg_00001.ts", now() + 600);
  std::string bad = t;
  bad[bad.find("md5=") + 4] = bad[bad.find("md5=") + 4] == 'A' ? 'B' : 'A';
  auto r = roundtrip(port_, get(bad));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.body, "{\"detail\":\"Invalid signature\"}");

  r = roundtrip(port_, get(std::string("/seg/") + k_sid + "/v0/seg_00001.ts"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 403u);

  r = roundtrip(port_, get(signed_target("seg_00001.ts", now() - 10)));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 410u);
  EXPECT_EQ(r.body, "{\"detail\":\"Signed URL expired\"}");

  // A signature for another storage id does not transfer.
  std::string other = "/seg/ZZZZZZZZZZZZZZZZZZZZ/v0/seg_00001.ts?";
  signer_.append_query(std::string("/seg/") + k_sid + "/", now() + 600, "1.jti", other);
  r = roundtrip(port_, get(other));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 403u);

  // The revocation handle is signed: another token's handle does not fit;
  // without one, or with a parameter given twice, nothing is served.
  std::string swapped = t;
  swapped.replace(swapped.find("&r=1.jti"), 8, "&r=2.jti");
  EXPECT_EQ(roundtrip(port_, get(swapped)).status, 403u);
  std::string bare = t.substr(0, t.find("&r="));
  EXPECT_EQ(roundtrip(port_, get(bare)).status, 403u);
  EXPECT_EQ(roundtrip(port_, get(t + "&r=1.jti")).status, 403u);
  EXPECT_EQ(roundtrip(port_, get(t + "&md5=x")).status, 403u);
}

// With the per-item token state, refresh/revoke/delete stop signed URLs at once.
TEST_F(server_test, revocation_reaches_the_segment_path) {
  auth::revocation_table table;
  revocations_ = &table;
  start_server({});
  const int64_t exp = now() + 600;
  auto status = [&](const std::string& handle) {
    auto r = roundtrip(port_, get(signed_target("seg_00001.ts", exp, "v0", handle)));
    return r.status;
  };
  EXPECT_EQ(status("1.jti"), 404u) << "no such item";
  table.publish(k_sid, {1, now() + 3600, {}});
  EXPECT_EQ(status("1.jti"), 200u);
  table.publish(k_sid, {1, now() + 3600, {"jti"}}); // revoked one by one
  EXPECT_EQ(status("1.jti"), 403u);
  EXPECT_EQ(status("1.other"), 200u);
  table.publish(k_sid, {2, now() + 3600, {}}); // refreshed
  EXPECT_EQ(status("1.other"), 403u);
  EXPECT_EQ(status("2.other"), 200u);
  table.publish(k_sid, {2, now() - 1, {}}); // the media expired
  EXPECT_EQ(status("2.other"), 410u);
  table.erase(k_sid); // deleted
  EXPECT_EQ(status("2.other"), 404u);
  table.publish(k_sid, {2, now() + 3600, {}});
  EXPECT_EQ(status("2.bad!jti"), 403u) << "a signed but malformed handle";
  revocations_ = nullptr;
}

TEST_F(server_test, bad_names_and_missing_files_are_404) {
  const int64_t exp = now() + 600;
  for (const char* f : {"seg_1.ts", "seg_00001.tsx", "seg_0000a.ts", "x.ts", "seg_00001.m3u8"}) {
    auto r = roundtrip(port_, get(signed_target(f, exp)));
    ASSERT_NE(r.status, 0u);
    EXPECT_EQ(r.status, 404u) << f;
  }
  auto r = roundtrip(port_, get(signed_target("seg_00002.ts", exp)));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 404u);
  r = roundtrip(port_, get(signed_target("seg_00001.ts", exp, "V0")));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 404u);
  r = roundtrip(port_, get(signed_target("seg_00001.ts", exp, "v0123456789")));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 404u);
  r = roundtrip(port_, get("/seg/short/v0/seg_00001.ts?md5=x&expires=1"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 404u);
}

TEST_F(server_test, path_traversal_is_never_served) {
  const std::string prefix = std::string("/seg/") + k_sid + "/";
  const int64_t exp = now() + 600;
  const std::vector<std::string> paths = {
      prefix + "../../secret.txt",
      prefix + "v0/../../../secret.txt",
      prefix + "%2e%2e/%2e%2e/secret.txt",
      prefix + "v0/..%2f..%2f..%2fsecret.txt",
      prefix + "v0%2f..%2fseg_00001.ts",
      "/seg/..%2f..%2f/v0/seg_00001.ts",
      "/seg/" + std::string(k_sid) + "%2f..%2f/v0/seg_00001.ts",
  };
  for (const auto& p : paths) {
    std::string t = p + "?";
    signer_.append_query(prefix, exp, t);
    auto r = roundtrip(port_, get(t));
    ASSERT_NE(r.status, 0u) << p;
    EXPECT_EQ(r.status, 404u) << p;
    EXPECT_EQ(r.body.find("top secret"), std::string::npos);
  }
}

TEST_F(server_test, wrong_method_on_segment) {
  const std::string t = signed_target("seg_00001.ts", now() + 600);
  auto r = roundtrip(port_, "DELETE " + t + " HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 405u);
}

// -- router ---------------------------------------------------------------------------------

TEST_F(server_test, router_sees_decoded_path_and_raw_query) {
  auto r = roundtrip(port_, get("/e%63ho/a%20b?q=x%2By+z&r=1", "X-Thing: yes\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "GET|/echo/a b|q=x%2By+z&r=1|x+y z|0|yes");
}

TEST_F(server_test, post_body_reaches_router_and_limit_is_413) {
  std::string body(1000, 'b');
  auto r =
      roundtrip(port_, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + body);
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.body, "POST|/echo|||1000|");

  std::string chunked = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n";
  r = roundtrip(port_, chunked);
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "POST|/echo|||8|");

  r = roundtrip(port_, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 413u);
}

TEST_F(server_test, router_file_response_with_range_and_head) {
  auto r = roundtrip(port_, get("/file", "Range: bytes=10-19\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.header("x-test"), "file");
  EXPECT_EQ(r.header("content-type"), "application/octet-stream");
  EXPECT_TRUE(r.body == segment_.substr(10, 10));
  r = roundtrip(port_, "HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n", true);
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-length"), std::to_string(segment_.size()));
  router_.file_for_route = (root_ / "nope").string();
  r = roundtrip(port_, get("/file"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 404u);
}

TEST_F(server_test, json_errors_from_router_are_escaped) {
  auto r = roundtrip(port_, get("/teapot"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 418u);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, "{\"detail\":\"short and \\\"stout\\\"\"}");
}

TEST_F(server_test, keep_alive_and_pipelining) {
  http_connection c(port_, k_io_timeout);
  const std::string t = signed_target("seg_00001.ts", now() + 600);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(get("/echo?q=" + std::to_string(i))));
    auto r = c.read_reply();
    ASSERT_NE(r.status, 0u);
    EXPECT_EQ(r.body, "GET|/echo|q=" + std::to_string(i) + "|" + std::to_string(i) + "|0|");
    ASSERT_TRUE(c.send(get(t)));
    r = c.read_reply();
    ASSERT_NE(r.status, 0u);
    EXPECT_TRUE(r.body == segment_);
  }
  // Three requests in one write come back in order.
  ASSERT_TRUE(c.send(get("/echo?q=a") + get(t, "Range: bytes=0-3\r\n") + get("/async")));
  auto a = c.read_reply();
  auto b = c.read_reply();
  auto d = c.read_reply();
  ASSERT_TRUE(a.status && b.status && d.status);
  EXPECT_EQ(a.body, "GET|/echo|q=a|a|0|");
  EXPECT_EQ(b.status, 206u);
  EXPECT_TRUE(b.body == segment_.substr(0, 4));
  EXPECT_EQ(d.body, "async");
  // Connection: close is honoured.
  ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  auto e = c.read_reply();
  ASSERT_NE(e.status, 0u);
  EXPECT_EQ(e.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(server_test, reply_from_another_thread) {
  for (int i = 0; i < 20; ++i) {
    auto r = roundtrip(port_, get("/async"));
    ASSERT_NE(r.status, 0u);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "async");
  }
}

TEST_F(server_test, malformed_request_is_400_and_closed) {
  http_connection c(port_, k_io_timeout);
  ASSERT_TRUE(c.send("GARBAGE\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 400u);
  EXPECT_TRUE(c.closed_by_peer());

  http_connection d(port_, k_io_timeout);
  ASSERT_TRUE(d.send("GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: zz\r\n\r\n"));
  r = d.read_reply();
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 400u);

  auto e = roundtrip(port_, get("/bad%zzescape"));
  ASSERT_NE(e.status, 0u);
  EXPECT_EQ(e.status, 400u);
}

// -- uploads ----------------------------------------------------------------------------------

TEST_F(server_test, multipart_upload_reaches_router_with_exact_content) {
  std::string data;
  std::mt19937 rng(7);
  for (int i = 0; i < 300000; ++i)
    data.push_back(static_cast<char>(rng()));
  data += "\r\n--notTheBoundary\r\n";
  const std::string boundary = "----hlsgateBoundary7MA4YWxk";
  auto r = roundtrip(port_, upload_request(multipart_body(boundary, "media", data), boundary));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u) << r.body;
  auto ups = router_.uploads();
  ASSERT_EQ(ups.size(), 1u);
  EXPECT_EQ(ups[0].bytes, data.size());
  EXPECT_TRUE(ups[0].content == data);
  EXPECT_EQ(ups[0].filename, "clip.mp4");
  EXPECT_EQ(ups[0].query, "expiry_minutes=5");
  EXPECT_EQ(fs::path(ups[0].path).parent_path(), uploads_);
  EXPECT_EQ(upload_dir_entries(), 0u);
}

TEST_F(server_test, chunked_upload_with_expect_continue) {
  const std::string boundary = "bnd";
  const std::string body = multipart_body(boundary, "media", "chunked payload\r\n");
  http_connection c(port_, k_io_timeout);
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
                     "boundary=bnd\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"));
  auto cont = c.read_reply();
  ASSERT_NE(cont.status, 0u);
  EXPECT_EQ(cont.status, 100u);
  std::string chunked;
  for (size_t off = 0; off < body.size(); off += 7) {
    std::string piece = body.substr(off, 7);
    char len[16];
    std::snprintf(len, sizeof len, "%zx\r\n", piece.size());
    chunked += len + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  ASSERT_TRUE(c.send(chunked));
  auto r = c.read_reply();
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u) << r.body;
  auto ups = router_.uploads();
  ASSERT_EQ(ups.size(), 1u);
  EXPECT_EQ(ups[0].content, "chunked payload\r\n");
}

TEST_F(server_test, oversized_upload_is_413_and_leaves_nothing) {
  const std::string boundary = "bnd";
  // Declared length above the limit: rejected from the header alone.
  http_connection c(port_, k_io_timeout);
  ASSERT_TRUE(c.send("POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
                     "boundary=bnd\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.body, "{\"detail\":\"Upload too large\"}");
  EXPECT_EQ(upload_dir_entries(), 0u);

  // Chunked, discovered while streaming: the partial file is removed.
  http_connection d(port_, k_io_timeout);
  ASSERT_TRUE(d.send("POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
                     "boundary=bnd\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string head =
      "--bnd\r\nContent-Disposition: form-data; name=\"media\"; filename=\"x\"\r\n\r\n";
  std::string big(256 * 1024, 'x');
  char len[16];
  std::snprintf(len, sizeof len, "%zx\r\n", head.size());
  ASSERT_TRUE(d.send(len + head + "\r\n"));
  http_reply r2;
  for (int i = 0; i < 8; ++i) { // 2 MiB > 1 MiB limit
    std::snprintf(len, sizeof len, "%zx\r\n", big.size());
    if (!d.send(len + big + "\r\n"))
      break;
  }
  r2 = d.read_reply();
  ASSERT_NE(r2.status, 0u);
  EXPECT_EQ(r2.status, 413u);
  EXPECT_EQ(upload_dir_entries(), 0u); // removed before the 413 was sent
  EXPECT_TRUE(router_.uploads().empty());
}

TEST_F(server_test, missing_media_field_is_422_and_leaves_nothing) {
  const std::string boundary = "xyz";
  auto r = roundtrip(port_, upload_request(multipart_body(boundary, "file", "data"), boundary));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 422u);
  EXPECT_EQ(r.body, "{\"detail\":\"Missing form field 'media'\"}");
  EXPECT_EQ(upload_dir_entries(), 0u);
  EXPECT_TRUE(router_.uploads().empty());
}

TEST_F(server_test, malformed_multipart_is_400_and_leaves_nothing) {
  // Body ends inside the media part: the partial file must go.
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\nunfinished";
  auto r = roundtrip(port_, upload_request(body, "b"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(upload_dir_entries(), 0u);

  r = roundtrip(port_, "POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
                       "Content-Length: 3\r\n\r\nabc");
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 400u);
  EXPECT_TRUE(router_.uploads().empty());
}

TEST_F(server_test, client_disconnect_mid_upload_removes_temp_file) {
  http_connection c(port_, k_io_timeout);
  std::string part =
      "--b\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\n" + std::string(10000, 'z');
  ASSERT_TRUE(c.send("POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
                     "boundary=b\r\nContent-Length: 500000\r\n\r\n" +
                     part));
  ASSERT_TRUE(upload_dir_reaches(1)); // the server is streaming into its temp file
  c.close();
  EXPECT_TRUE(upload_dir_reaches(0));
  EXPECT_TRUE(router_.uploads().empty());
}

// -- CORS, lifecycle, helpers -------------------------------------------------------------------

TEST_F(server_test, cors_headers_and_preflight) {
  start_server({"https://a.example", "https://b.example"});
  auto r = roundtrip(port_, "OPTIONS /upload/ HTTP/1.1\r\nHost: t\r\nOrigin: https://b.example\r\n"
                            "Access-Control-Request-Method: POST\r\n\r\n");
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://b.example");
  EXPECT_NE(r.header("access-control-allow-headers").find("X-Admin-Key"), std::string::npos);
  EXPECT_NE(r.header("access-control-allow-methods").find("POST"), std::string::npos);

  r = roundtrip(port_, get("/echo", "Origin: https://evil.example\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.header("access-control-allow-origin"), "");

  start_server({}, true);
  r = roundtrip(port_, get(signed_target("seg_00001.ts", now() + 60), "Origin: https://x\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
}

TEST_F(server_test, no_cors_headers_by_default) {
  auto r = roundtrip(port_, get("/echo", "Origin: https://a.example\r\n"));
  ASSERT_NE(r.status, 0u);
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
}

TEST_F(server_test, start_fails_on_busy_port) {
  http::server_options o;
  o.port = port_;
  o.media_root = media_.string();
  o.upload_tmp_dir = uploads_.string();
  http::server other(o, router_, signer_, metrics_);
  try {
    other.start();
    FAIL() << "expected start() to throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot listen on", 0), 0u) << e.what();
  }
}

TEST_F(server_test, stop_releases_wait_and_pending_replies_are_dropped) {
  std::thread waiter([this] { srv_->wait(); });
  // A request whose reply_fn outlives the server: invoking it later is safe.
  http::reply_fn kept;
  struct holding_router : http::router {
    http::reply_fn* out;
    std::mutex mu;
    std::condition_variable cv;
    bool got = false;
    void handle(http::request, http::reply_fn reply) override {
      std::lock_guard lk(mu);
      *out = std::move(reply);
      got = true;
      cv.notify_all();
    }
    http::route_info classify(const http::request&) const override { return {}; }
  } holder;
  holder.out = &kept;
  http::server_options o;
  o.port = 0;
  o.media_root = media_.string();
  o.upload_tmp_dir = uploads_.string();
  auto s2 = std::make_unique<http::server>(o, holder, signer_, metrics_);
  s2->start();
  http_connection c(s2->port(), k_io_timeout);
  ASSERT_TRUE(c.send(get("/hold")));
  {
    std::unique_lock lk(holder.mu);
    ASSERT_TRUE(holder.cv.wait_for(lk, std::chrono::seconds(10), [&] { return holder.got; }));
  }
  s2.reset();
  std::lock_guard lk(holder.mu);
  kept(http::json_error(500, "late")); // dropped, no crash
  kept = nullptr;                      // releases the session after its server
  srv_->stop();
  waiter.join();
}

} // namespace
