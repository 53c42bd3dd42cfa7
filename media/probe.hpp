// Probing an uploaded file with libavformat.
#pragma once

#include <string>

#include "media/result.hpp"

namespace hlsgate::media {

struct probe_info {
  std::string format;  ///< libavformat short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  double duration = 0; ///< seconds (0 if unknown)
  bool has_video = false;
  bool has_audio = false;
  int width = 0, height = 0;
  std::string video_codec, audio_codec; ///< e.g. "h264", "aac"
};

/// Opens and inspects `path`. A file that is not audio/video (no decodable
/// audio or video stream; attached pictures do not count) is
/// errc::unsupported_media / errc::invalid_input with a short reason.
result<probe_info> probe(const std::string& path);

} // namespace hlsgate::media
