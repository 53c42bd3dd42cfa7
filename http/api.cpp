#include "http/api.hpp"

#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "actors/service.hpp"
#include "auth/crypto.hpp"
#include "config/ladder.hpp"

namespace fs = std::filesystem;

namespace hlsgate::http {

namespace {

using actors::api_errc;
using actors::api_error;
using json = nlohmann::json;

constexpr unsigned max_expiry_minutes = 10080; // 7 days

/// The one place service errors become HTTP status codes.
unsigned to_status(api_errc e) {
  switch (e) {
  case api_errc::unauthorized:
    return 401;
  case api_errc::forbidden:
    return 403;
  case api_errc::not_found:
    return 404;
  case api_errc::not_ready:
    return 409;
  case api_errc::expired:
    return 410;
  case api_errc::too_large:
    return 413;
  case api_errc::unsupported_media:
    return 415;
  case api_errc::bad_parameter:
  case api_errc::limit_exceeded:
  case api_errc::failed:
    return 422;
  case api_errc::queue_full:
    return 429;
  case api_errc::shutting_down:
  case api_errc::unavailable:
  case api_errc::try_later:
    return 503;
  case api_errc::internal:
    break;
  }
  return 500;
}

response error_response(const api_error& e) {
  auto r = json_error(to_status(e.code), e.detail);
  if (e.code == api_errc::queue_full || e.code == api_errc::shutting_down)
    r.headers.emplace_back("Retry-After", "30");
  if (e.code == api_errc::try_later)
    r.headers.emplace_back("Retry-After", "5");
  if (e.code == api_errc::unauthorized)
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

response json_response(unsigned status, const json& body) {
  response r;
  r.status = status;
  r.body = body.dump();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string iso8601(int64_t t) {
  if (t <= 0)
    return {};
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

/// Splits "/a/b/c" into at most 4 segments; false if more.
bool split_path(std::string_view path, std::vector<std::string_view>& parts) {
  parts.clear();
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos)
      j = path.size();
    parts.push_back(path.substr(i, j - i));
    if (parts.size() > 4)
      return false;
    i = j;
  }
  return true;
}

bool valid_id(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return false;
  return true;
}

bool valid_rendition(std::string_view s) {
  if (s.empty() || s.size() > 8)
    return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c))))
      return false;
  return true;
}

/// Parses an optional integer query parameter within [lo, hi].
/// Returns false (and fills `err`) when present but invalid.
bool int_param(const request& req, const char* name, unsigned lo, unsigned hi, unsigned& out,
               api_error& err) {
  std::string v;
  if (!req.query_param(name, v))
    return true;
  unsigned x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || x < lo || x > hi) {
    err = {api_errc::bad_parameter, std::string{name} + " must be an integer in [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]"};
    return false;
  }
  out = x;
  return true;
}

bool bool_param(const request& req, const char* name) {
  std::string v;
  return req.query_param(name, v) && (v == "true" || v == "1" || v == "yes");
}

std::string bearer(const request& req) {
  auto h = req.header("authorization");
  constexpr std::string_view prefix = "Bearer ";
  if (h.size() > prefix.size() && h.substr(0, prefix.size()) == prefix)
    return std::string{h.substr(prefix.size())};
  return {};
}

std::string access_token(const request& req) {
  std::string t;
  if (req.query_param("token", t) && !t.empty())
    return t;
  return bearer(req);
}

/// The item's admin key (header or query), or the API token as a bearer.
actors::admin_credential admin_key(const request& req, const actors::service& svc) {
  actors::admin_credential who;
  auto h = req.header("x-admin-key");
  if (!h.empty())
    who.admin_key = std::string{h};
  else
    req.query_param("admin_key", who.admin_key);
  auto b = bearer(req);
  who.is_operator = !b.empty() && svc.is_api_token(b);
  return who;
}

json rendition_json(const actors::rendition_record& r) {
  double total = 0;
  for (auto& s : r.segments)
    total += s.duration;
  json j{{"name", r.name},
         {"has_video", r.has_video},
         {"has_audio", r.has_audio},
         {"codecs", r.codecs},
         {"bandwidth", r.peak_bandwidth},
         {"average_bandwidth", r.average_bandwidth},
         {"segments", r.segments.size()},
         {"duration", total}};
  if (r.has_video) {
    j["width"] = r.width;
    j["height"] = r.height;
    j["frame_rate"] = r.frame_rate;
  }
  return j;
}

} // namespace

struct api::impl {
  actors::service& svc;
  metrics::registry& metrics;
  std::string public_url;

  impl(actors::service& s, metrics::registry& m)
      : svc(s), metrics(m), public_url(s.settings().effective_public_url()) {}

  std::string playlist_url(const std::string& id, const std::string& token) const {
    return public_url + "/stream/" + id + "/playlist.m3u8?token=" + token;
  }

  // -- POST /upload/ -------------------------------------------------------------

  void upload(request& req, reply_fn& reply) {
    auto drop = [&](response r) {
      std::error_code ec;
      if (!req.upload_path.empty())
        fs::remove(req.upload_path, ec);
      reply(std::move(r));
    };
    auto& cfg = svc.settings();
    if (!cfg.api_token.empty()) {
      std::string t = bearer(req);
      if (t.empty())
        req.query_param("api_token", t);
      if (t.empty())
        return drop(error_response({api_errc::unauthorized, "API token required"}));
      if (!auth::constant_time_equal(t, cfg.api_token)) {
        metrics.auth_failure("bad_api_token");
        return drop(error_response({api_errc::forbidden, "Invalid API token"}));
      }
    }
    if (req.upload_path.empty())
      return drop(json_error(422, "Missing form field 'media'"));
    unsigned minutes = cfg.default_expiry_minutes;
    api_error err;
    if (!int_param(req, "expiry_minutes", 1, max_expiry_minutes, minutes, err))
      return drop(error_response(err));
    if (req.upload_bytes == 0)
      return drop(json_error(415, "Empty file"));
    actors::upload_params p;
    p.file_path = req.upload_path;
    p.original_name = req.upload_filename;
    p.bytes = req.upload_bytes;
    p.expiry_minutes = minutes;
    p.wait_ready = !bool_param(req, "async");
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
      bool ready = u.status == actors::media_status::ready;
      json body{{"media_id", u.media_id},
                {"access_token", u.access_token},
                {"admin_key", u.admin_key},
                {"playlist_url", playlist_url(u.media_id, u.access_token)},
                {"expires_in_minutes", u.expiry_minutes},
                {"expires_at", iso8601(u.expires_at)},
                {"status", actors::to_string(u.status)},
                {"progress", u.progress},
                {"message", ready ? "Media uploaded and ready to stream"
                                  : "Media uploaded; transcoding in progress"}};
      reply(json_response(ready ? 200 : 202, body));
    });
  }

  // -- GET /stream/... -------------------------------------------------------------

  /// parts: ["stream", id, x] or ["stream", id, rendition, x]
  void stream(request& req, const std::vector<std::string_view>& parts, reply_fn& reply) {
    std::string id{parts[1]};
    std::string rendition = parts.size() == 4 ? std::string{parts[2]} : std::string{};
    std::string name{parts.back()};
    if (!valid_id(id) || (!rendition.empty() && !valid_rendition(rendition)))
      return reply(json_error(404, "Not found"));
    auto token = access_token(req);
    svc.playlist(id, token,
                 [this, reply, token, rendition, name](actors::reply<actors::playlist_ptr> r) {
                   if (auto* e = std::get_if<api_error>(&r))
                     return reply(error_response(*e));
                   reply(render(*std::get<actors::playlist_ptr>(r), token, rendition, name));
                 });
  }

  response render(const actors::playlist_snapshot& snap, const std::string& token,
                  const std::string& rendition, const std::string& name) const {
    if (rendition.empty() && name == "playlist.m3u8") {
      response res;
      res.content_type = "application/vnd.apple.mpegurl";
      res.headers.emplace_back("Cache-Control", "no-store");
      // Variant URIs are "<rendition>/playlist.m3u8"; the token rides along
      // so players that cannot send headers still authenticate.
      media::write_playlist(snap.master, "", "?token=" + token, res.body);
      return res;
    }
    // Which rendition: explicit, or the first one for PyHLS-style flat names.
    size_t idx = 0;
    if (!rendition.empty()) {
      idx = snap.rendition_names.size();
      for (size_t i = 0; i < snap.rendition_names.size(); ++i)
        if (snap.rendition_names[i] == rendition)
          idx = i;
    }
    if (rendition.empty() && snap.has_thumbnails &&
        (name == "poster.jpg" || name == "sprite.jpg" || name == "storyboard.vtt"))
      return thumbnail(snap, token, name);
    if (idx >= snap.renditions.size())
      return json_error(404, "Not found");
    auto& pl = snap.renditions[idx];
    auto& rname = snap.rendition_names[idx];
    if (name == "playlist.m3u8" || (rendition.empty() && name == rname + ".m3u8")) {
      response res;
      res.content_type = "application/vnd.apple.mpegurl";
      res.headers.emplace_back("Cache-Control", "no-store");
      // One signature per response, covering every file of this media.
      std::string prefix = "/seg/" + snap.storage_id + "/";
      auto expires = unix_now() + svc.settings().signed_url_seconds;
      std::string suffix = "?";
      svc.signer().append_query(prefix, expires, suffix);
      res.body.reserve(128 +
                       pl.segments.size() * (prefix.size() + rname.size() + 20 + suffix.size()));
      media::write_playlist(pl, prefix + rname + "/", suffix, res.body);
      return res;
    }
    // PyHLS-compatible segment access with the token.
    for (auto& s : pl.segments) {
      if (s.uri == name) {
        response res;
        res.content_type = "video/mp2t";
        res.file_path =
            (fs::path{svc.settings().data_dir} / "media" / snap.storage_id / rname / name).string();
        return res;
      }
    }
    return json_error(404, "Not found");
  }

  /// poster.jpg and sprite.jpg are files; the storyboard is rewritten so the
  /// sprite references carry the token (players resolve them without the
  /// query of the .vtt URL).
  response thumbnail(const actors::playlist_snapshot& snap, const std::string& token,
                     const std::string& name) const {
    auto path = fs::path{svc.settings().data_dir} / "media" / snap.storage_id / "thumbs" / name;
    response res;
    res.headers.emplace_back("Cache-Control", "private, max-age=3600");
    if (name != "storyboard.vtt") {
      res.content_type = "image/jpeg";
      res.file_path = path.string();
      return res;
    }
    std::ifstream in{path};
    if (!in)
      return json_error(404, "Not found");
    res.content_type = "text/vtt; charset=utf-8";
    std::string line;
    const std::string ref = "sprite.jpg#";
    while (std::getline(in, line)) {
      if (line.rfind(ref, 0) == 0)
        line = "sprite.jpg?token=" + token + "#" + line.substr(ref.size());
      res.body.append(line).push_back('\n');
    }
    return res;
  }

  // -- stream-info (token holders) ---------------------------------------------------

  void stream_info(request& req, const std::string& id, reply_fn& reply) {
    auto token = access_token(req);
    svc.stream_info(id, token, [this, reply, token](actors::reply<actors::stream_info_result> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      auto& s = std::get<actors::stream_info_result>(r);
      auto& m = s.record;
      auto renditions = json::array();
      for (auto& rr : m.renditions)
        renditions.push_back(rendition_json(rr));
      auto base = public_url + "/stream/" + m.media_id + "/";
      json body{{"media_id", m.media_id},
                {"format", "hls"},
                {"ready", m.status == actors::media_status::ready},
                {"playable", s.playable},
                {"status", actors::to_string(m.status)},
                {"progress", s.progress},
                {"manifest_url", base + "playlist.m3u8?token=" + token},
                {"duration", m.duration},
                {"expires_at", iso8601(m.expires_at)},
                {"renditions", std::move(renditions)}};
      if (m.has_thumbnails) {
        body["poster_url"] = base + "poster.jpg?token=" + token;
        body["storyboard_url"] = base + "storyboard.vtt?token=" + token;
      }
      if (!m.error.empty())
        body["error"] = m.error;
      reply(json_response(200, body));
    });
  }

  // -- POST /import (API token) --------------------------------------------------------

  void import_media(request& req, reply_fn& reply) {
    auto& cfg = svc.settings();
    if (cfg.api_token.empty() || cfg.import_root.empty())
      return reply(json_error(403, "Import API disabled (set HLSGATE_API_TOKEN and "
                                   "HLSGATE_IMPORT_ROOT)"));
    auto t = bearer(req);
    if (t.empty())
      return reply(error_response({api_errc::unauthorized, "API token required"}));
    if (!auth::constant_time_equal(t, cfg.api_token)) {
      metrics.auth_failure("bad_api_token");
      return reply(error_response({api_errc::forbidden, "Invalid API token"}));
    }
    auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("paths") || !body["paths"].is_array() ||
        body["paths"].empty())
      return reply(json_error(422, "Body must be {\"paths\": [\"...\"], \"expiry_minutes\": N}"));
    actors::import_params p;
    p.expiry_minutes = max_expiry_minutes;
    if (body.contains("expiry_minutes")) {
      auto& e = body["expiry_minutes"];
      if (!e.is_number_unsigned() || e.get<unsigned>() < 1 ||
          e.get<unsigned>() > max_expiry_minutes)
        return reply(json_error(422, "expiry_minutes must be an integer in [1, 10080]"));
      p.expiry_minutes = e.get<unsigned>();
    }
    std::error_code ec;
    auto root = fs::weakly_canonical(cfg.import_root, ec);
    for (auto& v : body["paths"]) {
      if (!v.is_string())
        return reply(json_error(422, "paths must be strings"));
      fs::path path{v.get<std::string>()};
      if (!path.is_absolute())
        return reply(json_error(422, "paths must be absolute"));
      auto canon = fs::weakly_canonical(path, ec);
      auto rel = canon.lexically_relative(root);
      if (ec || rel.empty() || *rel.begin() == "..")
        return reply(json_error(403, "Path is outside the import root"));
      p.paths.push_back(canon.string());
    }
    svc.import(std::move(p), [this, reply](actors::reply<actors::import_result> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      auto items = json::array();
      for (auto& i : std::get<actors::import_result>(r).items) {
        if (!i.error.empty()) {
          items.push_back({{"path", i.path}, {"error", i.error}});
          continue;
        }
        items.push_back({{"path", i.path},
                         {"media_id", i.media_id},
                         {"access_token", i.access_token},
                         {"admin_key", i.admin_key},
                         {"playlist_url", playlist_url(i.media_id, i.access_token)},
                         {"expires_at", iso8601(i.expires_at)}});
      }
      reply(json_response(200, {{"items", std::move(items)}}));
    });
  }

  // -- admin routes ----------------------------------------------------------------

  void refresh(request& req, const std::string& id, reply_fn& reply) {
    unsigned minutes = svc.settings().default_expiry_minutes;
    api_error err;
    if (!int_param(req, "expiry_minutes", 1, max_expiry_minutes, minutes, err))
      return reply(error_response(err));
    svc.refresh_token(
        id, admin_key(req, svc), minutes, [this, reply](actors::reply<actors::token_result> r) {
          if (auto* e = std::get_if<api_error>(&r))
            return reply(error_response(*e));
          auto& t = std::get<actors::token_result>(r);
          reply(json_response(200, {{"media_id", t.media_id},
                                    {"access_token", t.access_token},
                                    {"playlist_url", playlist_url(t.media_id, t.access_token)},
                                    {"expires_in_minutes", t.expires_in_minutes},
                                    {"expires_at", iso8601(t.expires_at)},
                                    {"message", "Token refreshed; older tokens no longer work"}}));
        });
  }

  void info(request& req, const std::string& id, reply_fn& reply) {
    svc.info(id, admin_key(req, svc), [reply](actors::reply<actors::info_result> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      auto& i = std::get<actors::info_result>(r);
      auto& m = i.record;
      auto renditions = json::array();
      for (auto& rr : m.renditions)
        renditions.push_back(rendition_json(rr));
      json body{{"media_id", m.media_id},
                {"upload_time", iso8601(m.upload_time)},
                {"expiry_minutes", m.expiry_minutes()},
                {"expires_at", iso8601(m.expires_at)},
                {"last_token_refresh", iso8601(m.last_token_refresh)},
                {"created_at", iso8601(m.created_at)},
                {"updated_at", iso8601(m.updated_at)},
                {"status", actors::to_string(m.status)},
                {"progress", i.progress},
                {"eta_seconds", i.eta_seconds},
                {"duration", m.duration},
                {"thumbnails", m.has_thumbnails},
                {"imported", !m.source_owned},
                {"original_name", m.original_name},
                {"renditions", std::move(renditions)}};
      if (!m.error.empty())
        body["error"] = m.error;
      reply(json_response(200, body));
    });
  }

  void extend(request& req, const std::string& id, reply_fn& reply) {
    unsigned minutes = 0;
    api_error err;
    if (!int_param(req, "additional_minutes", 1, max_expiry_minutes, minutes, err))
      return reply(error_response(err));
    if (minutes == 0)
      return reply(error_response({api_errc::bad_parameter, "additional_minutes is required"}));
    svc.extend(id, admin_key(req, svc), minutes, [reply](actors::reply<actors::extend_result> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      auto& x = std::get<actors::extend_result>(r);
      reply(json_response(200, {{"media_id", x.media_id},
                                {"previous_expiry_minutes", x.previous_expiry_minutes},
                                {"new_expiry_minutes", x.new_expiry_minutes},
                                {"extended_by_minutes", x.extended_by_minutes},
                                {"expires_at", iso8601(x.expires_at)},
                                {"message", "Expiry extended"}}));
    });
  }

  void remove(request& req, const std::string& id, reply_fn& reply) {
    svc.remove(id, admin_key(req, svc), [reply, id](actors::reply<actors::done> r) {
      if (auto* e = std::get_if<api_error>(&r))
        return reply(error_response(*e));
      reply(json_response(200, {{"media_id", id}, {"message", "Media deleted"}}));
    });
  }
};

api::api(actors::service& svc, metrics::registry& metrics)
    : impl_(std::make_unique<impl>(svc, metrics)) {}

api::~api() = default;

metrics::route api::classify(const request& req) const {
  std::vector<std::string_view> parts;
  split_path(req.path, parts);
  if (parts.empty())
    return metrics::route::other;
  auto first = parts[0];
  if (first == "upload")
    return metrics::route::upload;
  if (first == "stream")
    return parts.back().size() > 5 && parts.back().substr(parts.back().size() - 5) == ".m3u8"
               ? metrics::route::stream_playlist
               : metrics::route::stream_file;
  if (first == "refresh-token")
    return metrics::route::refresh_token;
  if (first == "media") {
    if (req.method == "DELETE")
      return metrics::route::delete_media;
    if (parts.size() == 3 && parts[2] == "info")
      return metrics::route::info;
    if (parts.size() == 3 && parts[2] == "extend-expiry")
      return metrics::route::extend_expiry;
    if (parts.size() == 3 && parts[2] == "stream-info")
      return metrics::route::stream_info;
  }
  if (first == "import")
    return metrics::route::import_media;
  if (first == "health")
    return metrics::route::health;
  if (first == "ready")
    return metrics::route::ready;
  if (first == "metrics")
    return metrics::route::metrics;
  return metrics::route::other;
}

void api::handle(request req, reply_fn reply) {
  auto& d = *impl_;
  std::vector<std::string_view> parts;
  if (!split_path(req.path, parts) || parts.empty())
    return reply(json_error(404, "Not found"));
  const auto& m = req.method;
  bool get = m == "GET" || m == "HEAD";
  auto method_not_allowed = [&](const char* allow) {
    auto r = json_error(405, "Method not allowed");
    r.headers.emplace_back("Allow", allow);
    reply(std::move(r));
  };
  auto first = parts[0];
  if (first == "upload" && parts.size() == 1) {
    if (m != "POST") {
      std::error_code ec;
      if (!req.upload_path.empty())
        fs::remove(req.upload_path, ec);
      return method_not_allowed("POST");
    }
    return d.upload(req, reply);
  }
  if (first == "stream" && (parts.size() == 3 || parts.size() == 4)) {
    if (!get)
      return method_not_allowed("GET, HEAD");
    return d.stream(req, parts, reply);
  }
  if (first == "refresh-token" && parts.size() == 2 && valid_id(parts[1])) {
    if (m != "POST")
      return method_not_allowed("POST");
    return d.refresh(req, std::string{parts[1]}, reply);
  }
  if (first == "media" && parts.size() >= 2 && valid_id(parts[1])) {
    std::string id{parts[1]};
    if (parts.size() == 2) {
      if (m != "DELETE")
        return method_not_allowed("DELETE");
      return d.remove(req, id, reply);
    }
    if (parts.size() == 3 && parts[2] == "info") {
      if (!get)
        return method_not_allowed("GET, HEAD");
      return d.info(req, id, reply);
    }
    if (parts.size() == 3 && parts[2] == "extend-expiry") {
      if (m != "POST")
        return method_not_allowed("POST");
      return d.extend(req, id, reply);
    }
    if (parts.size() == 3 && parts[2] == "stream-info") {
      if (!get)
        return method_not_allowed("GET, HEAD");
      return d.stream_info(req, id, reply);
    }
  }
  if (first == "import" && parts.size() == 1) {
    if (m != "POST")
      return method_not_allowed("POST");
    return d.import_media(req, reply);
  }
  if (parts.size() == 1 && (first == "health" || first == "ready" || first == "metrics")) {
    if (!get)
      return method_not_allowed("GET, HEAD");
    if (first == "health")
      return reply(json_response(200, {{"status", "ok"}}));
    if (first == "ready") {
      if (!d.svc.ready())
        return reply(json_error(503, "Not ready"));
      return reply(json_response(200, {{"status", "ready"}}));
    }
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = d.metrics.serialize();
    return reply(std::move(r));
  }
  reply(json_error(404, "Not found"));
}

} // namespace hlsgate::http
