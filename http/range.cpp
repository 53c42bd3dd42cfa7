#include "http/range.hpp"

#include "http/text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace hlsgate::http {

namespace {

bool digits(std::string_view s, uint64_t& v) {
  if (s.empty() || s.size() > 19)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return std::from_chars(s.data(), s.data() + s.size(), v).ec == std::errc{};
}

/// Weak comparison (RFC 9110 §8.8.3.2): opaque tags equal, W/ ignored.
bool weak_equal(std::string_view a, std::string_view b) {
  if (a.substr(0, 2) == "W/")
    a.remove_prefix(2);
  if (b.substr(0, 2) == "W/")
    b.remove_prefix(2);
  return a == b;
}

/// If-None-Match = "*" / #entity-tag (RFC 9110 §13.1.2).
bool none_match(std::string_view header, std::string_view etag) {
  header = text::trim(header);
  if (header == "*")
    return true;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    const std::string_view tag = text::trim(header.substr(0, comma));
    if (!tag.empty() && weak_equal(tag, etag))
      return true;
    if (comma == std::string_view::npos)
      break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace

std::string imf_fixdate(int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr)
    return {};
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

range_kind parse_byte_range(std::string_view h, uint64_t size, uint64_t& first, uint64_t& last) {
  const size_t eq = h.find('=');
  if (eq == std::string_view::npos || !text::iequals(text::trim(h.substr(0, eq)), "bytes"))
    return range_kind::none;
  const std::string_view spec = text::trim(h.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos)
    return range_kind::none;
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos)
    return range_kind::none;
  const std::string_view a = spec.substr(0, dash);
  const std::string_view b = spec.substr(dash + 1);
  uint64_t x = 0;
  uint64_t y = 0;
  if (a.empty()) { // suffix-range: the last y bytes
    if (!digits(b, y))
      return range_kind::none;
    if (y == 0 || size == 0)
      return range_kind::unsatisfiable;
    first = size - std::min(y, size);
    last = size - 1;
    return range_kind::partial;
  }
  if (!digits(a, x))
    return range_kind::none;
  if (b.empty()) {
    if (x >= size)
      return range_kind::unsatisfiable;
    first = x;
    last = size - 1;
    return range_kind::partial;
  }
  if (!digits(b, y) || y < x) // an invalid range-spec: the field is ignored
    return range_kind::none;
  if (x >= size)
    return range_kind::unsatisfiable;
  first = x;
  last = std::min(y, size - 1);
  return range_kind::partial;
}

file_decision decide_file(const file_facts& f, const file_conditions& c) {
  file_decision d;
  char etag[48];
  const int n =
      std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(f.mtime),
                    static_cast<unsigned long long>(f.size));
  d.etag.assign(etag, static_cast<size_t>(std::max(n, 0)));
  d.last_modified = imf_fixdate(f.mtime);
  d.length = f.size;
  d.send_body = !c.head;
  if (!c.if_none_match.empty() && none_match(c.if_none_match, d.etag)) {
    d.status = 304;
    d.length = 0;
    d.send_body = false;
    return d;
  }
  if (c.head || c.range.empty())
    return d;
  if (!c.if_range.empty()) {
    const std::string_view v = text::trim(c.if_range);
    // Strong comparison for an entity-tag; a date must be our exact date.
    const bool is_tag = !v.empty() && (v.front() == '"' || v.substr(0, 2) == "W/");
    const bool fresh = is_tag ? v == d.etag : v == d.last_modified;
    if (!fresh)
      return d;
  }
  uint64_t first = 0;
  uint64_t last = 0;
  switch (parse_byte_range(c.range, f.size, first, last)) {
  case range_kind::none:
    return d;
  case range_kind::unsatisfiable:
    d.status = 416;
    d.length = 0;
    d.send_body = false;
    d.content_range = "bytes */" + std::to_string(f.size);
    return d;
  case range_kind::partial:
    break;
  }
  d.status = 206;
  d.first = first;
  d.length = last - first + 1;
  d.content_range =
      "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(f.size);
  return d;
}

} // namespace hlsgate::http
