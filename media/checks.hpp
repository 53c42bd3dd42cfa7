// Pure checks around a transcode (no libav): whether a probed source is
// within the operator's limits, and whether the output honestly covers the
// source. Unit-tested in tests/media/checks_test.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "media/probe.hpp"
#include "media/result.hpp"

namespace hlsgate::media {

/// The frame rate a source of unknown rate is judged at (frames/s): the
/// nominal rate the transcoder's rate control assumes for it too.
constexpr double kNominalFrameRate = 30;

/// errc::limit_exceeded when `info` is longer than `max_seconds` or its video
/// carries more than `max_pixel_rate` pixels/s (width x height x frame rate;
/// an unknown rate counts as kNominalFrameRate). 0 = no limit. An unknown
/// duration (0) passes: only what the container declares can be judged
/// before transcoding. Reasons: "source is longer than the limit of 21600 s",
/// "source exceeds the pixel rate limit (3840x2160 at 120 fps)".
status check_source_limits(const probe_info& info, double max_seconds, uint64_t max_pixel_rate);

/// The warning for an output that holds `served` seconds of a source that
/// declared `declared` seconds (0 = declared nothing), `read_error` when
/// reading stopped on an error rather than at the end of the file:
///  - served < declared - max(1 s, 2 % of declared): "the source ended early:
///    1.5 s of a declared 30.0 s were readable";
///  - otherwise, after a read error: "the source could not be read to its end";
///  - otherwise empty.
std::string duration_warning(double served, double declared, bool read_error);

} // namespace hlsgate::media
