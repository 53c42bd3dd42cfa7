#include "http/query.hpp"

#include "http/text.hpp"

namespace hlsgate::http::query {

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.reserve(out.size() + in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3)
        return false;
      const int hi = text::hex_value(in[i + 1]);
      const int lo = text::hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      const char d = static_cast<char>(hi * 16 + lo);
      if (d == '\0')
        return false;
      out.push_back(d);
      i += 2;
    } else if (c == '\0') {
      return false;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::string percent_encode(std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

bool raw_value(std::string_view query, std::string_view key, std::string_view& value) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      return true;
    }
  }
  return false;
}

bool param(std::string_view query, std::string_view name, std::string& out) {
  std::string key;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    const size_t eq = pair.find('=');
    key.clear();
    if (!percent_decode(pair.substr(0, eq), key, true) || key != name)
      continue;
    out.clear();
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), out, true))
      out.assign(pair.substr(eq + 1));
    return true;
  }
  return false;
}

} // namespace hlsgate::http::query

#include "http/server.hpp"

namespace hlsgate::http {

std::string_view request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (text::iequals(n, name))
      return v;
  return {};
}

bool request::query_param(std::string_view name, std::string& out) const {
  return query::param(query, name, out);
}

} // namespace hlsgate::http
