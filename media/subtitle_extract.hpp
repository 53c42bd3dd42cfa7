// The subtitle and audio streams of a source: which there are, and the cues
// of its text subtitle streams (SubRip, ASS/SSA, mov_text, WebVTT, ...) as
// plain, WebVTT-safe text with media-time milliseconds, for the WebVTT
// renditions of a stream. Picture subtitles (PGS, DVD, DVB) are listed, not
// decoded: they would need OCR.
//
// The source is opened like every other input of hlsgate_media
// (media/open_policy.hpp); only its subtitle streams are demuxed, so a pass
// reads the file once without decoding any audio or video.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "media/open_policy.hpp"
#include "media/result.hpp"
#include "media/subtitles.hpp"

struct AVFormatContext;

namespace hlsgate::media {

/// One subtitle stream of a source, as its container describes it.
struct subtitle_stream_info {
  int index = -1;       ///< stream index in the source
  std::string codec;    ///< libav codec name: "subrip", "ass", "mov_text", "hdmv_pgs_subtitle", ...
  std::string language; ///< the stream's "language" tag as found (ISO 639-2); "" when absent
  std::string title;    ///< the stream's "title" tag; "" when absent
  bool is_default = false; ///< AV_DISPOSITION_DEFAULT
  bool forced = false;     ///< AV_DISPOSITION_FORCED
  bool text_based = false; ///< a text codec (AV_CODEC_PROP_TEXT_SUB), not pictures
};

/// A text subtitle stream and its cues, in the order the source has them.
struct subtitle_track {
  subtitle_stream_info info;
  std::vector<subtitle_cue> cues;
};

struct subtitle_extraction {
  /// The text streams, at most `max_tracks`, in stream order.
  std::vector<subtitle_track> tracks;
  /// Picture streams, text streams beyond `max_tracks` and text streams
  /// libav has no decoder for (or cannot open one), in stream order.
  std::vector<subtitle_stream_info> skipped;
};

/// Cues per track beyond which a track's later cues are dropped.
constexpr size_t kMaxCuesPerTrack = 20000;
/// Media time (ms) beyond which cues are dropped: 48 h.
constexpr int64_t kMaxSubtitleMs = int64_t{48} * 3600 * 1000;
/// How long a cue whose source gives no end lasts at most: until the next
/// event of its stream, at most this long (ms).
constexpr int64_t kOpenCueMs = 10000;
/// Cues without an end waiting for the next event, per track.
constexpr size_t kMaxOpenCues = 64;
/// Cue text kept over all tracks of one source.
constexpr size_t kMaxTotalCueBytes = size_t{16} << 20;

/// Reads every text subtitle stream of `path`, opened under `policy`.
///
/// Cue times are milliseconds of media time: the source timestamp minus
/// `origin_ms`, the source timestamp (ms) that is 0 on the output timeline.
/// A cue ends after its display time, else its packet's duration, else at
/// the next event of its stream (at most kOpenCueMs later). Texts are the
/// decoder's dialogue text cleaned by clean_cue_text(); empty cues, cues
/// longer than subtitle_limits::max_cue_bytes, cues ending at or before 0
/// and cues from kMaxSubtitleMs on are dropped, a start before 0 becomes 0,
/// ends are capped at kMaxSubtitleMs. At most kMaxCuesPerTrack cues are kept
/// per track (the first ones).
///
/// Fails only when the source cannot be opened (open_source's errors); a
/// read error part-way returns the cues read so far, a packet that does not
/// decode is skipped.
///
/// Bounded: at most kMaxOpenCues cues without an end wait per track (the
/// oldest is ended first), and all tracks together keep at most
/// kMaxTotalCueBytes of text (then reading stops). `cancel` (may be null)
/// set ends the pass with errc::cancelled; `heartbeat` (may be empty) is
/// called every few hundred packets, so a watchdog sees the pass alive.
result<subtitle_extraction> extract_subtitles(const std::string& path, const open_policy& policy,
                                              int64_t origin_ms, size_t max_tracks = 16,
                                              const std::atomic<bool>* cancel = nullptr,
                                              const std::function<void()>& heartbeat = {});

/// One audio stream of a source.
struct audio_stream_info {
  int index = -1;          ///< stream index in the source
  std::string codec;       ///< libav codec name: "aac", "ac3", "opus", ...
  std::string language;    ///< the stream's "language" tag as found; "" when absent
  std::string title;       ///< the stream's "title" tag; "" when absent
  bool is_default = false; ///< AV_DISPOSITION_DEFAULT
  int channels = 0;        ///< channel count (0 when unknown)
  int sample_rate = 0;     ///< Hz (0 when unknown)
};

/// Every audio stream of the opened input `in` (open_source), in stream
/// order; none for a null `in`.
std::vector<audio_stream_info> list_audio_streams(AVFormatContext* in);

} // namespace hlsgate::media
