// The ladder syntax of HLSGATE_LADDER and of `?ladder=` on uploads:
//   "1080:5000k,720:2800k,480:1400k,360:800k"   (height:bitrate, k/M or bits/s)
// Parsed here, once; media/ plans the rungs for a given source.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hlsgate::config {

/// One requested video rung.
struct rung {
  int height = 0;        ///< short side of the output picture
  int video_bitrate = 0; ///< bits/s (average)

  friend bool operator==(const rung& a, const rung& b) {
    return a.height == b.height && a.video_bitrate == b.video_bitrate;
  }
};

/// At most this many rungs per ladder (each is one encoder thread per job).
inline constexpr size_t max_rungs = 8;

/// 1080p 5 Mb/s, 720p 2.8 Mb/s, 480p 1.4 Mb/s, 360p 0.8 Mb/s.
std::vector<rung> default_ladder();

/// Parses `text` into rungs sorted by height, highest first. Returns an
/// empty string on success, otherwise a short reason: syntax, heights
/// outside [16, 4320], bitrates outside [50k, 100M], the same height twice,
/// more than max_rungs rungs.
std::string parse_ladder(std::string_view text, std::vector<rung>& out);

/// The canonical text of `rungs` ("1080:5000k,720:2800k").
std::string format_ladder(const std::vector<rung>& rungs);

} // namespace hlsgate::config
