// The HTTP API (README.md "API", PyHLS-compatible paths and field names) as a
// router over the actors' service. One route table drives dispatch, the
// metric label and the time budget of every request (routes.hpp). Every
// handler returns at once; answers arrive through the service's completions.
#include "http/api.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "actors/service.hpp"
#include "auth/crypto.hpp"
#include "auth/revocation.hpp"
#include "auth/signed_url.hpp"
#include "config/ladder.hpp"
#include "http/api_json.hpp"
#include "http/api_live.hpp"
#include "http/api_proxy.hpp"
#include "http/api_vod.hpp"
#include "http/api_webhooks.hpp"
#include "http/errors.hpp"
#include "http/playlist_cache.hpp"
#include "http/request_params.hpp"
#include "http/segment_access.hpp"
#include "http/segment_route.hpp"
#include "http/web_routes.hpp"
#include "media/names.hpp"
#include "media/subtitles.hpp"

namespace fs = std::filesystem;

namespace hlsgate::http {

namespace {

using actors::api_errc;
using actors::api_error;
using json = nlohmann::json;

int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

struct api::impl {
  using handler = void (impl::*)(request&, const route_params&, reply_fn&);

  actors::service& svc;
  metrics::registry& metrics;
  std::string public_url;

  impl(actors::service& s, metrics::registry& m)
      : svc(s), metrics(m), public_url(s.settings().effective_public_url()) {}

  /// THE route table: dispatch (api::handle), the metric label and the time
  /// budget (api::classify) and the published list (api::routes) all read it.
  static const std::vector<route_entry<handler>>& table() {
    using metrics::route;
    constexpr unsigned both = m_get_head;
    static const std::vector<route_entry<handler>> t = {
        {m_post, "/upload", route::upload, route_wait::upload, &impl::upload},
        {both, "/stream/{id}/{playlist}", route::stream_playlist, route_wait::ondemand,
         &impl::stream},
        {both, "/stream/{id}/{rendition}/{playlist}", route::stream_playlist, route_wait::ondemand,
         &impl::stream},
        {both, "/stream/{id}/{name}", route::stream_file, route_wait::ondemand, &impl::stream},
        {both, "/stream/{id}/{rendition}/{name}", route::stream_file, route_wait::ondemand,
         &impl::stream},
        {m_post, "/refresh-token/{id}", route::refresh_token, route_wait::none, &impl::refresh},
        {m_delete, "/media/{id}", route::delete_media, route_wait::none, &impl::remove},
        {both, "/media/{id}/info", route::info, route_wait::none, &impl::info},
        {m_post, "/media/{id}/extend-expiry", route::extend_expiry, route_wait::none,
         &impl::extend},
        {both, "/media/{id}/stream-info", route::stream_info, route_wait::none, &impl::stream_info},
        {m_post, "/media/{id}/tokens", route::tokens, route_wait::none, &impl::create_token},
        {both, "/media/{id}/tokens", route::tokens, route_wait::none, &impl::list_tokens},
        {m_delete, "/media/{id}/tokens/{name}", route::tokens, route_wait::none,
         &impl::revoke_token},
        {m_post, "/media/{id}/subtitles", route::subtitles, route_wait::none, &impl::add_subtitles},
        {both, "/edge/check", route::edge_check, route_wait::none, &impl::edge_check},
        {m_post, "/import", route::import_media, route_wait::import, &impl::import_media},
        {both, "/media", route::library, route_wait::none, &impl::list_media},
        {m_delete, "/media", route::library, route_wait::none, &impl::delete_matching},
        {m_post, "/webhooks/test", route::webhooks, route_wait::none,
         &impl::bound<&webhook_routes::test, gate::op>},
        {m_post, "/webhooks", route::webhooks, route_wait::none,
         &impl::bound<&webhook_routes::create, gate::op>},
        {both, "/webhooks", route::webhooks, route_wait::none,
         &impl::bound<&webhook_routes::list, gate::op>},
        {m_delete, "/webhooks", route::webhooks, route_wait::none,
         &impl::bound<&webhook_routes::remove_by_url, gate::op>},
        {m_delete, "/webhooks/{id}", route::webhooks, route_wait::none,
         &impl::bound<&webhook_routes::remove_by_id, gate::op>},
        {both, "/webhooks/{id}/deliveries", route::webhooks, route_wait::none,
         &impl::bound<&webhook_routes::deliveries, gate::op>},
        {m_post, "/live", route::live, route_wait::none,
         &impl::bound<&live_routes::create, gate::op>},
        {m_post, "/ingest/rtmp/on_publish", route::live, route_wait::none,
         &impl::bound<&live_routes::rtmp_publish>},
        {both, "/live", route::live, route_wait::none, &impl::bound<&live_routes::list, gate::op>},
        {both, "/live/{id}", route::live, route_wait::none, &impl::bound<&live_routes::info>},
        {m_delete, "/live/{id}", route::live, route_wait::none, &impl::bound<&live_routes::remove>},
        {m_post, "/live/{id}/stop", route::live, route_wait::none,
         &impl::bound<&live_routes::stop>},
        {m_post, "/live/{id}/archive", route::live, route_wait::import,
         &impl::bound<&live_routes::archive>},
        {m_post, "/live/{id}/refresh-token", route::live, route_wait::none,
         &impl::bound<&live_routes::refresh>},
        {m_post, "/live/{id}/stream-key", route::live, route_wait::none,
         &impl::bound<&live_routes::rotate_stream_key>},
        {m_post, "/live/{id}/markers", route::live, route_wait::none,
         &impl::bound<&live_routes::add_marker>},
        {both, "/live/{id}/markers", route::live, route_wait::none,
         &impl::bound<&live_routes::markers>},
        {m_delete, "/live/{id}/markers/{name}", route::live, route_wait::none,
         &impl::bound<&live_routes::delete_marker>},
        {both, "/live/{id}/{playlist}", route::live_playlist, route_wait::none,
         &impl::bound<&live_routes::playlist>},
        {both, "/live/{id}/{rendition}/{playlist}", route::live_playlist, route_wait::none,
         &impl::bound<&live_routes::playlist>},
        {m_post, "/streams", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::create, gate::op_any_form>},
        {both, "/streams", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::list, gate::op_any_form>},
        {both, "/streams/by-metadata", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::by_metadata, gate::op_any_form>},
        {m_delete, "/streams/by-metadata", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::delete_by_metadata, gate::op_any_form>},
        {both, "/streams/{id}", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::info, gate::op_any_form>},
        {m_delete, "/streams/{id}", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::remove, gate::op_any_form>},
        {m_post, "/streams/{id}/failover", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::failover, gate::op_any_form>},
        {m_post, "/streams/{id}/token", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::rotate_token, gate::op_any_form>},
        {both, "/stats", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::stats, gate::op_any_form>},
        {both, "/stats/streams", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::stats_streams, gate::op_any_form>},
        {both, "/stats/clients", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::stats_clients, gate::op_any_form>},
        {both, "/clients", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::stats_clients, gate::op_any_form>},
        {both, "/clients/{id}", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::client, gate::op_any_form>},
        {m_delete, "/hls/{id}/clients/{name}", route::proxy, route_wait::none,
         &impl::bound<&proxy_routes::disconnect, gate::op_any_form>},
        {both, "/hls/{id}/{name}", route::proxy_stream, route_wait::none,
         &impl::bound<&proxy_routes::media>},
        {both, "/stream/{id}", route::proxy_stream, route_wait::none,
         &impl::bound<&proxy_routes::direct>},
        {both, "/openapi.json", route::docs, route_wait::none, &impl::openapi},
        {both, "/docs", route::docs, route_wait::none, &impl::docs},
        {both, "/docs/{name}", route::docs, route_wait::none, &impl::docs_file},
        {both, "/", route::web, route_wait::none, &impl::app},
        {both, "/app/{name}", route::web, route_wait::none, &impl::app_file},
        {both, "/embed/{id}", route::web, route_wait::none, &impl::embed},
        {both, "/health", route::health, route_wait::none, &impl::health},
        {both, "/ready", route::ready, route_wait::none, &impl::ready},
        {both, "/metrics", route::metrics, route_wait::none, &impl::serve_metrics},
    };
    return t;
  }

  std::chrono::milliseconds budget(route_wait w) const {
    const auto& cfg = svc.settings();
    unsigned secs = cfg.request_timeout_seconds;
    if (w == route_wait::upload || w == route_wait::import)
      secs += cfg.upload_wait_seconds;
    else if (w == route_wait::ondemand)
      secs += cfg.ondemand_wait_seconds;
    return std::chrono::seconds(secs);
  }

  std::string playlist_url(const std::string& id, const std::string& token) const {
    return vod_playlist_url(public_url, id, token);
  }

  /// The item's admin key (X-Admin-Key or ?admin_key=); the API token as a
  /// bearer acts on any item (actors::admin_credential).
  actors::admin_credential admin_credential(const request& req) const {
    auto b = operator_token(req);
    return admin_credential_of(req, !b.empty() && svc.is_api_token(b));
  }

  /// The API token as a bearer, or also as ?api_token= where a compatible
  /// API needs it (uploads): 401 without, 403 when wrong.
  std::optional<response> check_api_token(const request& req, bool query_form = false) const {
    std::string t = operator_token(req);
    if (t.empty() && query_form)
      req.query_param("api_token", t);
    if (t.empty())
      return error_response({api_errc::unauthorized, "API token required"});
    if (!svc.is_api_token(t)) {
      metrics.auth_failure("bad_api_token");
      return error_response({api_errc::forbidden, "Invalid API token"});
    }
    return std::nullopt;
  }

  /// Uploads need the API token only when one is configured.
  std::optional<response> check_upload_token(const request& req) const {
    if (svc.settings().api_token.empty())
      return std::nullopt;
    return check_api_token(req, true);
  }

  // -- POST /upload/ -------------------------------------------------------------

  void upload(request& req, const route_params&, reply_fn& reply) {
    auto drop = [&](response r) {
      std::error_code ec;
      if (!req.upload_path.empty())
        fs::remove(req.upload_path, ec);
      reply(std::move(r));
    };
    if (auto refused = check_upload_token(req))
      return drop(std::move(*refused));
    if (req.upload_path.empty())
      return drop(error_response(422, "Missing form field 'media'"));
    auto& cfg = svc.settings();
    unsigned minutes = cfg.default_expiry_minutes;
    api_error err;
    if (!int_param(req, "expiry_minutes", 1, max_expiry_minutes, minutes, err))
      return drop(error_response(err));
    if (req.upload_bytes == 0)
      return drop(error_response(415, "Empty file"));
    actors::upload_params p;
    p.file_path = req.upload_path;
    p.original_name = req.upload_filename;
    p.bytes = req.upload_bytes;
    p.expiry_minutes = minutes;
    p.wait_ready = !bool_param(req, "async");
    p.request_id = std::move(req.request_id);
    if (req.query_param("ladder", p.ladder) && !p.ladder.empty()) {
      std::vector<config::rung> rungs;
      if (auto why = config::parse_ladder(p.ladder, rungs); !why.empty())
        return drop(error_response({api_errc::bad_parameter, why}));
      p.ladder = config::format_ladder(rungs);
    }
    svc.upload(std::move(p), [this, reply](actors::reply<actors::upload_result> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      auto& u = std::get<actors::upload_result>(r);
      response res = json_response(u.status == actors::media_status::ready ? 200 : 202,
                                   upload_json(u, playlist_url(u.media_id, u.access_token)));
      // Nobody else knows these keys: an answer that never reaches the
      // uploader (gone, timed out, server stopping) must not leave the item.
      res.on_undelivered = [svc = &svc, id = u.media_id] { svc->abandon(id); };
      reply(std::move(res));
    });
  }

  // -- GET /stream/... -------------------------------------------------------------

  void stream(request& req, const route_params& p, reply_fn& reply) {
    std::string id{p.id};
    std::string rendition{p.rendition};
    std::string name{p.name};
    auto token = access_token(req);
    const bool gzip = accepts_gzip(req.header("accept-encoding"));
    svc.playlist(
        id, token,
        [this, reply, token, rendition, name, gzip](actors::reply<actors::playlist_grant> r) {
          if (auto* e = std::get_if<api_error>(&r))
            return reply(error_response(*e));
          reply(vod_files::render(svc, std::get<actors::playlist_grant>(r), token, rendition, name,
                                  gzip));
        });
  }

  // -- stream-info (token holders) ---------------------------------------------------

  void stream_info(request& req, const route_params& p, reply_fn& reply) {
    auto token = access_token(req);
    svc.stream_info(
        std::string{p.id}, token,
        [this, reply, token](actors::reply<actors::stream_info_result> r) {
          if (auto* e = std::get_if<api_error>(&r))
            return reply(error_response(*e));
          reply(json_response(
              200, stream_info_json(std::get<actors::stream_info_result>(r), public_url, token)));
        });
  }

  // -- GET /media, DELETE /media (API token) -----------------------------------------

  void list_media(request& req, const route_params&, reply_fn& reply) {
    if (auto refused = check_api_token(req))
      return reply(std::move(*refused));
    actors::media_query q;
    unsigned limit = 50;
    api_error err;
    if (!int_param(req, "limit", 1, 200, limit, err))
      return reply(error_response(err));
    q.limit = limit;
    req.query_param("cursor", q.cursor);
    if (auto why = media_filter_of(req, q.filter); !why.empty())
      return reply(error_response(422, why));
    svc.list_media(std::move(q), [reply](actors::reply<actors::media_page> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      reply(json_response(200, media_page_json(std::get<actors::media_page>(r))));
    });
  }

  void delete_matching(request& req, const route_params&, reply_fn& reply) {
    if (auto refused = check_api_token(req))
      return reply(std::move(*refused));
    actors::media_filter f;
    if (auto why = media_filter_of(req, f); !why.empty())
      return reply(error_response(422, why));
    if (f.empty())
      return reply(error_response(422, "A filter is required (status or q)"));
    svc.delete_matching(std::move(f), [reply](actors::reply<actors::bulk_delete_result> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      const auto& b = std::get<actors::bulk_delete_result>(r);
      reply(json_response(
          200, {{"matched", b.matched}, {"deleted", b.deleted}, {"remaining", b.remaining}}));
    });
  }

  // -- the handlers of api_webhooks.cpp, api_live.cpp and api_proxy.cpp ---------------

  /// Who may call a bound handler: anyone (it checks its own credentials),
  /// the API token as a bearer or X-API-Token, or also as ?api_token= (as
  /// m3u-proxy's clients send it).
  enum class gate { open, op, op_any_form };
  using free_handler = void (*)(actors::service&, request&, const route_params&, reply_fn&);

  /// `H` bound to this service as a route handler, behind gate `G`.
  template <free_handler H, gate G = gate::open>
  void bound(request& req, const route_params& p, reply_fn& reply) {
    if (G != gate::open)
      if (auto refused = check_api_token(req, G == gate::op_any_form))
        return reply(std::move(*refused));
    H(svc, req, p, reply);
  }

  // -- POST /import (API token) --------------------------------------------------------

  void import_media(request& req, const route_params&, reply_fn& reply) {
    auto& cfg = svc.settings();
    if (cfg.api_token.empty() || cfg.import_root.empty())
      return reply(error_response(403, "Import API disabled (set HLSGATE_API_TOKEN and "
                                       "HLSGATE_IMPORT_ROOT)"));
    if (auto refused = check_api_token(req))
      return reply(std::move(*refused));
    actors::import_params p;
    if (auto why = parse_import_body(req.body, cfg.import_root, max_expiry_minutes, p);
        why.status != 0)
      return reply(error_response(why.status, why.detail));
    svc.import(std::move(p), [this, reply](actors::reply<actors::import_result> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      auto& result = std::get<actors::import_result>(r);
      response res = json_response(
          200, import_json(result, [this](const std::string& id, const std::string& tok) {
            return playlist_url(id, tok);
          }));
      // As for uploads: items whose keys never reached the caller go.
      std::vector<std::string> ids;
      for (auto& i : result.items)
        if (!i.media_id.empty())
          ids.push_back(i.media_id);
      res.on_undelivered = [svc = &svc, ids] {
        for (auto& id : ids)
          svc->abandon(id);
      };
      reply(std::move(res));
    });
  }

  // -- admin routes (the item's admin key, or the API token) ---------------------------

  void refresh(request& req, const route_params& p, reply_fn& reply) {
    unsigned minutes = svc.settings().default_expiry_minutes;
    api_error err;
    if (!int_param(req, "expiry_minutes", 1, max_expiry_minutes, minutes, err))
      return reply(error_response(err));
    svc.refresh_token(std::string{p.id}, admin_credential(req), minutes,
                      [this, reply](actors::reply<actors::token_result> r) {
                        if (auto* e = std::get_if<api_error>(&r))
                          return reply(error_response(*e));
                        auto& t = std::get<actors::token_result>(r);
                        auto body = token_json(t, playlist_url(t.media_id, t.access_token));
                        body["message"] = "Token refreshed; older tokens no longer work";
                        reply(json_response(200, body));
                      });
  }

  // -- tokens (the item's admin key, or the API token) ---------------------------------

  void create_token(request& req, const route_params& p, reply_fn& reply) {
    actors::token_request tr;
    if (auto why = parse_token_request(req.body, tr); !why.empty())
      return reply(error_response({api_errc::bad_parameter, why}));
    svc.create_token(
        std::string{p.id}, admin_credential(req), std::move(tr),
        [this, reply](actors::reply<actors::token_result> r) {
          if (auto* e = std::get_if<api_error>(&r))
            return reply(error_response(*e));
          auto& t = std::get<actors::token_result>(r);
          reply(json_response(201, token_json(t, playlist_url(t.media_id, t.access_token))));
        });
  }

  void list_tokens(request& req, const route_params& p, reply_fn& reply) {
    svc.list_tokens(std::string{p.id}, admin_credential(req),
                    [reply](actors::reply<actors::token_list> r) {
                      if (auto* e = std::get_if<api_error>(&r))
                        return reply(error_response(*e));
                      reply(json_response(200, token_list_json(std::get<actors::token_list>(r))));
                    });
  }

  void revoke_token(request& req, const route_params& p, reply_fn& reply) {
    std::string jti{p.name};
    svc.revoke_token(std::string{p.id}, admin_credential(req), jti,
                     [reply, jti](actors::reply<actors::done> r) {
                       if (auto* e = std::get_if<api_error>(&r))
                         return reply(error_response(*e));
                       reply(json_response(200, {{"jti", jti}, {"revoked", true}}));
                     });
  }

  // -- subtitles (the item's admin key, or the API token) ------------------------------

  /// POST /media/{id}/subtitles?language=&name=&default=&forced= with an SRT
  /// or WebVTT file as the body (at most the server's body limit, 1 MiB).
  void add_subtitles(request& req, const route_params& p, reply_fn& reply) {
    auto who = admin_credential(req);
    if (who.admin_key.empty() && !who.is_operator) // before parsing anything
      return reply(error_response({api_errc::unauthorized, "Admin key required"}));
    actors::subtitle_request sr;
    req.query_param("language", sr.language);
    req.query_param("name", sr.label);
    sr.is_default = bool_param(req, "default");
    sr.forced = bool_param(req, "forced");
    if (auto why = check_subtitle_params(sr.language, sr.label); !why.empty())
      return reply(error_response({api_errc::bad_parameter, why}));
    auto parsed = media::parse_subtitles(req.body);
    if (!parsed.error.empty())
      return reply(error_response({api_errc::bad_parameter, "Subtitle file: " + parsed.error}));
    sr.cues = std::move(parsed.cues);
    svc.add_subtitles(
        std::string{p.id}, std::move(who), std::move(sr),
        [reply](actors::reply<actors::subtitle_result> r) {
          if (auto* e = std::get_if<api_error>(&r))
            return reply(error_response(*e));
          reply(json_response(201, subtitle_json(std::get<actors::subtitle_result>(r))));
        });
  }

  // -- GET /edge/check: an nginx edge asks (auth_request) ------------------------------

  /// The same decision as the origin's /seg/ route, for the original URI
  /// the edge passes in X-Original-URI; 204 or 403 (auth_request turns
  /// anything else into a 500). Cacheable at the edge for
  /// HLSGATE_EDGE_REVOCATION_SECONDS: the bound on revocation there.
  void edge_check(request& req, const route_params&, reply_fn& reply) {
    const std::string_view uri = req.header("x-original-uri");
    const size_t q = uri.find('?');
    segment_target t;
    if (!parse_segment_path(uri.substr(0, q), t))
      return reply(error_response(403, "Not a segment URL"));
    const auto a = check_segment_access(
        svc.signer(), &svc.revocations(), t.storage_id,
        q == std::string_view::npos ? std::string_view{} : uri.substr(q + 1), unix_now());
    if (a.status != 200) {
      if (*a.metric != '\0')
        metrics.auth_failure(a.metric);
      return reply(error_response(403, a.detail));
    }
    response ok;
    ok.status = 204;
    ok.headers.emplace_back("Cache-Control",
                            "max-age=" + std::to_string(svc.settings().edge_revocation_seconds));
    reply(std::move(ok));
  }

  void info(request& req, const route_params& p, reply_fn& reply) {
    svc.info(std::string{p.id}, admin_credential(req),
             [reply](actors::reply<actors::info_result> r) {
               if (auto* e = std::get_if<api_error>(&r))
                 return reply(error_response(*e));
               reply(json_response(200, info_json(std::get<actors::info_result>(r))));
             });
  }

  void extend(request& req, const route_params& p, reply_fn& reply) {
    unsigned minutes = 0;
    api_error err;
    if (!int_param(req, "additional_minutes", 1, max_expiry_minutes, minutes, err))
      return reply(error_response(err));
    if (minutes == 0)
      return reply(error_response({api_errc::bad_parameter, "additional_minutes is required"}));
    svc.extend(std::string{p.id}, admin_credential(req), minutes,
               [reply](actors::reply<actors::extend_result> r) {
                 if (auto* e = std::get_if<api_error>(&r))
                   return reply(error_response(*e));
                 reply(json_response(200, extend_json(std::get<actors::extend_result>(r))));
               });
  }

  void remove(request& req, const route_params& p, reply_fn& reply) {
    std::string id{p.id};
    svc.remove(id, admin_credential(req), [reply, id](actors::reply<actors::done> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      reply(json_response(200, {{"media_id", id}, {"message", "Media deleted"}}));
    });
  }

  // -- browser pages (web_routes.hpp) ---------------------------------------------------

  void openapi(request&, const route_params&, reply_fn& reply) { web_routes::openapi(reply); }
  void docs(request&, const route_params&, reply_fn& reply) {
    web_routes::docs_page(svc.settings().web_dir, reply);
  }
  void docs_file(request&, const route_params& p, reply_fn& reply) {
    web_routes::docs_file(svc.settings().web_dir, p, reply);
  }
  void app(request&, const route_params&, reply_fn& reply) {
    web_routes::app_page(svc.settings().web_dir, reply);
  }
  void app_file(request&, const route_params& p, reply_fn& reply) {
    web_routes::app_file(svc.settings().web_dir, p, reply);
  }
  void embed(request&, const route_params&, reply_fn& reply) {
    web_routes::embed_page(svc.settings().web_dir, reply);
  }

  // -- probes --------------------------------------------------------------------------

  void health(request&, const route_params&, reply_fn& reply) {
    reply(json_response(200, {{"status", "ok"}}));
  }

  void ready(request&, const route_params&, reply_fn& reply) {
    if (const std::string why = svc.not_ready_reason(); !why.empty())
      return reply(json_response(503, {{"status", "not ready"}, {"reason", why}}));
    reply(json_response(200, {{"status", "ready"}}));
  }

  void serve_metrics(request&, const route_params&, reply_fn& reply) {
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.serialize();
    reply(std::move(r));
  }
};

api::api(actors::service& svc, metrics::registry& metrics)
    : impl_(std::make_unique<impl>(svc, metrics)) {}

api::~api() = default;

route_info api::classify(const request& req) const {
  const route_match m = match_route(impl::table(), req.method, req.path);
  return {m.label, impl_->budget(m.wait)};
}

std::optional<response> api::admit_upload(const request& head) const {
  if (auto refused = impl_->check_upload_token(head))
    return refused;
  uint64_t declared = 0;
  const auto cl = head.header("content-length");
  std::from_chars(cl.data(), cl.data() + cl.size(), declared);
  if (auto e = impl_->svc.upload_refusal(declared))
    return error_response(*e);
  return std::nullopt;
}

void api::handle(request req, reply_fn reply) {
  auto& d = *impl_;
  const route_match m = match_route(impl::table(), req.method, req.path);
  if (m.index < 0) {
    std::error_code ec;
    if (!req.upload_path.empty()) // never reached a handler: nobody else removes it
      fs::remove(req.upload_path, ec);
    if (m.allowed != 0)
      return reply(error_response(405, "Method not allowed", allow_value(m.allowed)));
    return reply(error_response(404, "Not found"));
  }
  (d.*(impl::table()[static_cast<size_t>(m.index)].handler))(req, m.params, reply);
}

std::vector<route_description> api::routes() {
  std::vector<route_description> out;
  for (const auto& r : impl::table())
    out.push_back({r.methods, std::string{r.pattern}, r.label});
  return out;
}

} // namespace hlsgate::http
