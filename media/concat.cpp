#include "media/concat.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "media/libav_util.hpp"

namespace hlsgate::media {

namespace {

using namespace libav;

constexpr AVRational kTs90k{1, 90000};
/// How far a segment's first packet may be from where the previous one
/// ended before it counts as a jump: 10 s at 90 kHz.
constexpr int64_t kMaxGap = 10 * 90000;

struct concat_output_closer {
  void operator()(AVFormatContext* p) const noexcept {
    if (!p)
      return;
    if (p->pb)
      avio_closep(&p->pb);
    avformat_free_context(p);
  }
};
using concat_output_ptr = std::unique_ptr<AVFormatContext, concat_output_closer>;

struct concat_input_closer {
  void operator()(AVFormatContext* p) const noexcept { avformat_close_input(&p); }
};
using concat_input_ptr = std::unique_ptr<AVFormatContext, concat_input_closer>;

/// Opens one of our own segment files: MPEG-TS demuxer, file protocol only.
concat_input_ptr open_segment(const std::string& path, bool find_info) {
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "protocol_whitelist", "file", 0);
  av_dict_set(&opts, "format_whitelist", "mpegts", 0);
  AVFormatContext* raw = nullptr;
  const int e = avformat_open_input(&raw, path.c_str(), av_find_input_format("mpegts"), &opts);
  av_dict_free(&opts);
  if (e < 0)
    return nullptr;
  concat_input_ptr in(raw);
  if (find_info && avformat_find_stream_info(in.get(), nullptr) < 0)
    return nullptr;
  return in;
}

bool copyable(const AVStream* st) {
  const auto t = st->codecpar->codec_type;
  return (t == AVMEDIA_TYPE_VIDEO || t == AVMEDIA_TYPE_AUDIO) &&
         st->codecpar->codec_id != AV_CODEC_ID_NONE;
}

/// The output stream of each input stream: the n-th audio (video) stream of
/// the input goes to the n-th audio (video) stream of the output with the
/// same codec; -1 drops it.
std::vector<int> map_streams(const AVFormatContext* in, const AVFormatContext* out) {
  std::vector<int> map(in->nb_streams, -1);
  std::vector<bool> taken(out->nb_streams, false);
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    const AVCodecParameters* p = in->streams[i]->codecpar;
    for (unsigned o = 0; o < out->nb_streams; ++o) {
      const AVCodecParameters* q = out->streams[o]->codecpar;
      if (!taken[o] && q->codec_type == p->codec_type && q->codec_id == p->codec_id) {
        map[i] = static_cast<int>(o);
        taken[o] = true;
        break;
      }
    }
  }
  return map;
}

} // namespace

result<concat_stats> concat_segments(const std::vector<concat_input>& inputs,
                                     const std::string& out_path, const std::atomic<bool>* cancel) {
  quiet_logs();
  concat_stats stats;
  concat_output_ptr out;
  std::vector<int64_t> last_dts; ///< per output stream, 90 kHz
  int64_t end = AV_NOPTS_VALUE;  ///< end of everything written so far, 90 kHz
  int64_t start = AV_NOPTS_VALUE;
  int64_t offset = 0;
  bool restart = false; ///< the next input starts a discontinuity
  packet_ptr pkt(av_packet_alloc());
  if (!pkt)
    return fail(errc::internal, "out of memory", "concat", kNoMemory);

  for (const auto& input : inputs) {
    if (cancel && cancel->load())
      return cancelled();
    auto in = open_segment(input.path, !out);
    if (!in) {
      ++stats.skipped;
      restart = true;
      continue;
    }
    if (!out && std::none_of(in->streams, in->streams + in->nb_streams, copyable)) {
      ++stats.skipped; // not a segment of ours (or damaged): no stream to copy
      restart = true;
      continue;
    }
    if (!out) {
      AVFormatContext* raw = nullptr;
      if (int e = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr); e < 0 || !raw)
        return fail(errc::internal, "MPEG-TS muxer unavailable", "concat: open muxer", e);
      out.reset(raw);
      for (unsigned i = 0; i < in->nb_streams; ++i) {
        if (!copyable(in->streams[i]))
          continue;
        AVStream* st = avformat_new_stream(out.get(), nullptr);
        if (!st || avcodec_parameters_copy(st->codecpar, in->streams[i]->codecpar) < 0)
          return fail(errc::internal, "out of memory", "concat: add stream", kNoMemory);
        st->codecpar->codec_tag = 0;
        st->time_base = kTs90k;
      }
      if (int e = avio_open(&out->pb, out_path.c_str(), AVIO_FLAG_WRITE); e < 0)
        return fail(errc::io_error, "could not create the archive file", "concat: create", e);
      out->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
      if (int e = avformat_write_header(out.get(), nullptr); e < 0)
        return fail(errc::io_error, "could not write the archive file", "concat: header", e);
      last_dts.assign(out->nb_streams, std::numeric_limits<int64_t>::min());
    }
    const auto map = map_streams(in.get(), out.get());
    const bool discontinuity = input.discontinuity || restart;
    bool first_packet = true;
    int64_t segment_end = end;
    for (;;) {
      if (cancel && cancel->load())
        return cancelled();
      const int r = av_read_frame(in.get(), pkt.get());
      if (r < 0)
        break; // end of this segment (a damaged tail ends it too)
      packet_unref_guard guard{pkt.get()};
      // A stream the demuxer found only while reading has no place.
      const auto si = static_cast<size_t>(pkt->stream_index);
      const int o = si < map.size() ? map[si] : -1;
      if (o < 0 || pkt->dts == AV_NOPTS_VALUE ||
          (pkt->pts != AV_NOPTS_VALUE && pkt->pts < pkt->dts))
        continue; // no timestamp to place it by, or one the muxer refuses
      av_packet_rescale_ts(pkt.get(), in->streams[pkt->stream_index]->time_base, kTs90k);
      if (first_packet) {
        first_packet = false;
        // A discontinuity starts where everything written so far ends;
        // otherwise the segment continues the previous one's timeline. A
        // segment that starts far from that end (the 33-bit MPEG-TS clock
        // wrapped after 26.5 hours, which a demuxer opened per file cannot
        // see) is placed as a discontinuity too.
        const bool jumped = end != AV_NOPTS_VALUE && std::llabs(pkt->dts + offset - end) > kMaxGap;
        if ((discontinuity || jumped) && end != AV_NOPTS_VALUE)
          offset = end - pkt->dts;
      }
      pkt->dts += offset;
      if (pkt->pts != AV_NOPTS_VALUE)
        pkt->pts += offset;
      auto& last = last_dts[static_cast<size_t>(o)];
      if (pkt->dts <= last)
        continue; // overlaps what this stream already has
      last = pkt->dts;
      if (start == AV_NOPTS_VALUE)
        start = pkt->dts;
      const int64_t pkt_end = pkt->dts + std::max<int64_t>(pkt->duration, 0);
      segment_end = segment_end == AV_NOPTS_VALUE ? pkt_end : std::max(segment_end, pkt_end);
      pkt->stream_index = o;
      pkt->pos = -1;
      if (int e = av_interleaved_write_frame(out.get(), pkt.get()); e < 0)
        return fail(errc::io_error, "could not write the archive file", "concat: write", e);
    }
    end = segment_end;
    restart = false;
    ++stats.segments;
  }
  if (!out)
    return error{errc::invalid_input, "no segment of the window could be read"};
  if (int e = av_write_trailer(out.get()); e < 0)
    return fail(errc::io_error, "could not write the archive file", "concat: trailer", e);
  if (int e = avio_closep(&out->pb); e < 0)
    return fail(errc::io_error, "could not write the archive file", "concat: close", e);
  if (start != AV_NOPTS_VALUE && end != AV_NOPTS_VALUE)
    stats.seconds = static_cast<double>(end - start) / 90000.0;
  return stats;
}

} // namespace hlsgate::media
