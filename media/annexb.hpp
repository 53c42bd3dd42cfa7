// H.264 Annex B access units: the order of their NAL units.
//
// h264_mp4toannexb inserts the parameter sets (SPS, PPS) just before the
// first IDR slice of a keyframe, after any SEI: in a source with HRD
// timing (x264's nal-hrd, broadcast encoders) the buffering-period SEI then
// names an SPS that the decoder has not seen yet, and FFmpeg's H.264
// decoder says so ("non-existing SPS 0 referenced in buffering period").
// H.264 §7.4.1.2.3 wants the parameter sets before the SEI.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hlsgate::media {

/// Reorders the Annex B access unit in `data` in place so that its SPS,
/// SPS extension and PPS units come right after its access unit delimiters
/// (before any SEI or slice), keeping every other unit, and each unit's
/// start code, in order. Returns whether anything moved. Bytes that are not
/// Annex B (no start code at the front) are left as they are.
bool parameter_sets_first(uint8_t* data, size_t size);

} // namespace hlsgate::media
