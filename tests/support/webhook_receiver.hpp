// A webhook receiver for tests: an HTTP/1.1 listener on 127.0.0.1 that
// records every POST (headers and body) and answers each with the next
// scripted status (or holds the connection without answering). Waits are
// bounded and driven by a condition variable, not sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hlsgate::test {

struct received_request {
  std::string method, target;
  std::map<std::string, std::string> headers; ///< lower-case names
  std::string body;
  std::chrono::steady_clock::time_point at;

  std::string header(const std::string& lower) const {
    auto i = headers.find(lower);
    return i == headers.end() ? std::string{} : i->second;
  }
};

class webhook_receiver {
public:
  /// Answers `fallback` once the script is used up; `hang` = never answer.
  static constexpr int hang = -1;

  explicit webhook_receiver(int fallback = 200);
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;

  /// The statuses of the next requests, in order.
  void script(std::vector<int> statuses);
  void set_fallback(int status);

  /// Waits (at most `limit`) until at least `n` requests arrived.
  bool wait_for(size_t n, std::chrono::milliseconds limit = std::chrono::seconds{30});
  std::vector<received_request> requests() const;

private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> script_;
  int fallback_;
  bool stopping_ = false;
  std::vector<received_request> got_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

} // namespace hlsgate::test
