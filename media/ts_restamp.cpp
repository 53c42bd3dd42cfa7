#include "media/ts_restamp.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include "media/libav_util.hpp"
#include "media/source.hpp"
#include "media/ts_timeline.hpp"

namespace hlsgate::media {

namespace {

constexpr size_t ts_packet = 188;
constexpr int io_buffer = ts_packet * 64;
constexpr AVRational ticks_90k{1, 90000};

/// Audio or video the muxer can take: a known codec and, as far as the
/// probe found them, its parameters (a stream the probe could not read is
/// left out rather than failing the muxer).
bool remuxable(const AVStream* st) {
  const auto* p = st->codecpar;
  if (p->codec_id == AV_CODEC_ID_NONE || (st->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0)
    return false;
  if (p->codec_type == AVMEDIA_TYPE_VIDEO)
    return p->width > 0 && p->height > 0;
  if (p->codec_type == AVMEDIA_TYPE_AUDIO)
    return p->sample_rate > 0 && p->ch_layout.nb_channels > 0;
  return false;
}

int64_t to_90k(int64_t t, AVRational tb) {
  return t == AV_NOPTS_VALUE ? ts_timeline::none : av_rescale_q(t, tb, ticks_90k);
}

} // namespace

struct ts_restamper::impl {
  sink out;
  std::mutex run_mu;               ///< one run at a time
  std::atomic<bool> opened{false}; ///< the output exists
  AVFormatContext* mux = nullptr;
  std::vector<std::pair<AVMediaType, AVCodecID>> outs; ///< per output stream
  std::unique_ptr<ts_timeline> timeline;
  std::string carry; ///< output bytes short of a whole packet

  ~impl() { close_output(); }

  /// Frees the output (a failed open leaves none half made).
  void close_output() {
    opened = false;
    if (mux) {
      if (mux->pb) {
        av_freep(&mux->pb->buffer);
        avio_context_free(&mux->pb);
      }
      avformat_free_context(mux);
      mux = nullptr;
    }
    outs.clear();
    timeline.reset();
    carry.clear();
  }

  static int write(void* opaque, uint8_t* buf, int size) {
    auto* d = static_cast<impl*>(opaque);
    d->carry.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(size));
    const size_t whole = d->carry.size() / ts_packet * ts_packet;
    if (whole > 0) {
      d->out(d->carry.substr(0, whole));
      d->carry.erase(0, whole);
    }
    return size;
  }

  /// The output, made from the first upstream's streams; "" or why not.
  std::string open_output(AVFormatContext* in, std::vector<int>& map) {
    if (avformat_alloc_output_context2(&mux, nullptr, "mpegts", nullptr) < 0 || !mux)
      return "out of memory";
    std::vector<bool> video;
    for (unsigned i = 0; i < in->nb_streams; ++i) {
      const AVStream* ist = in->streams[i];
      if (!remuxable(ist))
        continue;
      AVStream* ost = avformat_new_stream(mux, nullptr);
      if (!ost || avcodec_parameters_copy(ost->codecpar, ist->codecpar) < 0)
        return "out of memory";
      ost->codecpar->codec_tag = 0;
      ost->time_base = ticks_90k;
      map[i] = static_cast<int>(outs.size());
      outs.emplace_back(ist->codecpar->codec_type, ist->codecpar->codec_id);
      video.push_back(ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO);
    }
    if (outs.empty())
      return "the upstream has no audio or video";
    auto* buffer = static_cast<unsigned char*>(av_malloc(io_buffer));
    if (buffer)
      mux->pb = avio_alloc_context(buffer, io_buffer, 1, this, nullptr, write, nullptr);
    if (!mux->pb) {
      av_free(buffer);
      return "out of memory";
    }
    mux->max_delay = 700000; // as the ffmpeg CLI: PCR runs 0.7 s ahead of DTS (decoder buffer)
    if (avformat_write_header(mux, nullptr) < 0)
      return "the upstream's streams cannot be remuxed";
    timeline = std::make_unique<ts_timeline>(std::move(video));
    opened = true;
    return {};
  }

  /// A later upstream's streams onto the output's: by kind and order, same codec.
  void map_streams(AVFormatContext* in, std::vector<int>& map) const {
    std::vector<size_t> seen(outs.size(), 0);
    size_t video_n = 0, audio_n = 0;
    for (unsigned i = 0; i < in->nb_streams; ++i) {
      const AVStream* ist = in->streams[i];
      if (!remuxable(ist))
        continue;
      const auto type = ist->codecpar->codec_type;
      size_t& ordinal = type == AVMEDIA_TYPE_VIDEO ? video_n : audio_n;
      size_t k = 0;
      for (size_t o = 0; o < outs.size(); ++o) {
        if (outs[o].first != type)
          continue;
        if (k++ == ordinal) {
          if (outs[o].second == ist->codecpar->codec_id)
            map[i] = static_cast<int>(o);
          break;
        }
      }
      ++ordinal;
    }
  }
};

ts_restamper::ts_restamper(sink out) : d_(std::make_unique<impl>()) {
  d_->out = std::move(out);
}

ts_restamper::~ts_restamper() = default;

bool ts_restamper::started() const {
  return d_->opened.load();
}

std::string ts_restamper::run(std::shared_ptr<stream_reader> in,
                              std::shared_ptr<const std::atomic<bool>> stop) {
  std::lock_guard lk(d_->run_mu);
  if (stop && stop->load())
    return "cancelled";
  libav::quiet_logs();
  open_policy policy;
  policy.kind = source_kind::stream;
  policy.stream = std::move(in);
  auto src = libav::open_source("", policy);
  if (!src)
    return src.err().reason;
  AVFormatContext* fmt = src->get();
  std::vector<int> map(fmt->nb_streams, -1);
  if (!d_->mux) {
    if (auto why = d_->open_output(fmt, map); !why.empty()) {
      d_->close_output(); // the next upstream starts the output afresh
      return why;
    }
  } else {
    d_->map_streams(fmt, map);
    // Nothing to feed, or no video where the output has video (nothing
    // would start without a keyframe): fail over rather than go silent.
    bool any = false, video = false, wants_video = false;
    for (const auto& o : d_->outs)
      wants_video = wants_video || o.first == AVMEDIA_TYPE_VIDEO;
    for (int o : map) {
      any = any || o >= 0;
      video = video || (o >= 0 && d_->outs[static_cast<size_t>(o)].first == AVMEDIA_TYPE_VIDEO);
    }
    if (!any || (wants_video && !video))
      return "the upstream's streams differ from the stream's";
  }
  d_->timeline->begin_upstream();
  libav::packet_ptr pkt(av_packet_alloc());
  if (!pkt)
    return "out of memory";
  while (!(stop && stop->load())) {
    const int e = av_read_frame(fmt, pkt.get());
    if (e == AVERROR_EOF)
      return "upstream ended";
    if (e < 0)
      return "upstream read failed";
    libav::packet_unref_guard unref{pkt.get()};
    const int o = pkt->stream_index >= 0 && static_cast<size_t>(pkt->stream_index) < map.size()
                      ? map[static_cast<size_t>(pkt->stream_index)]
                      : -1;
    if (o < 0)
      continue;
    const AVRational tb = fmt->streams[pkt->stream_index]->time_base;
    const bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    const auto v =
        d_->timeline->place(static_cast<size_t>(o), to_90k(pkt->pts, tb), to_90k(pkt->dts, tb),
                            pkt->duration > 0 ? to_90k(pkt->duration, tb) : 0, key);
    if (!v.keep)
      continue;
    AVStream* ost = d_->mux->streams[o];
    pkt->pts = av_rescale_q(v.pts, ticks_90k, ost->time_base);
    pkt->dts = av_rescale_q(v.dts, ticks_90k, ost->time_base);
    pkt->duration = pkt->duration > 0 ? av_rescale_q(pkt->duration, tb, ost->time_base) : 0;
    pkt->stream_index = o;
    pkt->pos = -1;
    if (av_write_frame(d_->mux, pkt.get()) < 0)
      return "the upstream's packets cannot be remuxed";
    if (key && d_->outs[static_cast<size_t>(o)].first == AVMEDIA_TYPE_VIDEO)
      avio_flush(d_->mux->pb); // viewers get each GOP's start without waiting for a full buffer
  }
  return "cancelled";
}

} // namespace hlsgate::media
