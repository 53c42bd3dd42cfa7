#include "media/audio_encoder.hpp"

#include <algorithm>
#include <utility>

extern "C" {
#include <libavutil/samplefmt.h>
}

namespace hlsgate::media::detail {

using libav::codec_ptr;
using libav::fail;
using libav::kNoMemory;

audio_encoder::audio_encoder(sink_fn sink) : sink_(std::move(sink)) {}

audio_encoder::~audio_encoder() = default;

status audio_encoder::open_copy(const AVStream* st, int64_t start_ticks) {
  st_ = st;
  start_ticks_ = start_ticks;
  copy_ = true;
  return ok_status();
}

status audio_encoder::open_encode(const AVStream* st, int threads, int bitrate,
                                  int64_t start_ticks) {
  st_ = st;
  start_ticks_ = start_ticks;
  copy_ = false;
  if (auto s = libav::open_decoder(st, threads, dec_); !s)
    return s;

  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  constexpr const char* stage = "open AAC encoder";
  if (!codec)
    return fail(errc::internal, "AAC encoder unavailable", stage);
  codec_ptr enc(avcodec_alloc_context3(codec));
  if (!enc)
    return fail(errc::internal, "out of memory", stage, kNoMemory);

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
  enc->bit_rate = bitrate > 0 ? bitrate : 128000;
  enc->time_base = AVRational{1, rate};
  enc->profile = FF_PROFILE_AAC_LOW;
  if (int e = avcodec_open2(enc.get(), codec, nullptr); e < 0)
    return fail(errc::internal, "could not open the AAC encoder", stage, e);
  enc_ = std::move(enc);

  const int channels = enc_->ch_layout.nb_channels;
  const int frame_size = enc_->frame_size > 0 ? enc_->frame_size : 1024;
  fifo_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, channels, 4 * frame_size));
  aframe_.reset(av_frame_alloc());
  convert_buf_.reset(av_frame_alloc());
  frame_.reset(av_frame_alloc());
  pkt_.reset(av_packet_alloc());
  if (!fifo_ || !aframe_ || !convert_buf_ || !frame_ || !pkt_)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  aframe_->format = AV_SAMPLE_FMT_FLTP;
  aframe_->sample_rate = rate;
  aframe_->nb_samples = frame_size;
  if (av_channel_layout_copy(&aframe_->ch_layout, &enc_->ch_layout) < 0 ||
      av_frame_get_buffer(aframe_.get(), 0) < 0)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  return ok_status();
}

status audio_encoder::parameters(AVCodecParameters* out) const {
  const int r = copy_ ? avcodec_parameters_copy(out, st_->codecpar)
                      : avcodec_parameters_from_context(out, enc_.get());
  if (r < 0)
    return fail(errc::internal, "out of memory", "audio parameters", r);
  return ok_status();
}

status audio_encoder::on_packet(AVPacket* pkt) {
  if (!copy_)
    return libav::decode_packet(
        dec_.get(), pkt, frame_.get(), [this](AVFrame* f) { return on_frame(f); }, &skipped_);
  if ((pkt->flags & AV_PKT_FLAG_CORRUPT) || pkt->size <= 0)
    return ok_status();
  got_media_ = true;
  av_packet_rescale_ts(pkt, st_->time_base, kTicks);
  if (pkt->pts != AV_NOPTS_VALUE)
    pkt->pts -= start_ticks_;
  if (pkt->dts != AV_NOPTS_VALUE)
    pkt->dts -= start_ticks_;
  keep_dts_increasing(pkt, last_dts_);
  return sink_(pkt);
}

status audio_encoder::flush_decoder() {
  if (copy_ || !dec_)
    return ok_status();
  return libav::decode_packet(
      dec_.get(), nullptr, frame_.get(), [this](AVFrame* f) { return on_frame(f); }, &skipped_);
}

status audio_encoder::setup_resampler(const AVFrame* f) {
  constexpr const char* stage = "open audio resampler";
  channel_layout in_layout;
  if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f->ch_layout.nb_channels <= 0) {
    const int ch =
        f->ch_layout.nb_channels > 0 ? f->ch_layout.nb_channels : dec_->ch_layout.nb_channels;
    if (ch <= 0)
      return fail(errc::unsupported_media, "unknown audio channel layout", stage);
    av_channel_layout_default(&in_layout.l, ch);
  } else if (int e = av_channel_layout_copy(&in_layout.l, &f->ch_layout); e < 0) {
    return fail(errc::internal, "out of memory", stage, e);
  }
  if (swr_ && f->format == swr_in_format_ && f->sample_rate == swr_in_rate_ &&
      av_channel_layout_compare(&in_layout.l, &swr_in_layout_.l) == 0)
    return ok_status();

  if (f->sample_rate <= 0)
    return fail(errc::unsupported_media, "unknown audio sample rate", stage);
  // A format change mid-stream: drain what the old resampler holds first.
  if (auto s = drain_resampler(); !s)
    return s;
  SwrContext* raw = nullptr;
  if (int e = swr_alloc_set_opts2(&raw, &enc_->ch_layout, enc_->sample_fmt, enc_->sample_rate,
                                  &in_layout.l, static_cast<AVSampleFormat>(f->format),
                                  f->sample_rate, 0, nullptr);
      e < 0)
    return fail(errc::unsupported_media, "unsupported audio format", stage, e);
  std::unique_ptr<SwrContext, swr_closer> swr(raw);
  if (int e = swr_init(swr.get()); e < 0)
    return fail(errc::unsupported_media, "unsupported audio format", stage, e);
  swr_ = std::move(swr);
  swr_in_format_ = f->format;
  swr_in_rate_ = f->sample_rate;
  av_channel_layout_uninit(&swr_in_layout_.l);
  av_channel_layout_copy(&swr_in_layout_.l, &in_layout.l);
  return ok_status();
}

status audio_encoder::fifo_write_silence(int samples) {
  const int chunk = 4096;
  while (samples > 0) {
    const int n = std::min(samples, chunk);
    if (convert_buf_->nb_samples < n || !convert_buf_->data[0]) {
      av_frame_unref(convert_buf_.get());
      convert_buf_->format = enc_->sample_fmt;
      convert_buf_->nb_samples = chunk;
      if (av_channel_layout_copy(&convert_buf_->ch_layout, &enc_->ch_layout) < 0 ||
          av_frame_get_buffer(convert_buf_.get(), 0) < 0)
        return fail(errc::internal, "out of memory", "fill an audio gap", kNoMemory);
    }
    av_samples_set_silence(convert_buf_->data, 0, n, enc_->ch_layout.nb_channels, enc_->sample_fmt);
    if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(convert_buf_->data), n) < n)
      return fail(errc::internal, "out of memory", "fill an audio gap", kNoMemory);
    written_ += n;
    samples -= n;
  }
  return ok_status();
}

status audio_encoder::on_frame(AVFrame* f) {
  got_media_ = true;
  if (f->nb_samples <= 0)
    return ok_status();
  if (auto s = setup_resampler(f); !s)
    return s;

  const AVRational out_tb{1, enc_->sample_rate};
  const int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
  int64_t rel = kNoTs;
  if (ts != AV_NOPTS_VALUE)
    rel = av_rescale_q(ts, st_->time_base, out_tb) - av_rescale_q(start_ticks_, kTicks, out_tb);
  if (!anchored_) {
    anchored_ = true;
    anchor_ = rel == kNoTs ? 0 : rel;
  } else if (rel != kNoTs) {
    // Fill gaps (> 200 ms, < 30 s) in the input with silence to keep A/V sync.
    const int64_t gap = rel - (anchor_ + written_);
    if (gap > enc_->sample_rate / 5 && gap < int64_t{30} * enc_->sample_rate) {
      if (auto s = fifo_write_silence(static_cast<int>(gap)); !s)
        return s;
    }
  }

  constexpr const char* stage = "resample audio";
  const int cap = swr_get_out_samples(swr_.get(), f->nb_samples);
  if (cap < 0)
    return fail(errc::internal, "audio resampling failed", stage, cap);
  if (convert_buf_->nb_samples < cap || !convert_buf_->data[0]) {
    av_frame_unref(convert_buf_.get());
    convert_buf_->format = enc_->sample_fmt;
    convert_buf_->nb_samples = std::max(cap, 4096);
    if (av_channel_layout_copy(&convert_buf_->ch_layout, &enc_->ch_layout) < 0 ||
        av_frame_get_buffer(convert_buf_.get(), 0) < 0)
      return fail(errc::internal, "out of memory", stage, kNoMemory);
  }
  const int n = swr_convert(swr_.get(), convert_buf_->data, convert_buf_->nb_samples,
                            const_cast<const uint8_t**>(f->extended_data), f->nb_samples);
  if (n < 0)
    return fail(errc::internal, "audio resampling failed", stage, n);
  if (n > 0 &&
      av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(convert_buf_->data), n) < n)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  written_ += n;

  const int frame_size = aframe_->nb_samples;
  while (av_audio_fifo_size(fifo_.get()) >= frame_size) {
    if (auto s = send(frame_size); !s)
      return s;
  }
  return ok_status();
}

status audio_encoder::send(int samples) {
  if (int e = av_frame_make_writable(aframe_.get()); e < 0)
    return fail(errc::internal, "out of memory", "encode audio", e);
  const int full = aframe_->nb_samples;
  aframe_->nb_samples = samples;
  const int n = av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(aframe_->data), samples);
  if (n < samples) {
    aframe_->nb_samples = full;
    return fail(errc::internal, "audio buffering failed", "encode audio", n < 0 ? n : 0);
  }
  aframe_->pts = anchor_ + sent_;
  sent_ += samples;
  status s = encode(aframe_.get());
  aframe_->nb_samples = full;
  return s;
}

/// Moves the samples the resampler still holds into the fifo.
status audio_encoder::drain_resampler() {
  if (!swr_ || !convert_buf_->data[0])
    return ok_status();
  for (;;) {
    const int n = swr_convert(swr_.get(), convert_buf_->data, convert_buf_->nb_samples, nullptr, 0);
    if (n <= 0)
      return ok_status();
    if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(convert_buf_->data), n) < n)
      return fail(errc::internal, "out of memory", "resample audio", kNoMemory);
    written_ += n;
  }
}

status audio_encoder::finish() {
  if (copy_ || !enc_)
    return ok_status();
  if (auto s = drain_resampler(); !s)
    return s;
  const int frame_size = aframe_->nb_samples;
  while (av_audio_fifo_size(fifo_.get()) > 0) {
    if (auto s = send(std::min(frame_size, av_audio_fifo_size(fifo_.get()))); !s)
      return s;
  }
  return encode(nullptr);
}

status audio_encoder::encode(const AVFrame* f) {
  if (int e = avcodec_send_frame(enc_.get(), f); e < 0)
    return fail(errc::internal, "audio encoding failed", "encode audio", e);
  for (;;) {
    const int r = avcodec_receive_packet(enc_.get(), pkt_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
      return ok_status();
    if (r < 0)
      return fail(errc::internal, "audio encoding failed", "encode audio", r);
    av_packet_rescale_ts(pkt_.get(), enc_->time_base, kTicks);
    status s = sink_(pkt_.get());
    av_packet_unref(pkt_.get());
    if (!s)
      return s;
  }
}

} // namespace hlsgate::media::detail
