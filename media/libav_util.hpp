// libav pieces shared by probe.cpp and transcoder.cpp. Internal to
// hlsgate_media: the only header of ours that includes FFmpeg headers, so
// include it from media/*.cpp only, never from a public header.
#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include "media/result.hpp"

namespace hlsgate::media::libav {

/// Largest width or height we accept from an input stream.
constexpr int kMaxDimension = 16384;

/// Lowers libav's log level to errors, once per process.
void quiet_logs();

struct input_closer {
  void operator()(AVFormatContext* p) const noexcept { avformat_close_input(&p); }
};
/// An opened input (avformat_open_input), closed with avformat_close_input.
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
using codec_ptr = std::unique_ptr<AVCodecContext, codec_closer>;
using frame_ptr = std::unique_ptr<AVFrame, frame_closer>;
using packet_ptr = std::unique_ptr<AVPacket, packet_closer>;
using sws_ptr = std::unique_ptr<SwsContext, sws_closer>;

/// Opens `path` and reads its stream information. Failures are
/// errc::invalid_input with a short, path-free reason.
result<input_ptr> open_input(const std::string& path);

/// A stream we could actually decode: audio or video (not an attached
/// picture), a known decoder and sane parameters.
bool usable_stream(const AVStream* st);

/// Index of the stream of `type` to use: libavformat's best stream if it is
/// usable, else the first usable one; -1 when there is none.
int pick_stream(AVFormatContext* fmt, AVMediaType type);

/// Clockwise rotation in degrees (0, 90, 180 or 270) that makes the video of
/// `st` upright, from its display matrix side data (as the ffmpeg CLI's
/// autorotate reads it). 0 when there is none or it is not a multiple of 90.
int display_rotation(const AVStream* st);

} // namespace hlsgate::media::libav
