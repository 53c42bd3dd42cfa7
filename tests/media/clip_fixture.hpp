// Test clips generated on demand with the ffmpeg CLI (lavfi testsrc2 / sine)
// into a per-process temporary directory, which is removed at exit.
// Each distinct spec is generated once per process; calls are thread-safe.
// Failures (ffmpeg missing or failing) throw std::runtime_error, which
// GoogleTest reports as a test failure.
#pragma once

#include <string>

namespace hlsgate::test {

enum class clip_kind {
  video_audio,  ///< testsrc2 + sine 440 Hz: H.264 yuv420p High, -g 60 (2 s GOP) + AAC, in .mp4
  video_only,   ///< the same video, no audio stream, in .mp4
  audio_only,   ///< sine 440 Hz, AAC-LC 48 kHz stereo, in .m4a
  not_media,    ///< plain text bytes named .mp4
  random_bytes, ///< 64 KiB of pseudo-random bytes named .mp4
  empty,        ///< a zero-length file named .mp4
  truncated,    ///< the first half of a video_audio clip (moov first: +faststart)
};

struct clip_spec {
  clip_kind kind = clip_kind::video_audio;
  double seconds = 20;
  int width = 1280, height = 720, fps = 30;
  /// File extension / container. Empty: the kind's default ("mp4", "m4a").
  /// Also "mkv", "ts", or "h264" (raw Annex B: no container timestamps, no audio).
  std::string container;
  /// Audio starts this many seconds after the video (video_audio; use "ts"/"mkv").
  double audio_delay = 0;
  /// Drop every 3rd of 5 frames so frame intervals vary (use "mkv"/"ts").
  bool variable_frame_rate = false;

  // Options added for the transcoder's hostile-input tests; the defaults give
  // the clips above unchanged.
  /// Video encoder: "libx264" (default when empty) or "libx265" (tagged hvc1).
  std::string video_codec;
  /// Scale to exactly width x height: testsrc2 only makes even sizes, so
  /// without this an odd size comes out rounded down. Odd 4:2:0 sizes need a
  /// codec that allows them (e.g. video_codec "ffv1", container "mkv").
  bool exact_size = false;
  /// Pixel format of the encoded video; empty = "yuv420p" (e.g. "yuv420p10le").
  std::string pix_fmt;
  /// Keyframe interval in frames (-g); 0 = 60.
  int gop = 0;
  /// Sample aspect ratio written into the stream, e.g. "4/3"; empty = square pixels.
  std::string sar;
  /// Display rotation metadata (mp4/mov: `-metadata:s:v rotate=N` in a copy pass); 0 = none.
  int rotation = 0;
  /// Audio sample rate and channel count (0 = 48000 Hz, 2 channels).
  int audio_rate = 0;
  int audio_channels = 0;
};

/// True if the local ffmpeg has encoder `name` and, when `pix_fmt` is given,
/// that encoder accepts it (e.g. libx264 + yuv420p10le).
bool ffmpeg_has_encoder(const std::string& name, const std::string& pix_fmt = "");

/// Absolute path of a clip matching `spec`, generated on first use.
std::string make_clip(const clip_spec& spec);

/// Common specs: the 1280x720 30 fps video+audio clip, the audio-only clip,
/// and a 4 s clip of any kind.
inline clip_spec clip_720p(double seconds = 20) {
  clip_spec s;
  s.seconds = seconds;
  return s;
}
inline clip_spec clip_audio_only(double seconds = 20) {
  clip_spec s;
  s.kind = clip_kind::audio_only;
  s.seconds = seconds;
  return s;
}
inline clip_spec clip_of(clip_kind kind, double seconds = 4) {
  clip_spec s;
  s.kind = kind;
  s.seconds = seconds;
  return s;
}

/// A new empty directory under the per-process temporary directory.
std::string make_temp_dir(const std::string& prefix = "out");

/// Runs `command` with /bin/sh; stores stdout in *out if given. Returns the exit status
/// (-1 if it could not be run or was killed).
int run_command(const std::string& command, std::string* out = nullptr);

/// Single-quotes `s` for /bin/sh.
std::string shell_quote(const std::string& s);

} // namespace hlsgate::test
