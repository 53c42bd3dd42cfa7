#include "media/thumbnails.hpp"

#include "media/ladder.hpp"
#include "media/libav_util.hpp"
#include "media/pictures.hpp"
#include "media/source.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace hlsgate::media {
namespace {

namespace fs = std::filesystem;

using libav::alloc_image;
using libav::codec_ptr;
using libav::copy_rect;
using libav::encode_jpeg;
using libav::fail;
using libav::frame_ptr;
using libav::input_ptr;
using libav::kNoMemory;
using libav::packet_ptr;
using libav::packet_unref_guard;
using libav::rotate_blit;
using libav::sws_ptr;

// ---------------------------------------------------------------------------

constexpr int kMaxSpriteDimension = 16384; ///< sprite width/height cap (JPEG allows 65535)
constexpr int64_t kMaxSpritePixels = 64 << 20;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// "HH:MM:SS.mmm"
std::string vtt_time(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld",
                static_cast<long long>(ms / 3600000), static_cast<long long>(ms / 60000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return buf;
}

/// Writes `bytes` to `path` atomically: `path.part`, then rename.
status write_atomic(const fs::path& path, const std::string& bytes) {
  const fs::path part = path.string() + ".part";
  std::FILE* f = std::fopen(part.c_str(), "wb");
  if (!f)
    return fail(errc::io_error, "could not create a thumbnail file", "create thumbnail",
                AVERROR(errno));
  const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  const int err = wrote && closed ? 0 : errno;
  std::error_code ec;
  if (wrote && closed)
    fs::rename(part, path, ec);
  if (!wrote || !closed || ec) {
    const int code = ec ? ec.value() : err;
    fs::remove(part, ec);
    return fail(errc::io_error, "could not write a thumbnail file", "write thumbnail",
                AVERROR(code));
  }
  return ok_status();
}

/// Something to grab: the poster (tile < 0) or a storyboard tile.
struct target {
  double t = 0;    ///< seconds from the video start
  double span = 0; ///< a keyframe past t + span is too late (use the nearest instead)
  int tile = -1;
};

class thumbnailer {
public:
  thumbnailer(const thumbnail_options& opts, const std::atomic<bool>* cancel)
      : opts_(opts), cancel_(cancel) {}

  result<thumbnail_output> run(const std::string& input, const std::string& out_dir);

private:
  /// Checked per packet: also where the supervisor hears we are alive.
  bool cancelled() const {
    if (opts_.heartbeat)
      opts_.heartbeat();
    return cancel_ && cancel_->load(std::memory_order_relaxed);
  }

  status open(const std::string& input);
  status scan_duration(const std::string& input);
  status open_decoder();
  status plan();
  status grab();
  status on_key(AVPacket* pkt, double k);
  status use(AVPacket* pkt, int64_t id, const std::vector<const target*>& targets);
  bool decode(AVPacket* pkt);
  status render(const AVFrame* f, const target& tg);
  status scale_into(sws_ptr& sws, const AVFrame* f, AVFrame* tmp, int flags);
  status finish();
  status write(const std::string& out_dir);

  double clock(const AVPacket* pkt);

  thumbnail_options opts_;
  const std::atomic<bool>* cancel_;

  input_ptr in_;
  AVStream* st_ = nullptr;
  int vidx_ = -1;
  codec_ptr dec_;
  frame_ptr frame_;
  double tb_ = 0;     ///< seconds per stream tick
  int64_t start_ = 0; ///< stream ticks at the video start
  bool start_known_ = false;
  double duration_ = 0; ///< seconds, video stream
  bool seekable_ = false;
  double index_gop_ = 0;    ///< mean keyframe spacing from the demuxer's index (0: unknown)
  double frame_dur_ = 0.04; ///< seconds, for packets without a duration
  double read_end_ = 0;     ///< end of the video read so far, seconds
  double eps_ = 1e-3;       ///< timestamps closer than half a frame are the same time
  bool indexed_ = false;    ///< the demuxer seeks by an index (lands on a keyframe)

  // geometry
  int rot_ = 0;
  int tile_w_ = 0, tile_h_ = 0, poster_w_ = 0, poster_h_ = 0;
  int columns_ = 1, rows_ = 1;

  // timeline
  int64_t duration_ms_ = 0, interval_ms_ = 0;
  int tiles_ = 0;
  std::vector<target> targets_; ///< by time
  size_t next_ = 0;             ///< first target without a keyframe yet

  // images
  frame_ptr sprite_, poster_, tile_tmp_, poster_tmp_;
  sws_ptr tile_sws_, poster_sws_;
  std::vector<bool> tile_done_;
  bool poster_done_ = false;

  // keyframe bookkeeping
  packet_ptr prev_; ///< the last keyframe packet seen (before every pending target)
  double prev_t_ = 0;
  int64_t prev_id_ = -1;
  int64_t next_id_ = 0;
  int64_t cached_id_ = -1; ///< keyframe whose decoded picture is in frame_
  bool cached_ok_ = false;
  int skipped_ = 0; ///< libav code of the last keyframe that failed to decode
};

/// Seconds from the video start of a video packet. Streams without
/// timestamps (raw H.264) count packet durations instead, and never seek.
double thumbnailer::clock(const AVPacket* pkt) {
  const double d = pkt->duration > 0 ? static_cast<double>(pkt->duration) * tb_ : frame_dur_;
  const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
  double t = read_end_;
  if (ts != AV_NOPTS_VALUE)
    t = static_cast<double>(ts - start_) * tb_;
  else
    seekable_ = false;
  read_end_ = std::max(read_end_, t + d);
  return t;
}

status thumbnailer::open(const std::string& input) {
  auto opened = libav::open_source(input, opts_.source);
  if (!opened)
    return opened.err();
  in_ = std::move(*opened);
  vidx_ = libav::pick_stream(in_.get(), AVMEDIA_TYPE_VIDEO);
  if (vidx_ < 0)
    return fail(errc::unsupported_media, "no video", "find video stream");
  st_ = in_->streams[vidx_];
  tb_ = av_q2d(st_->time_base);
  if (!(tb_ > 0))
    return fail(errc::unsupported_media, "no video timestamps", "find video stream");
  start_known_ = st_->start_time != AV_NOPTS_VALUE;
  if (start_known_)
    start_ = st_->start_time;
  else if (in_->start_time != AV_NOPTS_VALUE) {
    start_ = av_rescale_q(in_->start_time, AV_TIME_BASE_Q, st_->time_base);
    start_known_ = true;
  }
  AVRational rate = st_->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0)
    rate = st_->r_frame_rate;
  frame_dur_ = rate.num > 0 && rate.den > 0 && av_q2d(rate) < 1000 ? 1 / av_q2d(rate) : 0.04;
  if (st_->duration != AV_NOPTS_VALUE && st_->duration > 0)
    duration_ = static_cast<double>(st_->duration) * tb_;
  else if (in_->duration != AV_NOPTS_VALUE && in_->duration > 0)
    duration_ = static_cast<double>(in_->duration) / AV_TIME_BASE;
  return ok_status();
}

/// For inputs that do not state their duration (raw streams): one pass over
/// the video packets, then reopen.
status thumbnailer::scan_duration(const std::string& input) {
  for (unsigned i = 0; i < in_->nb_streams; ++i) {
    if (static_cast<int>(i) != vidx_)
      in_->streams[i]->discard = AVDISCARD_ALL;
  }
  packet_ptr pkt(av_packet_alloc());
  if (!pkt)
    return fail(errc::internal, "out of memory", "scan duration", kNoMemory);
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  double untimed = 0; // seconds of packets without timestamps
  for (;;) {
    if (cancelled())
      return libav::cancelled();
    if (av_read_frame(in_.get(), pkt.get()) < 0)
      break;
    packet_unref_guard guard{pkt.get()};
    if (pkt->stream_index != vidx_)
      continue;
    const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (ts == AV_NOPTS_VALUE) {
      untimed += pkt->duration > 0 ? static_cast<double>(pkt->duration) * tb_ : frame_dur_;
      continue;
    }
    lo = std::min(lo, ts);
    hi = std::max(hi, ts + std::max<int64_t>(pkt->duration, 0));
  }
  int64_t start = 0;
  double duration = untimed;
  if (hi > lo) {
    start = start_known_ ? start_ : lo;
    duration = static_cast<double>(hi - start) * tb_;
  }
  if (!(duration > 0))
    return fail(errc::unsupported_media, "no video timestamps", "scan duration");
  if (auto s = open(input); !s)
    return s;
  start_ = start;
  start_known_ = true;
  duration_ = duration;
  return ok_status();
}

status thumbnailer::open_decoder() {
  constexpr const char* stage = "open video decoder";
  const AVCodec* codec = avcodec_find_decoder(st_->codecpar->codec_id);
  if (!codec)
    return fail(errc::unsupported_media, "no decoder for the video codec", stage);
  dec_.reset(avcodec_alloc_context3(codec));
  frame_.reset(av_frame_alloc());
  if (!dec_ || !frame_)
    return fail(errc::internal, "out of memory", stage, kNoMemory);
  if (int e = avcodec_parameters_to_context(dec_.get(), st_->codecpar); e < 0)
    return fail(errc::unsupported_media, "unsupported codec parameters", stage, e);
  dec_->pkt_timebase = st_->time_base;
  dec_->skip_frame = AVDISCARD_NONKEY;
  dec_->thread_count = 1; // one picture at a time: threads only add latency
  if (int e = avcodec_open2(dec_.get(), codec, nullptr); e < 0)
    return fail(errc::unsupported_media, "could not open the video decoder", stage, e);
  return ok_status();
}

/// Sizes, tile times and images.
status thumbnailer::plan() {
  // Options, clamped to sane values.
  const double interval = std::isfinite(opts_.interval_seconds) && opts_.interval_seconds > 0
                              ? std::min(opts_.interval_seconds, 1e7)
                              : 10.0;
  const int quality = std::clamp(opts_.jpeg_quality, 2, 31);
  opts_.jpeg_quality = quality;
  const int max_tiles = std::clamp(opts_.max_tiles, 1, 100000);

  // The upright, square-pixel size: the same geometry the transcoder uses.
  const source_geometry g = libav::geometry_of(in_.get(), st_);
  const double dw = g.display_w, dh = g.display_h;
  rot_ = g.rotation;

  tile_w_ = even_round(std::clamp(opts_.tile_width, 16, 3840));
  tile_h_ = even_round(std::min<double>(tile_w_ * dh / dw, kMaxSpriteDimension));
  poster_w_ = even_round(std::min<double>(dw, std::clamp(opts_.poster_max_width, 16, 16384)));
  poster_h_ = even_round(std::min<double>(poster_w_ * dh / dw, 16384));

  // Tiles: one per interval (the last one ends at the duration), at most
  // max_tiles and what fits into the sprite.
  columns_ = std::clamp(opts_.columns, 1, kMaxSpriteDimension / tile_w_);
  const int64_t max_rows = std::min<int64_t>(
      kMaxSpriteDimension / tile_h_, kMaxSpritePixels / (int64_t{columns_} * tile_w_ * tile_h_));
  const int64_t cap = std::min<int64_t>(max_tiles, columns_ * std::max<int64_t>(1, max_rows));
  duration_ms_ = std::max<int64_t>(1, std::llround(duration_ * 1000));
  interval_ms_ = std::max<int64_t>(1, std::llround(interval * 1000));
  int64_t n = (duration_ms_ + interval_ms_ - 1) / interval_ms_;
  if (n > cap) {
    interval_ms_ = (duration_ms_ + cap - 1) / cap;
    if (interval_ms_ > 1000) // whole seconds read better
      interval_ms_ = (interval_ms_ + 999) / 1000 * 1000;
    n = (duration_ms_ + interval_ms_ - 1) / interval_ms_;
  }
  // A sliver of a last tile (< 10% of an interval) joins the previous one.
  if (n > 1 && duration_ms_ - (n - 1) * interval_ms_ < interval_ms_ / 10)
    --n;
  tiles_ = static_cast<int>(n);
  columns_ = std::min(columns_, tiles_);
  rows_ = (tiles_ + columns_ - 1) / columns_;

  const double interval_s = static_cast<double>(interval_ms_) / 1000;
  const double poster_t = std::min(duration_ * 0.1, 10.0);
  targets_.clear();
  targets_.push_back(target{poster_t, kInf, -1});
  for (int i = 0; i < tiles_; ++i)
    targets_.push_back(target{i * interval_s, interval_s, i});
  std::stable_sort(targets_.begin(), targets_.end(),
                   [](const target& a, const target& b) { return a.t < b.t; });

  const bool turned = rot_ == 90 || rot_ == 270;
  sprite_ = alloc_image(columns_ * tile_w_, rows_ * tile_h_);
  poster_ = alloc_image(poster_w_, poster_h_);
  tile_tmp_ = turned ? alloc_image(tile_h_, tile_w_) : alloc_image(tile_w_, tile_h_);
  poster_tmp_ = turned ? alloc_image(poster_h_, poster_w_) : alloc_image(poster_w_, poster_h_);
  prev_.reset(av_packet_alloc());
  if (!sprite_ || !poster_ || !tile_tmp_ || !poster_tmp_ || !prev_)
    return fail(errc::internal, "out of memory", "plan thumbnails", kNoMemory);
  tile_done_.assign(tiles_, false);

  // Mean keyframe spacing from the index (mp4/mov, mkv cues), to decide
  // whether seeking ahead beats reading on.
  const int entries = avformat_index_get_entries_count(st_);
  int keys = 0;
  int64_t first = 0, last = 0;
  for (int i = 0; i < entries; ++i) {
    const AVIndexEntry* e = avformat_index_get_entry(st_, i);
    if (!e || !(e->flags & AVINDEX_KEYFRAME))
      continue;
    if (keys++ == 0)
      first = e->timestamp;
    last = e->timestamp;
  }
  indexed_ = entries > 0;
  eps_ = std::max(1e-3, frame_dur_ / 2);
  if (keys >= 2 && last > first)
    index_gop_ = static_cast<double>(last - first) * tb_ / (keys - 1);
  seekable_ = in_->pb && (in_->pb->seekable & AVIO_SEEKABLE_NORMAL) &&
              !(in_->iformat->flags & (AVFMT_NOTIMESTAMPS | AVFMT_GENERIC_INDEX)) && start_known_;
  return ok_status();
}

/// Reads the keyframes of the video stream in order, seeking ahead when the
/// next target is more than two keyframe intervals away.
status thumbnailer::grab() {
  for (unsigned i = 0; i < in_->nb_streams; ++i)
    in_->streams[i]->discard = static_cast<int>(i) == vidx_ ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  packet_ptr pkt(av_packet_alloc());
  if (!pkt)
    return fail(errc::internal, "out of memory", "read keyframes", kNoMemory);

  double gap_sum = 0;
  int gaps = 0;
  double last_key = 0;
  bool have_last = false; ///< last_key is valid (no seek since)
  size_t seeked_for = std::numeric_limits<size_t>::max();
  while (next_ < targets_.size()) {
    if (cancelled())
      return libav::cancelled();
    const double gop = gaps >= 2 ? gap_sum / gaps : index_gop_;
    // Index-less seeks (MPEG-TS: a search by timestamp) land near, not on, a
    // keyframe: aim one GOP early so the keyframe at the target is not skipped.
    const double lead = indexed_ ? 0 : gop;
    if (seekable_ && have_last && gop > 0 && seeked_for != next_ &&
        targets_[next_].t - last_key > 2 * gop + lead + eps_) {
      seeked_for = next_;
      const double to = targets_[next_].t + eps_ - lead;
      const int64_t ts = start_ + static_cast<int64_t>(std::floor(to / tb_));
      if (av_seek_frame(in_.get(), vidx_, ts, AVSEEK_FLAG_BACKWARD) >= 0)
        have_last = false;
    }
    if (av_read_frame(in_.get(), pkt.get()) < 0)
      break; // end of input, or a truncated / damaged file: keep what we have
    packet_unref_guard guard{pkt.get()};
    if (pkt->stream_index != vidx_)
      continue;
    const double k = clock(pkt.get());
    if (!(pkt->flags & AV_PKT_FLAG_KEY))
      continue;
    if (have_last && k > last_key) {
      gap_sum += k - last_key;
      ++gaps;
    }
    last_key = k;
    have_last = true;
    if (auto s = on_key(pkt.get(), k); !s)
      return s;
  }
  if (cancelled())
    return libav::cancelled();
  // Targets past the last keyframe take the last keyframe.
  if (next_ < targets_.size() && prev_id_ >= 0) {
    std::vector<const target*> rest;
    for (; next_ < targets_.size(); ++next_)
      rest.push_back(&targets_[next_]);
    if (auto s = use(prev_.get(), prev_id_, rest); !s)
      return s;
  }
  return ok_status();
}

/// A keyframe at `k` seconds: it settles every pending target at or before it,
/// with itself (the first keyframe at/after the target) or, when it lies past
/// the target's span, with whichever of it and the previous keyframe is nearer.
status thumbnailer::on_key(AVPacket* pkt, double k) {
  const int64_t id = next_id_++;
  std::vector<const target*> to_prev, to_this;
  for (; next_ < targets_.size() && k >= targets_[next_].t - eps_; ++next_) {
    const target& tg = targets_[next_];
    const bool late = k >= tg.t + tg.span - eps_;
    if (late && prev_id_ >= 0 && tg.t - prev_t_ <= k - tg.t)
      to_prev.push_back(&tg);
    else
      to_this.push_back(&tg);
  }
  if (!to_prev.empty()) {
    if (auto s = use(prev_.get(), prev_id_, to_prev); !s)
      return s;
  }
  if (!to_this.empty()) {
    if (auto s = use(pkt, id, to_this); !s)
      return s;
  }
  av_packet_unref(prev_.get());
  av_packet_move_ref(prev_.get(), pkt);
  prev_t_ = k;
  prev_id_ = id;
  return ok_status();
}

/// Decodes keyframe `id` (once) and renders it into `targets`.
status thumbnailer::use(AVPacket* pkt, int64_t id, const std::vector<const target*>& targets) {
  if (cached_id_ != id) {
    cached_id_ = id;
    cached_ok_ = decode(pkt);
  }
  if (!cached_ok_)
    return ok_status(); // undecodable keyframe: those targets are filled in later
  for (const target* tg : targets) {
    if (auto s = render(frame_.get(), *tg); !s)
      return s;
  }
  return ok_status();
}

/// Decodes one keyframe packet on its own (send, drain, flush) into frame_.
bool thumbnailer::decode(AVPacket* pkt) {
  av_frame_unref(frame_.get());
  bool got = false;
  int e = avcodec_send_packet(dec_.get(), pkt);
  if (e >= 0)
    e = avcodec_send_packet(dec_.get(), nullptr);
  if (e < 0)
    skipped_ = e;
  if (e >= 0) {
    frame_ptr extra(av_frame_alloc());
    for (;;) {
      AVFrame* into = got ? extra.get() : frame_.get();
      if (!into)
        break;
      if (e = avcodec_receive_frame(dec_.get(), into); e < 0) {
        if (!got && e != AVERROR_EOF)
          skipped_ = e;
        break;
      }
      if (got)
        av_frame_unref(into);
      else
        got = into->width > 0 && into->height > 0 && into->format >= 0;
    }
  }
  avcodec_flush_buffers(dec_.get());
  if (!got)
    av_frame_unref(frame_.get());
  return got;
}

status thumbnailer::scale_into(sws_ptr& sws, const AVFrame* f, AVFrame* tmp, int flags) {
  sws.reset(sws_getCachedContext(sws.release(), f->width, f->height,
                                 static_cast<AVPixelFormat>(f->format), tmp->width, tmp->height,
                                 AV_PIX_FMT_YUVJ420P, flags, nullptr, nullptr, nullptr));
  if (!sws)
    return fail(errc::unsupported_media, "unsupported video format", "scale picture");
  if (int e = sws_scale(sws.get(), f->data, f->linesize, 0, f->height, tmp->data, tmp->linesize);
      e <= 0)
    return fail(errc::internal, "could not scale a picture", "scale picture", e);
  return ok_status();
}

status thumbnailer::render(const AVFrame* f, const target& tg) {
  if (tg.tile < 0) {
    if (auto s = scale_into(poster_sws_, f, poster_tmp_.get(), SWS_BICUBIC); !s)
      return s;
    rotate_blit(poster_tmp_.get(), poster_.get(), 0, 0, rot_);
    poster_done_ = true;
    return ok_status();
  }
  if (auto s = scale_into(tile_sws_, f, tile_tmp_.get(), SWS_AREA); !s)
    return s;
  rotate_blit(tile_tmp_.get(), sprite_.get(), tg.tile % columns_ * tile_w_,
              tg.tile / columns_ * tile_h_, rot_);
  tile_done_[tg.tile] = true;
  return ok_status();
}

/// Fills tiles (and the poster) whose keyframe did not decode from the
/// nearest one that did.
status thumbnailer::finish() {
  const auto x_of = [this](int i) { return i % columns_ * tile_w_; };
  const auto y_of = [this](int i) { return i / columns_ * tile_h_; };
  const bool any_tile = std::find(tile_done_.begin(), tile_done_.end(), true) != tile_done_.end();
  if (!any_tile && !poster_done_)
    return fail(errc::invalid_input, "no decodable video frame", "decode video", skipped_);
  frame_ptr tile = alloc_image(tile_w_, tile_h_); // upright
  if (!tile)
    return fail(errc::internal, "out of memory", "fill tiles", kNoMemory);
  if (!any_tile) {
    // Only the poster decoded: its picture makes every tile.
    if (auto s = scale_into(tile_sws_, poster_.get(), tile.get(), SWS_AREA); !s)
      return s;
    for (int i = 0; i < tiles_; ++i)
      rotate_blit(tile.get(), sprite_.get(), x_of(i), y_of(i), 0);
    return ok_status();
  }
  for (int i = 0; i < tiles_; ++i) {
    if (tile_done_[i])
      continue;
    int best = -1;
    for (int d = 1; best < 0; ++d) {
      if (i - d >= 0 && tile_done_[i - d])
        best = i - d;
      else if (i + d < tiles_ && tile_done_[i + d])
        best = i + d;
    }
    copy_rect(sprite_.get(), x_of(best), y_of(best), x_of(i), y_of(i), tile_w_, tile_h_);
  }
  if (!poster_done_) {
    // The poster's keyframe did not decode: upscale the tile at its time.
    const double poster_t = std::min(duration_ * 0.1, 10.0);
    const int i = std::clamp(static_cast<int>(poster_t * 1000 / interval_ms_), 0, tiles_ - 1);
    for (int p = 0; p < 3; ++p) {
      const int s = p ? 1 : 0;
      for (int y = 0; y < (tile_h_ >> s); ++y)
        std::memcpy(tile->data[p] + y * tile->linesize[p],
                    sprite_->data[p] + ((y_of(i) >> s) + y) * sprite_->linesize[p] + (x_of(i) >> s),
                    tile_w_ >> s);
    }
    if (auto s = scale_into(poster_sws_, tile.get(), poster_.get(), SWS_BICUBIC); !s)
      return s;
  }
  return ok_status();
}

status thumbnailer::write(const std::string& out_dir) {
  const fs::path dir(out_dir);
  thumbnail_output out;
  std::string vtt = "WEBVTT\n";
  for (int i = 0; i < tiles_; ++i) {
    const int64_t a = i * interval_ms_;
    const int64_t b = i + 1 == tiles_ ? duration_ms_ : (i + 1) * interval_ms_;
    vtt += "\n" + vtt_time(a) + " --> " + vtt_time(b) + "\n" + out.sprite +
           "#xywh=" + std::to_string(i % columns_ * tile_w_) + "," +
           std::to_string(i / columns_ * tile_h_) + "," + std::to_string(tile_w_) + "," +
           std::to_string(tile_h_) + "\n";
  }
  auto sprite = encode_jpeg(sprite_.get(), opts_.jpeg_quality);
  if (!sprite)
    return sprite.err();
  auto poster = encode_jpeg(poster_.get(), opts_.jpeg_quality);
  if (!poster)
    return poster.err();
  if (auto s = write_atomic(dir / out.sprite, *sprite); !s)
    return s;
  if (auto s = write_atomic(dir / out.storyboard, vtt); !s)
    return s;
  return write_atomic(dir / out.poster, *poster);
}

result<thumbnail_output> thumbnailer::run(const std::string& input, const std::string& out_dir) {
  if (cancelled())
    return libav::cancelled();
  if (auto s = open(input); !s)
    return s.err();
  if (!(duration_ > 0)) {
    if (auto s = scan_duration(input); !s)
      return s.err();
  }
  if (auto s = open_decoder(); !s)
    return s.err();
  if (auto s = plan(); !s)
    return s.err();
  if (auto s = grab(); !s)
    return s.err();
  if (auto s = finish(); !s)
    return s.err();
  if (cancelled())
    return libav::cancelled();
  if (auto s = write(out_dir); !s)
    return s.err();
  thumbnail_output out;
  out.tiles = tiles_;
  out.tile_width = tile_w_;
  out.tile_height = tile_h_;
  out.poster_width = poster_w_;
  out.poster_height = poster_h_;
  return out;
}

} // namespace

result<thumbnail_output> make_thumbnails(const std::string& input, const std::string& out_dir,
                                         const thumbnail_options& opts,
                                         const std::atomic<bool>* cancel) {
  libav::quiet_logs();
  thumbnailer t(opts, cancel);
  return t.run(input, out_dir);
}

} // namespace hlsgate::media
