#include "tests/e2e/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "tests/support/http_client.hpp"

extern char** environ;

namespace hlsgate::test {

server_process::server_process(std::string data_dir, std::map<std::string, std::string> env)
    : data_dir_(std::move(data_dir)), env_(std::move(env)) {}

server_process::~server_process() {
  if (pid_ > 0)
    stop();
}

bool server_process::start() {
  port_ = free_port();
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env["HLSGATE_PORT"] = std::to_string(port_);
  env["HLSGATE_BIND"] = "127.0.0.1";
  env["HLSGATE_DATA_DIR"] = data_dir_;
  env["HLSGATE_SRT_PORT"] = "0"; // no fixed UDP port shared by parallel servers (a test sets one)
  env.erase("SECRET_KEY");
  for (auto& [k, v] : env_)
    env[k] = v;
  std::vector<std::string> kvs;
  for (auto& [k, v] : env)
    kvs.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : kvs)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  if (!log_path_.empty())
    posix_spawn_file_actions_addopen(&fa, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
  std::string bin = HLSGATE_BINARY;
  char* argv[] = {bin.data(), nullptr};
  int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  out_fd_ = fds[0];
  if (rc != 0) {
    pid_ = -1;
    return false;
  }
  // Wait for "hlsgate listening on ..." on its stdout.
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out.find("listening") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0)
      return false;
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0)
      return false;
    char buf[512];
    auto n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0)
      return false; // exited
    out.append(buf, static_cast<size_t>(n));
  }
  return true;
}

int server_process::stop() {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      status = -1;
      break;
    }
    // Bounded wait for the exit itself, not for a condition of ours.
    pollfd p{out_fd_, POLLIN, 0};
    char buf[512];
    if (::poll(&p, 1, 50) > 0 && ::read(out_fd_, buf, sizeof buf) <= 0)
      ::usleep(10000);
  }
  pid_ = -1;
  if (out_fd_ >= 0)
    ::close(out_fd_);
  out_fd_ = -1;
  return status;
}

void server_process::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (out_fd_ >= 0)
    ::close(out_fd_);
  out_fd_ = -1;
}

} // namespace hlsgate::test
