// The lexical pieces of an HLS playlist (RFC 8216 §4.2) that the proxy's
// rewriter reads: trimming, decimal integers and floats, attribute lists
// (quoted strings honoured), byte ranges, URL schemes. Internal to proxy/
// (rewrite.cpp and its tests); pure, no allocation.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hlsgate::proxy::m3u {

inline constexpr size_t npos = std::string::npos;
inline constexpr double max_duration = 86400; ///< a duration above is refused

inline bool blank(char c) {
  return c == ' ' || c == '\t';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return s;
}

/// A decimal-integer (RFC 8216 §4.2): digits only, 0 .. 2^63-1.
inline bool parse_sequence(std::string_view s, int64_t& out) {
  s = trim(s);
  if (s.empty() || s.size() > 19)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

/// A decimal-floating-point without sign or exponent, 0 .. 86400.
inline bool parse_duration(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty() || s.size() > 32)
    return false;
  bool dot = false, digit = false;
  for (char c : s) {
    if (c == '.' && !dot)
      dot = true;
    else if (c >= '0' && c <= '9')
      digit = true;
    else
      return false;
  }
  if (!digit)
    return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size() && std::isfinite(out) && out >= 0 &&
         out <= max_duration;
}

inline void append_int(std::string& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

inline bool ieq_ascii(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (c != lower[i])
      return false;
  }
  return true;
}

/// The scheme of `ref` ("" for a relative reference).
inline std::string_view scheme_of(std::string_view ref) {
  const size_t colon = ref.find(':');
  if (colon == npos || colon == 0 || colon > ref.find_first_of("/?#"))
    return {};
  return ref.substr(0, colon);
}

struct attr {
  std::string_view name;
  size_t begin = 0, end = 0; ///< the value within the list (inside the quotes when quoted)
  bool quoted = false;
};

/// Calls `f(attr)` for each attribute of an attribute list (RFC 8216
/// §4.2), honouring quoted strings; false when the list is malformed or
/// `f` returns false. Blanks around names and values are tolerated.
template <class F> inline bool for_each_attr(std::string_view list, F&& f) {
  const size_t n = list.size();
  size_t i = 0;
  for (;;) {
    while (i < n && blank(list[i]))
      ++i;
    if (i == n)
      return true;
    size_t eq = i;
    while (eq < n && list[eq] != '=' && list[eq] != ',' && list[eq] != '"')
      ++eq;
    if (eq == n || list[eq] != '=')
      return false;
    attr a;
    a.name = trim(list.substr(i, eq - i));
    if (a.name.empty())
      return false;
    size_t v = eq + 1;
    while (v < n && blank(list[v]))
      ++v;
    size_t next;
    if (v < n && list[v] == '"') {
      const size_t close = list.find('"', v + 1);
      if (close == npos)
        return false;
      a.quoted = true;
      a.begin = v + 1;
      a.end = close;
      next = close + 1;
      while (next < n && blank(list[next]))
        ++next;
      if (next < n && list[next] != ',')
        return false;
    } else {
      next = list.find(',', v);
      if (next == npos)
        next = n;
      a.begin = v;
      a.end = next;
      if (list.substr(v, next - v).find('"') != npos)
        return false;
    }
    if (!f(a))
      return false;
    if (next >= n)
      return true;
    i = next + 1;
  }
}

/// "<length>[@<offset>]" (RFC 8216 §4.3.2.2): a length of at least 1 and,
/// when present, an offset (else -1), whose last byte fits in int64.
inline bool parse_byterange(std::string_view v, int64_t& length, int64_t& offset) {
  v = trim(v);
  const size_t at = v.find('@');
  offset = -1;
  if (!parse_sequence(v.substr(0, at), length) || length < 1)
    return false;
  if (at != npos && !parse_sequence(v.substr(at + 1), offset))
    return false;
  int64_t last = 0;
  return !__builtin_add_overflow(std::max<int64_t>(offset, 0), length - 1, &last);
}

} // namespace hlsgate::proxy::m3u
