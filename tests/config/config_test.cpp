#include "config/config.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

using hlsgate::config::parse;

namespace {

struct argv_builder {
  std::vector<std::string> args{"hlsgate"};
  std::vector<const char*> ptrs;
  const char* const* get() {
    ptrs.clear();
    for (auto& a : args)
      ptrs.push_back(a.c_str());
    return ptrs.data();
  }
  int argc() const { return static_cast<int>(args.size()); }
};

struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    char tmpl[] = "/tmp/hlsgate-config-XXXXXX";
    int fd = mkstemp(tmpl);
    path = tmpl;
    ::close(fd);
    std::ofstream{path} << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

} // namespace

TEST(config, defaults) {
  argv_builder a;
  auto r = parse(a.argc(), a.get(), {});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.bind, "127.0.0.1");
  EXPECT_EQ(r.value.port, 8000);
  EXPECT_EQ(r.value.data_dir, "./data");
  EXPECT_DOUBLE_EQ(r.value.segment_seconds, 6);
  EXPECT_EQ(r.value.algorithm, "HS256");
  EXPECT_EQ(r.value.effective_public_url(), "http://127.0.0.1:8000");
}

TEST(config, precedence_file_env_flags) {
  temp_file f{"# comment\nHLSGATE_PORT = 9001\nHLSGATE_WORKERS=3\nHLSGATE_DATA_DIR = \"/srv/x\"\n"
              "HLSGATE_SEGMENT_SECONDS = 4\n"};
  argv_builder a;
  a.args = {"hlsgate", "--config", f.path, "--port=9003"};
  std::map<std::string, std::string> env{{"HLSGATE_PORT", "9002"}, {"HLSGATE_WORKERS", "5"}};
  auto r = parse(a.argc(), a.get(), env);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.port, 9003);         // flag beats env and file
  EXPECT_EQ(r.value.workers, 5u);        // env beats file
  EXPECT_EQ(r.value.data_dir, "/srv/x"); // file beats default
  EXPECT_DOUBLE_EQ(r.value.segment_seconds, 4);
}

TEST(config, config_file_from_environment) {
  temp_file f{"HLSGATE_BIND = 0.0.0.0\n"};
  argv_builder a;
  auto r = parse(a.argc(), a.get(), {{"HLSGATE_CONFIG", f.path}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.bind, "0.0.0.0");
}

TEST(config, rejects_bad_values) {
  argv_builder a;
  EXPECT_FALSE(parse(a.argc(), a.get(), {{"HLSGATE_PORT", "70000"}}).ok);
  EXPECT_FALSE(parse(a.argc(), a.get(), {{"HLSGATE_PORT", "80x"}}).ok);
  EXPECT_FALSE(parse(a.argc(), a.get(), {{"HLSGATE_SEGMENT_SECONDS", "0.5"}}).ok);
  EXPECT_FALSE(parse(a.argc(), a.get(), {{"ALGORITHM", "none"}}).ok);
  auto r = parse(a.argc(), a.get(), {{"ALGORITHM", "HS512"}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("HS256"), std::string::npos);
  a.args = {"hlsgate", "--no-such-flag", "1"};
  EXPECT_FALSE(parse(a.argc(), a.get(), {}).ok);
  a.args = {"hlsgate", "--port"};
  EXPECT_FALSE(parse(a.argc(), a.get(), {}).ok);
  temp_file f{"NOT_A_KEY = 1\n"};
  a.args = {"hlsgate", "--config", f.path};
  EXPECT_FALSE(parse(a.argc(), a.get(), {}).ok);
}

TEST(config, pyhls_names_and_public_url) {
  argv_builder a;
  auto r = parse(
      a.argc(), a.get(),
      {{"SECRET_KEY", std::string(32, 'k')}, {"HLSGATE_PUBLIC_URL", "https://media.example/"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.secret_key, std::string(32, 'k'));
  EXPECT_EQ(r.value.effective_public_url(), "https://media.example");
}

TEST(config, srt_ingest_url) {
  argv_builder a;
  auto r = parse(a.argc(), a.get(), {{"HLSGATE_PUBLIC_URL", "https://media.example:8443/"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.effective_srt_url(), "srt://media.example:8890");
  r = parse(a.argc(), a.get(), {{"HLSGATE_BIND", "::1"}, {"HLSGATE_SRT_PORT", "9000"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.effective_srt_url(), "srt://[::1]:9000");
  r = parse(a.argc(), a.get(), {{"HLSGATE_SRT_PUBLIC_URL", "srt://ingest.example:7000/"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.effective_srt_url(), "srt://ingest.example:7000");
  r = parse(a.argc(), a.get(), {{"HLSGATE_SRT_PORT", "0"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.effective_srt_url(), "") << "SRT ingest off";
  for (const char* bad : {"http://x:1", "srt://x:1?streamid=a", "srt://x y"})
    EXPECT_FALSE(parse(a.argc(), a.get(), {{"HLSGATE_SRT_PUBLIC_URL", bad}}).ok) << bad;
}

TEST(config, help_lists_every_variable) {
  argv_builder a;
  a.args = {"hlsgate", "--help"};
  auto r = parse(a.argc(), a.get(), {});
  ASSERT_TRUE(r.ok);
  ASSERT_TRUE(r.help);
  for (auto* name : {"HLSGATE_BIND", "HLSGATE_PORT", "HLSGATE_DATA_DIR", "HLSGATE_WORKERS",
                     "HLSGATE_SEGMENT_SECONDS", "HLSGATE_MAX_UPLOAD_BYTES", "HLSGATE_PUBLIC_URL",
                     "SECRET_KEY", "ALGORITHM"})
    EXPECT_NE(r.message.find(name), std::string::npos) << name;
}

TEST(config, positional_commands) {
  argv_builder a;
  a.args = {"hlsgate", "serve", "--port", "0"};
  auto r = parse(a.argc(), a.get(), {});
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.args.size(), 1u);
  EXPECT_EQ(r.args[0], "serve");
  EXPECT_EQ(r.value.port, 0);
}

TEST(config, secrets_must_be_long_and_distinct) {
  argv_builder a;
  auto r = parse(a.argc(), a.get(), {{"SECRET_KEY", "s3cret"}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("32 bytes"), std::string::npos) << r.message;
  EXPECT_FALSE(parse(a.argc(), a.get(), {{"HLSGATE_EDGE_SECRET", "short"}}).ok);
  const std::string k(40, 'x');
  EXPECT_FALSE(parse(a.argc(), a.get(), {{"SECRET_KEY", k}, {"HLSGATE_EDGE_SECRET", k}}).ok);
  EXPECT_TRUE(
      parse(a.argc(), a.get(), {{"SECRET_KEY", k}, {"HLSGATE_EDGE_SECRET", std::string(40, 'y')}})
          .ok);
}

TEST(config, derived_values_are_resolved_once) {
  argv_builder a;
  auto r = parse(a.argc(), a.get(),
                 {{"HLSGATE_DATA_DIR", "/srv/d"},
                  {"HLSGATE_CORS_ORIGINS", " https://a.example ,*,, https://b.example"},
                  {"HLSGATE_LADDER", "360:800k,720:2.8M"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.media_dir, "/srv/d/media");
  EXPECT_GE(r.value.workers, 1u);
  EXPECT_GE(r.value.http_threads, 1u);
  EXPECT_TRUE(r.value.cors_any);
  EXPECT_EQ(r.value.cors_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  ASSERT_EQ(r.value.ladder.size(), 2u);
  EXPECT_EQ(r.value.ladder[0].height, 720);
  EXPECT_EQ(r.value.ladder[1].video_bitrate, 800000);

  r = parse(a.argc(), a.get(), {{"HLSGATE_MEDIA_DIR", "/mnt/shared"}});
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.value.media_dir, "/mnt/shared");
  EXPECT_FALSE(r.value.cors_any);
  EXPECT_TRUE(r.value.cors_origins.empty());
  EXPECT_EQ(r.value.ladder, hlsgate::config::default_ladder());

  r = parse(a.argc(), a.get(), {{"HLSGATE_LADDER", "1080:5M,720:3M,1080:1M"}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("HLSGATE_LADDER"), std::string::npos) << r.message;
}
