// The built-in test signal of live channels: colour bars with a moving
// gradient, a burnt-in UTC wall clock (to read glass-to-glass latency off a
// player) and a 440 Hz tone, generated in real time. Pure: it only writes the
// lavfi filter graph; media/source.cpp runs it.
#pragma once

#include <string>

namespace hlsgate::media {

struct test_pattern {
  int width = 1280;
  int height = 720;
  int fps = 30;
  /// A TrueType font for the clock (fixed, chosen by hlsgate: no quote or
  /// colon in it); empty: no clock (a host without fonts).
  std::string font_file;
};

/// The first of the usual Debian font files that exists ("" when none).
std::string default_font_file();

/// The lavfi graph of `p` (video on out0, audio on out1). Sizes are clamped
/// to 64x64..3840x2160 (even) and the rate to 1..60.
std::string test_pattern_graph(test_pattern p);

} // namespace hlsgate::media
