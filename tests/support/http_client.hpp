// A small blocking HTTP/1.1 client for tests over 127.0.0.1: one request per
// call on a fresh connection (or several on one keep-alive connection).
// Every socket call is bounded by a receive/send timeout.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlsgate::test {

struct http_reply {
  unsigned status = 0;                        ///< 0 when the connection failed or timed out
  std::map<std::string, std::string> headers; ///< lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto i = headers.find(lower_name);
    return i == headers.end() ? std::string{} : i->second;
  }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

class http_connection {
public:
  explicit http_connection(uint16_t port, int timeout_seconds = 30);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  bool connected() const { return fd_ >= 0; }
  /// Closes the socket now (a client that goes away mid-request).
  void close();
  /// True when the server closed the connection (EOF or reset) and nothing
  /// is left unread.
  bool closed_by_peer();

  /// Sends raw bytes; false once the peer closed.
  bool send(std::string_view bytes);
  /// Reads one response (Content-Length or chunked or until close); status 0
  /// when it fails, times out or the status line is not HTTP/1.1.
  /// `head` = response to a HEAD request (no body expected).
  http_reply read_reply(bool head = false);

  /// Writes a request and reads the response.
  http_reply request(const std::string& method, const std::string& target,
                     const header_list& headers = {}, std::string_view body = {});

private:
  bool fill();
  int fd_ = -1;
  std::string buf_;
};

/// One request on a new connection.
http_reply http_request(uint16_t port, const std::string& method, const std::string& target,
                        const header_list& headers = {}, std::string_view body = {});

inline http_reply http_get(uint16_t port, const std::string& target,
                           const header_list& headers = {}) {
  return http_request(port, "GET", target, headers);
}

/// multipart/form-data body with one file field; returns {content_type, body}.
std::pair<std::string, std::string>
multipart_body(const std::string& field, const std::string& filename, std::string_view content);

/// Whole file contents (throws std::runtime_error when unreadable).
std::string read_file(const std::string& path);

/// A TCP port that was free a moment ago on 127.0.0.1.
uint16_t free_port();

} // namespace hlsgate::test
