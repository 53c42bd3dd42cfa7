// The transcoder: one pass over the input feeds every rung of the ladder.
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

#include "media/libav_util.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace hlsgate::media {

// ---------------------------------------------------------------------------
// Ladder

std::vector<rung> default_ladder() {
  return {{1080, 5000000}, {720, 2800000}, {480, 1400000}, {360, 800000}};
}

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// RAII owners for libav objects.

struct output_closer {
  void operator()(AVFormatContext* p) const noexcept {
    if (p->pb)
      avio_closep(&p->pb);
    avformat_free_context(p);
  }
};
struct swr_closer {
  void operator()(SwrContext* p) const noexcept { swr_free(&p); }
};
struct fifo_closer {
  void operator()(AVAudioFifo* p) const noexcept { av_audio_fifo_free(p); }
};
struct bsf_closer {
  void operator()(AVBSFContext* p) const noexcept { av_bsf_free(&p); }
};
struct codecpar_closer {
  void operator()(AVCodecParameters* p) const noexcept { avcodec_parameters_free(&p); }
};

using libav::codec_ptr;
using libav::frame_ptr;
using libav::input_ptr;
using libav::packet_ptr;
using libav::sws_ptr;
using output_ptr = std::unique_ptr<AVFormatContext, output_closer>;
using swr_ptr = std::unique_ptr<SwrContext, swr_closer>;
using fifo_ptr = std::unique_ptr<AVAudioFifo, fifo_closer>;
using bsf_ptr = std::unique_ptr<AVBSFContext, bsf_closer>;
using codecpar_ptr = std::unique_ptr<AVCodecParameters, codecpar_closer>;

/// An AVChannelLayout that uninitialises itself.
struct channel_layout {
  AVChannelLayout l{};
  channel_layout() = default;
  channel_layout(const channel_layout&) = delete;
  channel_layout& operator=(const channel_layout&) = delete;
  ~channel_layout() { av_channel_layout_uninit(&l); }
};

/// Unreferences a packet at scope exit.
struct packet_unref_guard {
  AVPacket* p;
  ~packet_unref_guard() { av_packet_unref(p); }
};

// ---------------------------------------------------------------------------

constexpr AVRational kTicks{1, 90000}; ///< the internal timeline, MPEG-TS clock
constexpr int64_t kNoTs = std::numeric_limits<int64_t>::min();
using libav::kMaxDimension;
constexpr auto kProgressInterval = std::chrono::milliseconds(250);
constexpr auto kPollInterval = std::chrono::milliseconds(50); ///< cancel checks while waiting
constexpr size_t kQueueFrames = 12; ///< video items queued per rung before the reader waits

error fail(errc code, const char* reason) {
  return error{code, reason};
}

/// Finds the SPS in an Annex B H.264 packet and formats "avc1.PPCCLL".
std::string avc1_codecs(const uint8_t* data, int size) {
  for (int i = 0; i + 6 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 7) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "avc1.%02x%02x%02x", data[i + 4], data[i + 5], data[i + 6]);
      return buf;
    }
  }
  return {};
}

/// Copied packets go to a muxer that refuses decreasing or repeated DTS:
/// nudge such a packet (as the ffmpeg CLI does) instead of failing the job.
void keep_dts_increasing(AVPacket* pkt, int64_t& last) {
  if (pkt->dts == AV_NOPTS_VALUE)
    return;
  if (last != kNoTs && pkt->dts <= last)
    pkt->dts = last + 1;
  if (pkt->pts != AV_NOPTS_VALUE && pkt->pts < pkt->dts)
    pkt->pts = pkt->dts;
  last = pkt->dts;
}

/// The first segment boundary strictly after `t` (boundaries are k * seg, k >= 1).
int64_t next_boundary(int64_t t, int64_t seg) {
  return t < 0 ? seg : (t / seg + 1) * seg;
}

int even_floor(double v) {
  return std::max(2, static_cast<int>(std::floor(v / 2)) * 2);
}
int even_round(double v) {
  return std::max(2, static_cast<int>(std::llround(v / 2)) * 2);
}

// ---------------------------------------------------------------------------
// Geometry and the ladder plan

struct source_geometry {
  int width = 0, height = 0; ///< coded size
  int rotation = 0;          ///< clockwise degrees to turn it upright
  bool square_pixels = true;
  double display_w = 0, display_h = 0; ///< upright, square-pixel size
};

struct rung_plan {
  int label = 0; ///< the rung "height": the short side of the output
  int width = 0, height = 0;
  int64_t bitrate = 0;
  bool remux = false;
  int threads = 0; ///< x264 threads when the options leave it to us
};

source_geometry geometry_of(AVFormatContext* in, AVStream* st) {
  source_geometry g;
  g.width = st->codecpar->width;
  g.height = st->codecpar->height;
  g.rotation = libav::display_rotation(st);
  AVRational sar = av_guess_sample_aspect_ratio(in, st, nullptr);
  double aspect = 1;
  if (sar.num > 0 && sar.den > 0) {
    aspect = av_q2d(sar);
    if (aspect < 0.25 || aspect > 4) // nonsense: ignore it
      aspect = 1;
  }
  g.square_pixels = aspect == 1;
  g.display_w = g.width * aspect;
  g.display_h = g.height;
  if (g.rotation == 90 || g.rotation == 270)
    std::swap(g.display_w, g.display_h);
  return g;
}

/// The rungs to produce, top first. Rung labels apply to the short side of
/// the upright picture (so a portrait 1080x1920 source has a "1080" rung).
std::vector<rung_plan> plan_ladder(const source_geometry& g, const transcode_options& opts) {
  const bool portrait = g.display_h > g.display_w;
  const double short_side = std::min(g.display_w, g.display_h);
  const double long_side = std::max(g.display_w, g.display_h);
  int cap = static_cast<int>(std::floor(short_side + 1e-6));
  if (opts.max_height > 0)
    cap = std::min(cap, std::max(opts.max_height, 2));

  std::vector<rung> ladder = opts.ladder;
  if (ladder.empty()) {
    if (opts.video_bitrate > 0)
      ladder.push_back(rung{cap, opts.video_bitrate});
    else
      ladder = default_ladder();
  }
  std::sort(ladder.begin(), ladder.end(),
            [](const rung& a, const rung& b) { return a.height > b.height; });

  std::vector<rung> kept;
  for (const rung& r : ladder) {
    if (r.height <= cap && r.height >= 2 && r.video_bitrate > 0 &&
        (kept.empty() || (kept.back().height & ~1) != (r.height & ~1)))
      kept.push_back(r);
  }
  if (kept.empty()) {
    // Smaller than the lowest rung: one rung at the source size, with the
    // lowest rung's bitrate scaled down by the pixel count.
    const rung& low = ladder.back();
    const double ratio = std::min(1.0, static_cast<double>(cap) * cap /
                                           (static_cast<double>(low.height) * low.height));
    const int64_t bitrate = std::max<int64_t>(std::min<int64_t>(low.video_bitrate, 100000),
                                              std::llround(low.video_bitrate * ratio));
    kept.push_back(rung{cap, static_cast<int>(bitrate)});
  }

  std::vector<rung_plan> plan;
  const int max_long = even_floor(long_side);
  for (const rung& r : kept) {
    rung_plan p;
    p.label = r.height;
    const int s = even_floor(r.height);
    const int l = std::min(max_long, even_round(long_side * r.height / short_side));
    p.width = portrait ? s : l;
    p.height = portrait ? l : s;
    p.bitrate = r.video_bitrate;
    plan.push_back(p);
  }

  // x264 threads in proportion to each rung's share of the pixels: the rungs
  // already run in parallel, so small rungs need no frame threads of their
  // own (less memory and synchronisation); the top rung keeps enough not to
  // become the bottleneck.
  double pixels = 0;
  for (const rung_plan& p : plan)
    pixels += static_cast<double>(p.width) * p.height;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (rung_plan& p : plan) {
    const double share = static_cast<double>(p.width) * p.height / pixels;
    p.threads = std::clamp(static_cast<int>(std::lround(1.5 * cores * share)), 1, 16);
  }
  return plan;
}

// ---------------------------------------------------------------------------
// State shared by the reader (calling thread) and the rung workers.

struct job_shared {
  std::mutex m;
  std::condition_variable cv; ///< the reader waits here (queue space, events, workers done)
  bool abort = false;
  bool failed = false;
  error first_error;
  std::deque<segment_event> events;

  void emit(segment_event ev) {
    {
      std::lock_guard<std::mutex> lk(m);
      events.push_back(std::move(ev));
    }
    cv.notify_all();
  }
  void record_failure(const error& e) {
    {
      std::lock_guard<std::mutex> lk(m);
      if (!failed) {
        failed = true;
        first_error = e;
      }
    }
    cv.notify_all();
  }
};

// ---------------------------------------------------------------------------
// One rendition's segmenter: MPEG-TS files of ~segment_seconds, cut where the
// video says (cut flags) or, without video, at the boundaries on audio.
// Timestamps of every packet given to it are in kTicks.

struct segment_state {
  std::string name;
  fs::path part, path;
  int64_t start = 0; ///< ticks
};

class rendition_writer {
public:
  rendition_writer(job_shared& shared, size_t index, size_t count, int64_t seg_ticks)
      : shared_(shared), index_(index), count_(count), seg_ticks_(seg_ticks), next_cut_(seg_ticks) {
  }

  rendition_output& info() { return info_; }

  status open(const fs::path& dir, const AVCodecParameters* video, const AVCodecParameters* audio) {
    dir_ = dir;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec)
      return fail(errc::io_error, "could not create the output directory");
    for (auto [src, dst] : {std::pair{video, &vpar_}, std::pair{audio, &apar_}}) {
      if (!src)
        continue;
      dst->reset(avcodec_parameters_alloc());
      if (!*dst || avcodec_parameters_copy(dst->get(), src) < 0)
        return fail(errc::internal, "out of memory");
      (*dst)->codec_tag = 0;
    }
    video_active_ = video != nullptr;
    return ok_status();
  }

  void note_end(int64_t t) { end_ = std::max(end_, t); }

  /// A video packet; `cut` starts a new segment with it (it must be a keyframe).
  status write_video(AVPacket* pkt, bool cut) {
    const int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (avc1_.empty() && (pkt->flags & AV_PKT_FLAG_KEY))
      avc1_ = avc1_codecs(pkt->data, pkt->size);
    if (!mux_) {
      if (auto s = start_segment(t); !s)
        return s;
    } else if (cut) {
      if (auto s = route_queued_audio(t, false); !s)
        return s;
      if (auto s = start_segment(t); !s)
        return s;
    }
    if (auto s = route_queued_audio(next_cut_, false); !s)
      return s;
    saw_video_ = true;
    return write(pkt, mux_vidx_);
  }

  /// An audio packet. It waits until the video has reached the segment its
  /// timestamp belongs to.
  status write_audio(packet_ptr pkt) {
    if (pkt->pts == AV_NOPTS_VALUE)
      return ok_status();
    end_ = std::max(end_, pkt->pts + std::max<int64_t>(0, pkt->duration));
    audio_queue_.push_back(std::move(pkt));
    return video_active_ ? route_queued_audio(next_cut_, false)
                         : route_queued_audio(std::numeric_limits<int64_t>::max(), true);
  }

  /// No more packets: writes the queued audio and closes the last segment.
  status finish() {
    // The video is done: the remaining audio decides the last cuts, but a
    // short tail (< 1 s past the next boundary) stays in the last segment.
    video_active_ = false;
    if (!audio_queue_.empty()) {
      const bool cut = !mux_ || end_ > next_cut_ + 90000;
      if (auto s = route_queued_audio(std::numeric_limits<int64_t>::max(), cut); !s)
        return s;
    }
    if (auto s = close_segment(end_); !s)
      return s;
    fill_info(info_);
    return ok_status();
  }

private:
  /// Writes queued audio packets with pts < limit into the current segment.
  /// With cut_on_audio (no video to follow), starts new segments at boundaries.
  status route_queued_audio(int64_t limit, bool cut_on_audio) {
    while (!audio_queue_.empty()) {
      AVPacket* pkt = audio_queue_.front().get();
      const int64_t t = pkt->pts;
      if (t >= limit)
        break;
      if (!mux_) {
        if (auto s = start_segment(t); !s)
          return s;
      } else if (cut_on_audio && t >= next_cut_) {
        if (auto s = start_segment(t); !s)
          return s;
      }
      saw_audio_ = true;
      if (auto s = write(pkt, mux_aidx_); !s)
        return s;
      audio_queue_.pop_front();
    }
    return ok_status();
  }

  status write(AVPacket* pkt, int idx) {
    if (idx < 0)
      return ok_status();
    const int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (segments_ == 1 && t != AV_NOPTS_VALUE)
      cur_.start = std::min(cur_.start, t);
    pkt->stream_index = idx;
    av_packet_rescale_ts(pkt, kTicks, mux_->streams[idx]->time_base);
    if (av_interleaved_write_frame(mux_.get(), pkt) < 0)
      return fail(errc::io_error, "could not write a segment");
    return ok_status();
  }

  status start_segment(int64_t start) {
    if (auto s = close_segment(start); !s)
      return s;
    char name[32];
    std::snprintf(name, sizeof name, "seg_%05zu.ts", segments_);
    segment_state seg;
    seg.name = name;
    seg.path = dir_ / name;
    seg.part = dir_ / (seg.name + ".part");
    seg.start = start;

    AVFormatContext* raw = nullptr;
    if (avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr) < 0 || !raw)
      return fail(errc::internal, "MPEG-TS muxer unavailable");
    output_ptr mux(raw);
    mux_vidx_ = mux_aidx_ = -1;
    for (const AVCodecParameters* par : {vpar_.get(), apar_.get()}) {
      if (!par)
        continue;
      AVStream* st = avformat_new_stream(mux.get(), nullptr);
      if (!st || avcodec_parameters_copy(st->codecpar, par) < 0)
        return fail(errc::internal, "out of memory");
      st->time_base = kTicks;
      (par == vpar_.get() ? mux_vidx_ : mux_aidx_) = st->index;
    }
    // 1.4 s offset (as ffmpeg's CLI does) keeps DTS ahead of the PCR; the same
    // constant in every file keeps the timestamps continuous across segments.
    mux->max_delay = 700000;
    mux->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    if (avio_open(&mux->pb, seg.part.c_str(), AVIO_FLAG_WRITE) < 0)
      return fail(errc::io_error, "could not create a segment file");
    if (avformat_write_header(mux.get(), nullptr) < 0)
      return fail(errc::io_error, "could not write a segment");
    mux_ = std::move(mux);
    cur_ = std::move(seg);
    ++segments_;
    next_cut_ = next_boundary(start, seg_ticks_);
    return ok_status();
  }

  /// Closes the open segment (if any), which ends at `end`; renames it to its
  /// final name and reports it.
  status close_segment(int64_t end) {
    if (!mux_)
      return ok_status();
    output_ptr mux = std::move(mux_);
    const int trailer = av_write_trailer(mux.get());
    const int closed = avio_closep(&mux->pb);
    if (trailer < 0 || closed < 0)
      return fail(errc::io_error, "could not write a segment");
    std::error_code ec;
    const auto size = fs::file_size(cur_.part, ec);
    if (ec)
      return fail(errc::io_error, "could not write a segment");
    fs::rename(cur_.part, cur_.path, ec);
    if (ec)
      return fail(errc::io_error, "could not write a segment");

    const double d = end == kNoTs ? 0 : std::max<int64_t>(0, end - cur_.start) / 90000.0;
    segment_entry entry{cur_.name, d, static_cast<uint64_t>(size)};
    info_.segments.push_back(entry);
    total_bytes_ += entry.bytes;
    total_duration_ += d;
    if (d > 0)
      info_.peak_bandwidth =
          std::max(info_.peak_bandwidth, static_cast<uint64_t>(entry.bytes * 8 / d));

    segment_event ev;
    ev.rendition_count = count_;
    ev.rendition_index = index_;
    fill_info(ev.rendition);
    ev.rendition.segments.clear();
    ev.segment = std::move(entry);
    shared_.emit(std::move(ev));
    return ok_status();
  }

  /// Copies what is known so far into `r` (segments excepted).
  void fill_info(rendition_output& r) const {
    if (&r != &info_) {
      r.name = info_.name;
      r.remuxed = info_.remuxed;
      r.width = info_.width;
      r.height = info_.height;
      r.frame_rate = info_.frame_rate;
      r.peak_bandwidth = info_.peak_bandwidth;
    }
    r.has_video = vpar_ && saw_video_;
    r.has_audio = apar_ && saw_audio_;
    if (!r.has_video) {
      r.width = r.height = 0;
      r.frame_rate = 0;
    }
    r.codecs.clear();
    if (r.has_video)
      r.codecs = avc1_.empty() ? "avc1.640028" : avc1_;
    if (r.has_audio)
      r.codecs += r.codecs.empty() ? "mp4a.40.2" : ",mp4a.40.2";
    r.average_bandwidth =
        total_duration_ > 0 ? static_cast<uint64_t>(total_bytes_ * 8 / total_duration_) : 0;
    r.peak_bandwidth = std::max(r.peak_bandwidth, r.average_bandwidth);
  }

  job_shared& shared_;
  const size_t index_, count_;
  const int64_t seg_ticks_;
  fs::path dir_;
  rendition_output info_;
  codecpar_ptr vpar_, apar_;
  std::string avc1_;

  output_ptr mux_;
  int mux_vidx_ = -1, mux_aidx_ = -1;
  segment_state cur_;
  size_t segments_ = 0;
  int64_t next_cut_;
  bool video_active_ = false; ///< cuts follow the video while true
  std::deque<packet_ptr> audio_queue_;
  int64_t end_ = kNoTs;
  bool saw_video_ = false, saw_audio_ = false;
  uint64_t total_bytes_ = 0;
  double total_duration_ = 0;
};

// ---------------------------------------------------------------------------
// A video rung: a worker thread that encodes (or remuxes) one rendition.

struct work_item {
  enum kind_t { frame, video_packet, audio_packet, end } kind = end;
  frame_ptr f;
  packet_ptr p;
  int64_t pts = 0, duration = 0; ///< frames: ticks
  bool cut = false;              ///< starts a segment (an IDR is forced on it)
};

/// Rotates an 8-bit plane clockwise by `rotation` (90, 180, 270) degrees.
void rotate_plane(const uint8_t* src, int sls, int sw, int sh, uint8_t* dst, int dls,
                  int rotation) {
  if (rotation == 180) {
    for (int y = 0; y < sh; ++y) {
      const uint8_t* s = src + static_cast<ptrdiff_t>(sh - 1 - y) * sls;
      uint8_t* d = dst + static_cast<ptrdiff_t>(y) * dls;
      for (int x = 0; x < sw; ++x)
        d[x] = s[sw - 1 - x];
    }
    return;
  }
  // 90/270: the destination is sh wide and sw high; walk it in tiles.
  constexpr int kTile = 32;
  const int dw = sh, dh = sw;
  for (int ty = 0; ty < dh; ty += kTile) {
    for (int tx = 0; tx < dw; tx += kTile) {
      const int ey = std::min(dh, ty + kTile), ex = std::min(dw, tx + kTile);
      for (int y = ty; y < ey; ++y) {
        uint8_t* d = dst + static_cast<ptrdiff_t>(y) * dls;
        if (rotation == 90) { // dst(x, y) = src(y, sh - 1 - x)
          for (int x = tx; x < ex; ++x)
            d[x] = src[static_cast<ptrdiff_t>(sh - 1 - x) * sls + y];
        } else { // 270: dst(x, y) = src(sw - 1 - y, x)
          for (int x = tx; x < ex; ++x)
            d[x] = src[static_cast<ptrdiff_t>(x) * sls + (sw - 1 - y)];
        }
      }
    }
  }
}

struct encoder_settings {
  AVRational frame_rate{30, 1};
  double fps = 30;
  double segment_seconds = 6;
  std::string preset;
  int threads = 0;
  const AVCodecParameters* source = nullptr; ///< colour description
  int rotation = 0;
};

class video_rung {
public:
  video_rung(job_shared& shared, size_t index, size_t count, int64_t seg_ticks)
      : shared_(shared), writer_(shared, index, count, seg_ticks) {}
  video_rung(const video_rung&) = delete;
  video_rung& operator=(const video_rung&) = delete;
  ~video_rung() { join(); }

  rendition_writer& writer() { return writer_; }
  bool remux() const { return bsf_ != nullptr; }

  /// Feeds `child` with this rung's output frames (and passes on the audio
  /// and the end), instead of the reader feeding it the decoded frames.
  void add_child(video_rung* child) {
    children_.push_back(child);
    child->has_parent_ = true;
  }
  bool has_parent() const { return has_parent_; }

  status open_encoder(const rung_plan& plan, const encoder_settings& es) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
      return fail(errc::internal, "H.264 encoder unavailable");
    codec_ptr enc(avcodec_alloc_context3(codec));
    if (!enc)
      return fail(errc::internal, "out of memory");
    enc->width = plan.width;
    enc->height = plan.height;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = kTicks;
    enc->framerate = es.frame_rate;
    enc->sample_aspect_ratio = AVRational{1, 1};
    enc->color_range = AVCOL_RANGE_MPEG;
    if (es.source && es.source->color_space != AVCOL_SPC_RGB) {
      enc->color_primaries = es.source->color_primaries;
      enc->color_trc = es.source->color_trc;
      enc->colorspace = es.source->color_space;
    }
    enc->gop_size = std::max(1, static_cast<int>(std::lround(es.segment_seconds * es.fps)));
    enc->keyint_min = std::min(enc->gop_size, 25);
    enc->thread_count = es.threads > 0 ? es.threads : plan.threads;
    if (es.fps < 5)
      enc->max_b_frames = 0; // keep the B-frame reordering delay small in wall-clock terms
    enc->bit_rate = plan.bitrate;
    enc->rc_max_rate = plan.bitrate * 3 / 2;
    enc->rc_buffer_size = static_cast<int>(std::min<int64_t>(plan.bitrate * 2, INT32_MAX));

    const std::string& preset = es.preset.empty() ? std::string("veryfast") : es.preset;
    void* priv = enc->priv_data;
    if (av_opt_set(priv, "preset", preset.c_str(), 0) < 0 ||
        av_opt_set(priv, "profile", "high", 0) < 0 || av_opt_set(priv, "forced-idr", "1", 0) < 0 ||
        av_opt_set(priv, "sc_threshold", "0", 0) < 0)
      return fail(errc::internal, "H.264 encoder rejected its options");
    if (avcodec_open2(enc.get(), codec, nullptr) < 0)
      return fail(errc::internal, "could not open the H.264 encoder (check the preset)");
    enc_ = std::move(enc);

    rotation_ = es.rotation;
    const bool turned = rotation_ == 90 || rotation_ == 270;
    pre_w_ = turned ? plan.height : plan.width;
    pre_h_ = turned ? plan.width : plan.height;
    for (frame_ptr* f : {&scaled_, &rotated_}) {
      if (f == &rotated_ && !rotation_)
        continue;
      f->reset(av_frame_alloc());
      if (!*f)
        return fail(errc::internal, "out of memory");
      (*f)->format = AV_PIX_FMT_YUV420P;
      (*f)->width = f == &scaled_ ? pre_w_ : plan.width;
      (*f)->height = f == &scaled_ ? pre_h_ : plan.height;
      if (av_frame_get_buffer(f->get(), 0) < 0)
        return fail(errc::internal, "out of memory");
    }
    pkt_.reset(av_packet_alloc());
    if (!pkt_)
      return fail(errc::internal, "out of memory");
    codecpar_.reset(avcodec_parameters_alloc());
    if (!codecpar_ || avcodec_parameters_from_context(codecpar_.get(), enc_.get()) < 0)
      return fail(errc::internal, "out of memory");
    set_info(plan, es.fps, false);
    return ok_status();
  }

  status open_remux(const rung_plan& plan, const AVStream* st, double fps) {
    const AVBitStreamFilter* filter = av_bsf_get_by_name("h264_mp4toannexb");
    AVBSFContext* raw = nullptr;
    if (!filter || av_bsf_alloc(filter, &raw) < 0)
      return fail(errc::internal, "bitstream filter unavailable");
    bsf_.reset(raw);
    if (avcodec_parameters_copy(bsf_->par_in, st->codecpar) < 0)
      return fail(errc::internal, "out of memory");
    bsf_->time_base_in = kTicks;
    if (av_bsf_init(bsf_.get()) < 0)
      return fail(errc::unsupported_media, "unsupported H.264 stream");
    pkt_.reset(av_packet_alloc());
    codecpar_.reset(avcodec_parameters_alloc());
    if (!pkt_ || !codecpar_ || avcodec_parameters_copy(codecpar_.get(), bsf_->par_out) < 0)
      return fail(errc::internal, "out of memory");
    set_info(plan, fps, true);
    return ok_status();
  }

  const AVCodecParameters* codecpar() const { return codecpar_.get(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void join() {
    if (thread_.joinable())
      thread_.join();
  }

  // The queue, guarded by shared_.m.
  std::deque<work_item> queue;
  size_t video_items = 0;
  bool finished = false;
  std::condition_variable cv;

private:
  void set_info(const rung_plan& plan, double fps, bool remuxed) {
    rendition_output& r = writer_.info();
    r.remuxed = remuxed;
    r.width = plan.width;
    r.height = plan.height;
    r.frame_rate = std::round(fps * 1000) / 1000;
  }

  static bool is_video(work_item::kind_t k) {
    return k == work_item::frame || k == work_item::video_packet;
  }

  /// Queues an item for a child rung, waiting while its queue is full.
  status forward(video_rung& child, work_item item) {
    const bool video = is_video(item.kind);
    {
      std::unique_lock<std::mutex> lk(shared_.m);
      shared_.cv.wait(lk, [&] {
        return shared_.abort || shared_.failed || !video || child.video_items < kQueueFrames;
      });
      if (shared_.abort || shared_.failed)
        return fail(errc::cancelled, "stopped");
      if (video)
        ++child.video_items;
      child.queue.push_back(std::move(item));
    }
    child.cv.notify_one();
    return ok_status();
  }

  status forward_all(work_item::kind_t kind, const AVFrame* f, const AVPacket* p, int64_t pts,
                     int64_t duration, bool cut) {
    for (video_rung* child : children_) {
      work_item item;
      item.kind = kind;
      item.pts = pts;
      item.duration = duration;
      item.cut = cut;
      if (f) {
        item.f.reset(av_frame_clone(f));
        if (!item.f)
          return fail(errc::internal, "out of memory");
      }
      if (p) {
        item.p.reset(av_packet_clone(p));
        if (!item.p)
          return fail(errc::internal, "out of memory");
      }
      if (auto s = forward(*child, std::move(item)); !s)
        return s;
    }
    return ok_status();
  }

  /// Makes `f` writable without copying its old content: children may still
  /// hold the previous picture.
  static status fresh_buffer(AVFrame* f) {
    if (av_frame_is_writable(f))
      return ok_status();
    const int format = f->format, w = f->width, h = f->height;
    av_frame_unref(f);
    f->format = format;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f, 0) < 0)
      return fail(errc::internal, "out of memory");
    return ok_status();
  }

  void run() {
    status s = ok_status();
    for (;;) {
      work_item item;
      {
        std::unique_lock<std::mutex> lk(shared_.m);
        cv.wait(lk, [&] { return shared_.abort || !queue.empty(); });
        if (shared_.abort)
          break;
        item = std::move(queue.front());
        queue.pop_front();
        if (is_video(item.kind))
          --video_items;
      }
      shared_.cv.notify_all(); // there is room again
      s = process(item);
      if (!s || item.kind == work_item::end)
        break;
    }
    if (!s)
      shared_.record_failure(s.err());
    {
      std::lock_guard<std::mutex> lk(shared_.m);
      finished = true;
    }
    shared_.cv.notify_all();
  }

  status process(work_item& item) {
    switch (item.kind) {
    case work_item::frame:
      return on_frame(item.f.get(), item.pts, item.duration, item.cut);
    case work_item::video_packet:
      return on_packet(item.p.get(), item.cut);
    case work_item::audio_packet:
      if (auto s = forward_all(work_item::audio_packet, nullptr, item.p.get(), 0, 0, false); !s)
        return s;
      return writer_.write_audio(std::move(item.p));
    case work_item::end:
      break;
    }
    if (auto s = forward_all(work_item::end, nullptr, nullptr, 0, 0, false); !s)
      return s;
    if (bsf_) {
      if (auto s = filter(nullptr, false); !s)
        return s;
    } else if (enc_) {
      if (auto s = encode(nullptr); !s)
        return s;
    }
    return writer_.finish();
  }

  status on_frame(AVFrame* f, int64_t pts, int64_t duration, bool cut) {
    writer_.note_end(pts + duration);
    const bool full_range = f->color_range == AVCOL_RANGE_JPEG;
    const bool convert =
        f->format != AV_PIX_FMT_YUV420P || f->width != pre_w_ || f->height != pre_h_ || full_range;
    AVFrame* out = f;
    if (convert) {
      SwsContext* before = sws_.get();
      sws_.reset(sws_getCachedContext(sws_.release(), f->width, f->height,
                                      static_cast<AVPixelFormat>(f->format), pre_w_, pre_h_,
                                      AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr, nullptr));
      if (!sws_)
        return fail(errc::unsupported_media, "unsupported pixel format");
      if (full_range && (sws_.get() != before || !sws_full_range_)) {
        // Full-range input to the limited range the encoder signals.
        int* inv_table = nullptr;
        int* table = nullptr;
        int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
        if (sws_getColorspaceDetails(sws_.get(), &inv_table, &src_range, &table, &dst_range,
                                     &brightness, &contrast, &saturation) >= 0)
          sws_setColorspaceDetails(sws_.get(), inv_table, 1, table, 0, brightness, contrast,
                                   saturation);
      }
      sws_full_range_ = full_range;
      if (auto s = fresh_buffer(scaled_.get()); !s)
        return s;
      sws_scale(sws_.get(), f->data, f->linesize, 0, f->height, scaled_->data, scaled_->linesize);
      out = scaled_.get();
    }
    if (rotation_) {
      if (auto s = fresh_buffer(rotated_.get()); !s)
        return s;
      for (int p = 0; p < 3; ++p) {
        const int sw = p ? pre_w_ / 2 : pre_w_, sh = p ? pre_h_ / 2 : pre_h_;
        rotate_plane(out->data[p], out->linesize[p], sw, sh, rotated_->data[p],
                     rotated_->linesize[p], rotation_);
      }
      out = rotated_.get();
    }
    out->pts = pts;
    out->pict_type = cut ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE; // IDR (forced-idr=1)
    if (out != f)
      out->color_range = AVCOL_RANGE_MPEG;
    if (cut)
      cut_pts_.push_back(pts);
    if (auto s = forward_all(work_item::frame, out, nullptr, pts, duration, cut); !s)
      return s;
    return encode(out);
  }

  status encode(const AVFrame* f) {
    if (avcodec_send_frame(enc_.get(), f) < 0)
      return fail(errc::internal, "video encoding failed");
    for (;;) {
      const int r = avcodec_receive_packet(enc_.get(), pkt_.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
        return ok_status();
      if (r < 0)
        return fail(errc::internal, "video encoding failed");
      bool cut = false;
      if ((pkt_->flags & AV_PKT_FLAG_KEY) && !cut_pts_.empty() && pkt_->pts >= cut_pts_.front()) {
        cut = true;
        while (!cut_pts_.empty() && cut_pts_.front() <= pkt_->pts)
          cut_pts_.pop_front();
      }
      status s = writer_.write_video(pkt_.get(), cut);
      av_packet_unref(pkt_.get());
      if (!s)
        return s;
    }
  }

  status on_packet(AVPacket* p, bool cut) {
    writer_.note_end((p->pts != AV_NOPTS_VALUE ? p->pts : p->dts) + p->duration);
    return filter(p, cut);
  }

  /// Passes a source packet (nullptr: end of stream) through the bitstream filter.
  status filter(AVPacket* p, bool cut) {
    if (av_bsf_send_packet(bsf_.get(), p) < 0) {
      if (p)
        av_packet_unref(p);
      return ok_status(); // a packet the filter cannot take: skip it
    }
    for (;;) {
      const int r = av_bsf_receive_packet(bsf_.get(), pkt_.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
        return ok_status();
      if (r < 0)
        return ok_status();
      status s = writer_.write_video(pkt_.get(), cut && (pkt_->flags & AV_PKT_FLAG_KEY));
      cut = false;
      av_packet_unref(pkt_.get());
      if (!s)
        return s;
    }
  }

  job_shared& shared_;
  rendition_writer writer_;
  std::thread thread_;

  codec_ptr enc_;
  bsf_ptr bsf_;
  codecpar_ptr codecpar_;
  packet_ptr pkt_;
  sws_ptr sws_;
  bool sws_full_range_ = false;
  frame_ptr scaled_, rotated_;
  int rotation_ = 0;
  int pre_w_ = 0, pre_h_ = 0; ///< size before rotation
  std::deque<int64_t> cut_pts_;
  std::vector<video_rung*> children_;
  bool has_parent_ = false;
};

// ---------------------------------------------------------------------------
// The job: the calling thread's side.

class job {
public:
  job(const transcode_options& opts, const progress_fn& progress, const std::atomic<bool>* cancel,
      const segment_fn& on_segment)
      : opts_(opts), progress_(progress), cancel_(cancel), on_segment_(on_segment) {}
  job(const job&) = delete;
  job& operator=(const job&) = delete;
  ~job() { stop_workers(); }

  result<transcode_output> run(const std::string& input, const std::string& out_dir);

private:
  enum class kind { video, audio };

  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }

  /// Less than min(0.5 s, a quarter segment) of input is left after `t`: a
  /// cut there would leave a tiny last segment (whose one keyframe would make
  /// a huge peak bandwidth), so the tail stays in the segment before.
  bool short_tail(int64_t t) const {
    return duration_ticks_ > 0 && duration_ticks_ - t < std::min<int64_t>(45000, seg_ticks_ / 4);
  }

  status open_input(const std::string& input);
  status plan_video();
  bool can_remux(const rung_plan& top) const;
  status open_rungs(const fs::path& out_dir);
  status open_audio_encoder();
  status decode(AVCodecContext* dec, const AVPacket* pkt, kind k);
  status receive_frames(AVCodecContext* dec, kind k, bool flushing);
  status on_video_packet(AVPacket* pkt);
  status on_video_frame(AVFrame* f);
  status on_audio_frame(AVFrame* f);
  status setup_resampler(const AVFrame* f);
  status fifo_write_silence(int samples);
  status send_audio(int samples);
  status drain_resampler();
  status flush_audio();
  status encode_audio(const AVFrame* f);
  status dispatch_audio(AVPacket* pkt); ///< timestamps in kTicks
  status push(video_rung& r, work_item item);
  status wait_for_workers();
  void deliver_events(std::unique_lock<std::mutex>& lk);
  void stop_workers();
  void report_progress(const AVPacket* pkt);

  const transcode_options& opts_;
  const progress_fn& progress_;
  const std::atomic<bool>* cancel_;
  const segment_fn& on_segment_;

  input_ptr in_;
  int vidx_ = -1, aidx_ = -1;
  int64_t start_ticks_ = 0; ///< input timestamp that maps to 0 on our timeline
  int64_t duration_ticks_ = 0;
  int64_t seg_ticks_ = 0;

  // video
  source_geometry geom_;
  std::vector<rung_plan> plan_;
  AVRational rate_{30, 1};
  double fps_ = 30;
  int64_t frame_ticks_ = 3000;
  codec_ptr vdec_;
  bool remux_ = false; ///< plan_[0] is copied from the source
  bool remux_started_ = false;
  int64_t remux_next_cut_ = 0;
  std::deque<int64_t> pending_cuts_; ///< source keyframes where the remuxed rung cuts
  int64_t last_video_dts_ = kNoTs, last_audio_dts_ = kNoTs; ///< of copied packets
  int64_t last_vpts_ = kNoTs;
  int64_t next_force_ = 0;

  // audio
  bool copy_audio_ = false;
  codec_ptr adec_, aenc_;
  swr_ptr swr_;
  channel_layout swr_in_layout_;
  int swr_in_format_ = -1, swr_in_rate_ = 0;
  fifo_ptr fifo_;
  frame_ptr convert_buf_; ///< resampler output, before the fifo
  frame_ptr aframe_;      ///< encoder input, frame_size samples
  bool audio_anchored_ = false;
  int64_t audio_anchor_ = 0;  ///< encoder-rate samples
  int64_t audio_written_ = 0; ///< samples written into the fifo
  int64_t audio_sent_ = 0;    ///< samples sent to the encoder

  // decoding / encoding
  frame_ptr frame_;
  packet_ptr enc_pkt_;
  bool got_media_ = false;

  // outputs
  job_shared shared_;
  std::vector<std::unique_ptr<video_rung>> rungs_;
  std::unique_ptr<rendition_writer> audio_writer_; ///< audio-only input
  bool workers_started_ = false;

  // progress
  bool reported_ = false;
  double last_fraction_ = 0;
  std::chrono::steady_clock::time_point last_report_{};
};

status job::open_input(const std::string& input) {
  auto opened = libav::open_input(input);
  if (!opened)
    return opened.err();
  in_ = std::move(*opened);

  vidx_ = libav::pick_stream(in_.get(), AVMEDIA_TYPE_VIDEO);
  aidx_ = libav::pick_stream(in_.get(), AVMEDIA_TYPE_AUDIO);
  if (vidx_ < 0 && aidx_ < 0)
    return fail(errc::unsupported_media, "no audio or video stream");
  for (unsigned i = 0; i < in_->nb_streams; ++i) {
    if (static_cast<int>(i) != vidx_ && static_cast<int>(i) != aidx_)
      in_->streams[i]->discard = AVDISCARD_ALL;
  }

  // Our timeline starts at the earliest start of the streams we use.
  int64_t start = kNoTs;
  for (int idx : {vidx_, aidx_}) {
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

status open_decoder(const AVStream* st, int threads, codec_ptr& out) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec)
    return fail(errc::unsupported_media, "no decoder for the input codec");
  codec_ptr ctx(avcodec_alloc_context3(codec));
  if (!ctx)
    return fail(errc::internal, "out of memory");
  if (avcodec_parameters_to_context(ctx.get(), st->codecpar) < 0)
    return fail(errc::unsupported_media, "unsupported codec parameters");
  ctx->pkt_timebase = st->time_base;
  ctx->thread_count = std::max(0, threads);
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0)
    return fail(errc::unsupported_media, "could not open the input decoder");
  out = std::move(ctx);
  return ok_status();
}

status job::plan_video() {
  AVStream* st = in_->streams[vidx_];
  AVRational rate = av_guess_frame_rate(in_.get(), st, nullptr);
  if (!(rate.num > 0 && rate.den > 0 && av_q2d(rate) > 0.5 && av_q2d(rate) <= 240))
    rate = AVRational{30, 1}; // unknown or absurd: a nominal rate for rate control
  rate_ = rate;
  fps_ = av_q2d(rate);
  frame_ticks_ = std::max<int64_t>(1, std::llround(90000 / fps_));
  geom_ = geometry_of(in_.get(), st);
  plan_ = plan_ladder(geom_, opts_);
  if (opts_.allow_remux && !plan_.empty() && can_remux(plan_[0])) {
    plan_[0].remux = true;
    remux_ = true;
  }
  return ok_status();
}

/// Whether cutting the video on its own keyframes (the first one at or after
/// each boundary, as the remuxed rung does) puts every cut within 0.5 s of
/// its boundary, judged from the container's index of keyframes, which must
/// cover the whole stream. `origin` is our timeline's 0 and `end` the end of
/// the input, in seconds of the input's clock.
bool keyframes_fit_segments(AVStream* st, double origin, double end, double segment_seconds) {
  const int n = avformat_index_get_entries_count(st);
  if (n <= 0 || !(end > origin))
    return false;
  const double tb = av_q2d(st->time_base);
  std::vector<double> keys; // presentation times, seconds
  for (int i = 0; i < n; ++i) {
    const AVIndexEntry* e = avformat_index_get_entry(st, i);
    if (e && (e->flags & AVINDEX_KEYFRAME) && e->timestamp != AV_NOPTS_VALUE)
      keys.push_back(e->timestamp * tb);
  }
  if (keys.empty())
    return false;
  // Some indexes hold decoding times (MP4): shift them so the first keyframe
  // is at the stream's first presentation time.
  if (st->start_time != AV_NOPTS_VALUE) {
    const double shift = st->start_time * tb - keys.front();
    for (double& k : keys)
      k += shift;
  }
  const double seg = segment_seconds, tolerance = std::min(0.5, seg / 2);
  auto key = keys.begin();
  for (double b = origin + seg; b < end; b += seg) {
    key = std::lower_bound(key, keys.end(), b - 1e-3);
    if (key == keys.end() || *key - b > tolerance) {
      // No keyframe close after this boundary: fine only for a short tail.
      return end - b <= tolerance;
    }
  }
  return true;
}

/// The top rung can be copied: H.264 8-bit 4:2:0 at exactly the rung's size,
/// upright with square pixels, keyframes near every segment boundary
/// (checked in the container index), and AAC-LC audio (or none).
bool job::can_remux(const rung_plan& top) const {
  AVStream* st = in_->streams[vidx_];
  const AVCodecParameters* par = st->codecpar;
  if (par->codec_id != AV_CODEC_ID_H264 || par->format != AV_PIX_FMT_YUV420P ||
      par->extradata_size <= 0)
    return false;
  switch (par->profile) {
  case FF_PROFILE_H264_BASELINE:
  case FF_PROFILE_H264_CONSTRAINED_BASELINE:
  case FF_PROFILE_H264_MAIN:
  case FF_PROFILE_H264_HIGH:
    break;
  default:
    return false;
  }
  if (par->field_order != AV_FIELD_UNKNOWN && par->field_order != AV_FIELD_PROGRESSIVE)
    return false;
  if (geom_.rotation != 0 || !geom_.square_pixels || par->width != top.width ||
      par->height != top.height)
    return false;
  double end = 0;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->start_time != AV_NOPTS_VALUE)
    end = (st->start_time + st->duration) * av_q2d(st->time_base);
  else if (in_->duration != AV_NOPTS_VALUE && in_->duration > 0)
    end = (in_->duration + (in_->start_time != AV_NOPTS_VALUE ? in_->start_time : 0)) /
          static_cast<double>(AV_TIME_BASE);
  if (!keyframes_fit_segments(st, start_ticks_ / 90000.0, end, opts_.segment_seconds))
    return false;
  if (aidx_ >= 0) {
    const AVCodecParameters* a = in_->streams[aidx_]->codecpar;
    if (a->codec_id != AV_CODEC_ID_AAC || a->profile != FF_PROFILE_AAC_LOW ||
        a->extradata_size <= 0 || a->ch_layout.nb_channels < 1 || a->ch_layout.nb_channels > 2)
      return false;
  }
  return true;
}

status job::open_audio_encoder() {
  AVStream* st = in_->streams[aidx_];
  if (auto s = open_decoder(st, opts_.threads, adec_); !s)
    return s;

  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!codec)
    return fail(errc::internal, "AAC encoder unavailable");
  codec_ptr enc(avcodec_alloc_context3(codec));
  if (!enc)
    return fail(errc::internal, "out of memory");

  int rate = 48000;
  if (codec->supported_samplerates) {
    for (const int* r = codec->supported_samplerates; *r; ++r) {
      if (*r == st->codecpar->sample_rate)
        rate = *r;
    }
  }
  enc->sample_rate = rate;
  enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
  av_channel_layout_default(&enc->ch_layout, st->codecpar->ch_layout.nb_channels >= 2 ? 2 : 1);
  enc->bit_rate = opts_.audio_bitrate > 0 ? opts_.audio_bitrate : 128000;
  enc->time_base = AVRational{1, rate};
  enc->profile = FF_PROFILE_AAC_LOW;
  if (avcodec_open2(enc.get(), codec, nullptr) < 0)
    return fail(errc::internal, "could not open the AAC encoder");
  aenc_ = std::move(enc);

  const int channels = aenc_->ch_layout.nb_channels;
  const int frame_size = aenc_->frame_size > 0 ? aenc_->frame_size : 1024;
  fifo_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, channels, 4 * frame_size));
  aframe_.reset(av_frame_alloc());
  convert_buf_.reset(av_frame_alloc());
  if (!fifo_ || !aframe_ || !convert_buf_)
    return fail(errc::internal, "out of memory");
  aframe_->format = AV_SAMPLE_FMT_FLTP;
  aframe_->sample_rate = rate;
  aframe_->nb_samples = frame_size;
  if (av_channel_layout_copy(&aframe_->ch_layout, &aenc_->ch_layout) < 0 ||
      av_frame_get_buffer(aframe_.get(), 0) < 0)
    return fail(errc::internal, "out of memory");
  return ok_status();
}

status job::open_rungs(const fs::path& out_dir) {
  // Audio parameters shared by every rendition.
  codecpar_ptr apar;
  if (aidx_ >= 0) {
    apar.reset(avcodec_parameters_alloc());
    if (!apar)
      return fail(errc::internal, "out of memory");
    const int r = copy_audio_ ? avcodec_parameters_copy(apar.get(), in_->streams[aidx_]->codecpar)
                              : avcodec_parameters_from_context(apar.get(), aenc_.get());
    if (r < 0)
      return fail(errc::internal, "out of memory");
  }

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
  es.threads = opts_.threads;
  es.source = st->codecpar;
  es.rotation = geom_.rotation;
  // Cascade: a rung at most 2/3 the size of an encoded, downscaled rung above
  // it is scaled from that rung's output (one generation only) rather than
  // from the source: e.g. 480p and 360p from 720p instead of from 1080p,
  // which halves the scaling work.
  const double source_pixels = static_cast<double>(geom_.width) * geom_.height;
  std::vector<int> parent(plan_.size(), -1);
  for (size_t i = 1; i < plan_.size(); ++i) {
    if (plan_[i].remux)
      continue;
    for (size_t j = i; j-- > 0;) {
      const rung_plan& p = plan_[j];
      if (p.remux || parent[j] >= 0 || static_cast<double>(p.width) * p.height >= source_pixels)
        continue;
      if (2 * p.label >= 3 * plan_[i].label) {
        parent[i] = static_cast<int>(j);
        break;
      }
    }
  }

  for (size_t i = 0; i < plan_.size(); ++i) {
    auto r = std::make_unique<video_rung>(shared_, i, plan_.size(), seg_ticks_);
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

status job::decode(AVCodecContext* dec, const AVPacket* pkt, kind k) {
  int sent = avcodec_send_packet(dec, pkt);
  if (sent == AVERROR(EAGAIN)) {
    // Frames left over from an earlier packet must be taken out first.
    if (auto s = receive_frames(dec, k, pkt == nullptr); !s)
      return s;
    sent = avcodec_send_packet(dec, pkt);
  }
  if (sent < 0 && sent != AVERROR_EOF)
    return ok_status(); // a corrupt packet: skip it
  return receive_frames(dec, k, pkt == nullptr);
}

status job::receive_frames(AVCodecContext* dec, kind k, bool flushing) {
  for (int errors = 0;;) {
    const int r = avcodec_receive_frame(dec, frame_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
      return ok_status();
    if (r < 0) {
      // A frame that failed to decode; a decoder that keeps failing is given up.
      if (flushing || ++errors > 16)
        return ok_status();
      continue;
    }
    got_media_ = true;
    status s = k == kind::video ? on_video_frame(frame_.get()) : on_audio_frame(frame_.get());
    av_frame_unref(frame_.get());
    if (!s)
      return s;
  }
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
        return fail(errc::internal, "out of memory");
      av_packet_rescale_ts(copy.get(), st->time_base, kTicks);
      if (copy->pts != AV_NOPTS_VALUE)
        copy->pts -= start_ticks_;
      if (copy->dts != AV_NOPTS_VALUE)
        copy->dts -= start_ticks_;
      if (copy->duration <= 0)
        copy->duration = frame_ticks_;
      keep_dts_increasing(copy.get(), last_video_dts_);
      work_item item;
      item.kind = work_item::video_packet;
      item.p = std::move(copy);
      item.cut = cut;
      got_media_ = true;
      if (auto s = push(*rungs_[0], std::move(item)); !s)
        return s;
    }
  }
  if (vdec_)
    return decode(vdec_.get(), pkt, kind::video);
  return ok_status();
}

status job::on_video_frame(AVFrame* f) {
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
      return fail(errc::internal, "out of memory");
    item.pts = pts;
    item.duration = dur;
    item.cut = cut;
    if (auto s = push(*r, std::move(item)); !s)
      return s;
  }
  return ok_status();
}

status job::setup_resampler(const AVFrame* f) {
  channel_layout in_layout;
  if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f->ch_layout.nb_channels <= 0) {
    const int ch =
        f->ch_layout.nb_channels > 0 ? f->ch_layout.nb_channels : adec_->ch_layout.nb_channels;
    if (ch <= 0)
      return fail(errc::unsupported_media, "unknown audio channel layout");
    av_channel_layout_default(&in_layout.l, ch);
  } else if (av_channel_layout_copy(&in_layout.l, &f->ch_layout) < 0) {
    return fail(errc::internal, "out of memory");
  }
  if (swr_ && f->format == swr_in_format_ && f->sample_rate == swr_in_rate_ &&
      av_channel_layout_compare(&in_layout.l, &swr_in_layout_.l) == 0)
    return ok_status();

  if (f->sample_rate <= 0)
    return fail(errc::unsupported_media, "unknown audio sample rate");
  // A format change mid-stream: drain what the old resampler holds first.
  if (auto s = drain_resampler(); !s)
    return s;
  SwrContext* raw = nullptr;
  if (swr_alloc_set_opts2(&raw, &aenc_->ch_layout, aenc_->sample_fmt, aenc_->sample_rate,
                          &in_layout.l, static_cast<AVSampleFormat>(f->format), f->sample_rate, 0,
                          nullptr) < 0)
    return fail(errc::unsupported_media, "unsupported audio format");
  swr_ptr swr(raw);
  if (swr_init(swr.get()) < 0)
    return fail(errc::unsupported_media, "unsupported audio format");
  swr_ = std::move(swr);
  swr_in_format_ = f->format;
  swr_in_rate_ = f->sample_rate;
  av_channel_layout_uninit(&swr_in_layout_.l);
  av_channel_layout_copy(&swr_in_layout_.l, &in_layout.l);
  return ok_status();
}

status job::fifo_write_silence(int samples) {
  const int chunk = 4096;
  while (samples > 0) {
    const int n = std::min(samples, chunk);
    if (convert_buf_->nb_samples < n || !convert_buf_->data[0]) {
      av_frame_unref(convert_buf_.get());
      convert_buf_->format = aenc_->sample_fmt;
      convert_buf_->nb_samples = chunk;
      if (av_channel_layout_copy(&convert_buf_->ch_layout, &aenc_->ch_layout) < 0 ||
          av_frame_get_buffer(convert_buf_.get(), 0) < 0)
        return fail(errc::internal, "out of memory");
    }
    av_samples_set_silence(convert_buf_->data, 0, n, aenc_->ch_layout.nb_channels,
                           aenc_->sample_fmt);
    if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(convert_buf_->data), n) < n)
      return fail(errc::internal, "out of memory");
    audio_written_ += n;
    samples -= n;
  }
  return ok_status();
}

status job::on_audio_frame(AVFrame* f) {
  if (f->nb_samples <= 0)
    return ok_status();
  if (auto s = setup_resampler(f); !s)
    return s;

  const AVStream* st = in_->streams[aidx_];
  const AVRational out_tb{1, aenc_->sample_rate};
  const int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
  int64_t rel = kNoTs;
  if (ts != AV_NOPTS_VALUE)
    rel = av_rescale_q(ts, st->time_base, out_tb) - av_rescale_q(start_ticks_, kTicks, out_tb);
  if (!audio_anchored_) {
    audio_anchored_ = true;
    audio_anchor_ = rel == kNoTs ? 0 : rel;
  } else if (rel != kNoTs) {
    // Fill gaps (> 200 ms, < 30 s) in the input with silence to keep A/V sync.
    const int64_t gap = rel - (audio_anchor_ + audio_written_);
    if (gap > aenc_->sample_rate / 5 && gap < int64_t{30} * aenc_->sample_rate) {
      if (auto s = fifo_write_silence(static_cast<int>(gap)); !s)
        return s;
    }
  }

  const int cap = swr_get_out_samples(swr_.get(), f->nb_samples);
  if (cap < 0)
    return fail(errc::internal, "audio resampling failed");
  if (convert_buf_->nb_samples < cap || !convert_buf_->data[0]) {
    av_frame_unref(convert_buf_.get());
    convert_buf_->format = aenc_->sample_fmt;
    convert_buf_->nb_samples = std::max(cap, 4096);
    if (av_channel_layout_copy(&convert_buf_->ch_layout, &aenc_->ch_layout) < 0 ||
        av_frame_get_buffer(convert_buf_.get(), 0) < 0)
      return fail(errc::internal, "out of memory");
  }
  const int n = swr_convert(swr_.get(), convert_buf_->data, convert_buf_->nb_samples,
                            const_cast<const uint8_t**>(f->extended_data), f->nb_samples);
  if (n < 0)
    return fail(errc::internal, "audio resampling failed");
  if (n > 0 &&
      av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(convert_buf_->data), n) < n)
    return fail(errc::internal, "out of memory");
  audio_written_ += n;

  const int frame_size = aframe_->nb_samples;
  while (av_audio_fifo_size(fifo_.get()) >= frame_size) {
    if (auto s = send_audio(frame_size); !s)
      return s;
  }
  return ok_status();
}

status job::send_audio(int samples) {
  if (av_frame_make_writable(aframe_.get()) < 0)
    return fail(errc::internal, "out of memory");
  const int full = aframe_->nb_samples;
  aframe_->nb_samples = samples;
  const int n = av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(aframe_->data), samples);
  if (n < samples) {
    aframe_->nb_samples = full;
    return fail(errc::internal, "audio buffering failed");
  }
  aframe_->pts = audio_anchor_ + audio_sent_;
  audio_sent_ += samples;
  status s = encode_audio(aframe_.get());
  aframe_->nb_samples = full;
  return s;
}

/// Moves the samples the resampler still holds into the fifo.
status job::drain_resampler() {
  if (!swr_ || !convert_buf_->data[0])
    return ok_status();
  for (;;) {
    const int n = swr_convert(swr_.get(), convert_buf_->data, convert_buf_->nb_samples, nullptr, 0);
    if (n <= 0)
      return ok_status();
    if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(convert_buf_->data), n) < n)
      return fail(errc::internal, "out of memory");
    audio_written_ += n;
  }
}

/// Drains the resampler and sends whatever is left in the fifo (a short last frame).
status job::flush_audio() {
  if (auto s = drain_resampler(); !s)
    return s;
  const int frame_size = aframe_->nb_samples;
  while (av_audio_fifo_size(fifo_.get()) > 0) {
    if (auto s = send_audio(std::min(frame_size, av_audio_fifo_size(fifo_.get()))); !s)
      return s;
  }
  return ok_status();
}

status job::encode_audio(const AVFrame* f) {
  if (avcodec_send_frame(aenc_.get(), f) < 0)
    return fail(errc::internal, "audio encoding failed");
  for (;;) {
    const int r = avcodec_receive_packet(aenc_.get(), enc_pkt_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
      return ok_status();
    if (r < 0)
      return fail(errc::internal, "audio encoding failed");
    av_packet_rescale_ts(enc_pkt_.get(), aenc_->time_base, kTicks);
    status s = dispatch_audio(enc_pkt_.get());
    av_packet_unref(enc_pkt_.get());
    if (!s)
      return s;
  }
}

/// Hands an audio packet (kTicks) to every rendition.
status job::dispatch_audio(AVPacket* pkt) {
  if (pkt->pts == AV_NOPTS_VALUE)
    return ok_status();
  if (audio_writer_) {
    packet_ptr copy(av_packet_clone(pkt));
    if (!copy)
      return fail(errc::internal, "out of memory");
    return audio_writer_->write_audio(std::move(copy));
  }
  for (auto& r : rungs_) {
    if (r->has_parent())
      continue; // its parent passes the audio on, in order with the frames
    work_item item;
    item.kind = work_item::audio_packet;
    item.p.reset(av_packet_clone(pkt));
    if (!item.p)
      return fail(errc::internal, "out of memory");
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
    for (const segment_event& ev : events)
      on_segment_(ev);
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
      return fail(errc::cancelled, "cancelled");
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
      return fail(errc::cancelled, "cancelled");
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

result<transcode_output> job::run(const std::string& input, const std::string& out_dir) {
  if (!(opts_.segment_seconds > 0) || opts_.segment_seconds > 3600)
    return fail(errc::invalid_input, "invalid segment length");
  seg_ticks_ = std::llround(opts_.segment_seconds * 90000);
  next_force_ = seg_ticks_;
  remux_next_cut_ = seg_ticks_;
  if (cancelled())
    return fail(errc::cancelled, "cancelled");

  if (auto s = open_input(input); !s)
    return s.err();
  if (vidx_ >= 0) {
    if (auto s = plan_video(); !s)
      return s.err();
    // The video is decoded unless the only rung is copied.
    if (!(remux_ && plan_.size() == 1)) {
      if (auto s = open_decoder(in_->streams[vidx_], opts_.threads, vdec_); !s)
        return s.err();
    }
  }
  if (aidx_ >= 0) {
    copy_audio_ = remux_;
    if (!copy_audio_) {
      if (auto s = open_audio_encoder(); !s)
        return s.err();
    }
  }
  frame_.reset(av_frame_alloc());
  enc_pkt_.reset(av_packet_alloc());
  packet_ptr pkt(av_packet_alloc());
  if (!frame_ || !enc_pkt_ || !pkt)
    return fail(errc::internal, "out of memory");
  if (auto s = open_rungs(fs::path(out_dir)); !s)
    return s.err();
  for (auto& r : rungs_)
    r->start();

  bool read_error = false;
  for (;;) {
    if (cancelled())
      return fail(errc::cancelled, "cancelled");
    const int r = av_read_frame(in_.get(), pkt.get());
    if (r < 0) {
      read_error = r != AVERROR_EOF; // a truncated file: keep what we decoded
      break;
    }
    packet_unref_guard guard{pkt.get()};
    if (pkt->stream_index != vidx_ && pkt->stream_index != aidx_)
      continue;
    report_progress(pkt.get()); // before the packet's timestamps are rewritten below
    status s = ok_status();
    if (pkt->stream_index == vidx_) {
      s = on_video_packet(pkt.get());
    } else if (pkt->stream_index == aidx_) {
      if (copy_audio_) {
        if (!(pkt->flags & AV_PKT_FLAG_CORRUPT) && pkt->size > 0) {
          got_media_ = true;
          av_packet_rescale_ts(pkt.get(), in_->streams[aidx_]->time_base, kTicks);
          if (pkt->pts != AV_NOPTS_VALUE)
            pkt->pts -= start_ticks_;
          if (pkt->dts != AV_NOPTS_VALUE)
            pkt->dts -= start_ticks_;
          keep_dts_increasing(pkt.get(), last_audio_dts_);
          s = dispatch_audio(pkt.get());
        }
      } else {
        s = decode(adec_.get(), pkt.get(), kind::audio);
      }
    }
    if (!s)
      return s.err();
    if (audio_writer_) {
      std::unique_lock<std::mutex> lk(shared_.m);
      if (!shared_.events.empty())
        deliver_events(lk);
    }
  }
  if (cancelled())
    return fail(errc::cancelled, "cancelled");
  if (read_error && !got_media_)
    return fail(errc::invalid_input, "the input could not be read");

  // Flush decoders, then the audio encoder; then the rungs flush theirs.
  if (vdec_) {
    if (auto s = decode(vdec_.get(), nullptr, kind::video); !s)
      return s.err();
  }
  if (adec_) {
    if (auto s = decode(adec_.get(), nullptr, kind::audio); !s)
      return s.err();
  }
  if (!got_media_)
    return fail(errc::unsupported_media, "no decodable audio or video");
  if (aenc_) {
    if (auto s = flush_audio(); !s)
      return s.err();
    if (auto s = encode_audio(nullptr); !s)
      return s.err();
  }
  if (auto s = wait_for_workers(); !s)
    return s.err();
  if (audio_writer_) {
    if (auto s = audio_writer_->finish(); !s)
      return s.err();
  }
  {
    std::unique_lock<std::mutex> lk(shared_.m);
    deliver_events(lk);
  }

  transcode_output out;
  if (audio_writer_)
    out.renditions.push_back(std::move(audio_writer_->info()));
  for (auto& r : rungs_)
    out.renditions.push_back(std::move(r->writer().info()));
  if (out.renditions.empty() || out.renditions[0].segments.empty())
    return fail(errc::unsupported_media, "no decodable audio or video");
  double total = 0;
  for (const auto& s : out.renditions[0].segments)
    total += s.duration;
  out.duration = duration_ticks_ > 0 ? duration_ticks_ / 90000.0 : total;
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
