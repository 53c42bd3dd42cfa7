// The one way hlsgate_media opens a libav input: see media/open_policy.hpp.
// Internal to hlsgate_media.
#pragma once

#include <string>

#include "media/libav_util.hpp"
#include "media/open_policy.hpp"

namespace hlsgate::media::libav {

/// The demuxers (AVInputFormat names) a source may be read with.
extern const char* const kAllowedDemuxers[];

/// Opens `path` under `policy` and reads its stream information. Failures:
/// errc::unsupported_media for what the policy refuses (a symbolic link, not
/// a regular file or FIFO, outside the confinement root, a container not
/// allowed), errc::invalid_input for what cannot be read (missing, not a
/// media file), errc::io_error when the confinement root itself is unusable.
/// Reasons are short and path-free; `detail` names the stage.
result<input_ptr> open_source(const std::string& path, const open_policy& policy);

} // namespace hlsgate::media::libav
