// A video rung: the worker thread that produces one video rendition, either
// by scaling (swscale, plus a plane rotation for rotated sources) and
// encoding (libx264) decoded frames, or by copying the source's H.264
// packets through h264_mp4toannexb. Internal to hlsgate_media.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <libavcodec/bsf.h>
}

#include "media/ladder.hpp"
#include "media/libav_util.hpp"
#include "media/segmenter.hpp"

namespace hlsgate::media::detail {

/// Video items queued per rung before the one feeding it waits.
constexpr size_t kQueueFrames = 12;

/// What a rung's queue holds.
struct work_item {
  enum kind_t { frame, video_packet, audio_packet, end } kind = end;
  libav::frame_ptr f;
  libav::packet_ptr p;
  int64_t pts = 0, duration = 0; ///< frames: ticks
  bool cut = false;              ///< starts a segment (an IDR is forced on it)
};

struct encoder_settings {
  AVRational frame_rate{30, 1};
  double fps = 30;
  double segment_seconds = 6;
  std::string preset;                        ///< x264 preset; empty = "veryfast"
  bool low_latency = false;                  ///< x264 tune zerolatency (live)
  int threads = 0;                           ///< 0 = the rung's share (rung_plan::threads)
  const AVCodecParameters* source = nullptr; ///< colour description
  int rotation = 0;
};

/// Opens libx264 for `width` x `height` yuv420p, High profile, IDR forced on
/// frames marked AV_PICTURE_TYPE_I, no scene-cut keyframes, GOP of one
/// segment, `bitrate` bits/s average (1.5x max, 2x buffer).
result<libav::codec_ptr> open_h264_encoder(int width, int height, int64_t bitrate, int threads,
                                           const encoder_settings& es);

/// Whether the top rung `top` can be copied from video stream `vidx` of
/// `in` rather than encoded: H.264 8-bit 4:2:0 (Baseline to High),
/// progressive, at exactly the rung's size, upright (`g`) with square pixels,
/// bitrate (measured from the index) and level within copy_fits_rung,
/// keyframes near every segment boundary (keyframes_fit_segments, judged from
/// the container's index, which must cover the whole stream), and AAC-LC
/// mono or stereo audio at `aidx` (or none, -1). `origin` is the input time
/// of our timeline's 0, seconds.
bool can_remux(AVFormatContext* in, int vidx, int aidx, const source_geometry& g,
               const rung_plan& top, double origin, double segment_seconds);

class video_rung {
public:
  video_rung(job_shared& shared, size_t index, size_t count, int64_t seg_ticks);
  video_rung(const video_rung&) = delete;
  video_rung& operator=(const video_rung&) = delete;
  ~video_rung();

  rendition_writer& writer() { return writer_; }
  bool remux() const { return bsf_ != nullptr; }

  /// Feeds `child` with this rung's output frames (and passes on the audio
  /// and the end), instead of the reader feeding it the decoded frames.
  void add_child(video_rung* child);
  bool has_parent() const { return has_parent_; }

  status open_encoder(const rung_plan& plan, const encoder_settings& es);
  status open_remux(const rung_plan& plan, const AVStream* st, double fps);

  const AVCodecParameters* codecpar() const { return codecpar_.get(); }

  void start();
  void join();

  // The queue, guarded by the job_shared mutex.
  std::deque<work_item> queue;
  size_t video_items = 0;
  bool finished = false;
  std::condition_variable cv;

private:
  struct bsf_closer {
    void operator()(AVBSFContext* p) const noexcept { av_bsf_free(&p); }
  };

  void set_info(const rung_plan& plan, double fps, bool remuxed);
  status forward(video_rung& child, work_item item);
  status forward_all(work_item::kind_t kind, const AVFrame* f, const AVPacket* p, int64_t pts,
                     int64_t duration, bool cut);
  void run();
  status process(work_item& item);
  status on_frame(AVFrame* f, int64_t pts, int64_t duration, bool cut);
  status encode(const AVFrame* f);
  status on_packet(AVPacket* p, bool cut);
  status filter(AVPacket* p, bool cut);

  job_shared& shared_;
  rendition_writer writer_;
  std::thread thread_;

  libav::codec_ptr enc_;
  std::unique_ptr<AVBSFContext, bsf_closer> bsf_;
  libav::codecpar_ptr codecpar_;
  libav::packet_ptr pkt_;
  libav::sws_ptr sws_;
  bool sws_full_range_ = false;
  libav::frame_ptr scaled_, rotated_;
  int rotation_ = 0;
  int pre_w_ = 0, pre_h_ = 0; ///< size before rotation
  std::deque<int64_t> cut_pts_;
  std::vector<video_rung*> children_;
  bool has_parent_ = false;
};

} // namespace hlsgate::media::detail
