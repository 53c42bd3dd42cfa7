// In-process transcoding to HLS with libavformat/libavcodec/libswscale/
// libswresample: H.264 (yuv420p, High profile) + AAC-LC in MPEG-TS segments,
// an IDR at every segment boundary. Runs on the calling thread; it never
// touches CAF, so the pool can run it on a thread of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "media/playlist.hpp"
#include "media/result.hpp"

namespace hlsgate::media {

struct transcode_options {
  double segment_seconds = 6;      ///< target segment length; IDR forced at each boundary
  int max_height = 1080;           ///< never upscales; downscales above this
  int video_bitrate = 0;           ///< bits/s; 0 = derived from the output size
  int audio_bitrate = 128000;      ///< bits/s
  std::string x264_preset = "veryfast";
  int threads = 0;                 ///< encoder/decoder threads; 0 = libav's choice
};

/// One rendition written by the transcoder into `out_dir/<name>/`.
struct rendition_output {
  std::string name;             ///< directory name, "v0" (video+audio) or "a0" (audio-only)
  bool has_video = false;
  bool has_audio = false;
  int width = 0, height = 0;
  double frame_rate = 0;
  std::string codecs;           ///< RFC 6381, e.g. "avc1.640028,mp4a.40.2"
  uint64_t peak_bandwidth = 0;  ///< bits/s, max over segments of bytes*8/duration
  uint64_t average_bandwidth = 0;
  std::vector<segment_entry> segments; ///< uri = file name inside the rendition dir
};

struct transcode_output {
  double duration = 0; ///< seconds of input
  std::vector<rendition_output> renditions;
};

/// Called with the fraction done in [0,1] (input timestamp / duration),
/// at most a few times per second.
using progress_fn = std::function<void(double fraction)>;

/// Transcodes `input` into `out_dir` (which must exist and be empty).
/// Segment files are named `seg_%05d.ts`. Returns errc::cancelled promptly
/// (within one packet) once `*cancel` becomes true. On error, whatever was
/// written under `out_dir` is left for the caller to delete.
result<transcode_output> transcode(const std::string& input, const std::string& out_dir,
                                   const transcode_options& opts, const progress_fn& progress,
                                   const std::atomic<bool>* cancel);

} // namespace hlsgate::media
