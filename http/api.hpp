// The HTTP API (README.md "API", PyHLS-compatible paths and field names) as a
// router over the actors' service. Every handler returns at once; replies
// arrive through the service's completions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/routes.hpp"
#include "http/server.hpp"

namespace hlsgate::actors {
class service;
}

namespace hlsgate::http {

/// One entry of the API's route table, for tests and documentation.
struct route_description {
  unsigned methods = 0; ///< method_bits
  std::string pattern;  ///< see routes.hpp
  metrics::route label = metrics::route::other;
};

class api final : public router {
public:
  api(actors::service& svc, metrics::registry& metrics);
  ~api() override;

  /// Label and budget (HLSGATE_REQUEST_TIMEOUT_SECONDS, plus
  /// HLSGATE_UPLOAD_WAIT_SECONDS for uploads and HLSGATE_ONDEMAND_WAIT_SECONDS
  /// for /stream/) from the route table.
  route_info classify(const request& req) const override;
  void handle(request req, reply_fn reply) override;
  /// Before an upload body is read: 401/403 without the API token (when one
  /// is configured), 429/503 from service::upload_refusal().
  std::optional<response> admit_upload(const request& head) const override;

  /// The route table (the server itself also serves GET/HEAD
  /// /seg/{storage_id}/{rendition}/{file} and CORS preflights).
  static std::vector<route_description> routes();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::http
