#include "media/probe.hpp"

#include <algorithm>
#include <memory>
#include <mutex>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

namespace hlsgate::media {
namespace {

void quiet_libav_logs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_ERROR); });
}

struct input_closer {
  void operator()(AVFormatContext* p) const noexcept { avformat_close_input(&p); }
};
using input_ptr = std::unique_ptr<AVFormatContext, input_closer>;

constexpr int kMaxDimension = 16384;

/// A stream we could actually decode: a known decoder and sane parameters.
bool usable_stream(const AVStream* st) {
  const AVCodecParameters* par = st->codecpar;
  if (par->codec_type != AVMEDIA_TYPE_VIDEO && par->codec_type != AVMEDIA_TYPE_AUDIO)
    return false;
  if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
    if (st->disposition & AV_DISPOSITION_ATTACHED_PIC)
      return false;
    if (par->width <= 0 || par->height <= 0 || par->width > kMaxDimension ||
        par->height > kMaxDimension)
      return false;
  } else {
    if (par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0)
      return false;
  }
  return avcodec_find_decoder(par->codec_id) != nullptr;
}

} // namespace

result<probe_info> probe(const std::string& path) {
  quiet_libav_logs();

  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0)
    return error{errc::invalid_input, "not a readable media file"};
  input_ptr fmt(raw);
  if (avformat_find_stream_info(fmt.get(), nullptr) < 0)
    return error{errc::invalid_input, "could not read stream information"};

  probe_info info;
  info.format = fmt->iformat && fmt->iformat->name ? fmt->iformat->name : "";

  // Prefer libavformat's choice of best stream, but only if it is usable.
  const int best_v = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int best_a = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  const AVStream* video = nullptr;
  const AVStream* audio = nullptr;
  if (best_v >= 0 && usable_stream(fmt->streams[best_v]))
    video = fmt->streams[best_v];
  if (best_a >= 0 && usable_stream(fmt->streams[best_a]))
    audio = fmt->streams[best_a];
  for (unsigned i = 0; i < fmt->nb_streams && (!video || !audio); ++i) {
    const AVStream* st = fmt->streams[i];
    if (!usable_stream(st))
      continue;
    if (!video && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
      video = st;
    else if (!audio && st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
      audio = st;
  }
  if (!video && !audio)
    return error{errc::unsupported_media, "no audio or video stream"};

  if (video) {
    info.has_video = true;
    info.width = video->codecpar->width;
    info.height = video->codecpar->height;
    info.video_codec = avcodec_get_name(video->codecpar->codec_id);
  }
  if (audio) {
    info.has_audio = true;
    info.audio_codec = avcodec_get_name(audio->codecpar->codec_id);
  }

  if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
    info.duration = static_cast<double>(fmt->duration) / AV_TIME_BASE;
  } else {
    for (const AVStream* st : {video, audio}) {
      if (st && st->duration != AV_NOPTS_VALUE && st->duration > 0)
        info.duration = std::max(info.duration, st->duration * av_q2d(st->time_base));
    }
  }
  return info;
}

} // namespace hlsgate::media
