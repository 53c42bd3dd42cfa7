#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hlsgate::test {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

} // namespace

http_connection::http_connection(uint16_t port, int timeout_seconds) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    return;
  timeval tv{timeout_seconds, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

http_connection::~http_connection() {
  close();
}

void http_connection::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

bool http_connection::closed_by_peer() {
  if (!buf_.empty())
    return false;
  char c;
  auto n = ::recv(fd_, &c, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

bool http_connection::send(std::string_view s) {
  while (!s.empty()) {
    auto n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool http_connection::fill() {
  char tmp[65536];
  auto n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0)
    return false;
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

http_reply http_connection::read_reply(bool head) {
  http_reply r;
  if (fd_ < 0)
    return r;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
    if (!fill())
      return r;
  std::istringstream hs{buf_.substr(0, end)};
  buf_.erase(0, end + 4);
  std::string line;
  std::getline(hs, line);
  if (line.size() < 12 || line.compare(0, 9, "HTTP/1.1 ") != 0)
    return r;
  unsigned status = static_cast<unsigned>(std::stoul(line.substr(9, 3)));
  while (std::getline(hs, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto c = line.find(':');
    if (c == std::string::npos)
      continue;
    auto v = line.substr(c + 1);
    v.erase(0, v.find_first_not_of(' '));
    r.headers[lower(line.substr(0, c))] = v;
  }
  if (head || status == 204 || status == 304 || status / 100 == 1) {
    r.status = status;
    return r;
  }
  if (auto cl = r.headers.find("content-length"); cl != r.headers.end()) {
    auto len = static_cast<size_t>(std::stoull(cl->second));
    while (buf_.size() < len)
      if (!fill())
        return r;
    r.body = buf_.substr(0, len);
    buf_.erase(0, len);
  } else if (lower(r.header("transfer-encoding")) == "chunked") {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos)
        if (!fill())
          return r;
      auto size = static_cast<size_t>(std::stoull(buf_.substr(0, eol), nullptr, 16));
      while (buf_.size() < eol + 2 + size + 2)
        if (!fill())
          return r;
      r.body.append(buf_, eol + 2, size);
      buf_.erase(0, eol + 2 + size + 2);
      if (size == 0)
        break;
    }
  } else {
    while (fill()) {
    }
    r.body = std::move(buf_);
    buf_.clear();
  }
  r.status = status;
  return r;
}

http_reply http_connection::request(const std::string& method, const std::string& target,
                                    const header_list& headers, std::string_view body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_length = false;
  for (auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    if (lower(k) == "content-length")
      has_length = true;
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT"))
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  // A server may answer (413, say) and close before the whole body is sent:
  // the reply is read either way.
  if (send(req))
    send(body);
  return read_reply(method == "HEAD");
}

http_reply http_request(uint16_t port, const std::string& method, const std::string& target,
                        const header_list& headers, std::string_view body) {
  http_connection c{port};
  return c.request(method, target, headers, body);
}

std::pair<std::string, std::string>
multipart_body(const std::string& field, const std::string& filename, std::string_view content) {
  std::string boundary = "----hlsgate-test-boundary-7d1f3a";
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field +
                     "\"; filename=\"" + filename +
                     "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
  body.append(content);
  body += "\r\n--" + boundary + "--\r\n";
  return {"multipart/form-data; boundary=" + boundary, std::move(body)};
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return ntohs(a.sin_port);
}

} // namespace hlsgate::test
