// Starts the real hlsgate binary for end-to-end tests and waits for the line
// it prints once it listens (no sleeping). Stops it with SIGTERM (or kill -9).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace hlsgate::test {

class server_process {
public:
  /// `env` is added to (and overrides) the test's environment.
  server_process(std::string data_dir, std::map<std::string, std::string> env = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// Spawns the server on a fresh port and waits (≤ 60 s) until it listens.
  /// Returns false if it exited or did not report in time.
  bool start();
  /// SIGTERM and wait (≤ 60 s, then SIGKILL). Returns the exit status.
  int stop();
  /// SIGKILL, as a crash would.
  void kill9();

  /// Where the server's stderr (its log) goes from the next start() on;
  /// empty (the default): the test's own stderr.
  void log_to(std::string path) { log_path_ = std::move(path); }

  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
  std::string data_dir_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  uint16_t port_ = 0;
};

} // namespace hlsgate::test
