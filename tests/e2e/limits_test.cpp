// Resource limits on the real binary, each answered before a body is read:
// free disk space (507), uploads received at once (503), bodies on routes
// that take none (413); and the source limits, judged on the probe (422).
#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

class limits : public e2e {
protected:
  /// Sends an upload head declaring `length` bytes and `Expect: 100-continue`;
  /// returns the connection (the body is not sent).
  std::unique_ptr<http_connection> upload_head(uint64_t length) {
    auto c = std::make_unique<http_connection>(port(), 30);
    std::string head = "POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
                       "boundary=xyz\r\nExpect: 100-continue\r\nContent-Length: " +
                       std::to_string(length) + "\r\n\r\n";
    EXPECT_TRUE(c->send(head));
    return c;
  }
};

TEST_F(limits, too_little_free_space_is_507_before_the_body) {
  env["HLSGATE_MIN_FREE_BYTES"] = std::to_string(1ull << 62); // more than any disk
  start();
  auto c = upload_head(1 << 20);
  auto r = c->read_reply();
  EXPECT_EQ(r.status, 507u) << r.body;
  EXPECT_NE(parse_json(r).value("detail", ""), "");
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
}

TEST_F(limits, too_little_free_space_makes_the_server_not_ready) {
  env["HLSGATE_MIN_FREE_BYTES"] = std::to_string(1ull << 62);
  start();
  auto r = http_get(port(), "/ready");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(parse_json(r).value("reason", ""),
            "less free space on the data volume than HLSGATE_MIN_FREE_BYTES");
  EXPECT_EQ(http_get(port(), "/health").status, 200u) << "alive, only not ready";
}

TEST_F(limits, uploads_at_once_are_bounded) {
  env["HLSGATE_MAX_UPLOADS"] = "1";
  start();
  // The first upload's body is being received (its head was answered 100).
  auto first = std::make_unique<http_connection>(port(), 30);
  ASSERT_TRUE(first->send("POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data;"
                          " boundary=xyz\r\nContent-Length: 100000\r\n\r\n--xyz\r\n"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  http_reply r;
  while (std::chrono::steady_clock::now() < deadline) {
    auto second = upload_head(1000);
    r = second->read_reply();
    if (r.status == 503u)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // polling interval
  }
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_NE(r.header("retry-after"), "");
  first->close();
  // Once the first is gone, uploads are admitted again (bounded poll).
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto third = upload_head(1000);
    r = third->read_reply();
    if (r.status == 100u || r.status == 0u || r.status != 503u)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // polling interval
  }
  EXPECT_NE(r.status, 503u) << "the slot was released";
}

TEST_F(limits, sources_beyond_the_duration_or_pixel_rate_limit_are_422_with_nothing_kept) {
  env["HLSGATE_MAX_SOURCE_SECONDS"] = "5";
  env["HLSGATE_MAX_PIXEL_RATE"] = "20000000"; // 1280x720 at 30 fps is 27.6 M/s
  start();
  clip_spec long_small = clip_720p(8);
  long_small.width = 320;
  long_small.height = 240;
  clip_spec short_big = clip_720p(3);
  struct probe_case {
    clip_spec spec;
    const char* reason;
  };
  for (const auto& c : {probe_case{long_small, "source is longer than the limit of 5 s"},
                        probe_case{short_big, "source exceeds the pixel rate limit (1280x720 at "
                                              "30 fps)"}}) {
    auto r = upload(make_clip(c.spec), "?async=true");
    EXPECT_EQ(r.status, 422u) << r.body;
    EXPECT_EQ(parse_json(r).value("detail", ""), c.reason);
  }
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
  EXPECT_EQ(count_files(data + "/sources"), 0u);
  EXPECT_EQ(count_files(data + "/media"), 0u);
  // Within both limits: accepted.
  clip_spec fine = clip_720p(3);
  fine.width = 320;
  fine.height = 240;
  EXPECT_EQ(upload(make_clip(fine), "?async=true").status, 202u);
}

TEST_F(limits, a_body_on_a_route_that_takes_none_is_refused_unread) {
  start();
  for (const char* method : {"GET", "DELETE"}) {
    http_connection c{port(), 10};
    ASSERT_TRUE(c.send(std::string(method) +
                       " /media/NoSuchMediaId000000000/info HTTP/1.1\r\nHost: t\r\n"
                       "Content-Length: 1000000\r\n\r\n"));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 413u) << method << ": " << r.body;
  }
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
}

} // namespace
} // namespace hlsgate::test
