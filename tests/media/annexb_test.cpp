#include <gtest/gtest.h>

#include <vector>

#include "media/annexb.hpp"

using hlsgate::media::parameter_sets_first;

namespace {

using bytes = std::vector<uint8_t>;

/// A NAL unit of `type` behind a 4- or 3-byte start code, with a payload
/// that tells it apart.
bytes nal(int type, bool long_code, uint8_t tag) {
  bytes b = long_code ? bytes{0, 0, 0, 1} : bytes{0, 0, 1};
  b.push_back(static_cast<uint8_t>(0x60 | type));
  b.push_back(tag);
  b.push_back(0x80);
  return b;
}

bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

} // namespace

TEST(ParameterSetsFirst, MovesSpsAndPpsBeforeTheSei) {
  // What h264_mp4toannexb makes of an x264 keyframe with HRD timing.
  const bytes aud = nal(9, true, 1), sei1 = nal(6, false, 2), sei2 = nal(6, false, 3),
              sps = nal(7, true, 4), pps = nal(8, true, 5), idr = nal(5, false, 6);
  bytes au = cat({aud, sei1, sei2, sps, pps, idr});
  ASSERT_TRUE(parameter_sets_first(au.data(), au.size()));
  EXPECT_EQ(au, cat({aud, sps, pps, sei1, sei2, idr}));
  EXPECT_FALSE(parameter_sets_first(au.data(), au.size())) << "in order now";
}

TEST(ParameterSetsFirst, WithoutADelimiterTheSetsLead) {
  const bytes sei = nal(6, true, 1), sps = nal(7, true, 2), ext = nal(13, false, 3),
              pps = nal(8, true, 4), idr = nal(5, false, 5);
  bytes au = cat({sei, sps, ext, pps, idr});
  ASSERT_TRUE(parameter_sets_first(au.data(), au.size()));
  EXPECT_EQ(au, cat({sps, ext, pps, sei, idr}));
}

TEST(ParameterSetsFirst, OrderedOrForeignBytesAreLeftAlone) {
  bytes ordered =
      cat({nal(9, true, 1), nal(7, true, 2), nal(8, true, 3), nal(6, false, 4), nal(5, false, 5)});
  const bytes copy = ordered;
  EXPECT_FALSE(parameter_sets_first(ordered.data(), ordered.size()));
  EXPECT_EQ(ordered, copy);
  bytes slice_only = nal(1, true, 7);
  EXPECT_FALSE(parameter_sets_first(slice_only.data(), slice_only.size()));
  bytes avcc = {0, 0, 0, 9, 0x65, 1, 2, 3, 4, 5, 6, 7, 8}; // length-prefixed, not Annex B
  const bytes avcc_copy = avcc;
  EXPECT_FALSE(parameter_sets_first(avcc.data(), avcc.size()));
  EXPECT_EQ(avcc, avcc_copy);
  EXPECT_FALSE(parameter_sets_first(nullptr, 0));
  // A byte before the first start code that is not its zero_byte (found by
  // the fuzzer: moved behind a unit ending in two zeros, it made a new
  // start code).
  bytes stray = {1, 0, 0, 1, 0x68, 0x8c, 0, 0, 0, 1, 0x09, 0x9d, 0, 0, 1, 0x67, 0x9d};
  const bytes stray_copy = stray;
  EXPECT_FALSE(parameter_sets_first(stray.data(), stray.size()));
  EXPECT_EQ(stray, stray_copy);
  bytes tiny = {0, 0, 1};
  EXPECT_FALSE(parameter_sets_first(tiny.data(), tiny.size()));
}

TEST(ParameterSetsFirst, TruncatedAndHostileUnitsKeepEveryByte) {
  // Empty units, a start code at the very end, trailing zeros: whatever it
  // does, the bytes are a permutation of the input's.
  bytes au = {0, 0, 0, 1, 0x06, 0, 0, 1, 0, 0, 1, 0x67, 0xaa, 0, 0, 0, 1, 0x68, 0, 0, 0, 0, 1};
  bytes sorted_in = au;
  parameter_sets_first(au.data(), au.size());
  bytes sorted_out = au;
  std::sort(sorted_in.begin(), sorted_in.end());
  std::sort(sorted_out.begin(), sorted_out.end());
  EXPECT_EQ(sorted_in, sorted_out);
}
