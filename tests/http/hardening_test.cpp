// The server's defences over real loopback sockets: strict framing with
// pipelined follow-ups, the connection cap, head/body deadlines, early
// refusals without resets, per-route time budgets with on_undelivered,
// graceful shutdown and symlinks. Waits are bounded polls or events; the only
// sleeps pace deliberately slow clients.
#include "http/server.hpp"

#include "auth/signed_url.hpp"
#include "metrics/metrics.hpp"
#include "tests/support/http_client.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace hlsgate;
using namespace std::chrono_literals;
using test::http_connection;
using test::http_reply;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int k_io = 10; // seconds: bounds every blocking client call

/// Polls `pred` every 10 ms for at most `limit`.
template <class Pred> bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto end = clock_type::now() + limit;
  while (clock_type::now() < end) {
    if (pred())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

/// A router that records paths, can hold answers, and refuses uploads on request.
class hold_router : public http::router {
public:
  std::chrono::milliseconds budget{10000};

  http::route_info classify(const http::request&) const override {
    return {metrics::route::other, budget};
  }
  std::optional<http::response> admit_upload(const http::request& head) const override {
    if (head.header("x-refuse") == "429") {
      auto r = http::json_error(429, "Upload queue is full");
      return r;
    }
    return std::nullopt;
  }
  void handle(http::request req, http::reply_fn reply) override {
    std::lock_guard lk(mu_);
    seen_.push_back(req.path);
    if (!req.upload_path.empty())
      fs::remove(req.upload_path);
    if (req.path == "/hold") {
      held_.push_back(std::move(reply));
      cv_.notify_all();
      return;
    }
    http::response r;
    r.content_type = "text/plain";
    r.body = "ok " + req.path;
    if (req.path == "/file")
      r.file_path = file;
    reply(std::move(r));
  }

  /// Waits (bounded) until `n` answers are held.
  bool wait_held(size_t n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, 10s, [&] { return held_.size() >= n; });
  }
  /// Answers the oldest held request; `delivered` reports whether the server
  /// called on_undelivered (set to false then).
  void answer(std::shared_ptr<std::atomic<int>> undelivered, std::string body = "late") {
    http::reply_fn f;
    {
      std::lock_guard lk(mu_);
      f = std::move(held_.front());
      held_.erase(held_.begin());
    }
    http::response r;
    r.content_type = "text/plain";
    r.body = std::move(body);
    r.on_undelivered = [undelivered] { ++*undelivered; };
    f(std::move(r));
  }
  std::vector<std::string> seen() {
    std::lock_guard lk(mu_);
    return seen_;
  }
  std::string file;

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
  std::vector<http::reply_fn> held_;
};

/// A raw client socket for what http_connection cannot do (half-duplex
/// streaming with a readiness check).
int connect_raw(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Sends `head`, then streams up to `body_bytes` of body until a response is
/// readable; returns everything read until EOF (bounded by 10 s).
std::string stream_until_answer(uint16_t port, const std::string& head, size_t body_bytes) {
  int fd = connect_raw(port);
  if (fd < 0)
    return {};
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  const std::string chunk(64 * 1024, 'x');
  size_t sent = 0;
  const auto end = clock_type::now() + 10s;
  std::string got;
  while (clock_type::now() < end) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < body_bytes ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      got.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (p.revents & POLLOUT) {
      const ssize_t n = ::send(fd, chunk.data(), std::min(chunk.size(), body_bytes - sent),
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        sent += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  return got;
}

class hardening : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hlsgate-hard-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "media" / k_sid / "v0");
    fs::create_directories(root_ / "uploads");
    std::ofstream(root_ / "secret.txt") << "top secret";
    std::ofstream(root_ / "media" / k_sid / "v0" / "seg_00001.ts") << std::string(1000, 'G');
    opts_.port = 0;
    opts_.threads = 2;
    opts_.max_upload_bytes = 1 << 20;
    opts_.max_body_bytes = 4096;
    opts_.upload_tmp_dir = (root_ / "uploads").string();
    opts_.media_root = (root_ / "media").string();
    opts_.header_timeout_seconds = 5;
    opts_.idle_timeout_seconds = 5;
    opts_.send_timeout_seconds = 5;
  }
  void TearDown() override {
    srv_.reset();
    fs::remove_all(root_);
  }
  void start() {
    srv_ = std::make_unique<http::server>(opts_, router_, signer_, metrics_);
    srv_->start();
    port_ = srv_->port();
  }
  size_t upload_entries() const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(root_ / "uploads"))
      ++n;
    return n;
  }

  static constexpr const char* k_sid = "AbCdEfGhIjKlMnOpQr_-12";
  fs::path root_;
  http::server_options opts_;
  hold_router router_;
  auth::url_signer signer_{"test-secret"};
  metrics::registry metrics_;
  std::unique_ptr<http::server> srv_;
  uint16_t port_ = 0;
};

// -- framing (RFC 9112 §6) ------------------------------------------------------------

TEST_F(hardening, ambiguous_framing_is_400_and_nothing_after_is_served) {
  start();
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string next = "GET /next HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string chunked_body = "0\r\n\r\n";
  const std::vector<std::string> heads = {
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: "
      "chunked\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
      "chunked\r\n\r\n",
      "POST /x HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: "
      "keep-alive\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n",
  };
  for (const auto& head : heads) {
    http_connection c(port_, k_io);
    ASSERT_TRUE(c.send(head + chunked_body + smuggled + next));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 400u) << head;
    EXPECT_EQ(r.header("connection"), "close") << head;
    EXPECT_EQ(r.body.rfind("{\"detail\":", 0), 0u) << r.body;
    auto r2 = c.read_reply();
    EXPECT_EQ(r2.status, 0u) << "a second response after: " << head;
  }
  EXPECT_TRUE(router_.seen().empty()) << router_.seen().front();
  // The same connection shape with plain chunked framing is served.
  http_connection ok(port_, k_io);
  ASSERT_TRUE(ok.send("POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      chunked_body + next));
  EXPECT_EQ(ok.read_reply().status, 200u);
  EXPECT_EQ(ok.read_reply().body, "ok /next");
}

// -- connection cap ------------------------------------------------------------------------

TEST_F(hardening, connections_beyond_the_cap_get_503_while_players_keep_going) {
  opts_.max_connections = 2;
  start();
  EXPECT_EQ(srv_->max_connections(), 2u);
  http_connection a(port_, k_io), b(port_, k_io);
  EXPECT_EQ(a.request("GET", "/a").status, 200u);
  EXPECT_EQ(b.request("GET", "/b").status, 200u);
  {
    http_connection c(port_, k_io);
    ASSERT_TRUE(c.send("GET /c HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_EQ(r.header("retry-after"), "30");
    EXPECT_EQ(r.body.rfind("{\"detail\":", 0), 0u);
  }
  for (int i = 0; i < 3; ++i) { // the existing keep-alive players are still served
    EXPECT_EQ(a.request("GET", "/a").status, 200u);
    EXPECT_EQ(b.request("GET", "/b").status, 200u);
  }
  a.close();
  // Once a slot is free (released asynchronously), a new connection is served.
  EXPECT_TRUE(eventually([&] { return test::http_get(port_, "/d").status == 200; }));
}

TEST(fd_limit, raised_to_the_hard_limit) {
  const uint64_t soft = http::raise_fd_limit();
  EXPECT_GT(soft, 0u);
  EXPECT_EQ(http::raise_fd_limit(), soft); // already at the hard limit
}

// -- deadlines -------------------------------------------------------------------------------

TEST_F(hardening, slowloris_is_cut_at_the_head_deadline) {
  opts_.header_timeout_seconds = 2;
  start();
  const int fd = connect_raw(port_);
  ASSERT_GE(fd, 0);
  const std::string head = "GET /slow HTTP/1.1\r\nHost: t\r\nX-A: " + std::string(100, 'a');
  const auto t0 = clock_type::now();
  bool cut = false;
  std::string got;
  // One byte per 200 ms: every read succeeds, the head never completes.
  for (size_t i = 0; i < head.size() && !cut && clock_type::now() - t0 < 8s; ++i) {
    ::send(fd, head.data() + i, 1, MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    while (!cut && ::poll(&p, 1, 200) > 0) { // the client's pace doubles as the wait for EOF
      char buf[512];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0)
        got.append(buf, static_cast<size_t>(n));
      cut = n <= 0;
    }
  }
  const auto took = clock_type::now() - t0;
  ::close(fd);
  EXPECT_TRUE(cut);
  EXPECT_EQ(got.rfind("HTTP/1.1 408 ", 0), 0u) << got;
  EXPECT_NE(got.find("{\"detail\":\"Request header timeout\"}"), std::string::npos);
  EXPECT_LT(took, 5s);
  EXPECT_GE(took, 1500ms);
  EXPECT_TRUE(router_.seen().empty());
}

TEST_F(hardening, trickled_body_is_cut_and_steady_body_is_not) {
  opts_.min_body_rate = 100;
  opts_.body_rate_window_seconds = 1;
  start();
  { // 1 byte, then nothing: cut after a window with 408
    http_connection c(port_, k_io);
    const auto t0 = clock_type::now();
    ASSERT_TRUE(c.send("POST /trickle HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nx"));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 408u);
    EXPECT_LT(clock_type::now() - t0, 4s);
    EXPECT_TRUE(c.closed_by_peer());
  }
  { // 200 B/s for 2.5 s: slow but above the minimum
    http_connection c(port_, k_io);
    ASSERT_TRUE(c.send("POST /steady HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"));
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE(c.send(std::string(40, 's')));
      std::this_thread::sleep_for(100ms); // pacing of a slow uploader
    }
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.body, "ok /steady");
  }
}

// -- early refusals ------------------------------------------------------------------------

TEST_F(hardening, upload_refusals_come_before_the_body) {
  start();
  const std::string head =
      "POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
      "boundary=b\r\n";
  { // Expect: 100-continue gets the final status instead of 100
    http_connection c(port_, k_io);
    ASSERT_TRUE(c.send(head + "X-Refuse: 429\r\nContent-Length: 100000\r\nExpect: "
                              "100-continue\r\n\r\n"));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("retry-after"), "30");
    EXPECT_EQ(r.header("connection"), "close");
  }
  { // a client streaming a large body reads the 429, not a reset
    auto got = stream_until_answer(
        port_, head + "X-Refuse: 429\r\nContent-Length: 50000000\r\n\r\n", 50000000);
    EXPECT_EQ(got.rfind("HTTP/1.1 429 ", 0), 0u) << got.substr(0, 100);
    EXPECT_NE(got.find("{\"detail\":\"Upload queue is full\"}"), std::string::npos);
  }
  { // declared length above the limit: 413 while streaming
    auto got = stream_until_answer(port_, head + "Content-Length: 50000000\r\n\r\n", 50000000);
    EXPECT_EQ(got.rfind("HTTP/1.1 413 ", 0), 0u) << got.substr(0, 100);
  }
  EXPECT_EQ(upload_entries(), 0u);
  EXPECT_TRUE(router_.seen().empty());
}

// -- exactly one answer, bounded in time --------------------------------------------------------

TEST_F(hardening, slow_router_gets_503_at_the_deadline_and_late_answer_is_undelivered) {
  router_.budget = 1000ms;
  start();
  http_connection c(port_, k_io);
  const auto t0 = clock_type::now();
  ASSERT_TRUE(c.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(router_.wait_held(1));
  auto r = c.read_reply();
  const auto took = clock_type::now() - t0;
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.header("retry-after"), "30");
  EXPECT_EQ(r.body.rfind("{\"detail\":", 0), 0u);
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 4s);
  auto undelivered = std::make_shared<std::atomic<int>>(0);
  router_.answer(undelivered);
  EXPECT_TRUE(eventually([&] { return undelivered->load() == 1; }));
  // The connection carries on with the next request; the late answer never shows.
  auto next = c.request("GET", "/after");
  EXPECT_EQ(next.body, "ok /after");
  EXPECT_EQ(undelivered->load(), 1);
}

TEST_F(hardening, client_gone_while_waiting_makes_the_answer_undelivered) {
  start();
  http_connection c(port_, k_io);
  ASSERT_TRUE(c.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(router_.wait_held(1));
  EXPECT_EQ(srv_->in_flight(), 1u);
  c.close();
  ASSERT_TRUE(eventually([&] { return srv_->in_flight() == 0; })); // the EOF was noticed
  auto undelivered = std::make_shared<std::atomic<int>>(0);
  router_.answer(undelivered);
  EXPECT_TRUE(eventually([&] { return undelivered->load() == 1; }));
}

TEST_F(hardening, delivered_answer_never_calls_on_undelivered) {
  start();
  http_connection c(port_, k_io);
  ASSERT_TRUE(c.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(router_.wait_held(1));
  auto undelivered = std::make_shared<std::atomic<int>>(0);
  router_.answer(undelivered, "on time");
  EXPECT_EQ(c.read_reply().body, "on time");
  EXPECT_EQ(c.request("GET", "/after").body, "ok /after"); // orders the write's completion
  EXPECT_EQ(undelivered->load(), 0);
}

TEST_F(hardening, stop_with_a_pending_answer_calls_on_undelivered) {
  start();
  http_connection c(port_, k_io);
  ASSERT_TRUE(c.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(router_.wait_held(1));
  srv_->stop();
  auto undelivered = std::make_shared<std::atomic<int>>(0);
  router_.answer(undelivered);
  EXPECT_EQ(undelivered->load(), 1); // called synchronously: nothing runs the strand any more
}

// -- graceful shutdown ---------------------------------------------------------------------------

TEST_F(hardening, begin_shutdown_finishes_in_flight_refuses_new_and_closes_idle) {
  start();
  http_connection idle(port_, k_io);
  EXPECT_EQ(idle.request("GET", "/warm").status, 200u);
  http_connection busy(port_, k_io);
  ASSERT_TRUE(busy.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(router_.wait_held(1));
  http_connection uploading(port_, k_io);
  ASSERT_TRUE(uploading.send("POST /upload/ HTTP/1.1\r\nHost: t\r\nContent-Type: "
                             "multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
                             "--b\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\nabc"));
  ASSERT_TRUE(eventually([&] { return upload_entries() == 1; }));

  srv_->begin_shutdown();
  EXPECT_TRUE(idle.closed_by_peer());
  auto r = uploading.read_reply();
  EXPECT_EQ(r.status, 503u);
  EXPECT_TRUE(eventually([&] { return upload_entries() == 0; }));
  EXPECT_TRUE(eventually([&] { return !http_connection(port_, 2).connected(); }));
  EXPECT_FALSE(srv_->drain(clock_type::now() + 200ms)); // the held request is in flight

  std::thread answer([&] {
    auto undelivered = std::make_shared<std::atomic<int>>(0);
    router_.answer(undelivered, "finished");
  });
  auto done = busy.read_reply();
  answer.join();
  EXPECT_EQ(done.status, 200u);
  EXPECT_EQ(done.body, "finished");
  EXPECT_EQ(done.header("connection"), "close");
  EXPECT_TRUE(srv_->drain(clock_type::now() + 5s));
  EXPECT_EQ(srv_->in_flight(), 0u);
  srv_->stop();
}

// -- symlinks
// --------------------------------------------------------------------------------------

TEST_F(hardening, symlinked_files_are_not_served) {
  start();
  const fs::path v0 = root_ / "media" / k_sid / "v0";
  fs::create_symlink(root_ / "secret.txt", v0 / "seg_00002.ts");
  std::string t = std::string("/seg/") + k_sid + "/v0/seg_00002.ts?";
  signer_.append_query(std::string("/seg/") + k_sid + "/", std::time(nullptr) + 600, "1.j", t);
  auto r = test::http_get(port_, t);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.body.find("top secret"), std::string::npos);

  fs::create_symlink(root_ / "secret.txt", root_ / "poster.jpg");
  router_.file = (root_ / "poster.jpg").string();
  r = test::http_get(port_, "/file");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.body.find("top secret"), std::string::npos);
  router_.file = (v0 / "seg_00001.ts").string();
  EXPECT_EQ(test::http_get(port_, "/file").status, 200u);
}

} // namespace
