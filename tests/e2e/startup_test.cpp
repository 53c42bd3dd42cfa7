// Start-up refusals of the real binary: one process per data directory,
// secrets that would silently invalidate every token, settings that would
// fail every job. Each must fail at once, with a clear message, changing
// nothing.
#include <sys/stat.h>

#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

/// Runs the binary with `env` (plus a data directory and a free port),
/// bounded to 30 s; returns its exit status and puts stderr+stdout in `out`.
int run_binary(const std::string& data, const std::string& env, std::string& out,
               const std::string& args = "") {
  std::string cmd =
      "env -u SECRET_KEY HLSGATE_DATA_DIR=" + shell_quote(data) +
      " HLSGATE_BIND=127.0.0.1 HLSGATE_SRT_PORT=0 HLSGATE_PORT=" + std::to_string(free_port()) +
      " " + env + " timeout 30 " + shell_quote(HLSGATE_BINARY) + " " + args + " 2>&1";
  return run_command(cmd, &out);
}

class startup : public e2e {};

TEST_F(startup, second_process_on_the_same_data_directory_fails_at_once) {
  start();
  std::string out;
  int rc = run_binary(data, "", out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(rc, 124) << "it must fail at once, not time out";
  EXPECT_NE(out.find("another hlsgate process is using the data directory"), std::string::npos)
      << out;
  rc = run_binary(data, "", out, "import " + shell_quote(data));
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("another hlsgate process"), std::string::npos) << out;
  // The running server is unharmed.
  EXPECT_EQ(http_get(port(), "/health").status, 200u);
}

TEST_F(startup, readable_or_malformed_secret_file_is_refused_not_replaced) {
  start();
  ASSERT_EQ(srv->stop(), 0);
  srv.reset();
  const auto path = data + "/secret.key";
  const auto original = read_file(path);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  std::string out;
  EXPECT_EQ(run_binary(data, "", out), 1);
  EXPECT_NE(out.find("group or others"), std::string::npos) << out;
  EXPECT_EQ(read_file(path), original);

  { std::ofstream{path, std::ios::trunc} << "not a secret\n"; }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(run_binary(data, "", out), 1);
  EXPECT_NE(out.find("malformed"), std::string::npos) << out;
  EXPECT_EQ(read_file(path), "not a secret\n") << "never silently replaced";
}

TEST_F(startup, short_secret_key_is_refused) {
  std::string out;
  EXPECT_EQ(run_binary(data, "SECRET_KEY=too-short", out), 2);
  EXPECT_NE(out.find("at least 32 bytes"), std::string::npos) << out;
}

TEST_F(startup, private_state_is_owner_only) {
  start();
  struct stat st {};
  for (auto* name : {"hlsgate.db", "secret.key"}) {
    ASSERT_EQ(::stat((data + "/" + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0077, 0u) << name;
  }
  for (auto* name : {"uploads", "sources"}) {
    ASSERT_EQ(::stat((data + "/" + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 07777, 0700u) << name;
  }
  ASSERT_EQ(::stat((data + "/media").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02750u);
}

} // namespace
} // namespace hlsgate::test
