#include "media/pictures.hpp"

#include "media/planes.hpp"

#include <cstring>

namespace hlsgate::media::libav {

frame_ptr alloc_image(int w, int h) {
  frame_ptr f(av_frame_alloc());
  if (!f)
    return nullptr;
  f->format = AV_PIX_FMT_YUVJ420P;
  f->width = w;
  f->height = h;
  f->color_range = AVCOL_RANGE_JPEG;
  if (av_frame_get_buffer(f.get(), 0) < 0)
    return nullptr;
  for (int p = 0; p < 3; ++p) {
    const int rows = p ? h / 2 : h;
    std::memset(f->data[p], p ? 128 : 0, static_cast<size_t>(f->linesize[p]) * rows);
  }
  return f;
}

void rotate_blit(const AVFrame* src, AVFrame* dst, int dx, int dy, int rot) {
  for (int p = 0; p < 3; ++p) {
    const int s = p ? 1 : 0; // chroma planes are half size
    uint8_t* out = dst->data[p] + static_cast<ptrdiff_t>(dy >> s) * dst->linesize[p] + (dx >> s);
    rotate_plane(src->data[p], src->linesize[p], src->width >> s, src->height >> s, out,
                 dst->linesize[p], rot);
  }
}

void copy_rect(AVFrame* f, int sx, int sy, int dx, int dy, int w, int h) {
  for (int p = 0; p < 3; ++p) {
    const int s = p ? 1 : 0;
    const int l = f->linesize[p];
    for (int y = 0; y < (h >> s); ++y)
      std::memmove(f->data[p] + ((dy >> s) + y) * l + (dx >> s),
                   f->data[p] + ((sy >> s) + y) * l + (sx >> s), w >> s);
  }
}

result<std::string> encode_jpeg(AVFrame* img, int qscale) {
  constexpr const char* stage = "encode JPEG";
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec)
    return fail(errc::internal, "no JPEG encoder", stage);
  codec_ptr enc(avcodec_alloc_context3(codec));
  packet_ptr pkt(av_packet_alloc());
  if (!enc || !pkt)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  enc->width = img->width;
  enc->height = img->height;
  enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
  enc->color_range = AVCOL_RANGE_JPEG;
  enc->time_base = AVRational{1, 25};
  enc->flags |= AV_CODEC_FLAG_QSCALE;
  enc->global_quality = FF_QP2LAMBDA * qscale;
  if (int e = avcodec_open2(enc.get(), codec, nullptr); e < 0)
    return fail(errc::internal, "could not open the JPEG encoder", stage, e);
  img->quality = enc->global_quality;
  img->pts = 0;
  img->pict_type = AV_PICTURE_TYPE_NONE;
  int e = avcodec_send_frame(enc.get(), img);
  if (e >= 0)
    e = avcodec_send_frame(enc.get(), nullptr);
  if (e < 0)
    return fail(errc::internal, "could not encode a JPEG", stage, e);
  std::string out;
  while ((e = avcodec_receive_packet(enc.get(), pkt.get())) >= 0) {
    out.append(reinterpret_cast<const char*>(pkt->data), static_cast<size_t>(pkt->size));
    av_packet_unref(pkt.get());
  }
  if (out.empty())
    return fail(errc::internal, "could not encode a JPEG", stage, e);
  return out;
}

} // namespace hlsgate::media::libav
