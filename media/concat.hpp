// Joins MPEG-TS segments that hlsgate wrote (a live channel's window) into
// one MPEG-TS file, without re-encoding: packets are copied, and the
// timestamps of a segment that starts a discontinuity (the source
// restarted) are moved to follow the previous one, so the result plays as
// one continuous programme. The inputs are files of our own; they are still
// opened with the MPEG-TS demuxer only and the file protocol only.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "media/result.hpp"

namespace hlsgate::media {

struct concat_input {
  std::string path;
  bool discontinuity = false; ///< its timestamps do not follow the previous segment's
};

struct concat_stats {
  size_t segments = 0; ///< inputs copied
  size_t skipped = 0;  ///< inputs that could not be read (gone, damaged)
  double seconds = 0;  ///< media duration written
};

/// Writes `inputs` in order to `out_path` (created, or truncated). An input
/// that cannot be opened is skipped and the next one starts a discontinuity.
/// Fails when nothing could be copied or the output cannot be written;
/// `cancel` (optional) is polled between packets.
result<concat_stats> concat_segments(const std::vector<concat_input>& inputs,
                                     const std::string& out_path,
                                     const std::atomic<bool>* cancel = nullptr);

} // namespace hlsgate::media
