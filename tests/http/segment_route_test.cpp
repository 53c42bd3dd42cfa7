// parse_segment_path and the no-symlink openers.
#include "http/segment_route.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace hlsgate::http;
namespace fs = std::filesystem;

namespace {
constexpr std::string_view k_sid = "AbCdEfGhIjKlMnOpQr_-12";
}

TEST(segment_route, parses_the_strict_pattern) {
  segment_target t;
  const std::string path = "/seg/" + std::string(k_sid) + "/v0/seg_00001.ts"; // t views it
  ASSERT_TRUE(parse_segment_path(path, t));
  EXPECT_EQ(t.storage_id, k_sid);
  EXPECT_EQ(t.rendition, "v0");
  EXPECT_EQ(t.file, "seg_00001.ts");
  EXPECT_EQ(segment_prefix(t.storage_id), "/seg/" + std::string(k_sid) + "/");
  EXPECT_EQ(t.kind, hlsgate::media::segment_kind::ts);
  // WebVTT subtitle segments, and sequence numbers beyond 99,999.
  const std::string vtt = "/seg/" + std::string(k_sid) + "/s15/seg_123456789.vtt";
  ASSERT_TRUE(parse_segment_path(vtt, t));
  EXPECT_EQ(t.rendition, "s15");
  EXPECT_EQ(t.file, "seg_123456789.vtt");
  EXPECT_EQ(t.kind, hlsgate::media::segment_kind::vtt);
}

TEST(segment_names, one_pattern_for_writers_and_readers) {
  using namespace hlsgate::media;
  EXPECT_EQ(segment_file_name(0, segment_kind::ts), "seg_00000.ts");
  EXPECT_EQ(segment_file_name(42, segment_kind::vtt), "seg_00042.vtt");
  EXPECT_EQ(segment_file_name(123456, segment_kind::ts), "seg_123456.ts");
  for (size_t i : {size_t{0}, size_t{99999}, size_t{100000}, size_t{999999999}})
    for (auto k : {segment_kind::ts, segment_kind::vtt}) {
      segment_kind got = k == segment_kind::ts ? segment_kind::vtt : segment_kind::ts;
      EXPECT_TRUE(parse_segment_file_name(segment_file_name(i, k), got)) << i;
      EXPECT_EQ(got, k);
    }
  segment_kind k;
  for (const char* bad : {"seg_1234567890.ts", "seg_0001.ts", "seg_00001.m4s", "seg_00001.ts.part",
                          "seg_00001", "x_00001.ts", "seg_-0001.ts", ""})
    EXPECT_FALSE(parse_segment_file_name(bad, k)) << bad;
  EXPECT_TRUE(is_rendition_name("v0"));
  EXPECT_TRUE(is_rendition_name("s15"));
  EXPECT_FALSE(is_rendition_name("V0"));
  EXPECT_FALSE(is_rendition_name("v012345678"));
  EXPECT_FALSE(is_rendition_name(".."));
  EXPECT_EQ(std::string(segment_content_type(segment_kind::vtt)), "text/vtt; charset=utf-8");
}

TEST(segment_route, refuses_everything_else) {
  const std::string s{k_sid};
  for (const std::string& p :
       std::vector<std::string>{"/seg/" + s + "/v0/seg_0001.ts",
                                "/seg/" + s + "/v0/seg_00001.tsx",
                                "/seg/" + s + "/v0/seg_1234567890.ts",
                                "/seg/" + s + "/s0/seg_00001.vtt.part",
                                "/seg/" + s + "/v0/seg_0000a.ts",
                                "/seg/" + s + "/V0/seg_00001.ts",
                                "/seg/" + s + "/v012345678/seg_00001.ts",
                                std::string("/seg/short/v0/seg_00001.ts"),
                                "/seg/" + s + "/../seg_00001.ts",
                                "/seg/" + s + "/v0/../seg_00001.ts",
                                "/seg/" + s + "/%2e%2e/seg_00001.ts",
                                "/seg/" + s + "%2f/v0/seg_00001.ts",
                                "/seg/" + s + "/v0/seg_00001.ts/",
                                "/seg/" + s + "//v0/seg_00001.ts",
                                "/seg/" + s + "/v0\\/seg_00001.ts",
                                "/seg/" + s + "/v0/seg_00001.ts%00",
                                "/seg/" + s + "/v0",
                                std::string("/seg/"),
                                "/SEG/" + s + "/v0/seg_00001.ts",
                                "/seg/" + s + std::string(50, 'a') + "/v0/seg_00001.ts",
                                "/seg/" + s + ".x/v0/seg_00001.ts"}) {
    segment_target t;
    EXPECT_FALSE(parse_segment_path(p, t)) << p;
  }
}

class segment_files : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hlsgate-segroute-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / std::string(k_sid) / "v0");
    std::ofstream(root_ / std::string(k_sid) / "v0" / "seg_00001.ts") << "data";
    std::ofstream(root_ / "outside.ts") << "secret";
  }
  void TearDown() override { fs::remove_all(root_); }

  int open(std::string_view sid, std::string_view rend, std::string_view file) {
    return open_segment(root_.string(), {sid, rend, file});
  }
  fs::path root_;
};

TEST_F(segment_files, opens_a_regular_segment) {
  int fd = open(k_sid, "v0", "seg_00001.ts");
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_LT(open(k_sid, "v0", "seg_00002.ts"), 0);
}

TEST_F(segment_files, symlinks_are_not_followed_in_any_component) {
  const fs::path dir = root_ / std::string(k_sid);
  fs::create_symlink(root_ / "outside.ts", dir / "v0" / "seg_00002.ts");
  EXPECT_LT(open(k_sid, "v0", "seg_00002.ts"), 0);
  fs::create_directories(root_ / "elsewhere");
  std::ofstream(root_ / "elsewhere" / "seg_00001.ts") << "x";
  fs::create_directory_symlink(root_ / "elsewhere", dir / "v1");
  EXPECT_LT(open(k_sid, "v1", "seg_00001.ts"), 0);
  fs::create_directory_symlink(dir, root_ / "BbCdEfGhIjKlMnOpQr_-12");
  EXPECT_LT(open("BbCdEfGhIjKlMnOpQr_-12", "v0", "seg_00001.ts"), 0);
  // open_regular_nofollow: the last component must not be a symlink.
  EXPECT_LT(open_regular_nofollow((dir / "v0" / "seg_00002.ts").c_str()), 0);
  int fd = open_regular_nofollow((dir / "v0" / "seg_00001.ts").c_str());
  EXPECT_GE(fd, 0);
  if (fd >= 0)
    ::close(fd);
}

TEST_F(segment_files, directories_and_fifos_are_refused_without_blocking) {
  const fs::path dir = root_ / std::string(k_sid) / "v0";
  fs::create_directory(dir / "seg_00003.ts");
  EXPECT_LT(open(k_sid, "v0", "seg_00003.ts"), 0);
  ASSERT_EQ(::mkfifo((dir / "seg_00004.ts").c_str(), 0600), 0);
  EXPECT_LT(open(k_sid, "v0", "seg_00004.ts"), 0); // O_NONBLOCK: no writer needed
  EXPECT_LT(open_regular_nofollow((dir / "seg_00004.ts").c_str()), 0);
}
