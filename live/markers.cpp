#include "live/markers.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "media/subtitles.hpp"
#include "metrics/log.hpp"

namespace hlsgate::live {

namespace {

using json = nlohmann::json;

bool class_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

} // namespace

bool valid_label(std::string_view s) {
  if (s.empty() || s.size() > 200 || !media::valid_utf8(s))
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '"')
      return false;
    // C1 controls, U+0080..U+009F, are 0xC2 0x80..0x9F in UTF-8.
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0)
      return false;
  }
  return true;
}

namespace {

int digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size())
    return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

constexpr int64_t min_ms = 946684800000;  // 2000-01-01
constexpr int64_t max_ms = 4102444800000; // 2100-01-01

void base64(std::string_view in, std::string& out) {
  static constexpr char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += tab[v >> 18];
    out += tab[(v >> 12) & 63];
    out += tab[(v >> 6) & 63];
    out += tab[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += tab[v >> 18];
    out += tab[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += tab[v >> 18];
    out += tab[(v >> 12) & 63];
    out += tab[(v >> 6) & 63];
    out += '=';
  }
}

} // namespace

std::string iso8601_ms(int64_t unix_ms) {
  const int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const int ms = static_cast<int>(unix_ms - secs * 1000);
  std::string out = logging::utc_iso8601(static_cast<std::time_t>(secs)); // ...SSZ
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", ms);
  out.pop_back();
  out += frac;
  return out;
}

bool parse_iso8601_ms(std::string_view s, int64_t& unix_ms) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return false;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
    return false;
  static constexpr int days_in[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > days_in[mo - 1] || (mo == 2 && d == 29 && !leap))
    return false;
  size_t at = 19;
  int ms = 0;
  if (at < s.size() && s[at] == '.') {
    size_t n = 0;
    ++at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9' && n < 9) {
      if (n < 3)
        ms = ms * 10 + (s[at] - '0');
      ++n;
      ++at;
    }
    if (n == 0)
      return false;
    for (size_t k = n; k < 3; ++k)
      ms *= 10;
  }
  int offset_min = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
    if (oh < 0 || om < 0 || at + 3 >= s.size() || s[at + 3] != ':' || oh > 23 || om > 59)
      return false;
    offset_min = (oh * 60 + om) * (s[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return false; // a zone is required: a local time names no instant
  }
  if (at != s.size())
    return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  const int64_t secs = static_cast<int64_t>(timegm(&tm)) - int64_t{offset_min} * 60;
  unix_ms = secs * 1000 + ms;
  return true;
}

std::string parse_marker(std::string_view body, int64_t now_ms, marker& out) {
  if (body.size() > max_marker_body)
    return "Body is larger than 8 KiB";
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object())
    return "Body must be a JSON object {\"label\", \"class\", \"at\", \"duration\", \"data\"}";
  marker m;
  m.id = out.id;
  bool has_label = false;
  m.start_ms = now_ms;
  for (auto& [k, v] : j.items()) {
    if (k == "label") {
      if (!v.is_string() || !valid_label(v.get_ref<const std::string&>()))
        return "label must be 1-200 bytes of UTF-8 text without quotes or control characters";
      m.label = v.get<std::string>();
      has_label = true;
    } else if (k == "class") {
      if (!v.is_string())
        return "class must be a string";
      const auto& c = v.get_ref<const std::string&>();
      if (c.empty() || c.size() > 64)
        return "class must be 1-64 characters of A-Z a-z 0-9 . _ -";
      for (char ch : c)
        if (!class_char(ch))
          return "class must be 1-64 characters of A-Z a-z 0-9 . _ -";
      m.cls = c;
    } else if (k == "at") {
      if (v.is_number_integer()) {
        m.start_ms = v.get<int64_t>();
      } else if (v.is_string()) {
        if (!parse_iso8601_ms(v.get_ref<const std::string&>(), m.start_ms))
          return "at must be ISO 8601 with a zone (2026-12-06T20:00:00.250Z) or unix milliseconds";
      } else if (!v.is_null()) {
        return "at must be ISO 8601 with a zone (2026-12-06T20:00:00.250Z) or unix milliseconds";
      }
      if (m.start_ms < min_ms || m.start_ms >= max_ms)
        return "at must be between 2000 and 2100";
    } else if (k == "duration") {
      if (v.is_null())
        continue;
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
          v.get<double>() > 86400)
        return "duration must be a number of seconds in [0, 86400]";
      m.duration = v.get<double>();
    } else if (k == "data") {
      if (v.is_null())
        continue;
      if (!v.is_object())
        return "data must be a JSON object";
      m.data = v.dump(-1, ' ', false, json::error_handler_t::replace);
      if (m.data.size() > max_marker_data)
        return "data is larger than 4 KiB";
    } else {
      return "Unknown field: " + (k.size() > 40 ? k.substr(0, 40) + "..." : k);
    }
  }
  if (!has_label)
    return "label is required";
  out = std::move(m);
  return "";
}

void write_daterange(const marker& m, std::string& out) {
  out += "#EXT-X-DATERANGE:ID=\"";
  out += m.id;
  out += "\",CLASS=\"";
  out += m.cls;
  out += "\",START-DATE=\"";
  out += iso8601_ms(m.start_ms);
  out += '"';
  if (m.duration >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ",DURATION=%.3f", m.duration);
    out += buf;
  } else {
    out += ",END-ON-NEXT=YES";
  }
  out += ",X-LABEL=\"";
  out += m.label;
  out += '"';
  if (!m.data.empty()) {
    out += ",X-DATA=\"";
    base64(m.data, out);
    out += '"';
  }
  out += '\n';
}

} // namespace hlsgate::live
