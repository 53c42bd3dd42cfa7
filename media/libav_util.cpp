#include "media/libav_util.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/display.h>
#include <libavutil/log.h>
}

namespace hlsgate::media::libav {

error fail(errc code, const char* reason, const char* stage, int averr) {
  std::string detail = stage;
  if (averr < 0) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(averr, text, sizeof text);
    detail += ": ";
    detail += text;
  }
  return error{code, reason, std::move(detail)};
}

void quiet_logs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_ERROR); });
}

bool usable_stream(const AVStream* st) {
  const AVCodecParameters* par = st->codecpar;
  if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
    if (st->disposition & AV_DISPOSITION_ATTACHED_PIC)
      return false;
    if (par->width <= 0 || par->height <= 0 || par->width > kMaxDimension ||
        par->height > kMaxDimension)
      return false;
  } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
    if (par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0)
      return false;
  } else {
    return false;
  }
  return avcodec_find_decoder(par->codec_id) != nullptr;
}

int pick_stream(AVFormatContext* fmt, AVMediaType type) {
  const int best = av_find_best_stream(fmt, type, -1, -1, nullptr, 0);
  if (best >= 0 && usable_stream(fmt->streams[best]))
    return best;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (fmt->streams[i]->codecpar->codec_type == type && usable_stream(fmt->streams[i]))
      return static_cast<int>(i);
  }
  return -1;
}

int display_rotation(const AVStream* st) {
  size_t size = 0;
  const uint8_t* sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (!sd || size < 9 * sizeof(int32_t))
    return 0;
  return upright_rotation(av_display_rotation_get(reinterpret_cast<const int32_t*>(sd)));
}

source_geometry geometry_of(AVFormatContext* fmt, AVStream* st) {
  const AVRational sar = av_guess_sample_aspect_ratio(fmt, st, nullptr);
  return make_geometry(st->codecpar->width, st->codecpar->height, display_rotation(st), sar.num,
                       sar.den);
}

status open_decoder(const AVStream* st, int threads, codec_ptr& out) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  const char* stage =
      st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? "open video decoder" : "open audio decoder";
  if (!codec)
    return fail(errc::unsupported_media, "no decoder for the input codec", stage);
  codec_ptr ctx(avcodec_alloc_context3(codec));
  if (!ctx)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  if (int e = avcodec_parameters_to_context(ctx.get(), st->codecpar); e < 0)
    return fail(errc::unsupported_media, "unsupported codec parameters", stage, e);
  ctx->pkt_timebase = st->time_base;
  ctx->thread_count = std::max(0, threads);
  if (int e = avcodec_open2(ctx.get(), codec, nullptr); e < 0)
    return fail(errc::unsupported_media, "could not open the input decoder", stage, e);
  out = std::move(ctx);
  return ok_status();
}

} // namespace hlsgate::media::libav
