// The /live routes: channels (API token to create and list; the channel's
// admin key or the API token to manage one), markers (viewers read them
// with their token) and live playlists, whose segment URLs are signed like
// VOD's and served by the same /seg/ route.
#pragma once

#include "http/routes.hpp"
#include "http/server.hpp"

namespace hlsgate::actors {
class service;
}

namespace hlsgate::http::live_routes {

using handler = void (*)(actors::service&, request&, const route_params&, reply_fn&);

/// POST /live (the caller checked the API token) -> 201 with the keys.
void create(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// POST /ingest/rtmp/on_publish: nginx-rtmp's publish check (302 to the
/// channel's stream name, or 403).
void rtmp_publish(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// GET /live?limit=&offset= (API token checked by the caller).
void list(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// GET /live/{id}.
void info(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// POST /live/{id}/stop.
void stop(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// POST /live/{id}/archive?expiry_minutes=: the DVR window becomes a VOD
/// item (202 with its keys, as an asynchronous upload answers).
void archive(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// DELETE /live/{id}.
void remove(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// POST /live/{id}/refresh-token.
void refresh(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// POST /live/{id}/stream-key: a new stream key, the old one refused.
void rotate_stream_key(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// POST /live/{id}/markers.
void add_marker(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// GET /live/{id}/markers?since=&token=.
void markers(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// DELETE /live/{id}/markers/{name}.
void delete_marker(actors::service& svc, request& req, const route_params& p, reply_fn& reply);
/// GET /live/{id}/playlist.m3u8 and /live/{id}/{rendition}/playlist.m3u8.
void playlist(actors::service& svc, request& req, const route_params& p, reply_fn& reply);

} // namespace hlsgate::http::live_routes
