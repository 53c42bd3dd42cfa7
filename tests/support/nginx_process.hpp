// Real nginx for tests: started in its own prefix with a configuration the
// test writes, on 127.0.0.1, stopped (SIGQUIT, waited for) by the destructor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace hlsgate::test {

inline constexpr const char* nginx_binary = "/usr/sbin/nginx";

class nginx_process {
public:
  /// `prefix`: nginx's own folder (its nginx.conf, pid and error.log go there).
  explicit nginx_process(std::string prefix) : prefix_(std::move(prefix)) {}
  ~nginx_process() { stop(); }
  nginx_process(const nginx_process&) = delete;
  nginx_process& operator=(const nginx_process&) = delete;

  /// Writes `http_conf` (everything after the main-context lines this adds:
  /// daemon off, pid, error_log) as the prefix's nginx.conf, starts nginx and
  /// waits (bounded) until 127.0.0.1:`port` accepts connections.
  bool start(const std::string& conf, uint16_t port);
  void stop();

  const std::string& prefix() const { return prefix_; }
  std::string error_log() const { return prefix_ + "/error.log"; }

private:
  std::string prefix_;
  pid_t pid_ = -1;
};

} // namespace hlsgate::test
