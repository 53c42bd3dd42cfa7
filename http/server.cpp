// The listener and the server's life cycle (start, connection cap,
// begin_shutdown, drain, stop). Each connection is a session (session_read.cpp);
// this file knows it only through detail::connection.
#include "http/server.hpp"

#include "metrics/log.hpp"

#include "http/server_core.hpp"
#include "http/wire.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <thread>

namespace hlsgate::http {

namespace detail {

using error_code = boost::system::error_code;

core::core(server_options o, router& r, const auth::url_signer& s, metrics::registry& m)
    : opts(std::move(o)), rt(r), signer(s), metrics(m),
      ioc(static_cast<int>(std::max(1u, opts.threads))), accept_strand(net::make_strand(ioc)),
      acceptor(accept_strand) {
  if (opts.upload_tmp_dir.empty())
    opts.upload_tmp_dir = std::filesystem::temp_directory_path().string();
  max_connections = std::max(1u, opts.max_connections);
}

void core::add_in_flight(int delta) {
  {
    std::lock_guard lk(drain_mu);
    in_flight = static_cast<unsigned>(static_cast<int>(in_flight) + delta);
  }
  drain_cv.notify_all();
}

void core::ack_shutdown() {
  {
    std::lock_guard lk(drain_mu);
    if (shutdown_acks > 0)
      --shutdown_acks;
  }
  drain_cv.notify_all();
}

namespace {

/// A connection beyond the cap: answered 503 with Connection: close, then
/// half-closed and drained briefly so the client reads the answer rather
/// than a reset (RFC 9112 §9.6). Costs one socket for at most a second.
struct refusal : std::enable_shared_from_this<refusal> {
  refusal(std::shared_ptr<core> c, tcp::socket&& s)
      : c_(std::move(c)), socket_(std::move(s)), timer_(socket_.get_executor()) {}
  ~refusal() { c_->connections.fetch_sub(1, std::memory_order_relaxed); }

  void run() {
    text_ = wire::over_capacity_response();
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        error_code ignored;
        self->socket_.close(ignored);
      }
    });
    net::async_write(socket_, net::buffer(text_),
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec)
                         return self->finish();
                       error_code ignored;
                       self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                       self->drain();
                     });
  }
  void drain() {
    socket_.async_read_some(net::buffer(buf_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec)
        return self->finish();
      self->drain();
    });
  }
  void finish() {
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  std::shared_ptr<core> c_;
  tcp::socket socket_;
  net::steady_timer timer_;
  std::string text_;
  std::array<char, 4096> buf_{};
};

} // namespace

} // namespace detail

using detail::core;
using detail::tcp;
using error_code = boost::system::error_code;
namespace net = boost::asio;

uint64_t raise_fd_limit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    struct rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0)
      rl = want;
  }
  return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(rl.rlim_cur);
}

struct server::impl {
  std::shared_ptr<core> c;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  /// Held from start() until stop() has queued every close.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;

  void do_accept() {
    c->acceptor.async_accept(net::make_strand(c->ioc), [this](error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !c->acceptor.is_open())
      return;
    if (ec) {
      // e.g. EMFILE: back off instead of spinning on the same error.
      c->accept_retry.expires_after(std::chrono::milliseconds(50));
      c->accept_retry.async_wait([this](error_code wec) {
        if (!wec && c->acceptor.is_open())
          do_accept();
      });
      return;
    }
    const unsigned open = c->connections.fetch_add(1, std::memory_order_relaxed);
    if (open >= c->max_connections) {
      // Refusals get a small budget of their own; past it, a plain close.
      if (open >= c->max_connections + std::max(16u, c->max_connections / 16)) {
        c->connections.fetch_sub(1, std::memory_order_relaxed);
        error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<detail::refusal>(c, std::move(socket))->run();
      }
    } else {
      detail::start_session(c, std::move(socket));
    }
    do_accept();
  }

  /// Weak references to every live session.
  std::vector<std::weak_ptr<detail::connection>> live(bool stopping) {
    std::vector<std::weak_ptr<detail::connection>> out;
    std::lock_guard lk(c->sessions_mu);
    if (stopping)
      c->stopping = true;
    out.reserve(c->sessions.size());
    for (auto& [p, w] : c->sessions)
      out.push_back(w);
    return out;
  }

  void close_acceptor() {
    // A raw pointer: the core owns the io_context, so a handler that never
    // runs (posted after the threads left run(), as stop() after a drained
    // begin_shutdown does) is destroyed with it; a shared_ptr here was a
    // cycle that kept the core and everything it owns alive (LeakSanitizer).
    net::post(c->accept_strand, [cp = c.get()] {
      error_code ec;
      cp->acceptor.close(ec);
      cp->accept_retry.cancel();
    });
  }
};

server::server(server_options opts, router& r, const auth::url_signer& signer,
               metrics::registry& metrics, const auth::revocation_table* revocations)
    : impl_(std::make_unique<impl>()) {
  impl_->c = std::make_shared<core>(std::move(opts), r, signer, metrics);
  impl_->c->revocations = revocations;
}

server::~server() {
  stop();
}

void server::start() {
  impl& m = *impl_;
  if (m.started)
    return;
  core& c = *m.c;
  // Read at each scrape; weak: the registry outlives the server.
  const std::weak_ptr<core> weak = m.c;
  c.metrics.http_gauges(
      [weak] {
        const auto p = weak.lock();
        return p ? static_cast<double>(p->connections.load()) : 0.0;
      },
      [weak] {
        const auto p = weak.lock();
        return p ? static_cast<double>(p->uploads.load()) : 0.0;
      });
  // Each connection may hold a socket and a file (a segment being sent, an
  // upload being written); keep some descriptors for the rest of the process.
  const uint64_t nofile = raise_fd_limit();
  if (nofile > 0 && nofile != UINT64_MAX) {
    const uint64_t reserve = 256;
    const uint64_t fit = nofile > 2 * reserve ? (nofile - reserve) / 2 : nofile / 4;
    if (c.max_connections > fit) {
      logging::info("max_connections lowered to fit RLIMIT_NOFILE",
                    {{"from", std::to_string(c.max_connections)},
                     {"to", std::to_string(fit)},
                     {"nofile", std::to_string(nofile)}});
      c.max_connections = static_cast<unsigned>(std::max<uint64_t>(1, fit));
    }
  }
  const std::string where = "cannot listen on " + c.opts.bind + ":" + std::to_string(c.opts.port);
  error_code ec;
  auto address = net::ip::make_address(c.opts.bind, ec);
  if (ec)
    throw std::runtime_error(where + ": bad address");
  tcp::endpoint ep{address, c.opts.port};
  c.acceptor.open(ep.protocol(), ec);
  if (!ec)
    c.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    c.acceptor.bind(ep, ec);
  if (!ec)
    c.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec)
    m.port = c.acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    c.acceptor.close(ignored);
    throw std::runtime_error(where + ": " + ec.message());
  }
  std::error_code fs_ec;
  std::filesystem::create_directories(c.opts.upload_tmp_dir, fs_ec);
  m.started = true;
  m.keep_running.emplace(c.ioc.get_executor());
  m.do_accept();
  const unsigned n = std::max(1u, c.opts.threads);
  m.threads.reserve(n);
  for (unsigned i = 0; i < n; ++i)
    m.threads.emplace_back([cp = m.c] {
      for (;;) {
        try {
          cp->ioc.run();
          return;
        } catch (const std::exception& e) {
          // A handler threw: keep the thread serving (sessions use error codes).
          logging::error("unexpected exception in an HTTP handler", {{"what", e.what()}});
        }
      }
    });
}

uint16_t server::port() const {
  return impl_->port;
}

unsigned server::max_connections() const {
  return impl_->c->max_connections;
}

unsigned server::in_flight() const {
  std::lock_guard lk(impl_->c->drain_mu);
  return impl_->c->in_flight;
}

void server::wait() {
  std::unique_lock lk(impl_->mu);
  impl_->cv.wait(lk, [this] { return impl_->stopped; });
}

void server::begin_shutdown() {
  impl& m = *impl_;
  core& c = *m.c;
  if (!m.started || c.shutting_down.exchange(true))
    return;
  m.close_acceptor();
  auto live = m.live(false);
  {
    std::lock_guard lk(c.drain_mu);
    c.shutdown_acks += static_cast<unsigned>(live.size());
  }
  for (auto& w : live) {
    if (auto s = w.lock())
      s->post_begin_shutdown();
    else
      c.ack_shutdown();
  }
}

bool server::drain(std::chrono::steady_clock::time_point deadline) {
  core& c = *impl_->c;
  std::unique_lock lk(c.drain_mu);
  return c.drain_cv.wait_until(lk, deadline,
                               [&c] { return c.in_flight == 0 && c.shutdown_acks == 0; });
}

void server::stop() {
  impl& m = *impl_;
  {
    std::lock_guard lk(m.mu);
    if (m.stopped)
      return;
  }
  core& c = *m.c;
  if (m.started) {
    {
      std::lock_guard lk(c.gate_mu);
      c.open = false;
    }
    c.shutting_down = true;
    auto live = m.live(true);
    m.close_acceptor();
    for (auto& w : live)
      if (auto s = w.lock())
        s->post_close();
    // Only now may the threads run out of work and leave run(): a handler
    // posted after they left would never run and would keep its session (and
    // through it the core and this io_context) alive forever, a cycle that
    // LeakSanitizer reported when begin_shutdown had closed every socket and
    // the threads left early.
    m.keep_running.reset();
    // With the acceptor and every socket closed the io_context runs out of
    // work; sessions still referenced by a router's reply_fn have none pending.
    for (auto& t : m.threads) {
      if (!t.joinable())
        continue;
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach(); // stop() from a handler: this thread returns from run() by itself
      } else
        t.join();
    }
    m.threads.clear();
  }
  {
    std::lock_guard lk(m.mu);
    m.stopped = true;
  }
  m.cv.notify_all();
}

} // namespace hlsgate::http
