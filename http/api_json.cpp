#include "http/api_json.hpp"

#include "metrics/log.hpp"

#include "media/subtitles.hpp"

#include <ctime>
#include <filesystem>
#include <sstream>

namespace hlsgate::http {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

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
  if (r.kind != actors::rendition_kind::variant) {
    j["kind"] = r.kind == actors::rendition_kind::audio ? "audio" : "subtitles";
    j["language"] = r.language;
    j["label"] = r.label;
    j["default"] = r.is_default;
    if (r.kind == actors::rendition_kind::subtitles)
      j["forced"] = r.forced;
  } else {
    j["kind"] = "variant";
  }
  if (r.has_video) {
    j["width"] = r.width;
    j["height"] = r.height;
    j["frame_rate"] = r.frame_rate;
  }
  return j;
}

json renditions_json(const actors::media_record& m) {
  auto out = json::array();
  for (auto& r : m.renditions)
    out.push_back(rendition_json(r));
  return out;
}

} // namespace

response json_response(unsigned status, const json& body) {
  response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string iso8601(int64_t t) {
  if (t <= 0)
    return {};
  return logging::utc_iso8601(static_cast<std::time_t>(t));
}

std::string vod_playlist_url(const std::string& public_url, const std::string& id,
                             const std::string& token) {
  return public_url + "/stream/" + id + "/playlist.m3u8?token=" + token;
}

json upload_json(const actors::upload_result& u, const std::string& playlist_url) {
  const bool ready = u.status == actors::media_status::ready;
  return {{"media_id", u.media_id},
          {"access_token", u.access_token},
          {"admin_key", u.admin_key},
          {"playlist_url", playlist_url},
          {"expires_in_minutes", u.expiry_minutes},
          {"expires_at", iso8601(u.expires_at)},
          {"status", actors::to_string(u.status)},
          {"progress", u.progress},
          {"message", ready ? "Media uploaded and ready to stream"
                            : "Media uploaded; transcoding in progress"}};
}

json token_json(const actors::token_result& t, const std::string& playlist_url) {
  // expires_at: the token's own expiry; null when it lives as long as the media.
  return {{"media_id", t.media_id},
          {"access_token", t.access_token},
          {"jti", t.jti},
          {"label", t.label},
          {"playlist_url", playlist_url},
          {"expires_in_minutes", t.expires_in_minutes},
          {"expires_at", t.expires_at == 0 ? json(nullptr) : json(iso8601(t.expires_at))},
          {"media_expires_at", iso8601(t.media_expires_at)}};
}

json token_list_json(const actors::token_list& l) {
  auto arr = json::array();
  for (const auto& t : l)
    arr.push_back({{"jti", t.jti},
                   {"label", t.label},
                   {"created_at", iso8601(t.created_at)},
                   {"expires_at", t.expires_at == 0 ? json(nullptr) : json(iso8601(t.expires_at))},
                   {"revoked", t.revoked}});
  return arr;
}

json info_json(const actors::info_result& i) {
  auto& m = i.record;
  json body{{"media_id", m.media_id},
            {"upload_time", iso8601(m.upload_time)},
            {"expiry_minutes", m.expiry_minutes()},
            {"expires_at", iso8601(m.expires_at)},
            {"last_token_refresh", iso8601(m.last_token_refresh)},
            {"created_at", iso8601(m.created_at)},
            {"updated_at", iso8601(m.updated_at)},
            {"status", actors::reported_status(m)},
            {"progress", i.progress},
            {"eta_seconds", i.eta_seconds},
            {"duration", m.duration},
            {"thumbnails", m.has_thumbnails},
            {"imported", !m.source_owned},
            {"original_name", m.original_name},
            {"renditions", renditions_json(m)}};
  if (!m.error.empty())
    body["error"] = m.error;
  return body;
}

json media_page_json(const actors::media_page& p) {
  json items = json::array();
  for (const auto& m : p.items)
    items.push_back({{"media_id", m.media_id},
                     {"original_name", m.name},
                     {"status", m.status},
                     {"created_at", iso8601(m.created_at)},
                     {"expires_at", iso8601(m.expires_at)},
                     {"duration", m.duration}});
  return {{"items", std::move(items)},
          {"next_cursor", p.next_cursor.empty() ? json(nullptr) : json(p.next_cursor)}};
}

std::string parse_media_filter(std::string_view status, std::string_view q,
                               actors::media_filter& out) {
  if (!status.empty() && !actors::is_listed_status(status))
    return "status must be one of queued, processing, ready, failed, imported";
  if (q.size() > 200)
    return "q is longer than 200 bytes";
  if (!media::valid_utf8(q))
    return "q is not UTF-8";
  for (char c : q)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "q contains control characters";
  out.status.assign(status);
  out.q.assign(q);
  return "";
}

json extend_json(const actors::extend_result& x) {
  return {{"media_id", x.media_id},
          {"previous_expiry_minutes", x.previous_expiry_minutes},
          {"new_expiry_minutes", x.new_expiry_minutes},
          {"extended_by_minutes", x.extended_by_minutes},
          {"expires_at", iso8601(x.expires_at)},
          {"message", "Expiry extended"}};
}

json stream_info_json(const actors::stream_info_result& s, const std::string& public_url,
                      const std::string& token) {
  auto& m = s.record;
  auto base = public_url + "/stream/" + m.media_id + "/";
  json body{{"media_id", m.media_id},
            {"format", "hls"},
            {"ready", m.status == actors::media_status::ready},
            {"playable", s.playable},
            {"status", actors::reported_status(m)},
            {"progress", s.progress},
            {"manifest_url", base + "playlist.m3u8?token=" + token},
            {"duration", m.duration},
            {"expires_at", iso8601(m.expires_at)},
            {"renditions", renditions_json(m)}};
  if (m.has_thumbnails) {
    body["poster_url"] = base + "poster.jpg?token=" + token;
    body["storyboard_url"] = base + "storyboard.vtt?token=" + token;
  }
  if (!m.error.empty())
    body["error"] = m.error;
  return body;
}

json import_json(const actors::import_result& r,
                 const std::function<std::string(const std::string&, const std::string&)>& url) {
  auto items = json::array();
  for (auto& i : r.items) {
    if (!i.error.empty()) {
      items.push_back({{"path", i.path}, {"error", i.error}});
      continue;
    }
    items.push_back({{"path", i.path},
                     {"media_id", i.media_id},
                     {"access_token", i.access_token},
                     {"admin_key", i.admin_key},
                     {"playlist_url", url(i.media_id, i.access_token)},
                     {"expires_at", iso8601(i.expires_at)}});
  }
  return {{"items", std::move(items)}};
}

std::string storyboard_with_token(const std::string& vtt, const std::string& token) {
  std::istringstream in{vtt};
  std::string out;
  std::string line;
  const std::string ref = "sprite.jpg#";
  while (std::getline(in, line)) {
    if (line.rfind(ref, 0) == 0)
      line = "sprite.jpg?token=" + token + "#" + line.substr(ref.size());
    out.append(line).push_back('\n');
  }
  return out;
}

std::string parse_token_request(const std::string& text, actors::token_request& out) {
  out = {};
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return {};
  auto body = json::parse(text, nullptr, false);
  if (!body.is_object())
    return "Body must be {\"expires_in_minutes\": N, \"label\": \"...\"}";
  for (auto& [k, v] : body.items()) {
    if (k == "expires_in_minutes") {
      if (v.is_null())
        continue;
      if (!v.is_number_unsigned() || v.get<uint64_t>() < 1 || v.get<uint64_t>() > 10080)
        return "expires_in_minutes must be an integer in [1, 10080]";
      out.expires_in_minutes = v.get<unsigned>();
    } else if (k == "label") {
      if (!v.is_string())
        return "label must be a string";
      out.label = v.get<std::string>();
      if (out.label.size() > 200)
        return "label is longer than 200 bytes";
    } else {
      return "Unknown field '" + k.substr(0, 40) + "'";
    }
  }
  return {};
}

namespace {

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

} // namespace

std::string check_subtitle_params(std::string_view language, std::string_view name) {
  if (language.size() > 35)
    return "language is longer than 35 bytes";
  if (!language.empty()) {
    size_t start = 0;
    for (size_t i = 0; i <= language.size(); ++i) {
      if (i < language.size() && language[i] != '-') {
        if (!alnum(language[i]))
          return "language must be a tag such as en or pt-BR";
        continue;
      }
      const size_t len = i - start;
      const bool first = start == 0;
      bool letters = true;
      for (size_t k = start; k < i; ++k)
        letters = letters && !(language[k] >= '0' && language[k] <= '9');
      if (len < 1 || len > 8 || (first && (len < 2 || len > 3 || !letters)))
        return "language must be a tag such as en or pt-BR";
      start = i + 1;
    }
  }
  if (name.size() > 64)
    return "name is longer than 64 bytes";
  if (!media::valid_utf8(name))
    return "name is not UTF-8";
  for (char c : name)
    if (c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "name holds a control character or a quote";
  // C1 controls (U+0080-U+009F: C2 80-9F) and the line/paragraph separators
  // U+2028/U+2029 (E2 80 A8/A9), which some parsers take for line breaks.
  for (size_t i = 0; i + 1 < name.size(); ++i) {
    const auto a = static_cast<unsigned char>(name[i]), b = static_cast<unsigned char>(name[i + 1]);
    if ((a == 0xc2 && b >= 0x80 && b <= 0x9f) ||
        (a == 0xe2 && b == 0x80 && i + 2 < name.size() &&
         (static_cast<unsigned char>(name[i + 2]) == 0xa8 ||
          static_cast<unsigned char>(name[i + 2]) == 0xa9)))
      return "name holds a control character or a quote";
  }
  return {};
}

json subtitle_json(const actors::subtitle_result& r) {
  return {{"media_id", r.media_id},
          {"rendition", r.rendition},
          {"cues", r.cues},
          {"segments", r.segments},
          {"message", "Subtitles added"}};
}

body_error parse_import_body(const std::string& text, const std::string& import_root,
                             unsigned max_expiry_minutes, actors::import_params& p) {
  auto body = json::parse(text, nullptr, false);
  if (!body.is_object() || !body.contains("paths") || !body["paths"].is_array() ||
      body["paths"].empty())
    return {422, "Body must be {\"paths\": [\"...\"], \"expiry_minutes\": N}"};
  p.expiry_minutes = max_expiry_minutes;
  if (body.contains("expiry_minutes")) {
    auto& e = body["expiry_minutes"];
    if (!e.is_number_unsigned() || e.get<uint64_t>() < 1 || e.get<uint64_t>() > max_expiry_minutes)
      return {422, "expiry_minutes must be an integer in [1, " +
                       std::to_string(max_expiry_minutes) + "]"};
    p.expiry_minutes = e.get<unsigned>();
  }
  std::error_code ec;
  auto root = fs::weakly_canonical(import_root, ec);
  for (auto& v : body["paths"]) {
    if (!v.is_string())
      return {422, "paths must be strings"};
    const std::string s = v.get<std::string>();
    if (s.find('\0') != std::string::npos)
      return {422, "paths must not contain NUL"};
    fs::path path{s};
    if (!path.is_absolute())
      return {422, "paths must be absolute"};
    auto canon = fs::weakly_canonical(path, ec);
    auto rel = canon.lexically_relative(root);
    if (ec || rel.empty() || *rel.begin() == "..")
      return {403, "Path is outside the import root"};
    p.paths.push_back(canon.string());
  }
  return {};
}

} // namespace hlsgate::http
