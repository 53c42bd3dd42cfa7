// The pure checks of media/checks.hpp: source limits and duration warnings.
#include <gtest/gtest.h>

#include "media/checks.hpp"

namespace hlsgate::media {
namespace {

probe_info video(int w, int h, double fps, double seconds) {
  probe_info i;
  i.has_video = true;
  i.has_audio = true;
  i.width = w;
  i.height = h;
  i.frame_rate = fps;
  i.duration = seconds;
  return i;
}

constexpr uint64_t k4k60 = 3840ull * 2160 * 60; ///< pixels/s

TEST(SourceLimits, WithinLimitsPasses) {
  EXPECT_TRUE(check_source_limits(video(1920, 1080, 30, 600), 21600, k4k60));
  EXPECT_TRUE(check_source_limits(video(3840, 2160, 60, 21600), 21600, k4k60)); // at the limits
  EXPECT_TRUE(check_source_limits(video(3840, 2160, 120, 99999), 0, 0));        // 0: no limit
}

TEST(SourceLimits, TooLong) {
  const status s = check_source_limits(video(640, 360, 25, 21600.5), 21600, k4k60);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().code, errc::limit_exceeded);
  EXPECT_EQ(s.err().reason, "source is longer than the limit of 21600 s");
  EXPECT_EQ(s.err().detail, "check limits: 21600.5 s");
  // Audio is judged by its length too.
  probe_info audio;
  audio.has_audio = true;
  audio.duration = 7200;
  const status a = check_source_limits(audio, 3600.5, k4k60);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.err().reason, "source is longer than the limit of 3600.5 s");
}

TEST(SourceLimits, UnknownDurationPasses) {
  EXPECT_TRUE(check_source_limits(video(640, 360, 25, 0), 60, k4k60));
}

TEST(SourceLimits, PixelRate) {
  const status s = check_source_limits(video(3840, 2160, 120, 10), 21600, k4k60);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().code, errc::limit_exceeded);
  EXPECT_EQ(s.err().reason, "source exceeds the pixel rate limit (3840x2160 at 120 fps)");
  EXPECT_EQ(s.err().detail, "check limits: 995328000 pixels/s over 497664000");

  const status ntsc =
      check_source_limits(video(1920, 1080, 30000.0 / 1001, 10), 0, 1920 * 1080 * 29);
  ASSERT_FALSE(ntsc);
  EXPECT_EQ(ntsc.err().reason, "source exceeds the pixel rate limit (1920x1080 at 29.97 fps)");
  // One pixel/s more than the source is enough.
  EXPECT_TRUE(check_source_limits(video(1000, 1000, 25, 10), 0, 25000000));
  EXPECT_FALSE(check_source_limits(video(1000, 1000, 25, 10), 0, 24999999));
}

TEST(SourceLimits, UnknownFrameRateCountsAsNominal) {
  // 1000x1000 at the nominal 30 fps: 30 M pixels/s.
  EXPECT_TRUE(check_source_limits(video(1000, 1000, 0, 10), 0, 30000000));
  const status s = check_source_limits(video(1000, 1000, 0, 10), 0, 29999999);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().reason, "source exceeds the pixel rate limit (1000x1000 at 30 fps)");
}

TEST(SourceLimits, AudioHasNoPixelRate) {
  probe_info audio;
  audio.has_audio = true;
  audio.duration = 10;
  EXPECT_TRUE(check_source_limits(audio, 0, 1));
}

TEST(DurationWarning, ShortOutputIsNamed) {
  EXPECT_EQ(duration_warning(1.5, 30, false),
            "the source ended early: 1.5 s of a declared 30.0 s were readable");
  EXPECT_EQ(duration_warning(1.5, 30, true),
            "the source ended early: 1.5 s of a declared 30.0 s were readable");
}

TEST(DurationWarning, ToleranceIsOneSecondOrTwoPercent) {
  // 30 s declared: 1 s of slack.
  EXPECT_EQ(duration_warning(29.0, 30, false), "");
  EXPECT_NE(duration_warning(28.9, 30, false), "");
  // 600 s declared: 2 % = 12 s of slack.
  EXPECT_EQ(duration_warning(588, 600, false), "");
  EXPECT_EQ(duration_warning(587.9, 600, false),
            "the source ended early: 587.9 s of a declared 600.0 s were readable");
  // Longer than declared is fine.
  EXPECT_EQ(duration_warning(31, 30, false), "");
}

TEST(DurationWarning, ReadErrorWithoutShortfall) {
  EXPECT_EQ(duration_warning(30, 30, true), "the source could not be read to its end");
  EXPECT_EQ(duration_warning(12, 0, true), "the source could not be read to its end");
  EXPECT_EQ(duration_warning(12, 0, false), ""); // nothing declared, nothing to compare
}

} // namespace
} // namespace hlsgate::media
