// The pure ladder unit (media/ladder.hpp): geometry and the rung plan, no libav.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "media/ladder.hpp"

namespace hlsgate::media {
namespace {

std::vector<rung> standard_ladder() {
  return {{1080, 5000000}, {720, 2800000}, {480, 1400000}, {360, 800000}};
}

struct size {
  int label, width, height;
};

void expect_sizes(const std::vector<rung_plan>& plan, const std::vector<size>& want) {
  ASSERT_EQ(plan.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(plan[i].label, want[i].label);
    EXPECT_EQ(plan[i].width, want[i].width);
    EXPECT_EQ(plan[i].height, want[i].height);
    EXPECT_FALSE(plan[i].remux);
  }
}

std::vector<rung_plan> plan_of(const source_geometry& g, const std::vector<rung>& ladder,
                               int max_height = 0) {
  return plan_ladder(g, ladder, max_height, 0, 4);
}

// ---------------------------------------------------------------------------
// geometry

TEST(Geometry, LiveChannelsKeepEveryRungOfASmallSource) {
  // A reconnecting publisher sending 640x360 to a 720p/360p channel: both
  // renditions stay, the top one upscaled, with the source's aspect.
  const auto small = make_geometry(640, 360, 0, 1, 1);
  const std::vector<rung> ladder = {{720, 2800000}, {360, 800000}};
  expect_sizes(plan_of(fit_to_ladder(small, ladder), ladder), {{720, 1280, 720}, {360, 640, 360}});
  expect_sizes(plan_of(small, ladder), {{360, 640, 360}}); // VOD never upscales
  const auto portrait = make_geometry(360, 480, 0, 1, 1);
  expect_sizes(plan_of(fit_to_ladder(portrait, ladder), ladder),
               {{720, 720, 960}, {360, 360, 480}});
  const auto big = make_geometry(1920, 1080, 0, 1, 1);
  EXPECT_EQ(fit_to_ladder(big, ladder).display_w, big.display_w);
  EXPECT_EQ(fit_to_ladder(source_geometry{}, ladder).display_w, 0);
  // A hostile sliver of a picture is never upscaled past 4096 wide (fewer
  // rungs instead), and one already wider is not upscaled at all.
  const auto sliver = fit_to_ladder(make_geometry(2000, 100, 0, 1, 1), ladder);
  EXPECT_DOUBLE_EQ(sliver.display_w, 4096.0);
  for (auto& p : plan_of(sliver, ladder))
    EXPECT_LE(p.width, 4096);
  EXPECT_EQ(fit_to_ladder(make_geometry(8192, 64, 0, 1, 1), ladder).display_w, 8192);
}

TEST(Geometry, UprightRotationFromTheDisplayMatrixAngle) {
  // The matrix angle is counterclockwise; the rotation that undoes it clockwise.
  EXPECT_EQ(upright_rotation(0), 0);
  EXPECT_EQ(upright_rotation(-0.0), 0);
  EXPECT_EQ(upright_rotation(-90), 90); // what `-metadata:s:v rotate=90` writes
  EXPECT_EQ(upright_rotation(90), 270);
  EXPECT_EQ(upright_rotation(180), 180);
  EXPECT_EQ(upright_rotation(-180), 180);
  EXPECT_EQ(upright_rotation(360), 0);
  EXPECT_EQ(upright_rotation(-450), 90);
  EXPECT_EQ(upright_rotation(-89.6), 90); // rounded to whole degrees first
  EXPECT_EQ(upright_rotation(-45), 0);    // not a quarter turn: left as is
  EXPECT_EQ(upright_rotation(-89.4), 0);
  EXPECT_EQ(upright_rotation(std::numeric_limits<double>::quiet_NaN()), 0);
  EXPECT_EQ(upright_rotation(std::numeric_limits<double>::infinity()), 0);
}

TEST(Geometry, SquarePixels) {
  const source_geometry g = make_geometry(1280, 720, 0, 1, 1);
  EXPECT_EQ(g.width, 1280);
  EXPECT_EQ(g.height, 720);
  EXPECT_TRUE(g.square_pixels);
  EXPECT_DOUBLE_EQ(g.display_w, 1280);
  EXPECT_DOUBLE_EQ(g.display_h, 720);
  // 0/x is "unknown": square.
  EXPECT_TRUE(make_geometry(1280, 720, 0, 0, 1).square_pixels);
  EXPECT_TRUE(make_geometry(1280, 720, 0, 1, 0).square_pixels);
}

TEST(Geometry, SampleAspectRatioWidensTheDisplay) {
  const source_geometry g = make_geometry(640, 480, 0, 4, 3);
  EXPECT_FALSE(g.square_pixels);
  EXPECT_NEAR(g.display_w, 853.333, 0.001);
  EXPECT_DOUBLE_EQ(g.display_h, 480);
}

TEST(Geometry, NonsenseSampleAspectRatioIsIgnored) {
  for (auto [num, den] : {std::pair{5, 1}, std::pair{1, 5}, std::pair{-4, 3}}) {
    const source_geometry g = make_geometry(640, 480, 0, num, den);
    EXPECT_TRUE(g.square_pixels) << num << "/" << den;
    EXPECT_DOUBLE_EQ(g.display_w, 640);
  }
  EXPECT_FALSE(make_geometry(640, 480, 0, 4, 1).square_pixels); // 4 is still believed
}

TEST(Geometry, QuarterTurnsSwapTheDisplaySides) {
  for (int r : {90, 270}) {
    const source_geometry g = make_geometry(1280, 720, r, 1, 1);
    EXPECT_EQ(g.rotation, r);
    EXPECT_DOUBLE_EQ(g.display_w, 720);
    EXPECT_DOUBLE_EQ(g.display_h, 1280);
  }
  const source_geometry half = make_geometry(1280, 720, 180, 1, 1);
  EXPECT_DOUBLE_EQ(half.display_w, 1280);
  // The aspect ratio applies to the coded width, before the turn.
  const source_geometry both = make_geometry(640, 480, 90, 4, 3);
  EXPECT_DOUBLE_EQ(both.display_w, 480);
  EXPECT_NEAR(both.display_h, 853.333, 0.001);
  // Anything but a quarter turn is no turn.
  EXPECT_EQ(make_geometry(1280, 720, 45, 1, 1).rotation, 0);
}

TEST(Geometry, EvenSizes) {
  EXPECT_EQ(even_floor(853.3), 852);
  EXPECT_EQ(even_floor(854), 854);
  EXPECT_EQ(even_floor(855.9), 854);
  EXPECT_EQ(even_round(853.3), 854);
  EXPECT_EQ(even_round(852.9), 852);
  EXPECT_EQ(even_round(241), 242); // halfway rounds away from zero
  for (double tiny : {-5.0, 0.0, 1.0, 1.9, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(even_floor(tiny), 2) << tiny;
    EXPECT_EQ(even_round(tiny), 2) << tiny;
  }
}

// ---------------------------------------------------------------------------
// the plan

TEST(Plan, NeverUpscales) {
  const auto plan = plan_of(make_geometry(1280, 720, 0, 1, 1), standard_ladder());
  expect_sizes(plan, {{720, 1280, 720}, {480, 854, 480}, {360, 640, 360}});
  EXPECT_EQ(plan[0].bitrate, 2800000);
  EXPECT_EQ(plan[2].bitrate, 800000);
}

TEST(Plan, FullLadderFor1080p) {
  const auto plan = plan_of(make_geometry(1920, 1080, 0, 1, 1), standard_ladder());
  expect_sizes(plan, {{1080, 1920, 1080}, {720, 1280, 720}, {480, 854, 480}, {360, 640, 360}});
}

TEST(Plan, LadderOrderAndDuplicates) {
  // Any order in, top first out; a rung of the same even height as a kept
  // one, a height below 2 and a bitrate <= 0 are dropped.
  const std::vector<rung> messy = {{360, 800000}, {721, 2000000}, {720, 2800000},
                                   {480, 0},      {1, 100000},    {480, 1400000}};
  const auto plan = plan_of(make_geometry(1920, 1080, 0, 1, 1), messy);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].label, 721); // sorted first, so it is the one kept of 720/721
  EXPECT_EQ(plan[0].height, 720);
  EXPECT_EQ(plan[1].label, 480);
  EXPECT_EQ(plan[1].bitrate, 1400000);
  EXPECT_EQ(plan[2].label, 360);
}

TEST(Plan, MaxHeightCaps) {
  const auto plan = plan_of(make_geometry(1280, 720, 0, 1, 1), standard_ladder(), 480);
  expect_sizes(plan, {{480, 854, 480}, {360, 640, 360}});
}

TEST(Plan, PortraitLabelsTheShortSide) {
  const auto plan = plan_of(make_geometry(1080, 1920, 0, 1, 1), standard_ladder());
  expect_sizes(plan, {{1080, 1080, 1920}, {720, 720, 1280}, {480, 480, 854}, {360, 360, 640}});
}

TEST(Plan, RotatedLandscapeGivesPortraitRungs) {
  const auto plan = plan_of(make_geometry(1280, 720, 90, 1, 1), standard_ladder());
  expect_sizes(plan, {{720, 720, 1280}, {480, 480, 854}, {360, 360, 640}});
}

TEST(Plan, OddAndAnamorphicSourcesGiveEvenSizesWithinTheSource) {
  // 853x480: the long side is capped at the source's (even) 852.
  expect_sizes(plan_of(make_geometry(853, 480, 0, 1, 1), standard_ladder()),
               {{480, 852, 480}, {360, 640, 360}});
  // 640x480 at 4:3 pixels is displayed 853.3x480: the same.
  expect_sizes(plan_of(make_geometry(640, 480, 0, 4, 3), standard_ladder()),
               {{480, 852, 480}, {360, 640, 360}});
  for (const rung_plan& p : plan_of(make_geometry(1001, 563, 0, 1, 1), standard_ladder())) {
    EXPECT_EQ(p.width % 2, 0);
    EXPECT_EQ(p.height % 2, 0);
    EXPECT_LE(p.width, 1001);
    EXPECT_LE(p.height, 563);
  }
}

TEST(Plan, SmallSourceGetsOneRungAtItsSize) {
  const auto plan = plan_of(make_geometry(320, 240, 0, 1, 1), standard_ladder());
  expect_sizes(plan, {{240, 320, 240}});
  // The lowest rung's 800 kb/s scaled by the pixel count: 240^2 / 360^2.
  EXPECT_EQ(plan[0].bitrate, 355556);
  // An odd source is made even.
  expect_sizes(plan_of(make_geometry(321, 241, 0, 1, 1), standard_ladder()), {{241, 320, 240}});
  // Never below min(that bitrate, 100 kb/s).
  const auto tiny = plan_of(make_geometry(32, 18, 0, 1, 1), standard_ladder());
  ASSERT_EQ(tiny.size(), 1u);
  EXPECT_EQ(tiny[0].bitrate, 100000);
  const auto cheap = plan_of(make_geometry(32, 18, 0, 1, 1), {{360, 60000}});
  ASSERT_EQ(cheap.size(), 1u);
  EXPECT_EQ(cheap[0].bitrate, 60000);
}

TEST(Plan, EmptyLadderIsOneRungAtTheSourceSize) {
  auto plan = plan_ladder(make_geometry(1280, 720, 0, 1, 1), {}, 0, 0, 4);
  expect_sizes(plan, {{720, 1280, 720}});
  EXPECT_EQ(plan[0].bitrate, source_size_bitrate(1280, 720));
  EXPECT_EQ(plan[0].bitrate, 2211840); // 0.08 bit/pixel at 30 fps

  plan = plan_ladder(make_geometry(1280, 720, 0, 1, 1), {}, 0, 1500000, 4);
  expect_sizes(plan, {{720, 1280, 720}});
  EXPECT_EQ(plan[0].bitrate, 1500000);

  plan = plan_ladder(make_geometry(1280, 720, 0, 1, 1), {}, 480, 0, 4);
  expect_sizes(plan, {{480, 854, 480}});
  EXPECT_EQ(plan[0].bitrate, source_size_bitrate(854, 480));

  plan = plan_ladder(make_geometry(1080, 1920, 0, 1, 1), {}, 0, 0, 4);
  expect_sizes(plan, {{1080, 1080, 1920}});
}

TEST(Plan, SourceSizeBitrateIsBounded) {
  EXPECT_EQ(source_size_bitrate(1920, 1080), 4976640);
  EXPECT_EQ(source_size_bitrate(16, 16), 100000);
  EXPECT_EQ(source_size_bitrate(16384, 16384), 50000000);
}

TEST(Plan, NoPictureNoPlan) {
  EXPECT_TRUE(plan_ladder(make_geometry(0, 720, 0, 1, 1), standard_ladder(), 0, 0, 4).empty());
  EXPECT_TRUE(plan_ladder(make_geometry(1280, 0, 0, 1, 1), {}, 0, 0, 4).empty());
}

TEST(Plan, ThreadsFollowThePixelShare) {
  const auto g = make_geometry(1920, 1080, 0, 1, 1);
  const auto plan = plan_ladder(g, standard_ladder(), 0, 0, 8);
  ASSERT_EQ(plan.size(), 4u);
  // 12 threads for 8 cores, by pixels: 1920x1080 is 57% of the four rungs.
  EXPECT_EQ(plan[0].threads, 7);
  EXPECT_EQ(plan[1].threads, 3);
  EXPECT_EQ(plan[2].threads, 1);
  EXPECT_EQ(plan[3].threads, 1);
  for (size_t i = 1; i < plan.size(); ++i)
    EXPECT_LE(plan[i].threads, plan[i - 1].threads);

  // At least one each, at most 16, and 0 cores counts as 1.
  for (const rung_plan& p : plan_ladder(g, standard_ladder(), 0, 0, 0))
    EXPECT_EQ(p.threads, 1);
  const auto big = plan_ladder(g, {{1080, 5000000}}, 0, 0, 64);
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].threads, 16);
}

// ---------------------------------------------------------------------------
// the cascade

TEST(Cascade, LowerRungsScaleFromAnUpperOneAtLeastOneAndAHalfTimesTheirSize) {
  const auto g = make_geometry(1920, 1080, 0, 1, 1);
  const auto plan = plan_of(g, standard_ladder());
  // 1080 is the source size (no scaling saved); 720 comes from the source;
  // 480 and 360 from 720 (one generation only: not 360 from 480).
  EXPECT_EQ(cascade_parents(plan, 1920.0 * 1080), (std::vector<int>{-1, -1, 1, 1}));
}

TEST(Cascade, RemuxedRungsAreNeitherParentNorChild) {
  const auto g = make_geometry(1280, 720, 0, 1, 1);
  auto plan = plan_of(g, {{720, 2800000}, {480, 1400000}, {360, 800000}, {240, 400000}});
  plan[0].remux = true;
  // The 720 is copied, and 480 is not 1.5x 360: 480 and 360 come from the
  // source; 240 from the nearest rung 1.5x its size, 360.
  EXPECT_EQ(cascade_parents(plan, 1280.0 * 720), (std::vector<int>{-1, -1, -1, 2}));
}

TEST(Cascade, RotatedSource) {
  const auto plan = plan_of(make_geometry(1280, 720, 90, 1, 1), {{480, 1400000}, {240, 400000}});
  expect_sizes(plan, {{480, 480, 854}, {240, 240, 426}});
  EXPECT_EQ(cascade_parents(plan, 1280.0 * 720), (std::vector<int>{-1, 0}));
}

// ---------------------------------------------------------------------------
// remuxing on the source's keyframes

std::vector<double> every(double step, double from, double to) {
  std::vector<double> v;
  for (double t = from; t < to + 1e-9; t += step)
    v.push_back(t);
  return v;
}

TEST(KeyframesFitSegments, KeyframesOnEveryBoundary) {
  const auto keys = every(2, 0, 18); // a 2 s GOP, 20 s
  EXPECT_TRUE(keyframes_fit_segments(keys, 0, 20, 6));
  EXPECT_TRUE(keyframes_fit_segments(keys, 0, 20, 2));
  EXPECT_TRUE(keyframes_fit_segments(keys, 0, 20, 4));
  // 3 s segments would be cut at 4, 8, ...: 1 s late.
  EXPECT_FALSE(keyframes_fit_segments(keys, 0, 20, 3));
}

TEST(KeyframesFitSegments, HalfASecondLateAtMost) {
  EXPECT_TRUE(keyframes_fit_segments({0, 6.4, 12.5}, 0, 14, 6));
  EXPECT_FALSE(keyframes_fit_segments({0, 6.6, 12}, 0, 14, 6));
  // Short segments: at most half a segment late.
  EXPECT_TRUE(keyframes_fit_segments({0, 0.7, 1.2}, 0, 1.4, 0.5)); // 0.5 -> 0.7, 1.0 -> 1.2
  EXPECT_FALSE(keyframes_fit_segments({0, 0.8, 1.0}, 0, 1.4, 0.5));
  // A keyframe a hair before its boundary (a rounding of timestamps) counts as on it.
  EXPECT_TRUE(keyframes_fit_segments({0, 5.9995, 12}, 0, 14, 6));
}

TEST(KeyframesFitSegments, ShortTailNeedsNoKeyframe) {
  const std::vector<double> keys = {0, 2, 4};
  EXPECT_TRUE(keyframes_fit_segments(keys, 0, 6.3, 2));  // no keyframe at 6, 0.3 s left
  EXPECT_FALSE(keyframes_fit_segments(keys, 0, 6.6, 2)); // 0.6 s left
}

TEST(KeyframesFitSegments, OriginShiftsTheBoundaries) {
  EXPECT_TRUE(keyframes_fit_segments({10, 12, 14}, 10, 16, 2));
  EXPECT_FALSE(keyframes_fit_segments({10, 12, 14}, 9, 16, 2)); // boundaries 11, 13, 15
}

TEST(KeyframesFitSegments, NothingToJudge) {
  EXPECT_FALSE(keyframes_fit_segments({}, 0, 20, 6));
  EXPECT_FALSE(keyframes_fit_segments({0, 6}, 5, 5, 6));
  EXPECT_FALSE(keyframes_fit_segments({0, 6}, 0, 12, 0));
}

} // namespace
} // namespace hlsgate::media

TEST(CopyFitsRung, BitrateWithinOneAndAHalfTimesAndKnownLevel) {
  EXPECT_TRUE(hlsgate::media::copy_fits_rung(2'000'000, 31, 2'800'000));
  EXPECT_TRUE(hlsgate::media::copy_fits_rung(4'200'000, 40, 2'800'000)); // exactly 1.5x
  EXPECT_FALSE(hlsgate::media::copy_fits_rung(4'200'001, 40, 2'800'000));
  EXPECT_FALSE(hlsgate::media::copy_fits_rung(16'000'000, 40, 5'000'000)); // the 16 Mb/s source
  EXPECT_FALSE(hlsgate::media::copy_fits_rung(0, 31, 2'800'000));        // unknown bitrate: encode
  EXPECT_FALSE(hlsgate::media::copy_fits_rung(2'000'000, 0, 2'800'000)); // unknown level
  EXPECT_FALSE(hlsgate::media::copy_fits_rung(2'000'000, -99, 2'800'000));
  EXPECT_TRUE(hlsgate::media::copy_fits_rung(2'000'000, 42, 2'800'000));
  EXPECT_FALSE(hlsgate::media::copy_fits_rung(2'000'000, 50,
                                              2'800'000)); // level 5.0: too high for some players
  EXPECT_FALSE(hlsgate::media::copy_fits_rung(2'000'000, 31, 0));
}
