// The HTTP/1.1 server (Boost.Beast, async, one strand per connection).
// Beast and Asio stay inside server.cpp and session_*.cpp; this header is
// plain C++ so the rest of the project compiles quickly.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/metrics.hpp"

namespace hlsgate::auth {
class url_signer;
class revocation_table;
} // namespace hlsgate::auth

namespace hlsgate::http {

/// A parsed request handed to the router. Header names are lower-case.
struct request {
  std::string method; ///< "GET", "HEAD", "POST", "DELETE", "OPTIONS", ...
  std::string path;   ///< percent-decoded path, no query
  std::string query;  ///< raw query string (without '?')
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body; ///< small bodies only (non-upload routes)

  /// Set for streamed multipart uploads (POST /upload/): the `media` part was
  /// written to `upload_path` (a temporary file the router now owns: it must
  /// move or delete it). `upload_bytes` is its size.
  std::string upload_path;
  std::string upload_filename;
  uint64_t upload_bytes = 0;
  /// The upload's X-Request-Id, so the item's job logs name the request
  /// that created it (set for uploads only: no copy on other routes).
  std::string request_id;

  /// Value of header `name` (lower-case), or empty.
  std::string_view header(std::string_view name) const;
  /// Percent-decoded value of query parameter `name`; false when absent.
  bool query_param(std::string_view name, std::string& out) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// When set, sent instead of `body`, without a copy (a cached playlist).
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// When non-empty, the server sends this file (GET/HEAD, Range) instead of
  /// `body`; a file that cannot be opened, is not regular or is a symlink
  /// becomes a 404.
  std::string file_path;
  /// Called (once, from any thread) when this response was not fully written
  /// to the client: the connection was gone, the write failed, the request's
  /// time budget had already been answered with a 503, or the server was
  /// stopping. Never called for a response that was written.
  std::function<void()> on_undelivered;
};

/// Called exactly once per request, from any thread; the server posts the
/// response back onto the connection's strand. A second call is ignored.
using reply_fn = std::function<void(response)>;

/// What the server needs to know of a routed request before its answer.
struct route_info {
  metrics::route label = metrics::route::other; ///< `route` label of the request metrics
  /// Time the answer may take; past it the server answers 503 with
  /// Retry-After and drops the late answer (calling its on_undelivered).
  std::chrono::milliseconds budget{30000};
};

class router {
public:
  virtual ~router() = default;
  /// The route of `req` (its body may not be read yet). Must not block.
  virtual route_info classify(const request& req) const = 0;
  /// Handles a request asynchronously. Must not block.
  virtual void handle(request req, reply_fn reply) = 0;
  /// Called for POST /upload/ once its head is read and before its body is:
  /// a response here is sent instead of reading the body (credentials,
  /// queue full, shutting down). The default admits every upload.
  virtual std::optional<response> admit_upload(const request& head) const {
    (void)head;
    return std::nullopt;
  }
};

struct server_options {
  std::string bind = "127.0.0.1";
  uint16_t port = 8000; ///< 0 = pick a free port (tests); see server::port()
  unsigned threads = 2; ///< I/O threads
  uint64_t max_upload_bytes = 2ull << 30;
  uint64_t max_body_bytes = 1 << 20; ///< non-upload request bodies
  std::string upload_tmp_dir;        ///< where multipart uploads are streamed
  std::string media_root;            ///< <data_dir>/media: /seg/ files live here
  /// Open connections; one beyond is answered 503 and closed. start()
  /// lowers it to fit RLIMIT_NOFILE (see server::max_connections()).
  unsigned max_connections = 16384;
  unsigned header_timeout_seconds = 10; ///< deadline of a whole request head
  unsigned idle_timeout_seconds = 60;   ///< keep-alive wait for the next request
  /// A request body must average at least `min_body_rate` bytes/s over every
  /// `body_rate_window_seconds` window, or the connection is cut (408).
  unsigned min_body_rate = 1024;
  unsigned body_rate_window_seconds = 30;
  unsigned send_timeout_seconds = 30;    ///< a write that makes no progress this long is cut
  unsigned max_uploads = 32;             ///< upload bodies received at once; beyond: 503
  std::vector<std::string> cors_origins; ///< allowed origins (exact match)
  bool cors_any = false;                 ///< any origin ("*"); neither = no CORS headers
  /// One log line per request (info level): request id, method, route,
  /// path (never the query: it holds tokens and signatures), status, body
  /// bytes, duration, client address.
  bool access_log = false;
};

/// Routes handled inside the server without the router:
///  - GET/HEAD /seg/{storage_id}/{rendition}/{file}?md5=..&expires=..&r=..
///    verified with `signer` over the prefix "/seg/{storage_id}/" and the
///    revocation handle, checked against `revocations` (when given), and
///    served from `media_root/{storage_id}/{rendition}/{file}` (no actor, no
///    DB, no lock: http/segment_access.hpp).
///  - POST /upload/ (and /upload) bodies are streamed to disk before the
///    router sees the request (413 above max_upload_bytes, nothing kept).
///  - OPTIONS preflight when CORS is configured.
class server {
public:
  server(server_options opts, router& r, const auth::url_signer& signer, metrics::registry& metrics,
         const auth::revocation_table* revocations = nullptr);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Raises RLIMIT_NOFILE to its hard limit, binds and listens; throws
  /// std::runtime_error with a short message on failure.
  void start();
  /// The bound port (useful with port 0).
  uint16_t port() const;
  /// The connection cap in force (after start(): fitted under RLIMIT_NOFILE).
  unsigned max_connections() const;
  /// Blocks until stop() is called.
  void wait();

  /// Graceful shutdown, step 1: stops accepting (new connections are
  /// refused), closes idle keep-alive connections, answers a request whose
  /// body is still being read with 503 (its upload discarded), and marks
  /// every later response `Connection: close`.
  void begin_shutdown();
  /// Step 2: waits until no request is in flight (awaiting its answer or
  /// being written) or `deadline` passes. True when none is left.
  bool drain(std::chrono::steady_clock::time_point deadline);
  /// Stops accepting, closes connections, joins the I/O threads. Answers
  /// still pending are dropped (their on_undelivered is called).
  void stop();

  /// Requests awaiting an answer or being written right now.
  unsigned in_flight() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// {"detail": "..."} with the given status (see errors.hpp).
response json_error(unsigned status, std::string_view detail);

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit
/// now in force (0 when it cannot be read).
uint64_t raise_fd_limit();

} // namespace hlsgate::http
