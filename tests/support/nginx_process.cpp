#include "tests/support/nginx_process.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tests/support/http_client.hpp"

extern char** environ;

namespace hlsgate::test {

bool nginx_process::start(const std::string& conf, uint16_t port) {
  const std::string conf_path = prefix_ + "/nginx.conf";
  std::string err_log = error_log();
  std::ofstream{conf_path} << "daemon off;\npid " << prefix_ << "/nginx.pid;\nerror_log " << err_log
                           << ";\n"
                           << conf;
  std::string bin = nginx_binary;
  std::string prefix = prefix_, conf_arg = conf_path;
  char* argv[] = {bin.data(),      const_cast<char*>("-p"), prefix.data(),  const_cast<char*>("-c"),
                  conf_arg.data(), const_cast<char*>("-e"), err_log.data(), nullptr};
  if (posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv, environ) != 0) {
    pid_ = -1;
    return false;
  }
  // Ready when it answers (bounded).
  for (int i = 0; i < 200; ++i) {
    http_connection c{port, 1};
    if (c.connected())
      return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) { // exited: bad configuration
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25)); // polling interval
  }
  return false;
}

void nginx_process::stop() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGQUIT);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
}

} // namespace hlsgate::test
