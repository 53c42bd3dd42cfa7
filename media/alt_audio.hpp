// Alternate audio: an input with video and several audio tracks gets one
// audio-only rendition per track ("a0".."a7", EXT-X-MEDIA TYPE=AUDIO), each
// decoded and encoded to AAC-LC on its own, and video renditions without
// sound. An input with one audio track keeps it muxed into every video
// rendition (transcoder.cpp). Runs on the transcoder's reader thread.
// Internal to hlsgate_media.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "media/audio_encoder.hpp"
#include "media/segmenter.hpp"
#include "media/subtitle_extract.hpp"

namespace hlsgate::media::detail {

/// At most this many audio tracks are kept; the others are reported.
constexpr size_t kMaxAudioTracks = 8;

class alternate_audio {
public:
  /// The usable audio streams of `in` when there are several and a video
  /// (`vidx` >= 0), in stream order; empty otherwise (muxed audio, or none).
  /// At most kMaxAudioTracks are taken; `skipped` counts the others.
  static std::vector<int> choose(AVFormatContext* in, int vidx, size_t& skipped);

  bool empty() const { return tracks_.empty(); }
  size_t size() const { return tracks_.size(); }

  /// Opens a decoder and an AAC encoder per stream of `streams`. A stream
  /// whose decoder does not open is left out and named in warning(), as are
  /// the `skipped` ones choose() did not take.
  status open_tracks(AVFormatContext* in, const std::vector<int>& streams, size_t skipped,
                     int threads, int bitrate, int64_t start_ticks);
  /// Then the renditions: track k in `out_dir/a<k>`, rendition
  /// `first_index + k` of `count`.
  status open_writers(const std::filesystem::path& out_dir, job_shared& shared, size_t first_index,
                      size_t count, int64_t seg_ticks);

  /// Whether `pkt` belongs to a track; if so it is decoded and encoded.
  bool owns(int stream_index) const;
  status on_packet(AVPacket* pkt);

  /// The video renditions' first picture is at `t` (ticks).
  status picture_started(int64_t t);

  /// End of input: drains the decoders and encoders and closes the renditions.
  status finish();

  bool got_media() const;
  int skipped_error() const;
  /// "" or why some tracks were left out, user-safe.
  const std::string& warning() const { return warning_; }
  /// Moves the renditions' descriptions (with their segments) to `out`.
  void take_outputs(std::vector<rendition_output>& out);

private:
  struct track {
    int stream = -1;
    audio_stream_info tags; ///< language, title, default disposition as found
    std::unique_ptr<rendition_writer> writer;
    std::unique_ptr<audio_encoder> encoder;
  };
  std::vector<std::unique_ptr<track>> tracks_;
  std::string warning_;
};

} // namespace hlsgate::media::detail
