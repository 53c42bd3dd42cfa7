// Outbound HTTP(S) GETs read as a byte stream on the caller's thread (the
// sources of pulled live channels): the name is resolved once per hop,
// every address is checked against the address policy and only a checked
// address is connected to (no second lookup a rebinding DNS server could
// answer differently); redirects are followed by hlsgate itself, each new
// location parsed and checked like the first; TLS peers are verified
// against the system's trust store and the host name, and never given up
// for plain http on a redirect. Every wait is bounded (the name lookup, on
// a thread of its own, and the connection up to the answer's head; each
// read; optionally the whole body) and gives way within a fraction of a
// second to the caller's cancel flag.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/url.hpp"

namespace hlsgate::net {

struct get_request {
  url target;
  std::vector<std::pair<std::string, std::string>> headers; ///< checked by the caller
  int64_t range_first = -1;                      ///< a byte range [first, last]; -1: whole body
  int64_t range_last = -1;                       ///< -1: to the end
  std::chrono::milliseconds open_timeout{10000}; ///< every hop up to the answer's head
  std::chrono::milliseconds idle_timeout{10000}; ///< one read that gets no byte
  std::chrono::milliseconds body_timeout{0};     ///< the whole body; 0 = no limit (a stream)
  uint64_t max_body = 0;                         ///< bytes; 0 = no limit (a stream)
  unsigned max_redirects = 5;
  bool allow_private = false;
  std::shared_ptr<const std::atomic<bool>> cancel; ///< optional
};

class http_reader {
public:
  /// Connects and reads the answer's head (following redirects): a reader
  /// positioned at the start of a 2xx answer's body, or null and a short
  /// reason in `why` ("address not allowed", "upstream answered 404", ...).
  static std::unique_ptr<http_reader> open(get_request req, std::string& why);
  ~http_reader();
  http_reader(const http_reader&) = delete;
  http_reader& operator=(const http_reader&) = delete;

  /// Up to `size` bytes of the body into `buf`: how many, 0 at its end, -1
  /// on failure (see error()).
  long read(uint8_t* buf, size_t size);

  const std::string& error() const;
  const std::string& content_type() const;
  /// The answer's Content-Range ("" when none: a whole body).
  const std::string& content_range() const;
  /// The answer's Content-Length; -1 when it has none (chunked, or until close).
  int64_t content_length() const;
  /// The answer's status (2xx).
  unsigned status() const;
  /// Where the body came from, after redirects.
  const url& location() const;

private:
  struct impl;
  explicit http_reader(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::net
