// media/planes.hpp: quarter turns of a plane, checked on small pictures.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "media/planes.hpp"

namespace hlsgate::media {
namespace {

/// Rows of a plane, as bytes.
using rows = std::vector<std::vector<uint8_t>>;

/// Turns `in` with rotate_plane, through strided buffers (padding bytes set
/// to 0xee, which must neither be read into the output nor overwritten).
rows turn(const rows& in, int rotation) {
  const int h = static_cast<int>(in.size()), w = static_cast<int>(in[0].size());
  const bool swap = rotation == 90 || rotation == 270;
  const int ow = swap ? h : w, oh = swap ? w : h;
  const int sstride = w + 3, dstride = ow + 5;
  std::vector<uint8_t> src(static_cast<size_t>(sstride) * h, 0xee);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      src[y * sstride + x] = in[y][x];
  std::vector<uint8_t> dst(static_cast<size_t>(dstride) * oh, 0xee);
  rotate_plane(src.data(), sstride, w, h, dst.data(), dstride, rotation);
  rows out(oh, std::vector<uint8_t>(ow));
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x)
      out[y][x] = dst[y * dstride + x];
    for (int x = ow; x < dstride; ++x)
      EXPECT_EQ(dst[y * dstride + x], 0xee) << "padding written at " << x << "," << y;
  }
  return out;
}

const rows kPicture = {{1, 2, 3}, {4, 5, 6}}; // 3 wide, 2 high

TEST(Planes, Clockwise90) {
  EXPECT_EQ(turn(kPicture, 90), (rows{{4, 1}, {5, 2}, {6, 3}}));
}

TEST(Planes, Clockwise180) {
  EXPECT_EQ(turn(kPicture, 180), (rows{{6, 5, 4}, {3, 2, 1}}));
}

TEST(Planes, Clockwise270) {
  EXPECT_EQ(turn(kPicture, 270), (rows{{3, 6}, {2, 5}, {1, 4}}));
}

TEST(Planes, OtherAnglesCopy) {
  EXPECT_EQ(turn(kPicture, 0), kPicture);
  EXPECT_EQ(turn(kPicture, 45), kPicture);
}

TEST(Planes, LargerThanATileFourTurnsAreIdentity) {
  // 70 x 45: more than one 32-pixel tile each way, with partial tiles.
  rows big(45, std::vector<uint8_t>(70));
  for (int y = 0; y < 45; ++y)
    for (int x = 0; x < 70; ++x)
      big[y][x] = static_cast<uint8_t>(y * 70 + x);
  EXPECT_EQ(turn(turn(big, 90), 270), big);
  EXPECT_EQ(turn(turn(big, 180), 180), big);
  const rows q = turn(big, 90);
  ASSERT_EQ(q.size(), 70u);
  ASSERT_EQ(q[0].size(), 45u);
  EXPECT_EQ(q[0][0], big[44][0]); // the bottom-left corner comes to the top left
  EXPECT_EQ(q[69][44], big[0][69]);
  EXPECT_EQ(turn(turn(turn(q, 90), 90), 90), big);
}

} // namespace
} // namespace hlsgate::media
