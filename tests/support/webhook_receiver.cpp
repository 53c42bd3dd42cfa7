#include "tests/support/webhook_receiver.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace hlsgate::test {

webhook_receiver::webhook_receiver(int fallback) : fallback_(fallback) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::listen(listen_fd_, 64) == 0 &&
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
    port_ = ntohs(sa.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

webhook_receiver::~webhook_receiver() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  for (auto& t : threads_)
    t.join();
}

std::string webhook_receiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void webhook_receiver::script(std::vector<int> statuses) {
  std::lock_guard lk(mu_);
  script_.assign(statuses.begin(), statuses.end());
}

void webhook_receiver::set_fallback(int status) {
  std::lock_guard lk(mu_);
  fallback_ = status;
}

bool webhook_receiver::wait_for(size_t n, std::chrono::milliseconds limit) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, limit, [&] { return got_.size() >= n; });
}

std::vector<received_request> webhook_receiver::requests() const {
  std::lock_guard lk(mu_);
  return got_;
}

void webhook_receiver::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      return;
    std::lock_guard lk(mu_);
    if (stopping_ || threads_.size() >= 256) { // bounded: tests send a few dozen
      ::close(fd);
      continue;
    }
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void webhook_receiver::serve(int fd) {
  std::string in;
  char buf[8192];
  size_t head_end = std::string::npos;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos && in.size() < (1u << 20)) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0)
      break;
    in.append(buf, static_cast<size_t>(n));
  }
  received_request r;
  r.at = std::chrono::steady_clock::now();
  if (head_end != std::string::npos) {
    std::string head = in.substr(0, head_end);
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    auto sp1 = first.find(' '), sp2 = first.rfind(' ');
    r.method = first.substr(0, sp1);
    r.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos)
        e = head.size();
      std::string line = head.substr(pos, e - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[name] = value;
      }
      pos = e + 2;
    }
    const size_t length =
        std::stoul(r.header("content-length").empty() ? "0" : r.header("content-length"));
    r.body = in.substr(head_end + 4);
    while (r.body.size() < length) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0)
        break;
      r.body.append(buf, static_cast<size_t>(n));
    }
  }
  int status;
  {
    std::lock_guard lk(mu_);
    if (!script_.empty()) {
      status = script_.front();
      script_.pop_front();
    } else {
      status = fallback_;
    }
    got_.push_back(r);
  }
  cv_.notify_all();
  if (status == hang) {
    while (::read(fd, buf, sizeof buf) > 0) {
    } // until the client gives up or the receiver stops
  } else {
    std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n";
    if (status >= 300 && status < 400)
      reply += "Location: http://127.0.0.1:9/elsewhere\r\n";
    reply += "Connection: close\r\n\r\n";
    auto w = ::write(fd, reply.data(), reply.size());
    (void)w;
  }
  std::lock_guard lk(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

} // namespace hlsgate::test
