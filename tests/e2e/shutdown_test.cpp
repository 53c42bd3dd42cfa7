// SIGTERM on the real binary: every waiting synchronous upload is answered
// (with its keys: the item stays and its job resumes after the restart), an
// upload still being received is refused with nothing kept, and the
// process exits cleanly.
#include <future>

#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

class shutdown : public e2e {
protected:
  void SetUp() override {
    // Slow enough that the job is still running when SIGTERM comes.
    env["HLSGATE_X264_PRESET"] = "medium";
    env["HLSGATE_SHUTDOWN_SECONDS"] = "20";
  }
};

TEST_F(shutdown, waiting_synchronous_upload_gets_its_keys_and_resumes_after_restart) {
  start();
  const auto clip = make_clip(clip_720p(40));
  auto pending = std::async(std::launch::async, [&] {
    return upload(clip, "?expiry_minutes=30&ladder=480:1400k,360:800k");
  });
  // The item exists once its record does (bounded poll).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (row_count(data) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // polling interval
  ASSERT_EQ(row_count(data), 1) << "the upload never became an item";
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the job ended before SIGTERM: make the clip longer";
  EXPECT_EQ(srv->stop(), 0) << "a clean exit";
  auto r = pending.get();
  ASSERT_EQ(r.status, 202u) << "the waiting upload is answered, not dropped: " << r.body;
  auto j = parse_json(r);
  std::string id = j["media_id"], key = j["admin_key"], token = j["access_token"];
  EXPECT_FALSE(key.empty());
  EXPECT_FALSE(token.empty());

  srv.reset();
  start();
  auto done = poll_info(
      id, key, [](const json& x) { return x["status"] == "ready"; }, 600);
  ASSERT_EQ(done["status"], "ready") << done.dump();
  check_playback(id, token, "avc1", 2);
}

TEST_F(shutdown, upload_being_received_is_refused_and_nothing_is_kept) {
  start();
  auto content = read_file(make_clip(clip_720p(4)));
  auto [type, body] = multipart_body("media", "clip.mp4", content);
  http_connection c{port(), 60};
  ASSERT_TRUE(c.connected());
  std::string head = "POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: " + type +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_TRUE(c.send(head + body.substr(0, body.size() / 2)));
  // The body is half there; the server is receiving it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count_files(data + "/uploads") == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // polling interval
  ASSERT_EQ(count_files(data + "/uploads"), 1u);
  auto stopped = std::async(std::launch::async, [&] { return srv->stop(); });
  auto r = c.read_reply();
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(stopped.get(), 0);
  EXPECT_EQ(count_files(data + "/uploads"), 0u);
  EXPECT_EQ(count_files(data + "/sources"), 0u);
  EXPECT_EQ(row_count(data), 0);
  srv.reset();
}

} // namespace
} // namespace hlsgate::test
