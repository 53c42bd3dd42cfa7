// Absolute http(s) URLs as hlsgate accepts them from users (webhook targets,
// the CLI's server): parsed strictly, never normalised into something else.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hlsgate::net {

struct url {
  bool tls = false;   ///< https
  std::string host;   ///< lower-case; IPv6 without brackets
  uint16_t port = 0;  ///< explicit or the scheme's default
  std::string target; ///< path and query, "/" when empty; no fragment
  bool host_is_ip = false;

  /// `host` as it goes into a Host header (brackets for IPv6, the port
  /// when it is not the default).
  std::string authority() const;
  /// The whole URL again: scheme, authority and target.
  std::string text() const;
};

/// Parses `text`: scheme http or https (any case), no user information, no
/// fragment, no whitespace or control characters, a host name of letters,
/// digits, '-' and '.' or an IP literal, port 1-65535, at most 2048 bytes.
/// nullopt with a short reason otherwise.
std::optional<url> parse_url(std::string_view text, std::string& why);

/// `ref` (a redirect's Location, a playlist entry) read relative to `base`
/// as RFC 3986 section 5.2 does for the forms servers send: an absolute
/// URL, "//authority/path", "/path", "?query" or a relative path (dot
/// segments are left for the server). The fragment is dropped. The result
/// passes parse_url's rules (so another scheme is refused), or nullopt
/// with a reason.
std::optional<url> resolve_reference(const url& base, std::string_view ref, std::string& why);

} // namespace hlsgate::net
