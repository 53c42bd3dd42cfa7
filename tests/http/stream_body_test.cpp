// End-to-end tests of streamed response bodies (http::body_stream) over
// 127.0.0.1 with raw sockets, to see the exact bytes on the wire: chunked,
// Content-Length and close-delimited bodies, HEAD, a failing or short
// producer, a client that goes away, a slow client (the pull model bounds
// what is buffered), graceful shutdown and the route's time budget.
// Synchronisation is by condition variables; sleeps only pace a slow
// producer or reader.
#include "http/server.hpp"

#include "auth/signed_url.hpp"
#include "metrics/metrics.hpp"
#include "tests/support/http_client.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace hlsgate;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;
using chunk = http::body_stream::chunk;

constexpr int k_io = 10; // seconds; bounds every blocking socket call of a broken test

chunk piece(std::string s, bool end = false) {
  chunk c;
  c.data = std::make_shared<const std::string>(std::move(s));
  c.size = c.data->size();
  c.end = end;
  return c;
}

const chunk k_end{{}, 0, 0, true, false};    ///< no more bytes
const chunk k_failed{{}, 0, 0, false, true}; ///< the body cannot be completed

/// A counter a test can wait on.
struct counter {
  std::mutex mu;
  std::condition_variable cv;
  int n = 0;

  void bump() {
    std::lock_guard lk(mu);
    ++n;
    cv.notify_all();
  }
  bool wait_for(int at_least, std::chrono::milliseconds t = 5s) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, t, [&] { return n >= at_least; });
  }
  int value() {
    std::lock_guard lk(mu);
    return n;
  }
};

/// A stream the test drives: next() parks `ready` until the test answers it.
class held_stream final : public http::body_stream {
public:
  void next(std::function<void(chunk)> ready) override {
    std::lock_guard lk(mu_);
    if (ready_ || closes > 0)
      ++violations; // a second outstanding next(), or one after close()
    ready_ = std::move(ready);
    ++nexts;
    cv_.notify_all();
  }
  void close() noexcept override {
    std::lock_guard lk(mu_);
    ++closes;
    cv_.notify_all();
  }

  /// Waits (bounded) until next() was called `n` times in all.
  bool wait_next(int n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, 5s, [&] { return nexts >= n; });
  }
  bool wait_closed() {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, 5s, [&] { return closes > 0; });
  }
  /// Answers the outstanding next(), waiting (bounded) for one.
  bool give(chunk c) {
    std::function<void(chunk)> f;
    {
      std::unique_lock lk(mu_);
      if (!cv_.wait_for(lk, 5s, [&] { return static_cast<bool>(ready_); }))
        return false;
      f = std::exchange(ready_, nullptr);
    }
    f(std::move(c)); // outside the lock: close() may come meanwhile
    return true;
  }

  std::atomic<int> nexts{0}, closes{0}, violations{0};

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void(chunk)> ready_;
};

/// A stream that answers inside next() (before it returns) from a list.
class list_stream final : public http::body_stream {
public:
  explicit list_stream(std::vector<chunk> chunks) : chunks_(chunks.begin(), chunks.end()) {}
  void next(std::function<void(chunk)> ready) override {
    ++nexts;
    if (chunks_.empty())
      return ready(k_failed);
    chunk c = std::move(chunks_.front());
    chunks_.pop_front();
    ready(std::move(c));
  }
  void close() noexcept override { ++closes; }

  std::atomic<int> nexts{0}, closes{0};

private:
  std::deque<chunk> chunks_;
};

// -- a raw client ------------------------------------------------------------------------

class raw_client {
public:
  /// `rcvbuf` > 0: a small receive buffer, set before connecting (a slow client).
  explicit raw_client(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      return;
    timeval tv{k_io, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (rcvbuf > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      close();
  }
  ~raw_client() { close(); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
  bool send(std::string_view s) {
    while (!s.empty()) {
      const auto n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  /// One recv of at most `max` bytes into buf; 0 on EOF/reset, -1 on timeout.
  ssize_t fill(size_t max = 65536) {
    char tmp[65536];
    const auto n = ::recv(fd_, tmp, std::min(max, sizeof tmp), 0);
    if (n > 0) {
      buf.append(tmp, static_cast<size_t>(n));
      return n;
    }
    return n == 0 || errno == ECONNRESET ? 0 : -1;
  }
  bool read_at_least(size_t n) {
    while (buf.size() < n)
      if (fill() <= 0)
        return false;
    return true;
  }
  /// The response head (up to and with its empty line), removed from buf; empty on failure.
  std::string read_head() {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos)
      if (fill() <= 0)
        return {};
    std::string head = buf.substr(0, end + 4);
    buf.erase(0, end + 4);
    return head;
  }
  /// Reads until the peer closes: true on EOF or reset, false on a timeout.
  bool read_to_close() {
    ssize_t n;
    while ((n = fill()) > 0) {
    }
    return n == 0;
  }

  std::string buf; ///< bytes received and not yet taken

private:
  int fd_ = -1;
};

bool has(const std::string& head, std::string_view field) {
  return head.find(field) != std::string::npos;
}

/// Decodes a complete chunked body (with its terminator) from `wire`;
/// false when the framing is broken or the terminator is missing.
bool dechunk(std::string_view wire, std::string& out, size_t& chunks) {
  for (chunks = 0;; ++chunks) {
    size_t size = 0;
    const auto r = std::from_chars(wire.data(), wire.data() + wire.size(), size, 16);
    if (r.ec != std::errc{} || wire.substr(static_cast<size_t>(r.ptr - wire.data()), 2) != "\r\n")
      return false;
    wire.remove_prefix(static_cast<size_t>(r.ptr - wire.data()) + 2);
    if (size == 0)
      return wire == "\r\n";
    if (wire.size() < size + 2 || wire.substr(size, 2) != "\r\n")
      return false;
    out.append(wire.substr(0, size));
    wire.remove_prefix(size + 2);
  }
}

// -- router and fixture ----------------------------------------------------------------------

class stream_router : public http::router {
public:
  std::chrono::milliseconds budget{10000};
  /// The answer to any path but /echo (set by each test before its requests).
  std::function<http::response(const http::request&)> make;

  http::route_info classify(const http::request&) const override {
    return {metrics::route::other, budget};
  }
  /// When set, the reply_fn of a request other than /echo is kept for take_held().
  bool hold = false;

  http::reply_fn take_held() {
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, 5s, [&] { return static_cast<bool>(held_); }))
      return nullptr;
    return std::move(held_);
  }

  void handle(http::request req, http::reply_fn reply) override {
    if (req.path == "/echo") {
      http::response r;
      r.body = "echo";
      return reply(std::move(r));
    }
    if (!hold)
      return reply(make(req));
    std::lock_guard lk(mu_);
    held_ = std::move(reply);
    cv_.notify_all();
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  http::reply_fn held_;
};

class stream_body : public ::testing::Test {
protected:
  void SetUp() override {
    http::server_options o;
    o.port = 0;
    o.threads = 2;
    o.header_timeout_seconds = 5;
    o.send_timeout_seconds = 5;
    o.idle_timeout_seconds = 5;
    srv_ = std::make_unique<http::server>(o, router_, signer_, metrics_);
    srv_->start();
    port_ = srv_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override { srv_.reset(); }

  /// The router answers with `s` (and `length`); undelivered answers are counted.
  void answer_with(std::shared_ptr<http::body_stream> s, int64_t length = -1) {
    router_.make = [this, s, length](const http::request&) {
      http::response r;
      r.content_type = "video/mp2t";
      r.stream = s;
      r.stream_length = length;
      r.on_undelivered = [this] { undelivered_.bump(); };
      return r;
    };
  }

  /// A keep-alive connection carries on: /echo is answered next on it.
  static void expect_echo_next(raw_client& c) {
    ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"));
    const std::string head = c.read_head();
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
    ASSERT_TRUE(c.read_at_least(4));
    EXPECT_EQ(c.buf, "echo");
    c.buf.clear();
  }

  /// hlsgate_bytes_served_total reaches `n` (bounded poll: the metric is
  /// recorded after the last write completes, unordered with the client).
  bool bytes_served_reaches(uint64_t n) {
    const std::string line = "hlsgate_bytes_served_total " + std::to_string(n) + "\n";
    for (int i = 0; i < 500; ++i) {
      if (metrics_.serialize().find(line) != std::string::npos)
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  stream_router router_;
  auth::url_signer signer_{"test-secret"};
  metrics::registry metrics_;
  counter undelivered_;
  std::unique_ptr<http::server> srv_;
  uint16_t port_ = 0;
};

constexpr const char* k_get = "GET /s HTTP/1.1\r\nHost: t\r\n\r\n";

// -- framing -----------------------------------------------------------------------------------

TEST_F(stream_body, chunked_body_from_another_thread_exact_bytes_then_keep_alive) {
  auto s = std::make_shared<held_stream>();
  answer_with(s);
  raw_client c(port_);
  ASSERT_TRUE(c.send(k_get));

  // The producer answers each next() once the test says so.
  chunk offset = piece("xx world yy"); // " world"
  offset.offset = 2;
  offset.size = 6;
  const std::vector<chunk> chunks{piece("hello"), offset, chunk{}, // 0 bytes, not the end: skipped
                                  piece(std::string(100000, 'z')), piece("!", true)};
  std::vector<std::promise<void>> go(chunks.size());
  std::thread producer([&] {
    for (size_t i = 0; i < chunks.size(); ++i)
      if (go[i].get_future().wait_for(10s) != std::future_status::ready || !s->give(chunks[i]))
        return;
  });
  std::string expected;
  size_t allowed = 0;
  // Lets the producer answer up to chunk `to`, then sees exactly `wire` more.
  const auto step = [&](size_t to, const std::string& wire) {
    while (allowed < to)
      go[allowed++].set_value();
    expected += wire;
    ASSERT_TRUE(c.read_at_least(expected.size()));
    EXPECT_EQ(c.buf, expected); // each chunk is on the wire before the next is produced
  };

  const std::string head = c.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_TRUE(has(head, "\r\nTransfer-Encoding: chunked\r\n")) << head;
  EXPECT_TRUE(has(head, "\r\nContent-Type: video/mp2t\r\n")) << head;
  EXPECT_FALSE(has(head, "Content-Length")) << head;
  EXPECT_FALSE(has(head, "Connection: close")) << head;

  step(1, "5\r\nhello\r\n");
  step(2, "6\r\n world\r\n");
  step(4, "186a0\r\n" + std::string(100000, 'z') + "\r\n");
  step(5, "1\r\n!\r\n0\r\n\r\n");
  while (allowed < go.size()) // a failed step: let the producer finish
    go[allowed++].set_value();
  producer.join();
  c.buf.clear();

  expect_echo_next(c); // keep-alive, and no stray byte after the terminator
  EXPECT_TRUE(s->wait_closed());
  EXPECT_EQ(s->closes.load(), 1);
  EXPECT_EQ(s->nexts.load(), 5);
  EXPECT_EQ(s->violations.load(), 0);
  EXPECT_EQ(undelivered_.value(), 0);
}

TEST_F(stream_body, known_length_sends_content_length_and_exact_bytes) {
  // Answered inside next(); the body ends at the length without an `end` chunk.
  auto s = std::make_shared<list_stream>(
      std::vector<chunk>{piece("abc"), piece(""), piece("defg"), piece("hij")});
  answer_with(s, 10);
  raw_client c(port_);
  ASSERT_TRUE(c.send(k_get));
  const std::string head = c.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_TRUE(has(head, "\r\nContent-Length: 10\r\n")) << head;
  EXPECT_FALSE(has(head, "Transfer-Encoding")) << head;
  ASSERT_TRUE(c.read_at_least(10));
  EXPECT_EQ(c.buf, "abcdefghij");
  c.buf.clear();
  expect_echo_next(c);
  EXPECT_EQ(s->nexts.load(), 4);
  EXPECT_EQ(s->closes.load(), 1);
  EXPECT_EQ(undelivered_.value(), 0);
  EXPECT_TRUE(bytes_served_reaches(10 + 4)); // the streamed bytes and the echo
}

TEST_F(stream_body, head_sends_the_head_only_and_never_pulls) {
  auto known = std::make_shared<held_stream>();
  answer_with(known, 1234);
  raw_client c(port_);
  ASSERT_TRUE(c.send("HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::string head = c.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_TRUE(has(head, "\r\nContent-Length: 1234\r\n")) << head;
  EXPECT_TRUE(known->wait_closed());
  expect_echo_next(c); // no body byte came before the next answer

  auto unknown = std::make_shared<held_stream>();
  answer_with(unknown);
  ASSERT_TRUE(c.send("HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n"));
  head = c.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_FALSE(has(head, "Content-Length")) << head;
  EXPECT_TRUE(unknown->wait_closed());
  expect_echo_next(c);

  for (auto* s : {known.get(), unknown.get()}) {
    EXPECT_EQ(s->nexts.load(), 0);
    EXPECT_EQ(s->closes.load(), 1);
  }
  EXPECT_EQ(undelivered_.value(), 0);
}

TEST_F(stream_body, http10_client_gets_a_close_delimited_body) {
  auto s = std::make_shared<list_stream>(std::vector<chunk>{piece("abc"), piece("def"), k_end});
  answer_with(s);
  raw_client c(port_);
  ASSERT_TRUE(c.send("GET /s HTTP/1.0\r\n\r\n"));
  const std::string head = c.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_TRUE(has(head, "\r\nConnection: close\r\n")) << head;
  EXPECT_FALSE(has(head, "Content-Length")) << head;
  EXPECT_FALSE(has(head, "Transfer-Encoding")) << head;
  EXPECT_TRUE(c.read_to_close());
  EXPECT_EQ(c.buf, "abcdef");
  EXPECT_EQ(s->closes.load(), 1);
  EXPECT_EQ(undelivered_.value(), 0);
}

// -- failures --------------------------------------------------------------------------------

TEST_F(stream_body, failed_mid_body_closes_the_connection_and_is_undelivered) {
  auto s = std::make_shared<held_stream>();
  answer_with(s);
  raw_client c(port_);
  ASSERT_TRUE(c.send(k_get));
  ASSERT_FALSE(c.read_head().empty());
  ASSERT_TRUE(s->give(piece("abc")));
  ASSERT_TRUE(c.read_at_least(8));
  ASSERT_TRUE(s->give(k_failed));
  EXPECT_TRUE(c.read_to_close());
  EXPECT_EQ(c.buf, "3\r\nabc\r\n"); // truncated: no terminator
  EXPECT_TRUE(undelivered_.wait_for(1));
  EXPECT_TRUE(s->wait_closed());
  EXPECT_EQ(s->closes.load(), 1);
  EXPECT_EQ(s->nexts.load(), 2);
  // Still exactly once after the connection is gone, and the server goes on.
  EXPECT_EQ(test::http_get(port_, "/echo").body, "echo");
  EXPECT_EQ(undelivered_.value(), 1);
}

TEST_F(stream_body, known_length_that_ends_early_or_overflows_closes_the_connection) {
  // Announces `length`, produces `chunks`: the client gets at most `most`, then a close.
  const auto check = [&](int64_t length, std::vector<chunk> chunks, const std::string& most) {
    auto s = std::make_shared<held_stream>();
    answer_with(s, length);
    raw_client c(port_);
    ASSERT_TRUE(c.send(k_get));
    const std::string head = c.read_head();
    EXPECT_TRUE(has(head, "\r\nContent-Length: " + std::to_string(length) + "\r\n")) << head;
    for (auto& ch : chunks)
      ASSERT_TRUE(s->give(std::move(ch)));
    EXPECT_TRUE(c.read_to_close());
    EXPECT_LT(c.buf.size(), static_cast<size_t>(length));
    EXPECT_EQ(most.rfind(c.buf, 0), 0u) << c.buf; // a prefix, never more
    EXPECT_TRUE(s->wait_closed());
    EXPECT_EQ(s->closes.load(), 1);
  };
  check(10, {piece("abc"), piece("de", true)}, "abcde"); // ends at 5 of 10
  EXPECT_TRUE(undelivered_.wait_for(1));
  check(3, {piece("abcd")}, ""); // nothing of a chunk that does not fit
  EXPECT_TRUE(undelivered_.wait_for(2));
}

TEST_F(stream_body, client_gone_while_a_chunk_is_held_closes_the_stream_promptly) {
  auto s = std::make_shared<held_stream>();
  answer_with(s);
  raw_client c(port_);
  ASSERT_TRUE(c.send(k_get));
  ASSERT_FALSE(c.read_head().empty());
  ASSERT_TRUE(s->give(piece("abc")));
  ASSERT_TRUE(c.read_at_least(8));
  ASSERT_TRUE(s->wait_next(2)); // the producer now holds the next chunk back
  EXPECT_EQ(s->closes.load(), 0);
  c.close();
  EXPECT_TRUE(s->wait_closed()); // within 5 s: noticed by the watching read
  EXPECT_TRUE(undelivered_.wait_for(1));
  EXPECT_TRUE(s->give(piece("late"))); // a late chunk is harmless
  EXPECT_EQ(test::http_get(port_, "/echo").body, "echo");
  EXPECT_EQ(s->closes.load(), 1);
  EXPECT_EQ(undelivered_.value(), 1);
}

// -- a slow client -------------------------------------------------------------------------------

/// 32 MiB in 64 KiB chunks, each a fresh buffer made inside next(); counts
/// the chunks pulled and not yet released by the server.
class big_stream final : public http::body_stream {
public:
  static constexpr size_t k_chunk = 64 << 10;
  static constexpr size_t k_total = 32 << 20;

  explicit big_stream(const std::atomic<uint64_t>& client_read) : client_read_(client_read) {}

  void next(std::function<void(chunk)> ready) override {
    // Outstanding: pulled and not yet released by the server (written).
    max_outstanding = std::max(max_outstanding.load(), ++outstanding_);
    const uint64_t ahead = produced_ - std::min(produced_, client_read_.load());
    max_ahead = std::max(max_ahead.load(), ahead);
    ++nexts;
    chunk c;
    c.data.reset(new std::string(k_chunk, static_cast<char>('a' + index_ % 26)),
                 [this](const std::string* p) {
                   --outstanding_;
                   delete p;
                 });
    c.size = k_chunk;
    ++index_;
    produced_ += k_chunk;
    c.end = produced_ == k_total;
    ready(std::move(c)); // before next() returns
  }
  void close() noexcept override { ++closes; }

  std::atomic<int> nexts{0}, closes{0}, max_outstanding{0};
  std::atomic<uint64_t> max_ahead{0};

private:
  const std::atomic<uint64_t>& client_read_;
  std::atomic<int> outstanding_{0};
  size_t index_ = 0;
  uint64_t produced_ = 0;
};

TEST_F(stream_body, slow_client_pulls_one_chunk_at_a_time_and_bounds_memory) {
  std::atomic<uint64_t> client_read{0};
  auto s = std::make_shared<big_stream>(client_read);
  answer_with(s, static_cast<int64_t>(big_stream::k_total));
  raw_client c(port_, 64 << 10);
  ASSERT_TRUE(c.send(k_get));
  const std::string head = c.read_head();
  ASSERT_TRUE(has(head, "\r\nContent-Length: 33554432\r\n")) << head;
  uint64_t got = 0;
  bool content_ok = true;
  const auto check = [&] {
    for (char ch : c.buf) {
      content_ok &= ch == static_cast<char>('a' + (got / big_stream::k_chunk) % 26);
      ++got;
    }
    client_read = got;
    c.buf.clear();
  };
  check();
  while (got < big_stream::k_total) {
    if (c.fill(16 << 10) <= 0)
      break;
    check();
    std::this_thread::sleep_for(std::chrono::microseconds(500)); // a slow reader
  }
  EXPECT_EQ(got, big_stream::k_total);
  EXPECT_TRUE(content_ok);
  expect_echo_next(c);
  EXPECT_EQ(s->nexts.load(), static_cast<int>(big_stream::k_total / big_stream::k_chunk));
  EXPECT_EQ(s->max_outstanding.load(), 1); // next() only once the previous chunk is written
  EXPECT_EQ(s->closes.load(), 1);
  // What the server pulled ahead of the reader is what the socket buffers hold
  // (the send buffer's cap, tcp_wmem's max: 4 MiB by default; the client's
  // 64 KiB) plus a chunk, never the 32 MiB body (4.05 MiB measured).
  uint64_t wmem[3] = {0, 0, 4 << 20};
  std::ifstream("/proc/sys/net/ipv4/tcp_wmem") >> wmem[0] >> wmem[1] >> wmem[2];
  EXPECT_LT(s->max_ahead.load(), wmem[2] + (2 << 20)) << s->max_ahead.load();
  RecordProperty("max_ahead_bytes", std::to_string(s->max_ahead.load()));
}

// -- shutdown and the route budget -------------------------------------------------------------

TEST_F(stream_body, begin_shutdown_ends_an_endless_stream_waiting_for_its_next_chunk) {
  auto s = std::make_shared<held_stream>();
  answer_with(s);
  raw_client c(port_);
  ASSERT_TRUE(c.send(k_get));
  ASSERT_FALSE(c.read_head().empty());
  ASSERT_TRUE(s->give(piece("abc")));
  ASSERT_TRUE(c.read_at_least(8));
  ASSERT_TRUE(s->wait_next(2)); // waiting for live data
  srv_->begin_shutdown();
  EXPECT_TRUE(srv_->drain(clock_type::now() + 5s));
  EXPECT_TRUE(c.read_to_close());
  EXPECT_EQ(c.buf, "3\r\nabc\r\n0\r\n\r\n"); // ended cleanly
  EXPECT_TRUE(s->wait_closed());
  EXPECT_TRUE(s->give(piece("late"))); // harmless
  EXPECT_EQ(s->closes.load(), 1);
  EXPECT_EQ(s->violations.load(), 0);
  EXPECT_EQ(undelivered_.value(), 0);
}

/// An endless stream that always has data (answers inside next()).
class endless_stream final : public http::body_stream {
public:
  void next(std::function<void(chunk)> ready) override {
    ready(chunk{data_, 0, data_->size(), false, false});
  }
  void close() noexcept override { ++closes; }
  std::atomic<int> closes{0};

private:
  std::shared_ptr<const std::string> data_ = std::make_shared<const std::string>(8192, 'e');
};

TEST_F(stream_body, begin_shutdown_ends_a_busy_endless_stream_after_the_chunk_in_flight) {
  auto s = std::make_shared<endless_stream>();
  answer_with(s);
  raw_client c(port_);
  ASSERT_TRUE(c.send(k_get));
  ASSERT_FALSE(c.read_head().empty());
  ASSERT_TRUE(c.read_at_least(256 << 10)); // it flows
  std::thread reader([&] { EXPECT_TRUE(c.read_to_close()); });
  srv_->begin_shutdown();
  EXPECT_TRUE(srv_->drain(clock_type::now() + 5s));
  reader.join();
  std::string body;
  size_t chunks = 0;
  EXPECT_TRUE(dechunk(c.buf, body, chunks)); // whole chunks, then the terminator
  EXPECT_GT(chunks, 0u);
  EXPECT_EQ(body.find_first_not_of('e'), std::string::npos);
  EXPECT_EQ(s->closes.load(), 1);
  EXPECT_EQ(undelivered_.value(), 0);
}

TEST_F(stream_body, a_stream_longer_than_the_route_budget_is_not_cut) {
  router_.budget = 200ms;
  auto s = std::make_shared<held_stream>();
  answer_with(s);
  test::http_connection c(port_, k_io);
  const auto t0 = clock_type::now();
  ASSERT_TRUE(c.send(k_get));
  std::thread producer([&] {
    // Pacing, not synchronisation: the body takes well past the budget.
    EXPECT_TRUE(s->give(piece("a")));
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(s->give(piece("b")));
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(s->give(piece("c", true)));
  });
  const auto r = c.read_reply();
  producer.join();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "abc");
  EXPECT_GE(clock_type::now() - t0, 600ms);
  EXPECT_EQ(c.request("GET", "/echo").body, "echo");
  EXPECT_EQ(undelivered_.value(), 0);
  EXPECT_TRUE(s->wait_closed());
}

TEST_F(stream_body, a_stream_answered_after_begin_shutdown_gets_503) {
  auto s = std::make_shared<held_stream>();
  answer_with(s);
  router_.hold = true;
  raw_client c(port_);
  ASSERT_TRUE(c.send(k_get));
  http::reply_fn reply = router_.take_held();
  ASSERT_TRUE(reply);
  srv_->begin_shutdown();
  reply(router_.make(http::request{})); // it might never end: refused
  const std::string head = c.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 503 ", 0), 0u) << head;
  EXPECT_TRUE(has(head, "\r\nConnection: close\r\n")) << head;
  EXPECT_TRUE(c.read_to_close());
  EXPECT_TRUE(s->wait_closed());
  EXPECT_TRUE(undelivered_.wait_for(1));
  EXPECT_TRUE(srv_->drain(clock_type::now() + 5s));
  EXPECT_EQ(s->nexts.load(), 0);
  EXPECT_EQ(s->closes.load(), 1);
}

} // namespace
