#include "live/channel.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "config/ladder.hpp"
#include "live/markers.hpp"
#include "media/names.hpp"
#include "net/url.hpp"

namespace hlsgate::live {

namespace {

using json = nlohmann::json;

constexpr size_t max_channel_body = 4096;
constexpr const char* channel_prefix = "live-";
/// Segments one window may list: bounds the record written at each segment,
/// the view copied for playlists and each playlist's size.
constexpr double max_window_segments = 1800;

/// The alphabet of auth::random_id (base64url): ids, stream keys.
bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool number_in(const json& v, double lo, double hi, double& out) {
  if (!v.is_number())
    return false;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    return false;
  out = d;
  return true;
}

std::string parse_source(const json& v, channel_config& out) {
  if (!v.is_object())
    return "source must be an object: {\"type\": \"test\"}, {\"type\": \"rtmp\"}, "
           "{\"type\": \"srt\"} or {\"type\": \"pull\", \"url\": \"https://...\"}";
  for (auto& [k, t] : v.items()) {
    if (k == "url") {
      if (!t.is_string())
        return "source.url must be a string";
      std::string why;
      if (!net::parse_url(t.get_ref<const std::string&>(), why))
        return "source.url: " + why;
      out.pull_url = t.get<std::string>();
      continue;
    }
    if (k == "encrypted") {
      if (!t.is_boolean())
        return "source.encrypted must be true or false";
      out.encrypted = t.get<bool>();
      continue;
    }
    if (k != "type")
      return "unknown field in source: " + k.substr(0, 40);
    if (!t.is_string())
      return "source.type must be a string";
    const auto& type = t.get_ref<const std::string&>();
    if (type == "test") {
      out.source = source_type::test;
    } else if (type == "rtmp") {
      out.source = source_type::rtmp;
    } else if (type == "srt") {
      out.source = source_type::srt;
    } else if (type == "pull") {
      out.source = source_type::pull;
    } else {
      return "source.type must be \"test\", \"rtmp\", \"srt\" or \"pull\"";
    }
  }
  if (!v.contains("type"))
    return "source.type is required";
  if (out.encrypted && out.source != source_type::srt)
    return "source.encrypted is for SRT sources";
  if (out.source == source_type::pull && out.pull_url.empty())
    return "a pull source needs source.url, an http or https URL";
  if (out.source != source_type::pull && !out.pull_url.empty())
    return "source.url is for pull sources";
  return "";
}

template <class T> bool get_int(const json& j, const char* k, T& out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number_integer())
    return false;
  out = it->get<T>();
  return true;
}

json segment_json(const live_segment& s) {
  return json::array({s.sequence, s.uri, s.duration, s.pdt_ms, s.discontinuity, s.bytes});
}

bool segment_from(const json& a, live_segment& s) {
  if (!a.is_array() || a.size() != 6 || !a[0].is_number_unsigned() || !a[1].is_string() ||
      !a[2].is_number() || !a[3].is_number_integer() || !a[4].is_boolean() ||
      !a[5].is_number_unsigned())
    return false;
  s.sequence = a[0].get<uint64_t>();
  s.uri = a[1].get<std::string>();
  media::segment_kind kind{};
  if (!media::parse_segment_file_name(s.uri, kind) || kind != media::segment_kind::ts)
    return false; // a file name in its rendition folder, nothing else
  s.duration = a[2].get<double>();
  s.pdt_ms = a[3].get<int64_t>();
  s.discontinuity = a[4].get<bool>();
  s.bytes = a[5].get<uint64_t>();
  return true;
}

} // namespace

std::string parse_channel_request(std::string_view body, channel_config& out) {
  if (body.size() > max_channel_body)
    return "Body is larger than 4 KiB";
  json j = json::parse(body, nullptr, false);
  if (!j.is_object())
    return "Body must be a JSON object {\"name\", \"source\", ...}";
  channel_config c = out;
  bool named = false;
  for (auto& [k, v] : j.items()) {
    double d = 0;
    if (k == "name") {
      if (!v.is_string() || !valid_label(v.get_ref<const std::string&>()))
        return "name must be 1-200 characters of text without quotes or control characters";
      c.name = v.get<std::string>();
      named = true;
    } else if (k == "source") {
      if (auto why = parse_source(v, c); !why.empty())
        return why;
    } else if (k == "segment_seconds") {
      if (!number_in(v, 1, 10, d))
        return "segment_seconds must be a number from 1 to 10";
      c.segment_seconds = d;
    } else if (k == "dvr_window_seconds") {
      if (!number_in(v, 6, 86400, d))
        return "dvr_window_seconds must be a number from 6 to 86400";
      c.dvr_seconds = d;
    } else if (k == "ladder") {
      std::vector<config::rung> rungs;
      if (!v.is_string())
        return "ladder must be a string like \"720:2800k,360:800k\"";
      if (auto why = config::parse_ladder(v.get_ref<const std::string&>(), rungs); !why.empty())
        return why;
      c.ladder = config::format_ladder(rungs);
    } else if (k == "expiry_minutes") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 10080)
        return "expiry_minutes must be an integer from 1 to 10080";
      c.expiry_minutes = v.get<unsigned>();
    } else if (k == "keep_event") {
      if (!v.is_boolean())
        return "keep_event must be true or false";
      c.keep_event = v.get<bool>();
    } else {
      return "unknown field: " + k.substr(0, 40);
    }
  }
  if (!named)
    return "name is required";
  if (!j.contains("source"))
    return "source is required, e.g. {\"type\": \"test\"}";
  if (c.dvr_seconds < 3 * c.segment_seconds)
    return "dvr_window_seconds must hold at least three segments";
  if (c.dvr_seconds > max_window_segments * c.segment_seconds)
    return "dvr_window_seconds may hold at most 1800 segments (raise segment_seconds)";
  out = std::move(c);
  return "";
}

const char* to_string(source_type t) {
  switch (t) {
  case source_type::rtmp:
    return "rtmp";
  case source_type::srt:
    return "srt";
  case source_type::pull:
    return "pull";
  case source_type::test:
    break;
  }
  return "test";
}

bool pushed(source_type t) {
  return t == source_type::rtmp || t == source_type::srt;
}

std::string srt_stream_key(std::string_view id) {
  constexpr std::string_view access_control = "#!::";
  if (id.size() > 512)
    return "";
  std::string_view key = id;
  if (id.substr(0, access_control.size()) == access_control) {
    // SRT's access control syntax: comma-separated key=value pairs; the
    // resource "r" names the channel by its stream key, the mode "m" (when
    // given) must be publish.
    key = {};
    bool has_key = false;
    std::string_view rest = id.substr(access_control.size());
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view pair = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos)
        return "";
      const std::string_view k = pair.substr(0, eq), v = pair.substr(eq + 1);
      if (k == "r") {
        if (has_key)
          return "";
        key = v;
        has_key = true;
      } else if (k == "m" && v != "publish") {
        return "";
      }
    }
  }
  if (key.empty() || key.size() > 64)
    return "";
  for (char c : key)
    if (!id_char(c))
      return "";
  return std::string(key);
}

const char* to_string(channel_status s) {
  switch (s) {
  case channel_status::waiting:
    return "waiting";
  case channel_status::live:
    return "live";
  case channel_status::reconnecting:
    return "reconnecting";
  case channel_status::ended:
    return "ended";
  }
  return "waiting";
}

std::string to_json(const channel_record& r) {
  json rends = json::array();
  for (auto& x : r.renditions) {
    json segs = json::array();
    for (auto& s : x.listed)
      segs.push_back(segment_json(s));
    json retired = json::array();
    for (auto& s : x.retired)
      retired.push_back(json::array({s.uri, s.delete_at_ms}));
    rends.push_back({{"name", x.name},
                     {"width", x.width},
                     {"height", x.height},
                     {"frame_rate", x.frame_rate},
                     {"codecs", x.codecs},
                     {"bandwidth", x.bandwidth},
                     {"next", x.next_sequence},
                     {"disc", x.discontinuity_sequence},
                     {"segments", std::move(segs)},
                     {"retired", std::move(retired)}});
  }
  json j = {{"v", 1},
            {"id", r.id},
            {"storage_id", r.storage_id},
            {"admin_key_hash", r.admin_key_hash},
            {"stream_key_hash", r.stream_key_hash},
            {"srt_passphrase", r.srt_passphrase},
            {"name", r.config.name},
            {"source", to_string(r.config.source)},
            {"pull_url", r.config.pull_url},
            {"segment_seconds", r.config.segment_seconds},
            {"dvr_seconds", r.config.dvr_seconds},
            {"ladder", r.config.ladder},
            {"expiry_minutes", r.config.expiry_minutes},
            {"keep_event", r.config.keep_event},
            {"created_at", r.created_at},
            {"expires_at", r.expires_at},
            {"token_gen", r.token_gen},
            {"stopped", r.stopped},
            {"next_file", r.next_file},
            {"renditions", std::move(rends)}};
  return j.dump();
}

bool from_json(std::string_view text, channel_record& out) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("v", 0) != 1)
    return false;
  channel_record r;
  try {
    r.id = j.at("id").get<std::string>();
    r.storage_id = j.at("storage_id").get<std::string>();
    r.admin_key_hash = j.at("admin_key_hash").get<std::string>();
    r.stream_key_hash = j.value("stream_key_hash", std::string{});
    r.srt_passphrase = j.value("srt_passphrase", std::string{}); // absent before encryption
    r.config.encrypted = !r.srt_passphrase.empty();
    r.config.name = j.at("name").get<std::string>();
    const auto source = j.at("source").get<std::string>();
    if (source == "rtmp")
      r.config.source = source_type::rtmp;
    else if (source == "srt")
      r.config.source = source_type::srt;
    else if (source == "pull")
      r.config.source = source_type::pull;
    else if (source != "test")
      return false;
    r.config.pull_url = j.value("pull_url", std::string{}); // absent before pull
    std::string why;
    if ((r.config.source == source_type::pull) != !r.config.pull_url.empty() ||
        (!r.config.pull_url.empty() && !net::parse_url(r.config.pull_url, why)))
      return false;
    r.config.segment_seconds = j.at("segment_seconds").get<double>();
    r.config.dvr_seconds = j.at("dvr_seconds").get<double>();
    r.config.ladder = j.at("ladder").get<std::string>();
    r.config.expiry_minutes = j.at("expiry_minutes").get<unsigned>();
    r.config.keep_event = j.at("keep_event").get<bool>();
    r.created_at = j.at("created_at").get<int64_t>();
    r.expires_at = j.at("expires_at").get<int64_t>();
    r.token_gen = j.at("token_gen").get<uint64_t>();
    r.stopped = j.at("stopped").get<bool>();
    r.next_file = j.value("next_file", uint64_t{0}); // absent in records of 0.x
    for (auto& x : j.at("renditions")) {
      rendition_state s;
      s.name = x.at("name").get<std::string>();
      s.width = x.at("width").get<int>();
      s.height = x.at("height").get<int>();
      s.frame_rate = x.at("frame_rate").get<double>();
      s.codecs = x.at("codecs").get<std::string>();
      s.bandwidth = x.at("bandwidth").get<uint64_t>();
      s.next_sequence = x.at("next").get<uint64_t>();
      s.discontinuity_sequence = x.at("disc").get<uint64_t>();
      for (auto& a : x.at("segments")) {
        live_segment seg;
        if (!segment_from(a, seg))
          return false;
        s.listed.push_back(std::move(seg));
      }
      if (auto it = x.find("retired"); it != x.end())
        for (auto& a : *it) {
          media::segment_kind kind{};
          if (!a.is_array() || a.size() != 2 || !a[0].is_string() || !a[1].is_number_integer() ||
              !media::parse_segment_file_name(a[0].get_ref<const std::string&>(), kind))
            return false;
          s.retired.push_back({a[0].get<std::string>(), a[1].get<int64_t>()});
        }
      r.renditions.push_back(std::move(s));
    }
  } catch (const json::exception&) {
    return false;
  }
  if (!is_channel_storage_id(r.storage_id) || !(r.config.segment_seconds > 0))
    return false;
  out = std::move(r);
  return true;
}

std::string to_json(const marker& m) {
  return json{{"id", m.id},
              {"label", m.label},
              {"class", m.cls},
              {"start_ms", m.start_ms},
              {"duration", m.duration},
              {"data", m.data}}
      .dump();
}

bool from_json(std::string_view text, marker& out) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object())
    return false;
  marker m;
  if (!get_int(j, "start_ms", m.start_ms))
    return false;
  try {
    m.id = j.at("id").get<std::string>();
    m.label = j.at("label").get<std::string>();
    m.cls = j.at("class").get<std::string>();
    m.duration = j.at("duration").get<double>();
    m.data = j.at("data").get<std::string>();
  } catch (const json::exception&) {
    return false;
  }
  out = std::move(m);
  return true;
}

std::string channel_storage_id(const std::string& random_id) {
  return channel_prefix + random_id;
}

bool is_channel_storage_id(std::string_view name) {
  if (name.size() != 27 || name.substr(0, 5) != channel_prefix)
    return false;
  for (char c : name.substr(5))
    if (!id_char(c))
      return false;
  return true;
}

unsigned estimate_viewers(uint64_t requests, double span_seconds, int target_seconds) {
  if (requests == 0 || !(span_seconds > 0) || target_seconds <= 0)
    return 0;
  return static_cast<unsigned>(
      std::ceil(static_cast<double>(requests) * target_seconds / span_seconds - 1e-9));
}

} // namespace hlsgate::live
