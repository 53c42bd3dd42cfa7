#include "http/request_params.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

#include "http/api_json.hpp"
#include "http/segment_route.hpp"

namespace hlsgate::http {

using actors::api_errc;
using actors::api_error;

bool int_param(const request& req, const char* name, unsigned lo, unsigned hi, unsigned& out,
               api_error& err) {
  std::string v;
  if (!req.query_param(name, v))
    return true;
  unsigned x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || x < lo || x > hi) {
    err = {api_errc::bad_parameter, std::string{name} + " must be an integer in [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]"};
    return false;
  }
  out = x;
  return true;
}

std::string media_filter_of(const request& req, actors::media_filter& f) {
  std::string status, q;
  req.query_param("status", status);
  req.query_param("q", q);
  return parse_media_filter(status, q, f);
}

bool bool_param(const request& req, const char* name) {
  std::string v;
  return req.query_param(name, v) && (v == "true" || v == "1" || v == "yes");
}

std::string bearer(const request& req) {
  auto h = req.header("authorization");
  constexpr std::string_view prefix = "Bearer ";
  if (h.size() > prefix.size() && h.substr(0, prefix.size()) == prefix)
    return std::string{h.substr(prefix.size())};
  return {};
}

std::string operator_token(const request& req) {
  auto t = bearer(req);
  if (t.empty())
    t = req.header("x-api-token");
  return t;
}

std::string access_token(const request& req) {
  std::string t;
  if (req.query_param("token", t) && !t.empty())
    return t;
  return bearer(req);
}

bool read_small_file(const std::string& path, std::string& out, size_t limit) {
  const int fd = open_regular_nofollow(path.c_str());
  if (fd < 0)
    return false;
  char buf[8192];
  bool ok = true;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0)
      break;
    if (n < 0 || out.size() + static_cast<size_t>(n) > limit) {
      ok = false;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ok;
}

actors::admin_credential admin_credential_of(const request& req, bool is_operator) {
  actors::admin_credential who;
  auto h = req.header("x-admin-key");
  if (!h.empty())
    who.admin_key = std::string{h};
  else
    req.query_param("admin_key", who.admin_key);
  who.is_operator = is_operator;
  return who;
}

} // namespace hlsgate::http
