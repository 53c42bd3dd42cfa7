// Resource limits on the real binary, each answered before a body is read:
// free disk space (507), uploads received at once (503), bodies on routes
// that take none (413).
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
