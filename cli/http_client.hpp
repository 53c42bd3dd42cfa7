// The client commands' HTTP(S) transport: one request per connection, every
// step bounded by a timeout, TLS with certificate and host name checks
// (OpenSSL's default trust store; SSL_CERT_FILE works). Redirects are not
// followed. Uploads stream the file from disk as multipart/form-data.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/options.hpp"

namespace hlsgate::cli {

struct response {
  unsigned status = 0; ///< 0: no HTTP answer (see `error`)
  std::string body;
  std::string error; ///< why there is no answer (connect, TLS, timeout)
};

using header_list = std::vector<std::pair<std::string, std::string>>;

/// Bytes sent so far and the total.
using progress_fn = std::function<void(uint64_t sent, uint64_t total)>;

class http_client {
public:
  explicit http_client(endpoint where, std::chrono::seconds io_timeout = std::chrono::seconds{60});

  /// `target` is appended to the server's base path. A `body` is sent as
  /// application/json.
  response request(const std::string& method, const std::string& target, const header_list& headers,
                   const std::string& body = {});

  /// POSTs the file at `path` as the multipart field `field`. The body is
  /// streamed; `progress` is called after each chunk.
  response upload(const std::string& target, const header_list& headers, const std::string& path,
                  const std::string& field, const progress_fn& progress);

private:
  endpoint where_;
  std::chrono::seconds timeout_;
};

/// The multipart framing around a file field: {prefix, suffix, content type}.
/// Control characters, quotes and backslashes in the file name become '_'.
/// Pure (the boundary is passed in).
struct multipart_frame {
  std::string prefix, suffix, content_type;
};
multipart_frame multipart_for(const std::string& field, const std::string& filename,
                              const std::string& boundary);

} // namespace hlsgate::cli
