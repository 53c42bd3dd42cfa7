// The audio of a transcode: decoded once, resampled to the AAC encoder's
// format and rate, encoded to AAC-LC in frames of the encoder's size (gaps
// in the input filled with silence), or copied as is when the top rung is
// remuxed. Output packets go to a sink with timestamps in kTicks on the
// job's timeline. Runs on the reader thread. Internal to hlsgate_media.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

#include "media/libav_util.hpp"
#include "media/segmenter.hpp"

namespace hlsgate::media::detail {

class audio_encoder {
public:
  /// Takes an output packet (timestamps in kTicks); it may modify it.
  using sink_fn = std::function<status(AVPacket*)>;

  explicit audio_encoder(sink_fn sink);
  ~audio_encoder();
  audio_encoder(const audio_encoder&) = delete;
  audio_encoder& operator=(const audio_encoder&) = delete;

  /// Copies the packets of `st`; `start_ticks` is the input time of 0 on our timeline.
  status open_copy(const AVStream* st, int64_t start_ticks);
  /// Decodes `st` and encodes AAC-LC at `bitrate` bits/s (<= 0: 128 kb/s),
  /// at the source's rate when AAC supports it (else 48 kHz), mono or stereo.
  status open_encode(const AVStream* st, int threads, int bitrate, int64_t start_ticks);

  /// The output stream's parameters, for the renditions' muxers.
  status parameters(AVCodecParameters* out) const;

  /// A packet of the audio stream (its timestamps in the stream's time base).
  status on_packet(AVPacket* pkt);
  /// End of input: drains the decoder.
  status flush_decoder();
  /// Then: sends what the resampler and the buffer still hold, and drains the encoder.
  status finish();

  /// A packet was copied or a frame decoded.
  bool got_media() const { return got_media_; }
  /// The libav code of the last damaged packet or frame skipped (0: none).
  int skipped_error() const { return skipped_; }

private:
  struct swr_closer {
    void operator()(SwrContext* p) const noexcept { swr_free(&p); }
  };
  struct fifo_closer {
    void operator()(AVAudioFifo* p) const noexcept { av_audio_fifo_free(p); }
  };
  /// An AVChannelLayout that uninitialises itself.
  struct channel_layout {
    AVChannelLayout l{};
    channel_layout() = default;
    channel_layout(const channel_layout&) = delete;
    channel_layout& operator=(const channel_layout&) = delete;
    ~channel_layout() { av_channel_layout_uninit(&l); }
  };

  status on_frame(AVFrame* f);
  status setup_resampler(const AVFrame* f);
  status fifo_write_silence(int samples);
  status send(int samples);
  status drain_resampler();
  status encode(const AVFrame* f);

  sink_fn sink_;
  const AVStream* st_ = nullptr;
  int64_t start_ticks_ = 0;
  bool copy_ = false;
  bool got_media_ = false;
  int skipped_ = 0;
  int64_t last_dts_ = kNoTs; ///< of copied packets

  libav::codec_ptr dec_, enc_;
  std::unique_ptr<SwrContext, swr_closer> swr_;
  channel_layout swr_in_layout_;
  int swr_in_format_ = -1, swr_in_rate_ = 0;
  std::unique_ptr<AVAudioFifo, fifo_closer> fifo_;
  libav::frame_ptr frame_;       ///< decoder output
  libav::frame_ptr convert_buf_; ///< resampler output, before the fifo
  libav::frame_ptr aframe_;      ///< encoder input, frame_size samples
  libav::packet_ptr pkt_;        ///< encoder output
  bool anchored_ = false;
  int64_t anchor_ = 0;  ///< encoder-rate samples
  int64_t written_ = 0; ///< samples written into the fifo
  int64_t sent_ = 0;    ///< samples sent to the encoder
};

} // namespace hlsgate::media::detail
