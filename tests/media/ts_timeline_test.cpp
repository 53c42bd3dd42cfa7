// The continuous stream's timeline across upstreams (media/ts_timeline.hpp).
#include <gtest/gtest.h>

#include "media/ts_timeline.hpp"

namespace hlsgate::media {
namespace {

constexpr int64_t none = ts_timeline::none;

TEST(ts_timeline, the_first_upstream_keeps_its_clock_from_its_first_keyframe) {
  ts_timeline t{{true, false}};                          // video, audio
  EXPECT_FALSE(t.place(0, 9000, 9000, 3600, true).keep); // no upstream begun
  t.begin_upstream();
  EXPECT_FALSE(t.place(1, 8000, 8000, 1920, false).keep); // audio before the first keyframe
  EXPECT_FALSE(t.place(0, 5400, 5400, 3600, false).keep); // not a keyframe
  auto k = t.place(0, 12600, 9000, 3600, true);
  ASSERT_TRUE(k.keep);
  EXPECT_EQ(k.pts, 12600);
  EXPECT_EQ(k.dts, 9000);
  auto a = t.place(1, 9100, none, 1920, false); // a pts only: dts = pts
  ASSERT_TRUE(a.keep);
  EXPECT_EQ(a.dts, 9100);
  EXPECT_TRUE(t.place(0, 16200, 12600, 3600, false).keep);
  EXPECT_FALSE(t.place(0, none, none, 3600, false).keep); // no timestamp at all
}

TEST(ts_timeline, a_later_upstream_follows_the_last_packet_whatever_its_clock) {
  ts_timeline t{{true, false}};
  t.begin_upstream();
  ASSERT_TRUE(t.place(0, 90000, 90000, 3600, true).keep);
  ASSERT_TRUE(t.place(1, 90500, 90500, 1920, false).keep);
  ASSERT_TRUE(t.place(0, 93600, 93600, 3600, false).keep); // video ends at 97200
  // A 50 fps upstream whose clock is far behind (another encoder's start).
  t.begin_upstream();
  EXPECT_EQ(t.upstreams(), 2u);
  EXPECT_FALSE(t.place(1, 1000, 1000, 1920, false).keep); // waits for the keyframe
  auto k = t.place(0, 1800, 1800, 1800, true);
  ASSERT_TRUE(k.keep);
  EXPECT_EQ(k.dts, 97200); // right after the last video frame
  auto a = t.place(1, 2000, 2000, 1920, false);
  ASSERT_TRUE(a.keep);
  EXPECT_EQ(a.dts, 97400);
  auto next = t.place(0, 3600, 3600, 1800, false);
  ASSERT_TRUE(next.keep);
  EXPECT_EQ(next.dts, 99000);
  // A clock far ahead (a wrapped or restarted encoder) is pulled back too.
  t.begin_upstream();
  auto far = t.place(0, 8'000'000'000, 8'000'000'000, 3600, true);
  ASSERT_TRUE(far.keep);
  EXPECT_EQ(far.dts, 99000 + 1800);
}

TEST(ts_timeline, packets_that_would_go_back_are_dropped) {
  ts_timeline t{{true, false}};
  t.begin_upstream();
  ASSERT_TRUE(t.place(0, 9000, 9000, 3600, true).keep);
  ASSERT_TRUE(t.place(1, 20000, 20000, 1920, false).keep); // audio ahead of video
  t.begin_upstream();
  ASSERT_TRUE(t.place(0, 9000, 9000, 3600, true).keep); // anchored at the audio's end: 21920
  // The new upstream's audio lags its video by 45 ms: it would land before
  // the last audio written.
  EXPECT_FALSE(t.place(1, 5000, 5000, 1920, false).keep);
  auto later = t.place(1, 11000, 11000, 1920, false);
  ASSERT_TRUE(later.keep);
  EXPECT_EQ(later.dts, 21920 + 2000);
}

TEST(ts_timeline, a_jump_of_an_upstreams_own_clock_is_taken_out) {
  ts_timeline t{{true, false}};
  t.begin_upstream();
  ASSERT_TRUE(t.place(0, 900000, 900000, 3600, true).keep);
  ASSERT_TRUE(t.place(1, 900000, 900000, 1920, false).keep);
  // The encoder restarts: its clock goes back 10 s. Without re-anchoring
  // everything would be dropped until the clock caught up again.
  auto back = t.place(0, 3600, 0, 3600, false);
  ASSERT_TRUE(back.keep);
  EXPECT_EQ(back.dts, 903600);
  EXPECT_EQ(back.pts, 907200);
  auto audio = t.place(1, 100, 100, 1920, false);
  ASSERT_TRUE(audio.keep);
  EXPECT_EQ(audio.dts, 903700);
  // Forward by an hour: the same.
  auto ahead = t.place(0, 324'003'600, 324'003'600, 3600, false);
  ASSERT_TRUE(ahead.keep);
  EXPECT_EQ(ahead.dts, 907200);
  // Small steps within 5 s are the clock itself, kept as they are.
  auto small = t.place(0, 324'003'600 + 90000, 324'003'600 + 90000, 3600, false);
  ASSERT_TRUE(small.keep);
  EXPECT_EQ(small.dts, 907200 + 90000);
}

TEST(ts_timeline, audio_only_starts_at_its_first_packet) {
  ts_timeline t{{false}};
  t.begin_upstream();
  auto a = t.place(0, 7000, 7000, 1920, false);
  ASSERT_TRUE(a.keep);
  EXPECT_EQ(a.dts, 7000);
  t.begin_upstream();
  auto b = t.place(0, 100, 100, 1920, false);
  ASSERT_TRUE(b.keep);
  EXPECT_EQ(b.dts, 8920);
  EXPECT_FALSE(t.place(5, 1, 1, 1, true).keep); // no such stream
}

} // namespace
} // namespace hlsgate::media
