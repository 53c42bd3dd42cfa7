// How media/ fails: the operator detail of a libav failure, the start-up
// check of the x264 preset, and honest durations for inputs that end early.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/transcoder.hpp"
#include "tests/media/clip_fixture.hpp"
#include "tests/media/transcode_helpers.hpp"

namespace hlsgate::media {
namespace {

namespace fs = std::filesystem;
using test::clip_kind;
using test::clip_spec;
using test::make_clip;
using test::make_temp_dir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

/// A copy of the MP4 `src` (moov first) at `dst` whose media data, everything
/// after the header of its "mdat" box, is pseudo-random: the container opens,
/// nothing in it decodes.
void corrupt_media_data(const std::string& src, const std::string& dst) {
  std::string bytes = read_bytes(src);
  const size_t mdat = bytes.find("mdat");
  ASSERT_NE(mdat, std::string::npos);
  std::mt19937 rng(7);
  for (size_t i = mdat + 4; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(rng() & 0xff);
  write_bytes(dst, bytes);
}

// ---------------------------------------------------------------------------
// error::detail

TEST(Detail, CorruptMediaDataNamesTheDecodeStage) {
  clip_spec s = test::clip_of(clip_kind::video_only, 4);
  s.width = 640;
  s.height = 360;
  const std::string path = make_temp_dir("corrupt") + "/holiday-video.mp4";
  corrupt_media_data(make_clip(s), path);
  transcode_options opts = fast_options(2);
  opts.allow_remux = false; // copying would pass the garbage on without decoding it
  auto r = run_transcode(path, opts);
  ASSERT_FALSE(r.out);
  const error& e = r.out.err();
  EXPECT_EQ(e.code, errc::unsupported_media);
  EXPECT_EQ(e.reason, "no decodable audio or video");
  // The stage, then libav's text for the error it skipped last.
  EXPECT_EQ(e.detail.rfind("decode video: ", 0), 0u) << e.detail;
  EXPECT_GT(e.detail.size(), std::string("decode video: ").size()) << e.detail;
  for (const std::string& text : {e.reason, e.detail}) {
    EXPECT_EQ(text.find('/'), std::string::npos) << text;
    EXPECT_EQ(text.find("holiday"), std::string::npos) << text;
  }
}

TEST(Detail, UnreadableInputNamesTheOpenStage) {
  const std::string path = make_clip(test::clip_of(clip_kind::random_bytes));
  for (const error& e :
       {probe(path, open_policy{}).err(), run_transcode(path, fast_options(2)).out.err()}) {
    EXPECT_EQ(e.code, errc::invalid_input);
    EXPECT_EQ(e.detail, "open input: Invalid data found when processing input");
    EXPECT_EQ(e.reason.find('/'), std::string::npos) << e.reason;
    EXPECT_LT(e.reason.size(), 80u);
  }
}

// ---------------------------------------------------------------------------
// check_encoder

TEST(CheckEncoder, KnownPresetsOpen) {
  for (const char* preset : {"ultrafast", "veryfast", "medium", "slow", ""}) {
    const status s = check_encoder(preset);
    EXPECT_TRUE(s) << "'" << preset << "': " << s.err().reason << " / " << s.err().detail;
  }
}

TEST(CheckEncoder, BogusPresetIsRefused) {
  for (const char* preset : {"bogus", "veryfast,", "very fast", "fastest"}) {
    const status s = check_encoder(preset);
    ASSERT_FALSE(s) << "'" << preset << "'";
    EXPECT_EQ(s.err().detail, "open H.264 encoder: Invalid argument") << preset;
    EXPECT_NE(s.err().reason.find("preset"), std::string::npos) << s.err().reason;
  }
  // The same preset makes a transcode fail: what start-up now catches.
  clip_spec c = test::clip_of(clip_kind::video_only, 2);
  c.width = 320;
  c.height = 240;
  transcode_options opts = fast_options(2);
  opts.allow_remux = false;
  opts.x264_preset = "bogus";
  auto r = run_transcode(make_clip(c), opts);
  ASSERT_FALSE(r.out);
  EXPECT_EQ(r.out.err().detail, "open H.264 encoder: Invalid argument");
}

} // namespace
} // namespace hlsgate::media
