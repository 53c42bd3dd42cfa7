// The MPEG-TS rendition writer: one rendition's segments of ~segment_seconds,
// cut where the video says or, without video, at the boundaries on audio;
// and the state the transcoder's reader thread shares with its rung workers.
// Internal to hlsgate_media.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string>

#include "media/libav_util.hpp"
#include "media/transcoder.hpp"

namespace hlsgate::media::detail {

/// The internal timeline: the MPEG-TS clock, 90 kHz ticks from the start of
/// the input (the earliest start of the streams used).
constexpr AVRational kTicks{1, 90000};
constexpr int64_t kNoTs = std::numeric_limits<int64_t>::min();

/// The first segment boundary strictly after `t` (boundaries are k * seg, k >= 1).
int64_t next_boundary(int64_t t, int64_t seg);

/// Copied packets go to a muxer that refuses decreasing or repeated DTS:
/// nudges such a packet (as the ffmpeg CLI does) instead of failing the job.
/// `last` is the previous DTS of the stream (kNoTs at first).
void keep_dts_increasing(AVPacket* pkt, int64_t& last);

/// "avc1.PPCCLL" (RFC 6381) from the SPS of an Annex B H.264 packet; empty
/// when it has none.
std::string avc1_codecs(const uint8_t* data, int size);

/// State shared by the reader (calling thread) and the rung workers.
struct job_shared {
  std::mutex m;
  std::condition_variable cv; ///< the reader waits here (queue space, events, workers done)
  bool abort = false;
  bool failed = false;
  size_t variant_count = 0; ///< set before any writer emits: segment_event::variant_count
  size_t first_segment = 0; ///< the number in the first segment's file name
  error first_error;
  std::deque<segment_event> events;

  void emit(segment_event ev);
  void record_failure(const error& e);
};

/// One rendition's segments. Timestamps of every packet given to it are in
/// kTicks. Segments are written by one MPEG-TS muxer as `seg_%05d.ts.part`
/// (continuity counters and clocks run on), renamed when closed
/// and then reported through job_shared::emit.
class rendition_writer {
public:
  rendition_writer(job_shared& shared, size_t index, size_t count, int64_t seg_ticks);
  ~rendition_writer();
  rendition_writer(const rendition_writer&) = delete;
  rendition_writer& operator=(const rendition_writer&) = delete;

  rendition_output& info() { return info_; }

  /// Creates `dir`; `video` / `audio` (either may be null) describe the streams.
  status open(const std::filesystem::path& dir, const AVCodecParameters* video,
              const AVCodecParameters* audio);

  /// The input reached `t` (ticks): the last segment lasts at least until then.
  void note_end(int64_t t) { end_ = std::max(end_, t); }

  /// A video packet; `cut` starts a new segment with it (it must be a keyframe).
  status write_video(AVPacket* pkt, bool cut);

  /// An audio packet. It waits until the video has reached the segment its
  /// timestamp belongs to.
  status write_audio(libav::packet_ptr pkt);

  /// An alternate audio rendition (no video of its own, but played with the
  /// video renditions) starts with their picture: audio waits (up to 30 s)
  /// for picture_started, and what ends before the picture is dropped.
  void follow_picture() { follows_picture_ = true; }
  /// The video renditions' first picture is at `t` (ticks); once is enough.
  status picture_started(int64_t t);

  /// No more packets: writes the queued audio and closes the last segment.
  status finish();

private:
  struct segment_state {
    std::string name;
    std::filesystem::path part, path;
    int64_t start = 0; ///< ticks
  };
  struct output_closer {
    void operator()(AVFormatContext* p) const noexcept;
  };
  using output_ptr = std::unique_ptr<AVFormatContext, output_closer>;

  bool follows_picture() const { return video_active_ || follows_picture_; }
  bool before_first_picture(const AVPacket& pkt) const;
  status route_queued_audio(int64_t limit, bool cut_on_audio);
  status write(AVPacket* pkt, int idx);
  status start_segment(int64_t start);
  status close_segment(int64_t end, bool last);
  void fill_info(rendition_output& r) const;

  job_shared& shared_;
  const size_t index_, count_;
  const int64_t seg_ticks_;
  std::filesystem::path dir_;
  rendition_output info_;
  libav::codecpar_ptr vpar_, apar_;
  std::string avc1_;

  output_ptr mux_;    ///< the rendition's muxer, from its first segment on
  bool open_ = false; ///< a segment file is open
  int mux_vidx_ = -1, mux_aidx_ = -1;
  segment_state cur_;
  size_t segments_ = 0;
  int64_t next_cut_;
  bool video_active_ = false; ///< cuts follow the video while true
  bool follows_picture_ = false;
  std::deque<libav::packet_ptr> audio_queue_;
  int64_t end_ = kNoTs;
  int64_t first_video_ = kNoTs; ///< pts of the first picture
  bool saw_video_ = false, saw_audio_ = false;
  uint64_t total_bytes_ = 0;
  double total_duration_ = 0;
};

} // namespace hlsgate::media::detail
