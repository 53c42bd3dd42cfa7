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

#include "media/ladder.hpp"
#include "media/open_policy.hpp"
#include "media/playlist.hpp"
#include "media/result.hpp"

namespace hlsgate::media {

struct transcode_options {
  double segment_seconds = 6; ///< target segment length; IDR forced at each boundary
  /// The rungs wanted (plan_ladder in media/ladder.hpp): filtered by the
  /// source size, never upscaled. Empty: a single rung at the source size
  /// (capped by max_height) at `video_bitrate`.
  std::vector<rung> ladder;
  int max_height = 0;    ///< 0 = no cap; otherwise drop rungs above it
  int video_bitrate = 0; ///< bits/s of the single rung when `ladder` is empty; 0 = from its size
  int audio_bitrate = 128000; ///< bits/s
  std::string x264_preset = "veryfast";
  /// Live ingest: x264's zerolatency tuning (no lookahead, no B-frames), so
  /// segments complete as soon as their last frame was captured.
  bool low_latency = false;
  /// Live ingest: every rung of `ladder` is produced whatever the source's
  /// size (fit_to_ladder), so a channel's renditions never change.
  bool fixed_ladder = false;
  int threads = 0; ///< encoder/decoder threads; 0 = libav's choice
  /// When the source is H.264 (yuv420p, 8-bit) + AAC (or H.264 alone), copy
  /// it as the top rung without re-encoding (segmented on its keyframes) and
  /// encode only the lower rungs.
  bool allow_remux = true;
  /// Which files may be read as the input (media/open_policy.hpp).
  open_policy source;
  /// The number in the first segment file's name (seg_%05d.ts): a live
  /// channel's next media sequence number, so that every ingest session of a
  /// channel writes new names into the same rendition folders.
  size_t first_segment = 0;
};

/// One rendition written by the transcoder into `out_dir/<name>/`.
struct rendition_output {
  /// Directory name: "v0" (top rung), "v1", ...; "a0" for the audio of an
  /// input without video; "a0".."a7" for alternate audio.
  std::string name;
  /// An alternate audio track (EXT-X-MEDIA TYPE=AUDIO): the input has video
  /// and several audio tracks, so every track is a rendition of its own and
  /// the video renditions carry none.
  bool alternate = false;
  std::string language;    ///< alternate: RFC 5646 tag from the source ("" when unknown)
  std::string label;       ///< alternate: NAME, unique among the tracks
  bool is_default = false; ///< alternate: the track players pick first
  bool remuxed = false;    ///< copied from the source without re-encoding
  bool has_video = false;
  bool has_audio = false;
  int width = 0, height = 0;
  double frame_rate = 0;
  int channels = 0;            ///< alternate audio: the encoded channel count (CHANNELS)
  std::string codecs;          ///< RFC 6381, e.g. "avc1.640028,mp4a.40.2"
  uint64_t peak_bandwidth = 0; ///< bits/s, max over segments of bytes*8/duration
  uint64_t average_bandwidth = 0;
  std::vector<segment_entry> segments; ///< uri = file name inside the rendition dir
};

struct transcode_output {
  /// Seconds the input declares (its container's duration); when it
  /// declares none, served_duration.
  double duration = 0;
  /// Seconds the renditions really hold (the top one's segments): less than
  /// `duration` when the input ends early (a truncated upload).
  double served_duration = 0;
  /// User-safe, empty when the output covers the input (duration_warning in
  /// media/checks.hpp), e.g. "the source ended early: 1.5 s of a declared
  /// 30.0 s were readable". A read error in the middle of the input ends it
  /// there: what was read before is kept, with this warning; only an input
  /// of which nothing could be read fails.
  std::string warning;
  std::vector<rendition_output> renditions;
  /// The input timestamp (ms) that is media time 0: subtitles and other
  /// streams read from the input later are shifted by it.
  int64_t origin_ms = 0;
};

/// Called with the fraction done in [0,1] (input timestamp / duration),
/// at most a few times per second.
using progress_fn = std::function<void(double fraction)>;

/// A segment was completed: its file is closed and renamed to its final name
/// (segments are written as `<name>.part` first), so it can be served now.
struct segment_event {
  size_t rendition_count = 0; ///< renditions this job produces
  /// The first `variant_count` of them are variants (video, or the audio of
  /// an input without video); the rest are alternate audio tracks. 0: all.
  size_t variant_count = 0;
  size_t rendition_index = 0; ///< 0 = top rung
  rendition_output rendition; ///< all known so far about it; `segments` is left empty
  segment_entry segment;      ///< uri = file name inside the rendition dir
  /// Video frames of the input so far that failed to decode, or decoded
  /// damaged (concealed by the decoder).
  uint64_t damaged_frames = 0;
};
using segment_fn = std::function<void(const segment_event&)>;

/// Opens libx264 with `x264_preset` (empty: "veryfast") and the options a
/// transcode uses, and encodes one tiny frame: start-up calls it to refuse a
/// preset every job would fail on. On failure the detail names the stage and
/// libav's error (an unknown preset: "open H.264 encoder: Invalid argument").
status check_encoder(const std::string& x264_preset);

/// Transcodes `input` into `out_dir` (which must exist and be empty): the
/// input is decoded once, scaled once per rung, and every rung is encoded in
/// the same pass. Segment files are named `seg_%05d.ts`; `on_segment` (may be
/// empty) is called as each one is completed, in order per rendition.
/// Returns errc::cancelled promptly (within one packet) once `*cancel`
/// becomes true. On error, whatever was written under `out_dir` is left for
/// the caller to delete.
result<transcode_output> transcode(const std::string& input, const std::string& out_dir,
                                   const transcode_options& opts, const progress_fn& progress,
                                   const std::atomic<bool>* cancel,
                                   const segment_fn& on_segment = {});

} // namespace hlsgate::media
