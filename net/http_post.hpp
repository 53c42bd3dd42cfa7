// Outbound HTTP(S) POSTs on a thread of their own (webhook deliveries):
// the target's name is resolved (each name on a thread of its own, so a
// name whose DNS never answers delays only its own requests), every address
// is checked against the address policy, and only a checked address is
// connected to (no second lookup a rebinding DNS server could answer
// differently). One deadline
// covers the whole exchange; redirects are not followed; only the status
// line and headers of the answer are read. Callers never block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/url.hpp"

namespace hlsgate::net {

struct post_request {
  url target;
  std::vector<std::pair<std::string, std::string>> headers; ///< checked by the caller
  std::string content_type = "application/json";
  std::string body;
  std::chrono::milliseconds timeout{10000};
  bool allow_private = false;
};

struct post_result {
  unsigned status = 0; ///< 0: no HTTP answer (see `error`)
  std::string error;   ///< short: "address not allowed", "timed out", "connection refused", ...
};

class http_poster {
public:
  http_poster();
  ~http_poster(); ///< abandons what is in flight (callbacks not called) and joins
  http_poster(const http_poster&) = delete;
  http_poster& operator=(const http_poster&) = delete;

  /// Starts a POST; `done` runs exactly once on the poster's thread (unless
  /// the poster is destroyed first).
  void post(post_request req, std::function<void(post_result)> done);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::net
