#include "media/video_rung.hpp"

#include "media/annexb.hpp"
#include "media/planes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <utility>

extern "C" {
#include <libavutil/opt.h>
}

namespace hlsgate::media::detail {

using libav::codec_ptr;
using libav::fail;
using libav::frame_ptr;
using libav::kNoMemory;

namespace {

bool is_video(work_item::kind_t k) {
  return k == work_item::frame || k == work_item::video_packet;
}

/// Makes `f` writable without copying its old content: children may still
/// hold the previous picture.
status fresh_buffer(AVFrame* f) {
  if (av_frame_is_writable(f))
    return ok_status();
  const int format = f->format, w = f->width, h = f->height;
  av_frame_unref(f);
  f->format = format;
  f->width = w;
  f->height = h;
  if (int e = av_frame_get_buffer(f, 0); e < 0)
    return fail(errc::internal, "out of memory", "scale video", e);
  return ok_status();
}

} // namespace

namespace {

/// Presentation times (seconds, ascending) of the keyframes in the index of
/// `st`; empty when it has none.
std::vector<double> indexed_keyframes(AVStream* st) {
  const int n = avformat_index_get_entries_count(st);
  const double tb = av_q2d(st->time_base);
  std::vector<double> keys;
  for (int i = 0; i < n; ++i) {
    const AVIndexEntry* e = avformat_index_get_entry(st, i);
    if (e && (e->flags & AVINDEX_KEYFRAME) && e->timestamp != AV_NOPTS_VALUE)
      keys.push_back(e->timestamp * tb);
  }
  // Some indexes hold decoding times (MP4): shift them so the first keyframe
  // is at the stream's first presentation time.
  if (!keys.empty() && st->start_time != AV_NOPTS_VALUE) {
    const double shift = st->start_time * tb - keys.front();
    for (double& k : keys)
      k += shift;
  }
  return keys;
}

/// Bits per second of `st` from the sizes and times in the container's
/// index; 0 when the index cannot tell (fewer than two entries, or entries
/// without sizes, as in Matroska's cues and FLV's keyframe index).
int64_t indexed_bitrate(AVStream* st) {
  const int n = avformat_index_get_entries_count(st);
  if (n < 2)
    return 0;
  double bytes = 0;
  int64_t first = AV_NOPTS_VALUE, last = AV_NOPTS_VALUE;
  for (int i = 0; i < n; ++i) {
    const AVIndexEntry* e = avformat_index_get_entry(st, i);
    if (!e || e->timestamp == AV_NOPTS_VALUE)
      continue;
    if (e->size <= 0)
      return 0;
    bytes += e->size;
    if (first == AV_NOPTS_VALUE || e->timestamp < first)
      first = e->timestamp;
    if (last == AV_NOPTS_VALUE || e->timestamp > last)
      last = e->timestamp;
  }
  if (first == AV_NOPTS_VALUE || last <= first)
    return 0;
  // n entries span n - 1 frame intervals; count the last frame too.
  const double seconds = static_cast<double>(last - first) * av_q2d(st->time_base) * n / (n - 1);
  const double bps = seconds > 0 ? bytes * 8 / seconds : 0;
  return bps > 0 && bps < 1e15 ? static_cast<int64_t>(bps) : 0;
}

/// The video stream's bitrate: from the index where it has sizes (MP4,
/// MPEG-TS), else as the stream declares it, else the container's overall
/// rate (file size over duration) less the declared rates of all its audio
/// streams; 0 when nothing tells.
int64_t video_bitrate(AVFormatContext* in, AVStream* st) {
  if (int64_t b = indexed_bitrate(st); b > 0)
    return b;
  if (st->codecpar->bit_rate > 0)
    return st->codecpar->bit_rate;
  if (in->bit_rate <= 0)
    return 0;
  int64_t audio = 0;
  for (unsigned i = 0; i < in->nb_streams; ++i)
    if (in->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
      audio += std::max<int64_t>(in->streams[i]->codecpar->bit_rate, 0);
  return in->bit_rate > audio ? in->bit_rate - audio : 0;
}

/// Matroska reads its cues (the keyframe index) at the first seek, not at
/// open (what probing added covers only the first blocks): a seek to the
/// start loads them and leaves the reader where it was, at the first
/// cluster. Other containers have theirs already.
void load_deferred_index(AVFormatContext* in, AVStream* st) {
  if (!in->pb || !(in->pb->seekable & AVIO_SEEKABLE_NORMAL) ||
      std::strcmp(in->iformat->name, "matroska,webm") != 0)
    return;
  const int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
  av_seek_frame(in, st->index, start, AVSEEK_FLAG_BACKWARD);
}

} // namespace

bool can_remux(AVFormatContext* in, int vidx, int aidx, const source_geometry& g,
               const rung_plan& top, double origin, double segment_seconds) {
  AVStream* st = in->streams[vidx];
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
  if (g.rotation != 0 || !g.square_pixels || par->width != top.width || par->height != top.height)
    return false;
  // The rung is advertised at its bitrate: a copy must not be far above it.
  if (!copy_fits_rung(video_bitrate(in, st), par->level, top.bitrate))
    return false;
  load_deferred_index(in, st);
  double end = 0;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->start_time != AV_NOPTS_VALUE)
    end = (st->start_time + st->duration) * av_q2d(st->time_base);
  else if (in->duration != AV_NOPTS_VALUE && in->duration > 0)
    end = (in->duration + (in->start_time != AV_NOPTS_VALUE ? in->start_time : 0)) /
          static_cast<double>(AV_TIME_BASE);
  if (!keyframes_fit_segments(indexed_keyframes(st), origin, end, segment_seconds))
    return false;
  if (aidx >= 0) {
    const AVCodecParameters* a = in->streams[aidx]->codecpar;
    if (a->codec_id != AV_CODEC_ID_AAC || a->profile != FF_PROFILE_AAC_LOW ||
        a->extradata_size <= 0 || a->ch_layout.nb_channels < 1 || a->ch_layout.nb_channels > 2)
      return false;
  }
  return true;
}

result<codec_ptr> open_h264_encoder(int width, int height, int64_t bitrate, int threads,
                                    const encoder_settings& es) {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  constexpr const char* stage = "open H.264 encoder";
  if (!codec)
    return fail(errc::internal, "H.264 encoder unavailable", stage);
  codec_ptr enc(avcodec_alloc_context3(codec));
  if (!enc)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  enc->width = width;
  enc->height = height;
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
  enc->thread_count = threads;
  if (es.fps < 5)
    enc->max_b_frames = 0; // keep the B-frame reordering delay small in wall-clock terms
  enc->bit_rate = bitrate;
  enc->rc_max_rate = bitrate * 3 / 2;
  enc->rc_buffer_size = static_cast<int>(std::min<int64_t>(bitrate * 2, INT32_MAX));

  const std::string& preset = es.preset.empty() ? std::string("veryfast") : es.preset;
  void* priv = enc->priv_data;
  int e = av_opt_set(priv, "preset", preset.c_str(), 0);
  for (auto [key, value] : {std::pair{"profile", "high"}, std::pair{"forced-idr", "1"},
                            std::pair{"sc_threshold", "0"}}) {
    if (e >= 0)
      e = av_opt_set(priv, key, value, 0);
  }
  // Live: no lookahead and no B-frames, so a frame leaves the encoder as
  // soon as it is in, and a segment is complete right after its last frame.
  if (e >= 0 && es.low_latency)
    e = av_opt_set(priv, "tune", "zerolatency", 0);
  if (e < 0)
    return fail(errc::internal, "H.264 encoder rejected its options", stage, e);
  if (e = avcodec_open2(enc.get(), codec, nullptr); e < 0)
    return fail(errc::internal, "could not open the H.264 encoder (check the preset)", stage, e);
  return result<codec_ptr>{std::move(enc)};
}

// ---------------------------------------------------------------------------

video_rung::video_rung(job_shared& shared, size_t index, size_t count, int64_t seg_ticks)
    : shared_(shared), writer_(shared, index, count, seg_ticks) {}

video_rung::~video_rung() {
  join();
}

void video_rung::add_child(video_rung* child) {
  children_.push_back(child);
  child->has_parent_ = true;
}

void video_rung::start() {
  thread_ = std::thread([this] { run(); });
}

void video_rung::join() {
  if (thread_.joinable())
    thread_.join();
}

status video_rung::open_encoder(const rung_plan& plan, const encoder_settings& es) {
  auto enc = open_h264_encoder(plan.width, plan.height, plan.bitrate,
                               es.threads > 0 ? es.threads : plan.threads, es);
  if (!enc)
    return enc.err();
  enc_ = std::move(*enc);

  rotation_ = es.rotation;
  const bool turned = rotation_ == 90 || rotation_ == 270;
  pre_w_ = turned ? plan.height : plan.width;
  pre_h_ = turned ? plan.width : plan.height;
  constexpr const char* stage = "open video rung";
  for (frame_ptr* f : {&scaled_, &rotated_}) {
    if (f == &rotated_ && !rotation_)
      continue;
    f->reset(av_frame_alloc());
    if (!*f)
      return fail(errc::internal, "out of memory", stage, kNoMemory);
    (*f)->format = AV_PIX_FMT_YUV420P;
    (*f)->width = f == &scaled_ ? pre_w_ : plan.width;
    (*f)->height = f == &scaled_ ? pre_h_ : plan.height;
    if (int e = av_frame_get_buffer(f->get(), 0); e < 0)
      return fail(errc::internal, "out of memory", stage, e);
  }
  pkt_.reset(av_packet_alloc());
  if (!pkt_)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  codecpar_.reset(avcodec_parameters_alloc());
  if (!codecpar_ || avcodec_parameters_from_context(codecpar_.get(), enc_.get()) < 0)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  set_info(plan, es.fps, false);
  return ok_status();
}

status video_rung::open_remux(const rung_plan& plan, const AVStream* st, double fps) {
  constexpr const char* stage = "open h264_mp4toannexb";
  const AVBitStreamFilter* filter = av_bsf_get_by_name("h264_mp4toannexb");
  AVBSFContext* raw = nullptr;
  if (!filter)
    return fail(errc::internal, "bitstream filter unavailable", stage);
  if (int e = av_bsf_alloc(filter, &raw); e < 0)
    return fail(errc::internal, "bitstream filter unavailable", stage, e);
  bsf_.reset(raw);
  if (int e = avcodec_parameters_copy(bsf_->par_in, st->codecpar); e < 0)
    return fail(errc::internal, "out of memory", stage, e);
  bsf_->time_base_in = kTicks;
  if (int e = av_bsf_init(bsf_.get()); e < 0)
    return fail(errc::unsupported_media, "unsupported H.264 stream", stage, e);
  pkt_.reset(av_packet_alloc());
  codecpar_.reset(avcodec_parameters_alloc());
  if (!pkt_ || !codecpar_ || avcodec_parameters_copy(codecpar_.get(), bsf_->par_out) < 0)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  set_info(plan, fps, true);
  return ok_status();
}

void video_rung::set_info(const rung_plan& plan, double fps, bool remuxed) {
  rendition_output& r = writer_.info();
  r.remuxed = remuxed;
  r.width = plan.width;
  r.height = plan.height;
  r.frame_rate = std::round(fps * 1000) / 1000;
}

/// Queues an item for a child rung, waiting while its queue is full.
status video_rung::forward(video_rung& child, work_item item) {
  const bool video = is_video(item.kind);
  {
    std::unique_lock<std::mutex> lk(shared_.m);
    shared_.cv.wait(lk, [&] {
      return shared_.abort || shared_.failed || !video || child.video_items < kQueueFrames;
    });
    if (shared_.abort || shared_.failed)
      return fail(errc::cancelled, "stopped", "feed a lower rung");
    if (video)
      ++child.video_items;
    child.queue.push_back(std::move(item));
  }
  child.cv.notify_one();
  return ok_status();
}

status video_rung::forward_all(work_item::kind_t kind, const AVFrame* f, const AVPacket* p,
                               int64_t pts, int64_t duration, bool cut) {
  for (video_rung* child : children_) {
    work_item item;
    item.kind = kind;
    item.pts = pts;
    item.duration = duration;
    item.cut = cut;
    if (f) {
      item.f.reset(av_frame_clone(f));
      if (!item.f)
        return fail(errc::internal, "out of memory", "feed a lower rung", kNoMemory);
    }
    if (p) {
      item.p.reset(av_packet_clone(p));
      if (!item.p)
        return fail(errc::internal, "out of memory", "feed a lower rung", kNoMemory);
    }
    if (auto s = forward(*child, std::move(item)); !s)
      return s;
  }
  return ok_status();
}

void video_rung::run() {
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

status video_rung::process(work_item& item) {
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

status video_rung::on_frame(AVFrame* f, int64_t pts, int64_t duration, bool cut) {
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
      return fail(errc::unsupported_media, "unsupported pixel format", "scale video");
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
      rotate_plane(out->data[p], out->linesize[p], sw, sh, rotated_->data[p], rotated_->linesize[p],
                   rotation_);
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

status video_rung::encode(const AVFrame* f) {
  if (int e = avcodec_send_frame(enc_.get(), f); e < 0)
    return fail(errc::internal, "video encoding failed", "encode video", e);
  for (;;) {
    const int r = avcodec_receive_packet(enc_.get(), pkt_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
      return ok_status();
    if (r < 0)
      return fail(errc::internal, "video encoding failed", "encode video", r);
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

status video_rung::on_packet(AVPacket* p, bool cut) {
  writer_.note_end((p->pts != AV_NOPTS_VALUE ? p->pts : p->dts) + p->duration);
  return filter(p, cut);
}

/// Passes a source packet (nullptr: end of stream) through the bitstream filter.
status video_rung::filter(AVPacket* p, bool cut) {
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
    // The filter puts the parameter sets after a keyframe's SEI; they go
    // first (see media/annexb.hpp).
    if ((pkt_->flags & AV_PKT_FLAG_KEY) && av_packet_make_writable(pkt_.get()) >= 0)
      parameter_sets_first(pkt_->data, static_cast<size_t>(pkt_->size));
    status s = writer_.write_video(pkt_.get(), cut && (pkt_->flags & AV_PKT_FLAG_KEY));
    cut = false;
    av_packet_unref(pkt_.get());
    if (!s)
      return s;
  }
}

} // namespace hlsgate::media::detail

namespace hlsgate::media {

using detail::encoder_settings;
using detail::open_h264_encoder;
using libav::fail;
using libav::frame_ptr;
using libav::kNoMemory;

status check_encoder(const std::string& x264_preset) {
  libav::quiet_logs();
  constexpr int kSize = 64; ///< pixels: the smallest frame is enough to run the preset
  constexpr const char* stage = "encode a test frame";
  encoder_settings es;
  es.frame_rate = AVRational{25, 1};
  es.fps = 25;
  es.segment_seconds = 2;
  es.preset = x264_preset;
  auto enc = open_h264_encoder(kSize, kSize, 200000, 1, es);
  if (!enc)
    return enc.err();
  frame_ptr f(av_frame_alloc());
  libav::packet_ptr pkt(av_packet_alloc());
  if (!f || !pkt)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  f->format = AV_PIX_FMT_YUV420P;
  f->width = f->height = kSize;
  if (int e = av_frame_get_buffer(f.get(), 0); e < 0)
    return fail(errc::internal, "out of memory", stage, e);
  for (int p = 0; p < 3; ++p) // black
    std::memset(f->data[p], p ? 128 : 16,
                static_cast<size_t>(f->linesize[p]) * (p ? kSize / 2 : kSize));
  f->pts = 0;
  int e = avcodec_send_frame(enc->get(), f.get());
  if (e >= 0)
    e = avcodec_send_frame(enc->get(), nullptr);
  int packets = 0;
  while (e >= 0) {
    e = avcodec_receive_packet(enc->get(), pkt.get());
    if (e >= 0) {
      ++packets;
      av_packet_unref(pkt.get());
    }
  }
  if (e != AVERROR_EOF || packets == 0)
    return fail(errc::internal, "the H.264 encoder does not work", stage, e);
  return ok_status();
}

} // namespace hlsgate::media
