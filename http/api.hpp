// The HTTP API (DESIGN.md §2, PyHLS-compatible paths and field names) as a
// router over the actors' service. Every handler returns at once; replies
// arrive through the service's callbacks.
#pragma once

#include <memory>

#include "http/server.hpp"

namespace hlsgate::actors {
class service;
}

namespace hlsgate::http {

class api final : public router {
public:
  api(actors::service& svc, metrics::registry& metrics);
  ~api() override;

  void handle(request req, reply_fn reply) override;
  metrics::route classify(const request& req) const override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::http
