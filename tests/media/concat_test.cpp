// media::concat_segments on real MPEG-TS files made by the ffmpeg CLI: the
// joined file is checked with ffprobe (frame count, duration) and decoded
// with ffmpeg -xerror.
#include <atomic>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "media/concat.hpp"
#include "tests/media/clip_fixture.hpp"

namespace hlsgate::media {
namespace {

namespace fs = std::filesystem;
using test::clip_kind;
using test::clip_spec;
using test::make_clip;
using test::make_temp_dir;
using test::run_command;
using test::shell_quote;

/// A 4 s MPEG-TS clip (H.264 + AAC, 30 fps): 120 frames.
std::string ts_clip() {
  clip_spec s;
  s.kind = clip_kind::video_audio;
  s.seconds = 4;
  s.width = 320;
  s.height = 180;
  s.container = "ts";
  return make_clip(s);
}

int video_frames(const std::string& file) {
  std::string out;
  run_command("ffprobe -v error -select_streams v:0 -count_frames -show_entries "
              "stream=nb_read_frames -of csv=p=0 " +
                  shell_quote(file),
              &out);
  return std::atoi(out.c_str());
}

double duration_of(const std::string& file) {
  std::string out;
  run_command("ffprobe -v error -show_entries format=duration -of csv=p=0 " + shell_quote(file),
              &out);
  return std::atof(out.c_str());
}

bool decodes_strictly(const std::string& file) {
  return run_command("ffmpeg -nostdin -v error -xerror -i " + shell_quote(file) +
                     " -f null - 2>&1") == 0;
}

TEST(concat, discontinuities_follow_on_and_missing_inputs_are_skipped) {
  const auto clip = ts_clip();
  const auto out = make_temp_dir("concat") + "/joined.ts";
  // The same clip three times: each restarts its timestamps where the first
  // one started, so the second and third are marked (or, after a missing
  // file, treated) as discontinuities and moved to follow on.
  auto r = concat_segments(
      {{clip, false}, {clip, true}, {"/nonexistent/segment.ts", false}, {clip, false}}, out);
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(r->segments, 3u);
  EXPECT_EQ(r->skipped, 1u);
  EXPECT_NEAR(r->seconds, 12.0, 0.2);
  EXPECT_EQ(video_frames(out), 3 * video_frames(clip));
  EXPECT_NEAR(duration_of(out), 12.0, 0.2);
  EXPECT_TRUE(decodes_strictly(out));
}

TEST(concat, overlapping_timestamps_without_a_discontinuity_are_dropped) {
  const auto clip = ts_clip();
  const auto out = make_temp_dir("concat") + "/joined.ts";
  // Not marked: the second copy's packets are at or before what was written,
  // so none of them is copied (a muxer would refuse them).
  auto r = concat_segments({{clip, false}, {clip, false}}, out);
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(video_frames(out), video_frames(clip));
  EXPECT_TRUE(decodes_strictly(out));
}

TEST(concat, a_segment_far_from_where_the_last_ended_is_placed_after_it) {
  // The first clip ends just before the 33-bit MPEG-TS clock wraps (2^33
  // ticks at 90 kHz = 95443.7 s); the second starts after the wrap, near 0,
  // as the next segment of a session running past 26.5 hours does.
  const auto dir = make_temp_dir("concat");
  const std::string before = dir + "/before.ts";
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x180:rate=30 -t 4 "
                        "-c:v libx264 -preset ultrafast -output_ts_offset 95439 -f mpegts " +
                        shell_quote(before)),
            0);
  const auto after = ts_clip();
  const auto out = dir + "/joined.ts";
  auto r = concat_segments({{before, false}, {after, false}}, out);
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(video_frames(out), video_frames(before) + video_frames(after))
      << "every frame of both is kept (overlapping packets would be dropped)";
  // Both 4 s, one with audio that runs a little past its video.
  EXPECT_GE(r->seconds, 7.9);
  EXPECT_LT(r->seconds, 9.0);
  EXPECT_TRUE(decodes_strictly(out));
}

TEST(concat, nothing_readable_is_an_error_and_writes_nothing) {
  const auto out = make_temp_dir("concat") + "/joined.ts";
  auto r = concat_segments({{"/nonexistent/a.ts", false}, {"/etc/hostname", false}}, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::invalid_input);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(r.err().reason.find('/'), std::string::npos) << "no path in the reason";
}

TEST(concat, cancel_stops_it) {
  const auto clip = ts_clip();
  const auto out = make_temp_dir("concat") + "/joined.ts";
  std::atomic<bool> cancel{true};
  auto r = concat_segments({{clip, false}}, out, &cancel);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::cancelled);
}

} // namespace
} // namespace hlsgate::media
