// The transcoder: one pass over the input feeds every rung of the ladder.
// This file is the job: the demux loop and the orchestration. The pieces it
// drives: ladder.cpp (what to produce), video_rung.cpp (a worker per video
// rung), audio_encoder.cpp (the audio), alt_audio.cpp (several audio tracks,
// each a rendition of its own), segmenter.cpp (the MPEG-TS files).
//
// Threads: the calling thread demuxes, decodes the video once, decodes and
// encodes the audio once (or copies it), decides where segments are cut, and
// hands reference-counted frames/packets to one worker thread per video rung.
// Each worker scales (swscale; plus a plane rotation for rotated sources),
// encodes (libx264, with its own threads) and segments its rendition, or, for
// a remuxed top rung, passes the source packets through h264_mp4toannexb.
// Lower rungs are scaled from an upper rung's output when that is at least
// 1.5x their size (480p and 360p from 720p, not from 1080p): the upper worker
// forwards its frames, and the audio in order with them. Completed segments
// are reported back to the calling thread, which invokes on_segment and
// progress, so callbacks never run on a worker.
//
// Segment boundaries are decided once for all rungs: the first frame at or
// after each k * segment_seconds (or, when the top rung is remuxed, the first
// source keyframe at or after it). Encoded rungs force an IDR on exactly those
// frames and cut on exactly those packets, so all renditions switch cleanly.

#include "media/transcoder.hpp"

#include "media/alt_audio.hpp"
#include "media/audio_encoder.hpp"
#include "media/checks.hpp"
#include "media/ladder.hpp"
#include "media/libav_util.hpp"
#include "media/segmenter.hpp"
#include "media/source.hpp"
#include "media/video_rung.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace hlsgate::media {
namespace {

namespace fs = std::filesystem;
using namespace detail;
using libav::codec_ptr;
using libav::fail;
using libav::frame_ptr;
using libav::input_ptr;
using libav::kMaxDimension;
using libav::kNoMemory;
using libav::packet_ptr;

constexpr auto kProgressInterval = std::chrono::milliseconds(250);
constexpr auto kPollInterval = std::chrono::milliseconds(50); ///< cancel checks while waiting

// ---------------------------------------------------------------------------
// The job: the calling thread's side.

class job {
public:
  job(const transcode_options& opts, const progress_fn& progress, const std::atomic<bool>* cancel,
      const segment_fn& on_segment)
      : opts_(opts), progress_(progress), cancel_(cancel), on_segment_(on_segment),
        audio_([this](AVPacket* pkt) { return dispatch_audio(pkt); }) {}
  job(const job&) = delete;
  job& operator=(const job&) = delete;
  ~job() { stop_workers(); }

  result<transcode_output> run(const std::string& input, const std::string& out_dir);

private:
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }

  /// Less than min(0.5 s, a quarter segment) of input is left after `t`: a
  /// cut there would leave a tiny last segment (whose one keyframe would make
  /// a huge peak bandwidth), so the tail stays in the segment before.
  bool short_tail(int64_t t) const {
    return duration_ticks_ > 0 && duration_ticks_ - t < std::min<int64_t>(45000, seg_ticks_ / 4);
  }

  status open(const std::string& input, const std::string& out_dir);
  status read_input();
  status finish();
  status open_input(const std::string& input);
  void plan_video();
  status open_rungs(const fs::path& out_dir);
  status on_video_packet(AVPacket* pkt);
  status on_video_frame(AVFrame* f);
  status picture_started(int64_t pts);
  status dispatch_audio(AVPacket* pkt); ///< timestamps in kTicks
  status push(video_rung& r, work_item item);
  status wait_for_workers();
  void deliver_events(std::unique_lock<std::mutex>& lk);
  void stop_workers();
  void report_progress(const AVPacket* pkt);
  error nothing_decoded() const;

  const transcode_options& opts_;
  const progress_fn& progress_;
  const std::atomic<bool>* cancel_;
  const segment_fn& on_segment_;

  input_ptr in_;
  int vidx_ = -1, aidx_ = -1;
  int64_t start_ticks_ = 0; ///< input timestamp that maps to 0 on our timeline
  int64_t duration_ticks_ = 0;
  int64_t seg_ticks_ = 0;
  int read_error_ = 0; ///< libav code that ended the demux loop early (0: end of file)

  // video
  source_geometry geom_;
  std::vector<rung_plan> plan_;
  AVRational rate_{30, 1};
  double fps_ = 30;
  int64_t frame_ticks_ = 3000;
  codec_ptr vdec_;
  frame_ptr frame_;
  bool got_video_ = false;
  int skipped_video_ = 0;       ///< libav code of the last damaged video packet or frame skipped
  uint64_t damaged_frames_ = 0; ///< video that failed to decode or decoded damaged
  bool remux_ = false;          ///< plan_[0] is copied from the source
  bool remux_started_ = false;
  int64_t remux_next_cut_ = 0;
  std::deque<int64_t> pending_cuts_; ///< source keyframes where the remuxed rung cuts
  int64_t last_video_dts_ = kNoTs;   ///< of copied packets
  int64_t last_vpts_ = kNoTs;
  int64_t next_force_ = 0;

  audio_encoder audio_;
  std::vector<int> alt_streams_; ///< several audio tracks: each its own rendition
  size_t alt_skipped_ = 0;       ///< audio tracks beyond kMaxAudioTracks
  alternate_audio alt_;
  bool picture_started_ = false;

  // outputs
  job_shared shared_;
  std::vector<std::unique_ptr<video_rung>> rungs_;
  std::unique_ptr<rendition_writer> audio_writer_; ///< audio-only input

  // progress
  bool reported_ = false;
  double last_fraction_ = 0;
  std::chrono::steady_clock::time_point last_report_{};
};

status job::open_input(const std::string& input) {
  auto opened = libav::open_source(input, opts_.source);
  if (!opened)
    return opened.err();
  in_ = std::move(*opened);

  vidx_ = libav::pick_stream(in_.get(), AVMEDIA_TYPE_VIDEO);
  aidx_ = libav::pick_stream(in_.get(), AVMEDIA_TYPE_AUDIO);
  if (vidx_ < 0 && aidx_ < 0)
    return fail(errc::unsupported_media, "no audio or video stream", "find streams");
  alt_streams_ = alternate_audio::choose(in_.get(), vidx_, alt_skipped_);
  std::vector<int> used = alt_streams_;
  if (!alt_streams_.empty())
    aidx_ = -1; // the audio is demuxed: no rendition carries it muxed
  used.push_back(vidx_);
  used.push_back(aidx_);
  for (unsigned i = 0; i < in_->nb_streams; ++i) {
    if (std::find(used.begin(), used.end(), static_cast<int>(i)) == used.end())
      in_->streams[i]->discard = AVDISCARD_ALL;
  }

  // Our timeline starts at the earliest start of the streams we use.
  int64_t start = kNoTs;
  for (int idx : used) {
    if (idx < 0)
      continue;
    const AVStream* st = in_->streams[idx];
    if (st->start_time != AV_NOPTS_VALUE) {
      const int64_t s = av_rescale_q(st->start_time, st->time_base, kTicks);
      start = start == kNoTs ? s : std::min(start, s);
    }
  }
  if (start == kNoTs && in_->start_time != AV_NOPTS_VALUE)
    start = av_rescale_q(in_->start_time, AV_TIME_BASE_Q, kTicks);
  start_ticks_ = start == kNoTs ? 0 : start;

  if (in_->duration != AV_NOPTS_VALUE && in_->duration > 0)
    duration_ticks_ = av_rescale_q(in_->duration, AV_TIME_BASE_Q, kTicks);
  return ok_status();
}

void job::plan_video() {
  AVStream* st = in_->streams[vidx_];
  AVRational rate = av_guess_frame_rate(in_.get(), st, nullptr);
  if (!(rate.num > 0 && rate.den > 0 && av_q2d(rate) > 0.5 && av_q2d(rate) <= 240))
    rate = AVRational{30, 1}; // unknown or absurd: a nominal rate for rate control
  rate_ = rate;
  fps_ = av_q2d(rate);
  frame_ticks_ = std::max<int64_t>(1, std::llround(90000 / fps_));
  geom_ = libav::geometry_of(in_.get(), st);
  plan_ = plan_ladder(opts_.fixed_ladder ? fit_to_ladder(geom_, opts_.ladder) : geom_, opts_.ladder,
                      opts_.max_height, opts_.video_bitrate, std::thread::hardware_concurrency());
  if (opts_.allow_remux && !plan_.empty() &&
      can_remux(in_.get(), vidx_, aidx_, geom_, plan_[0], start_ticks_ / 90000.0,
                opts_.segment_seconds)) {
    plan_[0].remux = true;
    remux_ = true;
  }
}

status job::open_rungs(const fs::path& out_dir) {
  // Audio parameters shared by every rendition.
  libav::codecpar_ptr apar;
  if (aidx_ >= 0) {
    apar.reset(avcodec_parameters_alloc());
    if (!apar)
      return fail(errc::internal, "out of memory", "open renditions", kNoMemory);
    if (auto s = audio_.parameters(apar.get()); !s)
      return s;
  }

  shared_.variant_count = vidx_ < 0 ? 1 : plan_.size();
  shared_.first_segment = opts_.first_segment;
  if (auto s =
          alt_.open_writers(out_dir, shared_, plan_.size(), plan_.size() + alt_.size(), seg_ticks_);
      !s)
    return s;
  if (vidx_ < 0) {
    audio_writer_ = std::make_unique<rendition_writer>(shared_, 0, 1, seg_ticks_);
    audio_writer_->info().name = "a0";
    return audio_writer_->open(out_dir / "a0", nullptr, apar.get());
  }

  AVStream* st = in_->streams[vidx_];
  encoder_settings es;
  es.frame_rate = rate_;
  es.fps = fps_;
  es.segment_seconds = opts_.segment_seconds;
  es.preset = opts_.x264_preset;
  es.low_latency = opts_.low_latency;
  es.threads = opts_.threads;
  es.source = st->codecpar;
  es.rotation = geom_.rotation;
  const std::vector<int> parent =
      cascade_parents(plan_, static_cast<double>(geom_.width) * geom_.height);

  for (size_t i = 0; i < plan_.size(); ++i) {
    auto r = std::make_unique<video_rung>(shared_, i, plan_.size() + alt_.size(), seg_ticks_);
    const std::string name = "v" + std::to_string(i);
    r->writer().info().name = name;
    encoder_settings rung_es = es;
    if (parent[i] >= 0)
      rung_es.rotation = 0; // the parent's output is upright already
    status s =
        plan_[i].remux ? r->open_remux(plan_[i], st, fps_) : r->open_encoder(plan_[i], rung_es);
    if (!s)
      return s;
    if (auto o = r->writer().open(out_dir / name, r->codecpar(), apar.get()); !o)
      return o;
    if (parent[i] >= 0)
      rungs_[parent[i]]->add_child(r.get());
    rungs_.push_back(std::move(r));
  }
  return ok_status();
}

status job::on_video_packet(AVPacket* pkt) {
  bool cut = false;
  const AVStream* st = in_->streams[vidx_];
  if (remux_) {
    const bool key = pkt->flags & AV_PKT_FLAG_KEY;
    const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (ts == AV_NOPTS_VALUE || (pkt->flags & AV_PKT_FLAG_CORRUPT) || pkt->size <= 0 ||
        (!remux_started_ && !key)) {
      // Nothing usable to copy (or nothing decodable before the first keyframe).
    } else {
      remux_started_ = true;
      const int64_t t = av_rescale_q(ts, st->time_base, kTicks) - start_ticks_;
      if (key && t >= remux_next_cut_) {
        cut = !short_tail(t);
        remux_next_cut_ = next_boundary(t, seg_ticks_);
        if (cut && rungs_.size() > 1)
          pending_cuts_.push_back(t);
      }
      packet_ptr copy(av_packet_clone(pkt));
      if (!copy)
        return fail(errc::internal, "out of memory", "copy video", kNoMemory);
      av_packet_rescale_ts(copy.get(), st->time_base, kTicks);
      if (copy->pts != AV_NOPTS_VALUE)
        copy->pts -= start_ticks_;
      if (copy->dts != AV_NOPTS_VALUE)
        copy->dts -= start_ticks_;
      if (copy->duration <= 0)
        copy->duration = frame_ticks_;
      keep_dts_increasing(copy.get(), last_video_dts_);
      if (auto s = picture_started(copy->pts != AV_NOPTS_VALUE ? copy->pts : copy->dts); !s)
        return s;
      work_item item;
      item.kind = work_item::video_packet;
      item.p = std::move(copy);
      item.cut = cut;
      got_video_ = true;
      if (auto s = push(*rungs_[0], std::move(item)); !s)
        return s;
    }
  }
  if (vdec_)
    return libav::decode_packet(
        vdec_.get(), pkt, frame_.get(), [this](AVFrame* f) { return on_video_frame(f); },
        &skipped_video_, &damaged_frames_);
  return ok_status();
}

status job::on_video_frame(AVFrame* f) {
  got_video_ = true;
  if (f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT))
    ++damaged_frames_; // still used: the decoder concealed what it lost
  if (f->width <= 0 || f->height <= 0 || f->width > kMaxDimension || f->height > kMaxDimension)
    return ok_status();
  const AVStream* st = in_->streams[vidx_];

  int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
  if (pts != AV_NOPTS_VALUE)
    pts = av_rescale_q(pts, st->time_base, kTicks) - start_ticks_;
  else
    pts = last_vpts_ == kNoTs ? 0 : last_vpts_ + frame_ticks_;
  if (last_vpts_ != kNoTs && pts <= last_vpts_)
    pts = last_vpts_ + frame_ticks_; // duplicate or backwards timestamp: keep it monotonic
  last_vpts_ = pts;
  int64_t dur = f->pkt_duration > 0 ? av_rescale_q(f->pkt_duration, st->time_base, kTicks) : 0;
  if (dur <= 0 || dur > 10 * 90000)
    dur = frame_ticks_;

  if (auto s = picture_started(pts); !s)
    return s;
  bool cut = false;
  if (remux_) {
    // Cut where the copied rung cuts: on the frame of that source keyframe.
    while (!pending_cuts_.empty() && pending_cuts_.front() <= pts) {
      cut = true;
      pending_cuts_.pop_front();
    }
  } else if (pts >= next_force_) {
    cut = !short_tail(pts);
    next_force_ = next_boundary(pts, seg_ticks_);
  }

  for (auto& r : rungs_) {
    if (r->remux() || r->has_parent())
      continue;
    work_item item;
    item.kind = work_item::frame;
    item.f.reset(av_frame_clone(f));
    if (!item.f)
      return fail(errc::internal, "out of memory", "decode video", kNoMemory);
    item.pts = pts;
    item.duration = dur;
    item.cut = cut;
    if (auto s = push(*r, std::move(item)); !s)
      return s;
  }
  return ok_status();
}

/// The first picture of the video renditions: alternate audio starts with it.
status job::picture_started(int64_t pts) {
  if (picture_started_)
    return ok_status();
  picture_started_ = true;
  return alt_.picture_started(pts);
}

/// Hands an audio packet (kTicks) to every rendition.
status job::dispatch_audio(AVPacket* pkt) {
  if (pkt->pts == AV_NOPTS_VALUE)
    return ok_status();
  if (audio_writer_) {
    packet_ptr copy(av_packet_clone(pkt));
    if (!copy)
      return fail(errc::internal, "out of memory", "queue audio", kNoMemory);
    return audio_writer_->write_audio(std::move(copy));
  }
  for (auto& r : rungs_) {
    if (r->has_parent())
      continue; // its parent passes the audio on, in order with the frames
    work_item item;
    item.kind = work_item::audio_packet;
    item.p.reset(av_packet_clone(pkt));
    if (!item.p)
      return fail(errc::internal, "out of memory", "queue audio", kNoMemory);
    if (auto s = push(*r, std::move(item)); !s)
      return s;
  }
  return ok_status();
}

/// Calls on_segment for the queued events, without holding the lock.
void job::deliver_events(std::unique_lock<std::mutex>& lk) {
  std::deque<segment_event> events;
  events.swap(shared_.events);
  lk.unlock();
  if (on_segment_) {
    for (segment_event& ev : events) {
      ev.damaged_frames = damaged_frames_;
      on_segment_(ev);
    }
  }
  lk.lock();
}

status job::push(video_rung& r, work_item item) {
  const bool video = item.kind == work_item::frame || item.kind == work_item::video_packet;
  std::unique_lock<std::mutex> lk(shared_.m);
  for (;;) {
    if (shared_.failed)
      return shared_.first_error;
    if (!shared_.events.empty()) {
      deliver_events(lk);
      continue;
    }
    if (!video || r.video_items < kQueueFrames)
      break;
    if (cancelled())
      return libav::cancelled();
    shared_.cv.wait_for(lk, kPollInterval);
  }
  if (video)
    ++r.video_items;
  r.queue.push_back(std::move(item));
  lk.unlock();
  r.cv.notify_one();
  return ok_status();
}

/// Sends end-of-stream to every rung and waits for them, delivering events.
status job::wait_for_workers() {
  for (auto& r : rungs_) {
    if (r->has_parent())
      continue;
    work_item item;
    item.kind = work_item::end;
    if (auto s = push(*r, std::move(item)); !s)
      return s;
  }
  std::unique_lock<std::mutex> lk(shared_.m);
  for (;;) {
    if (!shared_.events.empty()) {
      deliver_events(lk);
      continue;
    }
    if (shared_.failed)
      return shared_.first_error;
    if (std::all_of(rungs_.begin(), rungs_.end(), [](const auto& r) { return r->finished; }))
      break;
    if (cancelled())
      return libav::cancelled();
    shared_.cv.wait_for(lk, kPollInterval);
  }
  lk.unlock();
  for (auto& r : rungs_)
    r->join();
  return ok_status();
}

void job::stop_workers() {
  {
    std::lock_guard<std::mutex> lk(shared_.m);
    shared_.abort = true;
  }
  shared_.cv.notify_all();
  for (auto& r : rungs_)
    r->cv.notify_all();
  for (auto& r : rungs_)
    r->join();
}

void job::report_progress(const AVPacket* pkt) {
  if (!progress_)
    return;
  double fraction = -1;
  const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
  if (duration_ticks_ > 0 && ts != AV_NOPTS_VALUE) {
    const AVStream* st = in_->streams[pkt->stream_index];
    fraction = static_cast<double>(av_rescale_q(ts, st->time_base, kTicks) - start_ticks_) /
               static_cast<double>(duration_ticks_);
  } else if (in_->pb) {
    const int64_t size = avio_size(in_->pb);
    if (size > 0)
      fraction = static_cast<double>(avio_tell(in_->pb)) / static_cast<double>(size);
  }
  if (fraction < 0)
    return;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const auto now = std::chrono::steady_clock::now();
  if (reported_ && (now - last_report_ < kProgressInterval || fraction <= last_fraction_))
    return;
  reported_ = true;
  last_report_ = now;
  last_fraction_ = std::max(last_fraction_, fraction);
  progress_(last_fraction_);
}

/// Nothing came out of the decoders: the detail names the last decoding
/// failure skipped, if any.
error job::nothing_decoded() const {
  const char* reason = "no decodable audio or video";
  if (skipped_video_ < 0)
    return fail(errc::unsupported_media, reason, "decode video", skipped_video_);
  if (audio_.skipped_error() < 0)
    return fail(errc::unsupported_media, reason, "decode audio", audio_.skipped_error());
  if (alt_.skipped_error() < 0)
    return fail(errc::unsupported_media, reason, "decode audio", alt_.skipped_error());
  return fail(errc::unsupported_media, reason, "decode");
}

/// Opens the input, the decoders and encoders and the renditions; starts the workers.
status job::open(const std::string& input, const std::string& out_dir) {
  if (!(opts_.segment_seconds > 0) || opts_.segment_seconds > 3600)
    return fail(errc::invalid_input, "invalid segment length", "check options");
  seg_ticks_ = std::llround(opts_.segment_seconds * 90000);
  next_force_ = seg_ticks_;
  remux_next_cut_ = seg_ticks_;
  if (cancelled())
    return libav::cancelled();

  if (auto s = open_input(input); !s)
    return s;
  frame_.reset(av_frame_alloc());
  if (!frame_)
    return fail(errc::internal, "out of memory", "open input", kNoMemory);
  if (vidx_ >= 0) {
    plan_video();
    // The video is decoded unless the only rung is copied.
    if (!(remux_ && plan_.size() == 1)) {
      if (auto s = libav::open_decoder(in_->streams[vidx_], opts_.threads, vdec_); !s)
        return s;
    }
  }
  if (aidx_ >= 0) {
    const AVStream* st = in_->streams[aidx_];
    status s = remux_ ? audio_.open_copy(st, start_ticks_)
                      : audio_.open_encode(st, opts_.threads, opts_.audio_bitrate, start_ticks_);
    if (!s)
      return s;
  }
  if (auto s = alt_.open_tracks(in_.get(), alt_streams_, alt_skipped_, opts_.threads,
                                opts_.audio_bitrate, start_ticks_);
      !s)
    return s;
  if (auto s = open_rungs(fs::path(out_dir)); !s)
    return s;
  for (auto& r : rungs_)
    r->start();
  return ok_status();
}

/// The demux loop: every packet of the streams used, to the video side or the audio.
status job::read_input() {
  packet_ptr pkt(av_packet_alloc());
  if (!pkt)
    return fail(errc::internal, "out of memory", "read input", kNoMemory);

  for (;;) {
    if (cancelled())
      return libav::cancelled();
    const int r = av_read_frame(in_.get(), pkt.get());
    if (r < 0) {
      read_error_ = r != AVERROR_EOF ? r : 0; // a truncated file: keep what we decoded
      break;
    }
    libav::packet_unref_guard guard{pkt.get()};
    const int idx = pkt->stream_index;
    if (idx != vidx_ && idx != aidx_ && !alt_.owns(idx))
      continue;
    report_progress(pkt.get()); // before the packet's timestamps are rewritten
    status s = idx == vidx_   ? on_video_packet(pkt.get())
               : idx == aidx_ ? audio_.on_packet(pkt.get())
                              : alt_.on_packet(pkt.get());
    if (!s)
      return s;
    if (audio_writer_ || !alt_.empty()) {
      std::unique_lock<std::mutex> lk(shared_.m);
      if (!shared_.events.empty())
        deliver_events(lk);
    }
  }
  if (cancelled())
    return libav::cancelled();
  if (read_error_ && !got_video_ && !audio_.got_media() && !alt_.got_media())
    return fail(errc::invalid_input, "the input could not be read", "read input", read_error_);
  return ok_status();
}

/// Flushes the decoders, then the audio encoder; then the rungs flush theirs.
status job::finish() {
  if (vdec_) {
    if (auto s = libav::decode_packet(
            vdec_.get(), nullptr, frame_.get(), [this](AVFrame* f) { return on_video_frame(f); },
            &skipped_video_, &damaged_frames_);
        !s)
      return s;
  }
  if (auto s = audio_.flush_decoder(); !s)
    return s;
  if (auto s = alt_.finish(); !s)
    return s;
  if (!got_video_ && !audio_.got_media() && !alt_.got_media())
    return nothing_decoded();
  if (auto s = audio_.finish(); !s)
    return s;
  if (auto s = wait_for_workers(); !s)
    return s;
  if (audio_writer_) {
    if (auto s = audio_writer_->finish(); !s)
      return s;
  }
  std::unique_lock<std::mutex> lk(shared_.m);
  deliver_events(lk);
  return ok_status();
}

result<transcode_output> job::run(const std::string& input, const std::string& out_dir) {
  if (auto s = open(input, out_dir); !s)
    return s.err();
  if (auto s = read_input(); !s)
    return s.err();
  if (auto s = finish(); !s)
    return s.err();

  transcode_output out;
  if (audio_writer_)
    out.renditions.push_back(std::move(audio_writer_->info()));
  for (auto& r : rungs_)
    out.renditions.push_back(std::move(r->writer().info()));
  alt_.take_outputs(out.renditions);
  if (out.renditions.empty() || out.renditions[0].segments.empty())
    return nothing_decoded();
  for (const auto& s : out.renditions[0].segments)
    out.served_duration += s.duration;
  const double declared = duration_ticks_ > 0 ? duration_ticks_ / 90000.0 : 0;
  out.duration = declared > 0 ? declared : out.served_duration;
  out.warning = duration_warning(out.served_duration, declared, read_error_ != 0);
  if (!alt_.warning().empty())
    out.warning += (out.warning.empty() ? "" : "; ") + alt_.warning();
  out.origin_ms = start_ticks_ / 90;
  if (progress_)
    progress_(1.0);
  return out;
}

} // namespace

result<transcode_output> transcode(const std::string& input, const std::string& out_dir,
                                   const transcode_options& opts, const progress_fn& progress,
                                   const std::atomic<bool>* cancel, const segment_fn& on_segment) {
  libav::quiet_logs();
  job j(opts, progress, cancel, on_segment);
  return j.run(input, out_dir);
}

} // namespace hlsgate::media
