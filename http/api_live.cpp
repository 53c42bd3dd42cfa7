#include "http/api_live.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <nlohmann/json.hpp>

#include "actors/service.hpp"
#include "auth/revocation.hpp"
#include "auth/signed_url.hpp"
#include "config/ladder.hpp"
#include "http/api_json.hpp"
#include "http/errors.hpp"
#include "http/query.hpp"
#include "http/request_params.hpp"
#include "http/segment_route.hpp"
#include "live/live_playlist.hpp"

namespace hlsgate::http::live_routes {

namespace {

using actors::api_error;
using json = nlohmann::json;

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

actors::admin_credential who(actors::service& svc, const request& req) {
  auto b = operator_token(req);
  return admin_credential_of(req, !b.empty() && svc.is_api_token(b));
}

std::string playlist_url(actors::service& svc, const std::string& id, const std::string& token) {
  return svc.settings().effective_public_url() + "/live/" + id + "/playlist.m3u8?token=" + token;
}

/// The source as GET /live/{id} shows it: a pulled URL without its query
/// (where a source's own access tokens usually are).
json source_json(const actors::channel_info& i) {
  json s = {{"type", i.source}};
  if (i.encrypted)
    s["encrypted"] = true;
  if (!i.pull_url.empty())
    s["url"] = i.pull_url.substr(0, i.pull_url.find('?'));
  return s;
}

json info_json(const actors::channel_info& i) {
  json j = {{"channel_id", i.channel_id},
            {"name", i.name},
            {"status", live::to_string(i.status)},
            {"source", source_json(i)},
            {"segment_seconds", i.segment_seconds},
            {"dvr_window_seconds", i.dvr_seconds},
            {"ladder", i.ladder},
            {"keep_event", i.keep_event},
            {"created_at", iso8601(i.created_at)},
            {"expires_at", iso8601(i.expires_at)},
            {"media_sequence", i.media_sequence},
            {"window_seconds", i.window_seconds},
            {"segments", i.segments},
            {"ingest_bitrate", i.ingest_bitrate},
            {"resolution", i.width > 0
                               ? json(std::to_string(i.width) + "x" + std::to_string(i.height))
                               : json(nullptr)},
            {"fps", i.fps},
            {"dropped_frames", i.dropped_frames},
            {"viewers", i.viewers},
            {"markers", i.markers},
            {"restarts", i.restarts}};
  if (!i.last_error.empty())
    j["last_error"] = i.last_error;
  return j;
}

json marker_json(const live::marker& m) {
  json data = m.data.empty() ? json(nullptr) : json::parse(m.data, nullptr, false);
  return {{"id", m.id},
          {"label", m.label},
          {"class", m.cls},
          {"at", live::iso8601_ms(m.start_ms)},
          {"start_ms", m.start_ms},
          {"duration", m.duration < 0 ? json(nullptr) : json(m.duration)},
          {"end_on_next", m.duration < 0},
          {"data", data.is_discarded() ? json(nullptr) : data}};
}

/// ?since= as unix milliseconds or ISO 8601; false when present but neither.
bool since_param(const request& req, int64_t& out) {
  std::string v;
  out = 0;
  if (!req.query_param("since", v) || v.empty())
    return true;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc{} && end == v.data() + v.size() && n >= 0) {
    out = n;
    return true;
  }
  return live::parse_iso8601_ms(v, out);
}

response m3u8(std::string body) {
  response res;
  res.content_type = "application/vnd.apple.mpegurl";
  res.headers.emplace_back("Cache-Control", "no-store");
  res.body = std::move(body);
  return res;
}

} // namespace

void create(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  live::channel_config cfg;
  cfg.ladder = config::format_ladder(svc.settings().ladder);
  if (auto why = live::parse_channel_request(req.body, cfg); !why.empty())
    return reply(error_response(422, why));
  svc.create_channel(std::move(cfg), [&svc, reply](actors::reply<actors::channel_created> r) {
    if (auto* e = std::get_if<api_error>(&r))
      return reply(error_response(*e));
    auto& c = std::get<actors::channel_created>(r);
    reply(json_response(
        201, {{"channel_id", c.channel_id},
              {"access_token", c.access_token},
              {"admin_key", c.admin_key},
              {"playlist_url", playlist_url(svc, c.channel_id, c.access_token)},
              {"ingest_url", c.ingest_url.empty() ? json(nullptr) : json(c.ingest_url)},
              {"stream_key", c.stream_key.empty() ? json(nullptr) : json(c.stream_key)},
              {"passphrase", c.srt_passphrase.empty() ? json(nullptr) : json(c.srt_passphrase)},
              {"expires_at", iso8601(c.expires_at)},
              {"message", "Channel created; keep the admin key, it is shown only "
                          "now"}}));
  });
}

void rtmp_publish(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  // nginx-rtmp posts the publish command's fields as a form; `name` is the
  // stream key the publisher used.
  std::string key;
  if (!query::param(req.body, "name", key) || key.empty())
    return reply(error_response(403, "Stream key required"));
  auto storage = svc.rtmp_publish(key);
  if (!storage)
    return reply(error_response(403, "Unknown stream key"));
  // A 3xx makes nginx-rtmp rename the stream to the Location: hlsgate reads
  // it under a keyed name (auth::rtmp_stream_name), which is no key.
  response res;
  res.status = 302;
  res.headers.emplace_back("Location", *storage);
  res.content_type = "application/json";
  res.body = R"({"message":"Publishing accepted"})";
  reply(std::move(res));
}

void list(actors::service& svc, request& req, const route_params&, reply_fn& reply) {
  unsigned limit = 50, offset = 0;
  api_error err;
  if (!int_param(req, "limit", 1, 500, limit, err) ||
      !int_param(req, "offset", 0, 1000000, offset, err))
    return reply(error_response(err));
  auto all = svc.list_channels();
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.channel_id < b.channel_id;
  });
  json items = json::array();
  for (size_t i = offset; i < all.size() && items.size() < limit; ++i)
    items.push_back(info_json(all[i]));
  reply(json_response(200, {{"channels", std::move(items)},
                            {"total", all.size()},
                            {"limit", limit},
                            {"offset", offset}}));
}

namespace {

void answer_info(reply_fn& reply, actors::reply<actors::channel_info>& r) {
  if (auto* e = std::get_if<api_error>(&r))
    return reply(error_response(*e));
  reply(json_response(200, info_json(std::get<actors::channel_info>(r))));
}

} // namespace

void info(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  svc.channel_info_of(
      std::string{p.id}, who(svc, req),
      [reply](actors::reply<actors::channel_info> r) mutable { answer_info(reply, r); });
}

void stop(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  svc.stop_channel(
      std::string{p.id}, who(svc, req),
      [reply](actors::reply<actors::channel_info> r) mutable { answer_info(reply, r); });
}

void archive(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  unsigned minutes = svc.settings().default_expiry_minutes;
  api_error err;
  if (!int_param(req, "expiry_minutes", 1, max_expiry_minutes, minutes, err))
    return reply(error_response(err));
  svc.archive_channel(
      std::string{p.id}, who(svc, req), minutes, std::move(req.request_id),
      [&svc, reply, id = std::string{p.id}](actors::reply<actors::upload_result> r) {
        if (auto* e = std::get_if<api_error>(&r))
          return reply(error_response(*e));
        auto& u = std::get<actors::upload_result>(r);
        auto body = upload_json(
            u, vod_playlist_url(svc.settings().effective_public_url(), u.media_id, u.access_token));
        body["channel_id"] = id;
        body["message"] = "Archive made from the channel's window; transcoding in progress";
        response res = json_response(202, std::move(body));
        // Nobody else knows the item's keys (as for an upload).
        res.on_undelivered = [svc = &svc, media_id = u.media_id] { svc->abandon(media_id); };
        reply(std::move(res));
      });
}

void remove(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  svc.delete_channel(std::string{p.id}, who(svc, req), [reply](actors::reply<actors::done> r) {
    if (auto* e = std::get_if<api_error>(&r))
      return reply(error_response(*e));
    reply(json_response(200, {{"message", "Channel deleted"}}));
  });
}

void refresh(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  svc.refresh_channel_token(
      std::string{p.id}, who(svc, req), [&svc, reply](actors::reply<actors::channel_created> r) {
        if (auto* e = std::get_if<api_error>(&r))
          return reply(error_response(*e));
        auto& c = std::get<actors::channel_created>(r);
        reply(json_response(200, {{"channel_id", c.channel_id},
                                  {"access_token", c.access_token},
                                  {"playlist_url", playlist_url(svc, c.channel_id, c.access_token)},
                                  {"expires_at", iso8601(c.expires_at)},
                                  {"message", "New token issued; older tokens and their links "
                                              "no longer work"}}));
      });
}

void rotate_stream_key(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  svc.rotate_stream_key(
      std::string{p.id}, who(svc, req), [reply](actors::reply<actors::channel_created> r) {
        if (auto* e = std::get_if<api_error>(&r))
          return reply(error_response(*e));
        auto& c = std::get<actors::channel_created>(r);
        reply(json_response(
            200, {{"channel_id", c.channel_id},
                  {"stream_key", c.stream_key},
                  {"ingest_url", c.ingest_url},
                  {"passphrase", c.srt_passphrase.empty() ? json(nullptr) : json(c.srt_passphrase)},
                  {"message", "New stream key, shown only now; the old one is refused and "
                              "its publisher cut off"}}));
      });
}

void add_marker(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  live::marker m;
  if (auto why = live::parse_marker(req.body, unix_ms(), m); !why.empty())
    return reply(error_response(422, why));
  svc.add_marker(std::string{p.id}, who(svc, req), std::move(m),
                 [reply](actors::reply<live::marker> r) {
                   if (auto* e = std::get_if<api_error>(&r))
                     return reply(error_response(*e));
                   reply(json_response(201, marker_json(std::get<live::marker>(r))));
                 });
}

void markers(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  int64_t since = 0;
  if (!since_param(req, since))
    return reply(error_response(422, "since must be unix milliseconds or ISO 8601 with a zone"));
  svc.list_markers(std::string{p.id}, access_token(req), since,
                   [reply](actors::reply<std::vector<live::marker>> r) {
                     if (auto* e = std::get_if<api_error>(&r))
                       return reply(error_response(*e));
                     json items = json::array();
                     for (auto& m : std::get<std::vector<live::marker>>(r))
                       items.push_back(marker_json(m));
                     reply(json_response(200, {{"markers", std::move(items)}}));
                   });
}

void delete_marker(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  svc.delete_marker(std::string{p.id}, who(svc, req), std::string{p.name},
                    [reply](actors::reply<actors::done> r) {
                      if (auto* e = std::get_if<api_error>(&r))
                        return reply(error_response(*e));
                      reply(json_response(200, {{"message", "Marker deleted"}}));
                    });
}

void playlist(actors::service& svc, request& req, const route_params& p, reply_fn& reply) {
  if (p.name != "playlist.m3u8")
    return reply(error_response(404, "Not found"));
  auto token = access_token(req);
  std::string rendition{p.rendition};
  const bool media_request = !rendition.empty();
  svc.live_playlist(
      std::string{p.id}, token, media_request,
      [&svc, reply, token, rendition](actors::reply<actors::live_grant> r) {
        if (auto* e = std::get_if<api_error>(&r))
          return reply(error_response(*e));
        auto& g = std::get<actors::live_grant>(r);
        const actors::live_view& v = *g.view;
        std::string out;
        if (rendition.empty()) {
          media::write_playlist(v.master, "", "?token=" + token, out);
          return reply(m3u8(std::move(out)));
        }
        auto it = std::find(v.names.begin(), v.names.end(), rendition);
        if (it == v.names.end())
          return reply(error_response(404, "Not found"));
        const auto& w = v.windows[static_cast<size_t>(it - v.names.begin())];
        const std::string prefix = segment_prefix(v.storage_id);
        const auto expires =
            auth::bucketed_expiry(g.token_exp, g.deadline, svc.settings().signing_bucket_seconds);
        std::string suffix = "?";
        svc.signer().append_query(prefix, expires, auth::revocation_handle(g.gen, g.jti), suffix);
        out.reserve(256 + w.segments().size() * (prefix.size() + suffix.size() + 96));
        live::write_live_playlist(w, v.markers, prefix + rendition + "/", suffix, out);
        reply(m3u8(std::move(out)));
      });
}

} // namespace hlsgate::http::live_routes
