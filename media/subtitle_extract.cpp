#include "media/subtitle_extract.hpp"

#include "media/libav_util.hpp"
#include "media/source.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
}

namespace hlsgate::media {
namespace {

using libav::codec_ptr;
using libav::packet_ptr;
using libav::packet_unref_guard;

constexpr AVRational kMillis{1, 1000};
/// Timestamps (ms) beyond this magnitude are garbage; keeping within it
/// means no sum or difference below can overflow.
constexpr int64_t kSaneMs = int64_t{1} << 52;
/// Longer cue texts are dropped, as an upload's would be refused.
const size_t kMaxCueBytes = subtitle_limits{}.max_cue_bytes;

std::string tag(const AVDictionary* metadata, const char* key) {
  const AVDictionaryEntry* e = av_dict_get(metadata, key, nullptr, 0);
  return e && e->value ? e->value : "";
}

subtitle_stream_info describe(const AVStream* st) {
  subtitle_stream_info info;
  info.index = st->index;
  info.codec = avcodec_get_name(st->codecpar->codec_id);
  info.language = tag(st->metadata, "language");
  info.title = tag(st->metadata, "title");
  info.is_default = (st->disposition & AV_DISPOSITION_DEFAULT) != 0;
  info.forced = (st->disposition & AV_DISPOSITION_FORCED) != 0;
  const AVCodecDescriptor* desc = avcodec_descriptor_get(st->codecpar->codec_id);
  info.text_based = desc && (desc->props & AV_CODEC_PROP_TEXT_SUB);
  return info;
}

/// The Text field of an ASS event line as libav's decoders give it since
/// FFmpeg 5: "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text"
/// (an older "Dialogue: Layer,Start,End,Style,...,Text" line also has nine
/// fields before the text). The text itself may hold commas.
std::string_view ass_event_text(std::string_view line) {
  int fields = 8;
  if (line.substr(0, 9) == "Dialogue:")
    fields = 9;
  size_t pos = 0;
  for (int i = 0; i < fields; ++i) {
    pos = line.find(',', pos);
    if (pos == std::string_view::npos)
      return {};
    ++pos;
  }
  return line.substr(pos);
}

/// The cleaned text of every text rectangle of `sub`, one per line.
std::string cue_text(const AVSubtitle& sub) {
  std::string out;
  for (unsigned i = 0; i < sub.num_rects; ++i) {
    const AVSubtitleRect* r = sub.rects[i];
    std::string text;
    if (r->type == SUBTITLE_ASS && r->ass)
      text = clean_cue_text(ass_event_text(r->ass));
    else if (r->type == SUBTITLE_TEXT && r->text)
      text = clean_cue_text(r->text);
    if (text.empty())
      continue;
    if (!out.empty())
      out += '\n';
    out += text;
  }
  return out;
}

struct subtitle_closer {
  AVSubtitle* s;
  ~subtitle_closer() { avsubtitle_free(s); }
};

/// A text stream being read: its cues so far, and those still waiting for
/// an end (the next event of the stream). Times are already media times.
struct track_state {
  subtitle_track track;
  codec_ptr dec;
  std::vector<subtitle_cue> open;
  bool full = false;
  size_t* total_bytes = nullptr; ///< shared by the tracks of one source

  /// Keeps `cue` if it shows anything within [0, kMaxSubtitleMs).
  void keep(subtitle_cue cue) {
    if (cue.end_ms <= 0 || cue.start_ms >= kMaxSubtitleMs)
      return;
    cue.start_ms = std::max<int64_t>(cue.start_ms, 0);
    cue.end_ms = std::min(cue.end_ms, kMaxSubtitleMs);
    if (cue.end_ms <= cue.start_ms)
      return;
    if (track.cues.size() >= kMaxCuesPerTrack ||
        *total_bytes + cue.text.size() > kMaxTotalCueBytes) {
      full = true;
      return;
    }
    *total_bytes += cue.text.size();
    track.cues.push_back(std::move(cue));
  }

  /// An event at `at` ends the open cues that started before it.
  void event_at(int64_t at) {
    if (open.empty())
      return;
    std::vector<subtitle_cue> later; // (at the same time or after: still open)
    for (auto& cue : open) {
      if (cue.start_ms < at) {
        cue.end_ms = std::min(at, cue.start_ms + kOpenCueMs);
        keep(std::move(cue));
      } else {
        later.push_back(std::move(cue));
      }
    }
    open = std::move(later);
  }

  /// At the end of the source every open cue gets its longest duration.
  void finish() {
    for (auto& cue : open) {
      cue.end_ms = cue.start_ms + kOpenCueMs;
      keep(std::move(cue));
    }
    open.clear();
  }

  /// Decodes one packet of the stream, whose time base is `tb`.
  void decode(AVPacket* pkt, AVRational tb, int64_t origin_ms) {
    const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (ts == AV_NOPTS_VALUE)
      return; // cannot be placed in time
    const int64_t pts_ms = av_rescale_q(ts, tb, kMillis);
    if (pts_ms < -kSaneMs || pts_ms > kSaneMs)
      return;
    const int64_t at = pts_ms - origin_ms;
    // Any event, even one that clears the screen or does not decode, ends
    // the cues before it that had no end of their own.
    event_at(at);

    AVSubtitle sub{};
    int got = 0;
    if (avcodec_decode_subtitle2(dec.get(), &sub, &got, pkt) < 0 || !got)
      return;
    const subtitle_closer closer{&sub};
    std::string text = cue_text(sub);
    if (text.empty() || text.size() > kMaxCueBytes)
      return;
    subtitle_cue cue;
    cue.start_ms = at + sub.start_display_time;
    cue.text = std::move(text);
    const int64_t duration_ms =
        pkt->duration > 0 ? std::min(av_rescale_q(pkt->duration, tb, kMillis), kSaneMs) : 0;
    if (sub.end_display_time != 0 && sub.end_display_time != UINT32_MAX &&
        sub.end_display_time > sub.start_display_time) {
      cue.end_ms = at + sub.end_display_time;
    } else if (duration_ms > 0) {
      cue.end_ms = cue.start_ms + duration_ms;
    } else {
      if (open.size() >= kMaxOpenCues) { // the oldest waits no longer
        subtitle_cue oldest = std::move(open.front());
        open.erase(open.begin());
        oldest.end_ms = std::min(cue.start_ms, oldest.start_ms + kOpenCueMs);
        keep(std::move(oldest));
      }
      if (track.cues.size() + open.size() < kMaxCuesPerTrack)
        open.push_back(std::move(cue));
      return;
    }
    keep(std::move(cue));
  }
};

} // namespace

result<subtitle_extraction> extract_subtitles(const std::string& path, const open_policy& policy,
                                              int64_t origin_ms, size_t max_tracks,
                                              const std::atomic<bool>* cancel,
                                              const std::function<void()>& heartbeat) {
  libav::quiet_logs();
  auto opened = libav::open_source(path, policy);
  if (!opened)
    return opened.err();
  const libav::input_ptr fmt = std::move(*opened);
  origin_ms = std::clamp(origin_ms, -kSaneMs, kSaneMs);

  subtitle_extraction out;
  std::vector<track_state> tracks;
  // Stream index -> index into `tracks`, -1 for a stream not read.
  std::vector<int> slot(fmt->nb_streams, -1);
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    AVStream* st = fmt->streams[i];
    st->discard = AVDISCARD_ALL;
    if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE)
      continue;
    subtitle_stream_info info = describe(st);
    codec_ptr dec;
    if (!info.text_based || tracks.size() >= max_tracks || !libav::open_decoder(st, 1, dec).ok()) {
      out.skipped.push_back(std::move(info));
      continue;
    }
    st->discard = AVDISCARD_DEFAULT;
    slot[i] = static_cast<int>(tracks.size());
    track_state& t = tracks.emplace_back();
    t.track.info = std::move(info);
    t.dec = std::move(dec);
  }
  size_t total_bytes = 0;
  for (track_state& t : tracks)
    t.total_bytes = &total_bytes;

  if (!tracks.empty()) {
    packet_ptr pkt(av_packet_alloc());
    if (!pkt)
      return libav::fail(errc::internal, "out of memory", "read subtitles", libav::kNoMemory);
    size_t full = 0;
    // A read error part-way ends the pass like the end of the file does.
    for (uint64_t n = 0; full < tracks.size() && av_read_frame(fmt.get(), pkt.get()) >= 0; ++n) {
      const packet_unref_guard unref{pkt.get()};
      if ((n & 255) == 0) {
        if (cancel && cancel->load())
          return libav::fail(errc::cancelled, "Cancelled", "read subtitles", 0);
        if (heartbeat)
          heartbeat();
      }
      // Streams may appear while reading (an MPEG-TS PMT update, FLV): only
      // those seen at open time have a slot.
      const int s = pkt->stream_index;
      if (s < 0 || static_cast<size_t>(s) >= slot.size() || slot[s] < 0)
        continue;
      track_state& t = tracks[slot[s]];
      if (t.full)
        continue;
      t.decode(pkt.get(), fmt->streams[s]->time_base, origin_ms);
      if (t.full) {
        fmt->streams[s]->discard = AVDISCARD_ALL;
        ++full;
      }
    }
  }

  out.tracks.reserve(tracks.size());
  for (track_state& t : tracks) {
    t.finish();
    out.tracks.push_back(std::move(t.track));
  }
  return out;
}

std::vector<audio_stream_info> list_audio_streams(AVFormatContext* in) {
  std::vector<audio_stream_info> list;
  if (!in)
    return list;
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    const AVStream* st = in->streams[i];
    const AVCodecParameters* par = st->codecpar;
    if (par->codec_type != AVMEDIA_TYPE_AUDIO)
      continue;
    audio_stream_info info;
    info.index = st->index;
    info.codec = avcodec_get_name(par->codec_id);
    info.language = tag(st->metadata, "language");
    info.title = tag(st->metadata, "title");
    info.is_default = (st->disposition & AV_DISPOSITION_DEFAULT) != 0;
    info.channels = std::max(0, par->ch_layout.nb_channels);
    info.sample_rate = std::max(0, par->sample_rate);
    list.push_back(std::move(info));
  }
  return list;
}

} // namespace hlsgate::media
