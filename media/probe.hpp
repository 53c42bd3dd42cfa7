// Probing an uploaded file with libavformat.
#pragma once

#include <string>

#include "media/open_policy.hpp"
#include "media/result.hpp"

namespace hlsgate::media {

struct probe_info {
  std::string format;  ///< libavformat short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  double duration = 0; ///< seconds (0 if unknown)
  bool has_video = false;
  bool has_audio = false;
  int width = 0, height = 0;
  double frame_rate = 0; ///< frames/s of the video as libavformat guesses it; 0 = unknown
  std::string video_codec, audio_codec; ///< e.g. "h264", "aac"
};

/// Opens `path` under `policy` (media/open_policy.hpp) and inspects it. A
/// file that is not audio/video (no decodable audio or video stream;
/// attached pictures do not count) is errc::unsupported_media /
/// errc::invalid_input with a short reason; so is a file the policy refuses.
result<probe_info> probe(const std::string& path, const open_policy& policy);

} // namespace hlsgate::media
