// libav pieces shared by the files of hlsgate_media. Internal: this and the
// other headers that include FFmpeg headers (source, segmenter, video_rung,
// audio_encoder) are for media/*.cpp only, never for a public header.
#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include "media/ladder.hpp"
#include "media/result.hpp"

namespace hlsgate::media::libav {

/// Largest width or height we accept from an input stream.
constexpr int kMaxDimension = 16384;

/// Lowers libav's log level to errors, once per process.
void quiet_logs();

/// Closes an input opened by open_source (media/source.hpp), and frees the
/// I/O context and descriptor it reads through.
struct input_closer {
  void operator()(AVFormatContext* p) const noexcept;
};
using input_ptr = std::unique_ptr<AVFormatContext, input_closer>;

// RAII owners of the libav objects more than one file uses.
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
struct codecpar_closer {
  void operator()(AVCodecParameters* p) const noexcept { avcodec_parameters_free(&p); }
};
using codec_ptr = std::unique_ptr<AVCodecContext, codec_closer>;
using frame_ptr = std::unique_ptr<AVFrame, frame_closer>;
using packet_ptr = std::unique_ptr<AVPacket, packet_closer>;
using sws_ptr = std::unique_ptr<SwsContext, sws_closer>;
using codecpar_ptr = std::unique_ptr<AVCodecParameters, codecpar_closer>;

/// Unreferences a packet at scope exit.
struct packet_unref_guard {
  AVPacket* p;
  ~packet_unref_guard() { av_packet_unref(p); }
};

/// An error whose `detail` (for operators) names the failing `stage`, e.g.
/// "decode video", followed, when `averr` is a libav error code (< 0), by
/// its av_strerror text: "decode video: Invalid data found when processing
/// input". `reason` is the short, user-safe text.
error fail(errc code, const char* reason, const char* stage, int averr = 0);
/// The code an allocation that returned null stands for.
constexpr int kNoMemory = AVERROR(ENOMEM);
/// errc::cancelled.
inline error cancelled() {
  return error{errc::cancelled, "cancelled"};
}

/// A stream we could actually decode: audio or video (not an attached
/// picture), a known decoder and sane parameters.
bool usable_stream(const AVStream* st);

/// Index of the stream of `type` to use: libavformat's best stream if it is
/// usable, else the first usable one; -1 when there is none.
int pick_stream(AVFormatContext* fmt, AVMediaType type);

/// Clockwise rotation in degrees (0, 90, 180 or 270) that makes the video of
/// `st` upright, from its display matrix side data (upright_rotation).
int display_rotation(const AVStream* st);

/// The geometry of video stream `st` of `fmt`: coded size, rotation and the
/// sample aspect ratio libavformat guesses (stream, then codec).
source_geometry geometry_of(AVFormatContext* fmt, AVStream* st);

/// Opens a decoder for `st` (`threads` 0 = libav's choice).
status open_decoder(const AVStream* st, int threads, codec_ptr& out);

/// Sends `pkt` (nullptr: end of stream) to `dec` and hands every decoded
/// frame to `on_frame(AVFrame*)` -> status, unreferencing it afterwards.
/// Damaged input is skipped, not failed: a packet the decoder refuses, a
/// frame that fails to decode (a decoder that fails more than 16 frames in
/// one call is given up on for that call; while flushing, at the first).
/// The libav code of the last such failure is stored in `*skipped` (if given),
/// and each one is counted in `*failures` (if given).
template <class OnFrame>
status decode_packet(AVCodecContext* dec, const AVPacket* pkt, AVFrame* frame, OnFrame&& on_frame,
                     int* skipped = nullptr, uint64_t* failures = nullptr) {
  const bool flushing = pkt == nullptr;
  auto receive = [&]() -> status {
    for (int errors = 0;;) {
      const int r = avcodec_receive_frame(dec, frame);
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
        return ok_status();
      if (r < 0) {
        if (skipped)
          *skipped = r;
        if (failures)
          ++*failures;
        if (flushing || ++errors > 16)
          return ok_status();
        continue;
      }
      status s = on_frame(frame);
      av_frame_unref(frame);
      if (!s)
        return s;
    }
  };
  int sent = avcodec_send_packet(dec, pkt);
  if (sent == AVERROR(EAGAIN)) {
    // Frames left over from an earlier packet must be taken out first.
    if (auto s = receive(); !s)
      return s;
    sent = avcodec_send_packet(dec, pkt);
  }
  if (sent < 0 && sent != AVERROR_EOF) {
    if (skipped)
      *skipped = sent;
    if (failures)
      ++*failures;
    return ok_status(); // a corrupt packet: skip it
  }
  return receive();
}

} // namespace hlsgate::media::libav
