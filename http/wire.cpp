#include "http/wire.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "http/errors.hpp"

namespace hlsgate::http::wire {

std::string_view reason(unsigned s) noexcept {
  switch (s) {
  case 100:
    return "Continue";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 206:
    return "Partial Content";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 415:
    return "Unsupported Media Type";
  case 416:
    return "Range Not Satisfiable";
  case 417:
    return "Expectation Failed";
  case 418:
    return "I'm a teapot";
  case 422:
    return "Unprocessable Content";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  default:
    return "Unknown";
  }
}

std::string_view http_date() {
  thread_local time_t cached_at = 0;
  thread_local char buf[64];
  thread_local size_t len = 0;
  const time_t now = ::time(nullptr);
  if (now != cached_at) {
    struct tm tm;
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = now;
  }
  return {buf, len};
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void begin_head(std::string& out, unsigned status) {
  out.append("HTTP/1.1 ");
  append_uint(out, status);
  out.push_back(' ');
  out.append(reason(status));
  out.append("\r\nServer: hlsgate\r\nDate: ").append(http_date()).append("\r\n");
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void end_head(std::string& out, const cors_policy& cors, std::string_view origin,
              std::optional<uint64_t> content_length, bool close, bool http10) {
  if (cors.enabled()) {
    if (cors.any) {
      out.append("Access-Control-Allow-Origin: *\r\n");
    } else if (!origin.empty() && std::find(cors.origins->begin(), cors.origins->end(), origin) !=
                                      cors.origins->end()) {
      append_field(out, "Access-Control-Allow-Origin", origin);
      out.append("Vary: Origin\r\n");
    }
    out.append("Access-Control-Expose-Headers: Content-Length, Content-Range\r\n");
  }
  if (content_length) {
    out.append("Content-Length: ");
    append_uint(out, *content_length);
    out.append("\r\n");
  }
  if (close)
    out.append("Connection: close\r\n");
  else if (http10)
    out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
}

std::string over_capacity_response() {
  const response r = error_response(503, "Too many connections; retry");
  std::string out;
  begin_head(out, r.status);
  append_field(out, "Content-Type", r.content_type);
  for (const auto& [n, v] : r.headers)
    append_field(out, n, v);
  end_head(out, {}, {}, r.body.size(), true, false);
  out += r.body;
  return out;
}

} // namespace hlsgate::http::wire
