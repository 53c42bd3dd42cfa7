#include "http/errors.hpp"

namespace hlsgate::http {

using actors::api_errc;

unsigned to_status(api_errc e) noexcept {
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
  case api_errc::insufficient_storage:
    return 507;
  case api_errc::unsupported_media:
    return 415;
  case api_errc::bad_parameter:
  case api_errc::limit_exceeded:
  case api_errc::failed:
    return 422;
  case api_errc::queue_full:
    return 429;
  case api_errc::try_later:
  case api_errc::shutting_down:
  case api_errc::unavailable:
    return 503;
  case api_errc::bad_gateway:
    return 502;
  case api_errc::internal:
    break;
  }
  return 500;
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (u < 0x20 || u == 0x7f) {
        out += "\\u00";
        out.push_back(hex[u >> 4]);
        out.push_back(hex[u & 15]);
      } else {
        out.push_back(c);
      }
    }
  }
}

response error_response(unsigned status, std::string_view detail, std::string_view allow) {
  response r;
  r.status = status;
  r.body.reserve(detail.size() + 16);
  r.body += "{\"detail\":\"";
  append_json_escaped(r.body, detail);
  r.body += "\"}";
  r.headers.emplace_back("Cache-Control", "no-store");
  if (status == 429 || status == 503)
    r.headers.emplace_back("Retry-After", "30");
  else if (status == 401)
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  else if (status == 405 && !allow.empty())
    r.headers.emplace_back("Allow", std::string{allow});
  return r;
}

response error_response(const actors::api_error& e) {
  response r = error_response(to_status(e.code), e.detail);
  if (e.code == api_errc::try_later)
    for (auto& [name, value] : r.headers)
      if (name == "Retry-After")
        value = "5";
  return r;
}

response json_error(unsigned status, std::string_view detail) {
  return error_response(status, detail);
}

} // namespace hlsgate::http
