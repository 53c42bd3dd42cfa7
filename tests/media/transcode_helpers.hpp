// Helpers of the media tests: running a transcode while recording its
// callbacks, and checking its output with the ffprobe / ffmpeg CLI.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "media/transcoder.hpp"

namespace hlsgate::media {

/// `key=value` lines from ffprobe's default writer (nw=1), in order.
std::vector<std::pair<std::string, std::string>> ffprobe(const std::string& args,
                                                         const std::string& file);
std::string value_of(const std::vector<std::pair<std::string, std::string>>& kv,
                     const std::string& key);

/// Decodes the whole file; returns ffmpeg's error output (empty when clean).
std::string decode_errors(const std::string& file);

/// The server's default ladder (config::default_ladder; media/ has no default
/// of its own): 1080p 5 Mb/s, 720p 2.8 Mb/s, 480p 1.4 Mb/s, 360p 0.8 Mb/s.
std::vector<rung> standard_ladder();

/// `segment_seconds`, x264 "veryfast", the standard ladder.
transcode_options fast_options(double segment_seconds);

/// What on_segment saw: the event, when it came, and whether the segment was
/// under its final name (and no longer under .part) at that moment.
struct seen_event {
  segment_event ev;
  double at = 0; ///< seconds since the transcode started
  bool final_exists = false;
  bool part_exists = false;
};

struct run_result {
  result<transcode_output> out;
  std::string dir;
  std::vector<double> progress;
  std::vector<seen_event> events;
  double wall_seconds = 0;
};

/// Transcodes `input` into a new temporary directory, recording the callbacks.
run_result run_transcode(const std::string& input, const transcode_options& opts);

/// Sum of the segment durations of `r`, seconds.
double total_duration(const rendition_output& r);

/// pts_time of the first video packet of a file.
double first_video_pts(const std::string& path);

/// Checks the invariants of every segment of a video rendition with ffprobe/ffmpeg.
void check_video_segments(const std::string& dir, const rendition_output& r, int width, int height);

void expect_durations(const rendition_output& r, const std::vector<double>& expected);

/// Every rendition has the same segment boundaries as the first one.
void expect_same_boundaries(const transcode_output& out);

/// The events match the output, one per segment per rendition, in order; each
/// segment was under its final name when reported; no .part file is left.
void check_events(const run_result& r);

/// The md5 of every decoded video frame of `file`, in order.
std::vector<std::string> frame_hashes(const std::string& file);

/// Concatenates the segments of a rendition (MPEG-TS concatenates byte-wise).
std::string concat_segments(const std::string& dir, const rendition_output& r);

/// Average PSNR (dB) of the first frames of `ours` against `reference` as the
/// ffmpeg CLI shows it (autorotated), scaled to width x height.
double psnr_against(const std::string& ours, const std::string& reference, int width, int height);

} // namespace hlsgate::media
