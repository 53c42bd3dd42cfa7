// Poster and storyboard thumbnails of a video: one poster JPEG, one sprite
// sheet JPEG with a tile every N seconds, and a WebVTT storyboard whose cues
// point into the sprite ("sprite.jpg#xywh=x,y,w,h", W3C Media Fragments).
// Decodes keyframes only (AVDISCARD_NONKEY) near each tile time, so it costs
// a small fraction of a transcode. Runs on the calling thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "media/open_policy.hpp"
#include "media/result.hpp"

namespace hlsgate::media {

struct thumbnail_options {
  double interval_seconds = 10; ///< one storyboard tile every this many seconds
  int tile_width = 160;         ///< tile width; height follows the display aspect (even)
  int columns = 10;             ///< tiles per sprite row
  int max_tiles = 400;          ///< cap (the interval grows for long inputs)
  int poster_max_width = 1280;  ///< poster is the source size, scaled down to this width
  int jpeg_quality = 5;         ///< mjpeg qscale, 2 (best) .. 31
  open_policy source;           ///< which files may be read as the input
  /// Called often while working (per packet read): a supervisor's sign of
  /// life, so a long thumbnail pass is not mistaken for a hung job.
  std::function<void()> heartbeat;
};

struct thumbnail_output {
  std::string poster = "poster.jpg";
  std::string sprite = "sprite.jpg";
  std::string storyboard = "storyboard.vtt";
  int tiles = 0;
  int tile_width = 0, tile_height = 0;
  int poster_width = 0, poster_height = 0;
};

/// Writes poster.jpg, sprite.jpg and storyboard.vtt into `out_dir` (which
/// must exist). The poster is taken at 10% of the duration (at most 10 s in),
/// from the first keyframe at or after that point. Audio-only inputs give
/// errc::unsupported_media ("no video"). Honors `*cancel` like transcode().
result<thumbnail_output> make_thumbnails(const std::string& input, const std::string& out_dir,
                                         const thumbnail_options& opts,
                                         const std::atomic<bool>* cancel);

} // namespace hlsgate::media
