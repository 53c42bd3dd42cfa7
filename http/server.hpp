// The HTTP/1.1 server (Boost.Beast, async, one strand per connection).
// Beast stays inside server.cpp; this header is plain C++ so the rest of the
// project compiles quickly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/metrics.hpp"

namespace hlsgate::auth {
class url_signer;
}

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

  /// Value of header `name` (lower-case), or empty.
  std::string_view header(std::string_view name) const;
  /// Percent-decoded value of query parameter `name`; false when absent.
  bool query_param(std::string_view name, std::string& out) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// When non-empty, the server sends this file (GET/HEAD, Range) instead of
  /// `body`; a file that cannot be opened becomes a 404.
  std::string file_path;
};

/// Called exactly once per request, from any thread; the server posts the
/// response back onto the connection's strand.
using reply_fn = std::function<void(response)>;

class router {
public:
  virtual ~router() = default;
  /// Handles a request asynchronously. Must not block.
  virtual void handle(request req, reply_fn reply) = 0;
  /// The metrics route label for `req` (for request counters).
  virtual metrics::route classify(const request& req) const = 0;
};

struct server_options {
  std::string bind = "127.0.0.1";
  uint16_t port = 8000; ///< 0 = pick a free port (tests); see server::port()
  unsigned threads = 2; ///< I/O threads
  uint64_t max_upload_bytes = 2ull << 30;
  uint64_t max_body_bytes = 1 << 20; ///< non-upload request bodies
  std::string upload_tmp_dir;        ///< where multipart uploads are streamed
  std::string media_root;            ///< <data_dir>/media: /seg/ files live here
  unsigned read_timeout_seconds = 30;
  unsigned idle_timeout_seconds = 60;
  std::vector<std::string> cors_origins; ///< allowed origins (exact match)
  bool cors_any = false;                 ///< any origin ("*"); neither = no CORS headers
};

/// Routes handled inside the server without the router:
///  - GET/HEAD /seg/{storage_id}/{rendition}/{file}?md5=..&expires=..
///    verified with `signer` over the prefix "/seg/{storage_id}/" and served
///    from `media_root/{storage_id}/{rendition}/{file}` (no actor, no DB).
///  - POST /upload/ (and /upload) bodies are streamed to disk before the
///    router sees the request (413 above max_upload_bytes, nothing kept).
class server {
public:
  server(server_options opts, router& r, const auth::url_signer& signer,
         metrics::registry& metrics);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and listens; throws std::runtime_error with a short message on failure.
  void start();
  /// The bound port (useful with port 0).
  uint16_t port() const;
  /// Blocks until stop() is called.
  void wait();
  /// Stops accepting, closes connections, joins the I/O threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// {"detail": "..."} with the given status.
response json_error(unsigned status, std::string_view detail);

} // namespace hlsgate::http
