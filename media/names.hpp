// The names of renditions and segment files under a media folder: one
// pattern, defined here and used by the writers (segmenter, subtitle
// segments), the origin's /seg/ route and, as the same regular expression,
// the nginx edge (deploy/nginx.conf):
//
//   rendition  [a-z0-9]{1,8}            v0..v7 video, a0..a7 audio, s0..s15 subtitles
//   segment    seg_[0-9]{5,9}\.(ts|vtt) zero-padded to five digits, room for 10^9
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hlsgate::media {

enum class segment_kind { ts, vtt };

/// The MPEG-TS timestamp (90 kHz) of media time 0 in every rendition: the
/// muxer's 1.4 s offset (max_delay 0.7 s, media/segmenter.cpp). WebVTT
/// segments map their cue times onto it (X-TIMESTAMP-MAP, RFC 8216 §3.5).
constexpr int64_t mpegts_time_zero = 126000;

/// "seg_00042.ts": the file name of segment `index` (0-based).
std::string segment_file_name(size_t index, segment_kind kind);

/// Whether `name` follows the segment pattern; `kind` gets its kind.
bool parse_segment_file_name(std::string_view name, segment_kind& kind);

/// Whether `name` follows the rendition pattern.
bool is_rendition_name(std::string_view name);

/// The Content-Type a segment of `kind` is served with.
const char* segment_content_type(segment_kind kind);

} // namespace hlsgate::media
