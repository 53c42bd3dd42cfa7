// The /webhooks routes (the API token was checked by the caller): register,
// list, delete (by id, or every endpoint with a URL as m3u-proxy's API
// does), send a test event, and list an endpoint's deliveries.
#pragma once

#include "http/routes.hpp"
#include "http/server.hpp"

namespace hlsgate::actors {
class service;
}

namespace hlsgate::http::webhook_routes {

using handler = void (*)(actors::service&, request&, const route_params&, reply_fn&);

/// POST /webhooks -> 201 with the secret (shown once).
void create(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// GET /webhooks -> {"webhooks": [...]}.
void list(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// DELETE /webhooks?webhook_url=URL.
void remove_by_url(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// DELETE /webhooks/{id}.
void remove_by_id(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// POST /webhooks/test?webhook_url=URL (or ?webhook_id=ID).
void test(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// GET /webhooks/{id}/deliveries.
void deliveries(actors::service& svc, request& req, const route_params& p, reply_fn& reply);

} // namespace hlsgate::http::webhook_routes
