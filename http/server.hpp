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
  std::string peer; ///< the client's address as the connection sees it

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

/// A body produced while it is sent (a proxied upstream, a continuous
/// stream). The session pulls one chunk at a time and asks for the next only
/// once the previous one is written, so a slow client slows only its own
/// stream and at most one chunk per connection is held in memory.
class body_stream {
public:
  struct chunk {
    std::shared_ptr<const std::string> data; ///< kept alive until written
    size_t offset = 0, size = 0;             ///< the bytes of *data to send
    bool end = false;                        ///< no more bytes after this chunk (size may be 0)
    bool failed = false;                     ///< the body cannot be completed: the connection is
                                             ///< closed (the client sees a truncated body)
  };
  virtual ~body_stream() = default;
  /// Asks for the next chunk. `ready` must be called exactly once, from any
  /// thread, possibly before next() returns (it only queues the chunk onto
  /// the connection's strand). Never called again before the previous chunk
  /// is written, nor after close(). `ready` holds no strong reference to the
  /// connection: calling it after close(), or dropping it uncalled after
  /// close(), is harmless (the chunk is discarded).
  virtual void next(std::function<void(chunk)> ready) = 0;
  /// The server is done with this stream: fully sent, failed, connection
  /// closed (peer gone, send timeout, graceful shutdown, stop), a HEAD
  /// request, or the response was dropped undelivered. Called exactly once
  /// for every stream handed to the server, before the server releases it,
  /// from the connection's strand (for an answer dropped because the server
  /// has stopped: from the thread that called the reply_fn). It may come
  /// while a next() is outstanding (the producer should then stop waiting
  /// for upstream bytes), but never from inside next() or `ready`, so the
  /// producer may hold its own lock while calling either.
  virtual void close() noexcept {}
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
  /// When set, the body is pulled from this stream while it is sent (see
  /// body_stream) instead of `body`, `shared_body` or `file_path`. The budget
  /// of route_info bounds only the wait for this response, not the body.
  /// A HEAD request gets the head only (the stream is closed, never pulled).
  /// A stream answered after server::begin_shutdown gets a 503 instead (it
  /// might never end); one being sent when it is called stops pulling: a
  /// chunked body ends after the chunk in flight, a known length is cut.
  std::shared_ptr<body_stream> stream;
  /// Length of `stream`'s body: >= 0 is sent as Content-Length and the body
  /// ends once that many bytes are written (a chunk beyond it, or `end`
  /// before it, closes the connection instead: never a wrong length); -1 =
  /// unknown: `Transfer-Encoding: chunked` to HTTP/1.1 clients, a body
  /// delimited by closing the connection to HTTP/1.0 clients.
  int64_t stream_length = -1;
  /// Called (once, from any thread) when this response was not fully written
  /// to the client: the connection was gone, the write failed, the request's
  /// time budget had already been answered with a 503, the server was
  /// stopping, or a `stream` failed or was cut. Never called for a response
  /// that was written.
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
  /// It ends when the response arrives: a streamed body is not bounded by it.
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
