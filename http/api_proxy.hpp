// The stream proxy's routes, compatible with m3u-proxy's API: registrations
// (/streams...), stats and clients (the API token, checked by the caller),
// and what viewers fetch: /hls/{id}/playlist.m3u8 (the viewer token unless
// the stream is public), the variant playlists, segments, keys and init
// sections it references (sealed references only hlsgate made, never a
// URL a viewer chose), and /stream/{id} for continuous streams.
#pragma once

#include "http/routes.hpp"
#include "http/server.hpp"

namespace hlsgate::actors {
class service;
}

namespace hlsgate::http::proxy_routes {

using handler = void (*)(actors::service&, request&, const route_params&, reply_fn&);

// -- management (API token checked by the caller) --------------------------------
void create(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void list(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void by_metadata(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void delete_by_metadata(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void info(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void remove(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void failover(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void rotate_token(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void stats(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void stats_streams(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void stats_clients(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void client(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
void disconnect(actors::service& svc, request& req, const route_params& p, reply_fn& reply);

// -- viewers ------------------------------------------------------------------------
/// GET /hls/{id}/{name}: playlist.m3u8, variant.m3u8, segment.ts, key, init.
void media(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// GET /stream/{id}: a continuous stream.
void direct(actors::service& svc, request& req, const route_params& p, reply_fn& reply);

} // namespace hlsgate::http::proxy_routes
