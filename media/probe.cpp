#include "media/probe.hpp"

#include "media/libav_util.hpp"
#include "media/source.hpp"

#include <algorithm>
#include <utility>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace hlsgate::media {

result<probe_info> probe(const std::string& path, const open_policy& policy) {
  libav::quiet_logs();

  auto opened = libav::open_source(path, policy);
  if (!opened)
    return opened.err();
  const libav::input_ptr fmt = std::move(*opened);

  probe_info info;
  info.format = fmt->iformat && fmt->iformat->name ? fmt->iformat->name : "";

  const int vidx = libav::pick_stream(fmt.get(), AVMEDIA_TYPE_VIDEO);
  const int aidx = libav::pick_stream(fmt.get(), AVMEDIA_TYPE_AUDIO);
  const AVStream* video = vidx >= 0 ? fmt->streams[vidx] : nullptr;
  const AVStream* audio = aidx >= 0 ? fmt->streams[aidx] : nullptr;
  if (!video && !audio)
    return libav::fail(errc::unsupported_media, "no audio or video stream", "find streams");

  if (video) {
    info.has_video = true;
    info.width = video->codecpar->width;
    info.height = video->codecpar->height;
    info.video_codec = avcodec_get_name(video->codecpar->codec_id);
    const AVRational rate = av_guess_frame_rate(fmt.get(), const_cast<AVStream*>(video), nullptr);
    if (rate.num > 0 && rate.den > 0 && av_q2d(rate) <= 1000) // beyond: a timebase, not a rate
      info.frame_rate = av_q2d(rate);
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
