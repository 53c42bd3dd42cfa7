#include "net/url.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/ip/address.hpp>

namespace hlsgate::net {

namespace {

constexpr size_t max_url = 2048;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != prefix[i])
      return false;
  return true;
}

/// Letters, digits, '-', '_' (container and service names have them) in
/// non-empty dot-separated labels: no empty label, no trailing dot (it would
/// reach TLS name checks as part of the name).
bool host_name_ok(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.' || h.front() == '-' ||
      h.find("..") != std::string_view::npos)
    return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::string_view last_label(std::string_view host) {
  const size_t dot = host.rfind('.');
  return dot == std::string_view::npos ? host : host.substr(dot + 1);
}

bool numeric_label(std::string_view l) {
  if (l.size() > 1 && l[0] == '0' && l[1] == 'x')
    return true;
  return !l.empty() && std::all_of(l.begin(), l.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

std::string url::authority() const {
  std::string a = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80))
    a += ":" + std::to_string(port);
  return a;
}

std::string url::text() const {
  return (tls ? "https://" : "http://") + authority() + target;
}

std::optional<url> parse_url(std::string_view text, std::string& why) {
  url u;
  if (text.size() > max_url) {
    why = "URL longer than 2048 bytes";
    return std::nullopt;
  }
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7f) {
      why = "URL contains spaces, control or non-ASCII characters";
      return std::nullopt;
    }
  }
  if (starts_with_ci(text, "http://")) {
    text.remove_prefix(7);
  } else if (starts_with_ci(text, "https://")) {
    text.remove_prefix(8);
    u.tls = true;
  } else {
    why = "only http and https URLs are allowed";
    return std::nullopt;
  }
  if (text.find('#') != std::string_view::npos) {
    why = "URL must not have a fragment";
    return std::nullopt;
  }
  const size_t end = text.find_first_of("/?");
  std::string_view authority = text.substr(0, end);
  u.target = end == std::string_view::npos ? "/" : std::string{text.substr(end)};
  if (u.target.front() == '?')
    u.target.insert(u.target.begin(), '/');
  if (authority.find('@') != std::string_view::npos) {
    why = "URL must not carry user information";
    return std::nullopt;
  }
  std::string_view host, port;
  bool port_given = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "unterminated IPv6 address";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      why = "bad URL authority";
      return std::nullopt;
    }
    if (!rest.empty()) {
      port = rest.substr(1);
      port_given = true;
    }
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address_v6(std::string{host}, ec);
    if (ec || host.find('%') != std::string_view::npos) { // no zone ids
      why = "bad IPv6 address";
      return std::nullopt;
    }
    u.host = a.to_string();
    u.host_is_ip = true;
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      port_given = true;
    }
    for (char c : host)
      u.host.push_back(lower(c));
    if (!host_name_ok(u.host)) {
      why = "bad host name";
      return std::nullopt;
    }
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address_v4(u.host, ec);
    if (!ec) {
      u.host = a.to_string();
      u.host_is_ip = true;
    } else if (numeric_label(last_label(u.host))) {
      // "2130706433", "127.1" or "0x7f.0.0.1": spellings of an address that
      // resolvers accept; no top-level domain is numeric.
      why = "bad IPv4 address";
      return std::nullopt;
    }
  }
  int p = u.tls ? 443 : 80;
  if (port_given) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || ptr != port.data() + port.size() || p < 1 || p > 65535) {
      why = "bad port";
      return std::nullopt;
    }
  }
  u.port = static_cast<uint16_t>(p);
  return u;
}

std::optional<url> resolve_reference(const url& base, std::string_view ref, std::string& why) {
  if (const size_t hash = ref.find('#'); hash != std::string_view::npos)
    ref = ref.substr(0, hash);
  if (ref.size() > max_url) {
    why = "URL longer than 2048 bytes";
    return std::nullopt;
  }
  if (ref.empty())
    return parse_url(base.text(), why);
  // A scheme: letters, digits, '+', '-', '.' before the first ':' that
  // comes before any '/', '?'.
  const size_t colon = ref.find(':');
  const size_t delim = ref.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 &&
      (delim == std::string_view::npos || colon < delim))
    return parse_url(ref, why);
  const std::string scheme = base.tls ? "https:" : "http:";
  std::string joined;
  if (ref.substr(0, 2) == "//") {
    joined = scheme + std::string{ref};
  } else if (!ref.empty() && ref.front() == '/') {
    joined = scheme + "//" + base.authority() + std::string{ref};
  } else {
    const std::string_view path = std::string_view{base.target}.substr(0, base.target.find('?'));
    if (ref.empty() || ref.front() == '?')
      joined = scheme + "//" + base.authority() + std::string{path} + std::string{ref};
    else
      joined = scheme + "//" + base.authority() + std::string{path.substr(0, path.rfind('/') + 1)} +
               std::string{ref};
  }
  return parse_url(joined, why);
}

} // namespace hlsgate::net
