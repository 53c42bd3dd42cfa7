#include "media/transcoder.hpp"

#include "media/libav_util.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace hlsgate::media {
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
struct codec_closer {
  void operator()(AVCodecContext* p) const noexcept { avcodec_free_context(&p); }
};
struct frame_closer {
  void operator()(AVFrame* p) const noexcept { av_frame_free(&p); }
};
struct packet_closer {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
struct sws_closer {
  void operator()(SwsContext* p) const noexcept { sws_freeContext(p); }
};
struct swr_closer {
  void operator()(SwrContext* p) const noexcept { swr_free(&p); }
};
struct fifo_closer {
  void operator()(AVAudioFifo* p) const noexcept { av_audio_fifo_free(p); }
};

using libav::input_ptr;
using output_ptr = std::unique_ptr<AVFormatContext, output_closer>;
using codec_ptr = std::unique_ptr<AVCodecContext, codec_closer>;
using frame_ptr = std::unique_ptr<AVFrame, frame_closer>;
using packet_ptr = std::unique_ptr<AVPacket, packet_closer>;
using sws_ptr = std::unique_ptr<SwsContext, sws_closer>;
using swr_ptr = std::unique_ptr<SwrContext, swr_closer>;
using fifo_ptr = std::unique_ptr<AVAudioFifo, fifo_closer>;

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

/// The first segment boundary strictly after `t` (boundaries are k * seg, k >= 1).
int64_t next_boundary(int64_t t, int64_t seg) {
  return t < 0 ? seg : (t / seg + 1) * seg;
}

struct segment_state {
  std::string name;
  std::string path;
  int64_t start = 0; ///< ticks
  uint64_t bytes = 0;
};

class job {
public:
  job(const transcode_options& opts, const progress_fn& progress, const std::atomic<bool>* cancel)
      : opts_(opts), progress_(progress), cancel_(cancel) {}

  result<transcode_output> run(const std::string& input, const std::string& out_dir);

private:
  enum class kind { video, audio };

  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }

  status open_input(const std::string& input);
  status open_video();
  status open_audio();
  status decode(AVCodecContext* dec, const AVPacket* pkt, kind k);
  status receive_frames(AVCodecContext* dec, kind k, bool flushing);
  status on_video_frame(AVFrame* f);
  status on_audio_frame(AVFrame* f);
  status setup_resampler(const AVFrame* f);
  status fifo_write_silence(int samples);
  status send_audio(int samples);
  status drain_resampler();
  status flush_audio();
  status encode(AVCodecContext* enc, const AVFrame* f, kind k);
  status route(AVPacket* pkt, kind k);
  status route_queued_audio(int64_t limit, bool cut_on_audio);
  status write(AVPacket* pkt, kind k);
  status start_segment(int64_t start);
  status close_segment();
  void report_progress(const AVPacket* pkt);
  transcode_output finish_output() const;

  const transcode_options& opts_;
  const progress_fn& progress_;
  const std::atomic<bool>* cancel_;

  input_ptr in_;
  int vidx_ = -1, aidx_ = -1;
  int64_t start_ticks_ = 0; ///< input timestamp that maps to 0 on our timeline
  int64_t duration_ticks_ = 0;
  int64_t seg_ticks_ = 0;

  // video
  codec_ptr vdec_, venc_;
  sws_ptr sws_;
  bool sws_full_range_ = false;
  frame_ptr scaled_;
  double fps_ = 0;
  int64_t frame_ticks_ = 3000;
  int64_t last_vpts_ = kNoTs;
  int64_t next_force_ = 0;
  bool saw_video_packet_ = false;
  std::string avc1_;

  // audio
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
  bool saw_audio_packet_ = false;

  // decoding / encoding
  frame_ptr frame_;
  packet_ptr enc_pkt_;
  bool decoded_any_ = false;

  // segmenting
  std::string rendition_;
  fs::path dir_;
  output_ptr mux_;
  int mux_vidx_ = -1, mux_aidx_ = -1;
  std::vector<segment_state> segments_;
  int64_t next_cut_ = 0;
  bool video_active_ = false; ///< cuts follow video keyframes while true
  std::deque<packet_ptr> audio_queue_;
  int64_t end_ticks_ = kNoTs;

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

status job::open_video() {
  AVStream* st = in_->streams[vidx_];
  if (auto s = open_decoder(st, opts_.threads, vdec_); !s)
    return s;

  AVRational rate = av_guess_frame_rate(in_.get(), st, nullptr);
  if (!(rate.num > 0 && rate.den > 0 && av_q2d(rate) > 0.5 && av_q2d(rate) <= 240))
    rate = AVRational{30, 1}; // unknown or absurd: a nominal rate for rate control
  fps_ = av_q2d(rate);
  frame_ticks_ = std::max<int64_t>(1, std::llround(90000 / fps_));

  // Output size: downscale only, keep the aspect ratio, even dimensions.
  const int sw = st->codecpar->width, sh = st->codecpar->height;
  int ow = sw & ~1, oh = sh & ~1;
  if (opts_.max_height > 0 && sh > opts_.max_height) {
    oh = opts_.max_height & ~1;
    ow = static_cast<int>(2 * std::llround(static_cast<double>(sw) * oh / sh / 2.0));
  }
  ow = std::max(ow, 2);
  oh = std::max(oh, 2);

  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec)
    return fail(errc::internal, "H.264 encoder unavailable");
  codec_ptr enc(avcodec_alloc_context3(codec));
  if (!enc)
    return fail(errc::internal, "out of memory");
  enc->width = ow;
  enc->height = oh;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = kTicks;
  enc->framerate = rate;
  const AVRational sar = av_guess_sample_aspect_ratio(in_.get(), st, nullptr);
  if (sar.num > 0 && sar.den > 0)
    enc->sample_aspect_ratio = sar;
  enc->color_range = AVCOL_RANGE_MPEG;
  if (st->codecpar->color_space != AVCOL_SPC_RGB) {
    enc->color_primaries = st->codecpar->color_primaries;
    enc->color_trc = st->codecpar->color_trc;
    enc->colorspace = st->codecpar->color_space;
  }
  enc->gop_size = std::max(1, static_cast<int>(std::lround(opts_.segment_seconds * fps_)));
  enc->thread_count = std::max(0, opts_.threads);
  if (fps_ < 5)
    enc->max_b_frames = 0; // keep the B-frame reordering delay small in wall-clock terms

  int64_t bitrate = opts_.video_bitrate;
  if (bitrate <= 0) {
    // ~0.1 bits per pixel per frame, within sane bounds.
    bitrate = static_cast<int64_t>(0.1 * ow * oh * std::min(fps_, 60.0));
    bitrate = std::clamp<int64_t>(bitrate, 300000, 8000000);
  }
  enc->bit_rate = bitrate;
  enc->rc_max_rate = bitrate * 3 / 2;
  enc->rc_buffer_size = static_cast<int>(std::min<int64_t>(bitrate * 2, INT32_MAX));

  const std::string& preset = opts_.x264_preset.empty() ? "veryfast" : opts_.x264_preset;
  void* priv = enc->priv_data;
  if (av_opt_set(priv, "preset", preset.c_str(), 0) < 0 ||
      av_opt_set(priv, "profile", "high", 0) < 0 || av_opt_set(priv, "forced-idr", "1", 0) < 0 ||
      av_opt_set(priv, "sc_threshold", "0", 0) < 0)
    return fail(errc::internal, "H.264 encoder rejected its options");
  if (avcodec_open2(enc.get(), codec, nullptr) < 0)
    return fail(errc::internal, "could not open the H.264 encoder (check the preset)");
  venc_ = std::move(enc);

  scaled_.reset(av_frame_alloc());
  if (!scaled_)
    return fail(errc::internal, "out of memory");
  scaled_->format = AV_PIX_FMT_YUV420P;
  scaled_->width = ow;
  scaled_->height = oh;
  if (av_frame_get_buffer(scaled_.get(), 0) < 0)
    return fail(errc::internal, "out of memory");
  next_force_ = seg_ticks_;
  return ok_status();
}

status job::open_audio() {
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
    decoded_any_ = true;
    status s = k == kind::video ? on_video_frame(frame_.get()) : on_audio_frame(frame_.get());
    av_frame_unref(frame_.get());
    if (!s)
      return s;
  }
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
  end_ticks_ = std::max(end_ticks_, pts + dur);

  AVFrame* out = f;
  const bool full_range = f->color_range == AVCOL_RANGE_JPEG;
  if (f->format != AV_PIX_FMT_YUV420P || f->width != venc_->width || f->height != venc_->height ||
      full_range) {
    SwsContext* before = sws_.get();
    sws_.reset(sws_getCachedContext(
        sws_.release(), f->width, f->height, static_cast<AVPixelFormat>(f->format), venc_->width,
        venc_->height, AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr, nullptr));
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
    if (av_frame_make_writable(scaled_.get()) < 0)
      return fail(errc::internal, "out of memory");
    sws_scale(sws_.get(), f->data, f->linesize, 0, f->height, scaled_->data, scaled_->linesize);
    out = scaled_.get();
  }
  out->pts = pts;
  out->pict_type = AV_PICTURE_TYPE_NONE;
  if (pts >= next_force_) {
    out->pict_type = AV_PICTURE_TYPE_I; // IDR (forced-idr=1) at the segment boundary
    next_force_ = next_boundary(pts, seg_ticks_);
  }
  return encode(venc_.get(), out, kind::video);
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
  status s = encode(aenc_.get(), aframe_.get(), kind::audio);
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

status job::encode(AVCodecContext* enc, const AVFrame* f, kind k) {
  const char* what = k == kind::video ? "video encoding failed" : "audio encoding failed";
  if (avcodec_send_frame(enc, f) < 0)
    return fail(errc::internal, what);
  for (;;) {
    const int r = avcodec_receive_packet(enc, enc_pkt_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
      return ok_status();
    if (r < 0)
      return fail(errc::internal, what);
    status s = route(enc_pkt_.get(), k);
    av_packet_unref(enc_pkt_.get());
    if (!s)
      return s;
  }
}

/// Decides which segment a packet goes to. Video keyframes at or after the
/// next boundary start a new segment; audio waits in a queue until the
/// video has reached the segment its timestamp belongs to.
status job::route(AVPacket* pkt, kind k) {
  if (k == kind::audio) {
    const int64_t t = av_rescale_q(pkt->pts, aenc_->time_base, kTicks);
    const int64_t d = av_rescale_q(pkt->duration, aenc_->time_base, kTicks);
    end_ticks_ = std::max(end_ticks_, t + d);
    packet_ptr queued(av_packet_alloc());
    if (!queued)
      return fail(errc::internal, "out of memory");
    av_packet_move_ref(queued.get(), pkt);
    audio_queue_.push_back(std::move(queued));
    return video_active_ ? route_queued_audio(next_cut_, false)
                         : route_queued_audio(std::numeric_limits<int64_t>::max(), true);
  }

  const int64_t t = pkt->pts; // encoder time base is kTicks
  if (avc1_.empty() && (pkt->flags & AV_PKT_FLAG_KEY))
    avc1_ = avc1_codecs(pkt->data, pkt->size);
  if (!mux_) {
    if (auto s = start_segment(t); !s)
      return s;
  } else if ((pkt->flags & AV_PKT_FLAG_KEY) && t >= next_cut_) {
    if (auto s = route_queued_audio(t, false); !s)
      return s;
    if (auto s = start_segment(t); !s)
      return s;
  }
  if (auto s = route_queued_audio(next_cut_, false); !s)
    return s;
  return write(pkt, kind::video);
}

/// Writes queued audio packets with pts < limit into the current segment.
/// With cut_on_audio (no video to follow), starts new segments at boundaries.
status job::route_queued_audio(int64_t limit, bool cut_on_audio) {
  while (!audio_queue_.empty()) {
    AVPacket* pkt = audio_queue_.front().get();
    const int64_t t = av_rescale_q(pkt->pts, aenc_->time_base, kTicks);
    if (t >= limit)
      break;
    if (!mux_) {
      if (auto s = start_segment(t); !s)
        return s;
    } else if (cut_on_audio && t >= next_cut_) {
      if (auto s = start_segment(t); !s)
        return s;
    }
    if (auto s = write(pkt, kind::audio); !s)
      return s;
    audio_queue_.pop_front();
  }
  return ok_status();
}

status job::write(AVPacket* pkt, kind k) {
  const bool video = k == kind::video;
  const int idx = video ? mux_vidx_ : mux_aidx_;
  if (idx < 0)
    return ok_status();
  const int64_t t = av_rescale_q(pkt->pts, video ? venc_->time_base : aenc_->time_base, kTicks);
  segment_state& seg = segments_.back();
  if (segments_.size() == 1)
    seg.start = std::min(seg.start, t);
  if (video)
    saw_video_packet_ = true;
  else
    saw_audio_packet_ = true;
  pkt->stream_index = idx;
  av_packet_rescale_ts(pkt, video ? venc_->time_base : aenc_->time_base,
                       mux_->streams[idx]->time_base);
  if (av_interleaved_write_frame(mux_.get(), pkt) < 0)
    return fail(errc::io_error, "could not write a segment");
  return ok_status();
}

status job::start_segment(int64_t start) {
  if (auto s = close_segment(); !s)
    return s;
  char name[32];
  std::snprintf(name, sizeof name, "seg_%05zu.ts", segments_.size());
  segment_state seg;
  seg.name = name;
  seg.path = (dir_ / name).string();
  seg.start = start;

  AVFormatContext* raw = nullptr;
  if (avformat_alloc_output_context2(&raw, nullptr, "mpegts", seg.path.c_str()) < 0 || !raw)
    return fail(errc::internal, "MPEG-TS muxer unavailable");
  output_ptr mux(raw);
  mux_vidx_ = mux_aidx_ = -1;
  for (AVCodecContext* enc : {venc_.get(), aenc_.get()}) {
    if (!enc)
      continue;
    AVStream* st = avformat_new_stream(mux.get(), nullptr);
    if (!st || avcodec_parameters_from_context(st->codecpar, enc) < 0)
      return fail(errc::internal, "out of memory");
    st->codecpar->codec_tag = 0;
    st->time_base = enc->time_base;
    (enc == venc_.get() ? mux_vidx_ : mux_aidx_) = st->index;
  }
  // 1.4 s offset (as ffmpeg's CLI does) keeps DTS ahead of the PCR; the same
  // constant in every file keeps the timestamps continuous across segments.
  mux->max_delay = 700000;
  mux->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
  if (avio_open(&mux->pb, seg.path.c_str(), AVIO_FLAG_WRITE) < 0)
    return fail(errc::io_error, "could not create a segment file");
  if (avformat_write_header(mux.get(), nullptr) < 0)
    return fail(errc::io_error, "could not write a segment");
  mux_ = std::move(mux);
  segments_.push_back(std::move(seg));
  next_cut_ = next_boundary(start, seg_ticks_);
  return ok_status();
}

status job::close_segment() {
  if (!mux_)
    return ok_status();
  output_ptr mux = std::move(mux_);
  const int trailer = av_write_trailer(mux.get());
  const int closed = avio_closep(&mux->pb);
  if (trailer < 0 || closed < 0)
    return fail(errc::io_error, "could not write a segment");
  std::error_code ec;
  const auto size = fs::file_size(segments_.back().path, ec);
  if (ec)
    return fail(errc::io_error, "could not write a segment");
  segments_.back().bytes = size;
  return ok_status();
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

transcode_output job::finish_output() const {
  transcode_output out;
  rendition_output r;
  r.name = rendition_;
  r.has_video = venc_ && saw_video_packet_;
  r.has_audio = aenc_ && saw_audio_packet_;
  if (r.has_video) {
    r.width = venc_->width;
    r.height = venc_->height;
    r.frame_rate = std::round(fps_ * 1000) / 1000;
    r.codecs = avc1_.empty() ? "avc1.640028" : avc1_;
  }
  if (r.has_audio)
    r.codecs += r.codecs.empty() ? "mp4a.40.2" : ",mp4a.40.2";

  uint64_t total_bytes = 0;
  double total_duration = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const int64_t end = i + 1 < segments_.size() ? segments_[i + 1].start : end_ticks_;
    const double d = std::max<int64_t>(0, end - segments_[i].start) / 90000.0;
    r.segments.push_back(segment_entry{segments_[i].name, d, segments_[i].bytes});
    total_bytes += segments_[i].bytes;
    total_duration += d;
    if (d > 0)
      r.peak_bandwidth =
          std::max(r.peak_bandwidth, static_cast<uint64_t>(segments_[i].bytes * 8 / d));
  }
  if (total_duration > 0)
    r.average_bandwidth = static_cast<uint64_t>(total_bytes * 8 / total_duration);
  r.peak_bandwidth = std::max(r.peak_bandwidth, r.average_bandwidth);

  out.duration = duration_ticks_ > 0 ? duration_ticks_ / 90000.0 : total_duration;
  out.renditions.push_back(std::move(r));
  return out;
}

result<transcode_output> job::run(const std::string& input, const std::string& out_dir) {
  if (!(opts_.segment_seconds > 0) || opts_.segment_seconds > 3600)
    return fail(errc::invalid_input, "invalid segment length");
  seg_ticks_ = std::llround(opts_.segment_seconds * 90000);
  next_cut_ = seg_ticks_;

  if (auto s = open_input(input); !s)
    return s.err();
  if (vidx_ >= 0) {
    if (auto s = open_video(); !s)
      return s.err();
  }
  if (aidx_ >= 0) {
    if (auto s = open_audio(); !s)
      return s.err();
  }
  video_active_ = vidx_ >= 0;
  rendition_ = vidx_ >= 0 ? "v0" : "a0";
  dir_ = fs::path(out_dir) / rendition_;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return fail(errc::io_error, "could not create the output directory");

  frame_.reset(av_frame_alloc());
  enc_pkt_.reset(av_packet_alloc());
  packet_ptr pkt(av_packet_alloc());
  if (!frame_ || !enc_pkt_ || !pkt)
    return fail(errc::internal, "out of memory");

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
    status s = ok_status();
    if (pkt->stream_index == vidx_)
      s = decode(vdec_.get(), pkt.get(), kind::video);
    else if (pkt->stream_index == aidx_)
      s = decode(adec_.get(), pkt.get(), kind::audio);
    else
      continue;
    if (!s)
      return s.err();
    report_progress(pkt.get());
  }
  if (cancelled())
    return fail(errc::cancelled, "cancelled");
  if (read_error && !decoded_any_)
    return fail(errc::invalid_input, "the input could not be read");

  // Flush decoders, then encoders.
  if (vdec_) {
    if (auto s = decode(vdec_.get(), nullptr, kind::video); !s)
      return s.err();
  }
  if (adec_) {
    if (auto s = decode(adec_.get(), nullptr, kind::audio); !s)
      return s.err();
  }
  if (!decoded_any_)
    return fail(errc::unsupported_media, "no decodable audio or video");
  if (aenc_) {
    if (auto s = flush_audio(); !s)
      return s.err();
    if (auto s = encode(aenc_.get(), nullptr, kind::audio); !s)
      return s.err();
  }
  if (venc_) {
    if (auto s = encode(venc_.get(), nullptr, kind::video); !s)
      return s.err();
  }
  // The video is done: the remaining audio decides the last cuts, but a short
  // tail (< 1 s past the next boundary) stays in the last segment.
  video_active_ = false;
  if (!audio_queue_.empty()) {
    const bool cut = !mux_ || end_ticks_ > next_cut_ + 90000;
    if (auto s = route_queued_audio(std::numeric_limits<int64_t>::max(), cut); !s)
      return s.err();
  }
  if (auto s = close_segment(); !s)
    return s.err();
  if (segments_.empty())
    return fail(errc::unsupported_media, "no decodable audio or video");
  if (progress_)
    progress_(1.0);
  return finish_output();
}

} // namespace

result<transcode_output> transcode(const std::string& input, const std::string& out_dir,
                                   const transcode_options& opts, const progress_fn& progress,
                                   const std::atomic<bool>* cancel) {
  libav::quiet_logs();
  job j(opts, progress, cancel);
  return j.run(input, out_dir);
}

} // namespace hlsgate::media
