// Private to server.cpp and session_*.cpp (the only Asio/Beast translation
// units): the state every connection of one server shares. Never include
// this from a public header.
#pragma once

#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace hlsgate::http::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

/// What the server asks of a live connection (implemented in session_read.cpp).
class connection {
public:
  virtual ~connection() = default;
  /// Closes the connection now (server::stop).
  virtual void post_close() = 0;
  /// server::begin_shutdown: close when idle, answer 503 when reading a
  /// body, otherwise finish the current response and close after it.
  virtual void post_begin_shutdown() = 0;
};

/// Everything sessions share. Owned jointly by the server and its sessions,
/// so a session kept alive by a router's pending reply_fn can still be
/// destroyed safely (its socket needs the io_context) after the server has
/// stopped.
struct core {
  core(server_options o, router& r, const auth::url_signer& s, metrics::registry& m);

  server_options opts;
  router& rt;
  const auth::url_signer& signer;
  const auth::revocation_table* revocations = nullptr; ///< per-item token state, or none
  metrics::registry& metrics;
  net::io_context ioc;
  /// The acceptor, its retry timer, their handlers and their closing run on
  /// one strand: an acceptor is not thread-safe, and closing it from one
  /// thread while another re-arms async_accept crashed the reactor.
  net::strand<net::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry{accept_strand};

  /// Closed by stop(): reply_fns invoked afterwards are dropped (calling
  /// their on_undelivered) instead of posting into an io_context nobody runs.
  std::mutex gate_mu;
  bool open = true;

  /// begin_shutdown() or stop(): every response closes its connection.
  std::atomic<bool> shutting_down{false};

  std::mutex sessions_mu;
  bool stopping = false; ///< guarded by sessions_mu: no new session may register
  std::unordered_map<connection*, std::weak_ptr<connection>> sessions;

  /// Open connections (sessions plus over-cap refusals), and the cap.
  std::atomic<unsigned> connections{0};
  unsigned max_connections = 0;
  /// Uploads whose body is being received.
  std::atomic<unsigned> uploads{0};

  /// Requests awaiting an answer or being written, and sessions that have
  /// not yet acted on begin_shutdown(); drain() waits for both to reach 0.
  std::mutex drain_mu;
  std::condition_variable drain_cv;
  unsigned in_flight = 0;
  unsigned shutdown_acks = 0;

  void add_in_flight(int delta);
  void ack_shutdown();
};

/// Starts a session on an accepted socket (session_read.cpp). The caller has
/// already counted it in core::connections.
void start_session(const std::shared_ptr<core>& c, tcp::socket&& socket);

} // namespace hlsgate::http::detail
