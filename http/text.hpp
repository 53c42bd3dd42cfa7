// Small ASCII text helpers shared by the HTTP server and the multipart parser.
// Locale-independent on purpose: HTTP field names, tokens and escapes are
// ASCII (RFC 9110 §5.1, §5.6.2).
#pragma once

#include <cstddef>
#include <string_view>

namespace hlsgate::http::text {

/// 'A'..'Z' to 'a'..'z'; every other byte unchanged.
inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

/// ASCII case-insensitive equality.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  return true;
}

/// `s` without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Value of a hex digit (either case), or -1.
inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace hlsgate::http::text
