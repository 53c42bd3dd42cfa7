#include "actors/snapshot.hpp"

#include <algorithm>
#include <cmath>

namespace hlsgate::actors {

rendition_record to_record(const media::rendition_output& x) {
  rendition_record rr;
  rr.name = x.name;
  if (x.alternate) {
    rr.kind = rendition_kind::audio;
    rr.language = x.language;
    rr.label = x.label;
    rr.is_default = x.is_default;
    rr.channels = x.channels;
  }
  rr.has_video = x.has_video;
  rr.has_audio = x.has_audio;
  rr.width = x.width;
  rr.height = x.height;
  rr.frame_rate = x.frame_rate;
  rr.codecs = x.codecs;
  rr.peak_bandwidth = x.peak_bandwidth;
  rr.average_bandwidth = x.average_bandwidth;
  return rr;
}

namespace {

/// Peak and average bits/s of a rendition: as recorded when its job ended,
/// else measured on the segments that exist so far (RFC 8216 4.3.4.2).
std::pair<uint64_t, uint64_t> bandwidth_of(const rendition_record& rr) {
  if (rr.peak_bandwidth > 0)
    return {rr.peak_bandwidth, rr.average_bandwidth};
  uint64_t peak = 0, bytes = 0;
  double seconds = 0;
  for (auto& s : rr.segments) {
    bytes += s.bytes;
    seconds += s.duration;
    if (s.duration > 0)
      peak = std::max<uint64_t>(peak, static_cast<uint64_t>(s.bytes * 8 / s.duration));
  }
  return {peak, seconds > 0 ? static_cast<uint64_t>(bytes * 8 / seconds) : 0};
}

/// The codecs of `a` followed by those of `b` not already in it.
std::string join_codecs(std::string a, const std::string& b) {
  size_t pos = 0;
  while (pos < b.size()) {
    const size_t end = std::min(b.find(',', pos), b.size());
    const std::string c = b.substr(pos, end - pos);
    const bool present = ("," + a + ",").find("," + c + ",") != std::string::npos;
    if (!c.empty() && !present)
      a += (a.empty() ? "" : ",") + c;
    pos = end + 1;
  }
  return a;
}

} // namespace

playlist_ptr make_snapshot(const media_record& r, const std::vector<rendition_record>& rs,
                           bool ended, double segment_seconds) {
  auto snap = std::make_shared<playlist_snapshot>();
  snap->media_id = r.media_id;
  snap->storage_id = r.storage_id;
  snap->has_thumbnails = r.has_thumbnails;
  const int min_target = static_cast<int>(std::ceil(std::max(0.0, segment_seconds) - 1e-9));
  // Alternate audio and subtitle tracks (EXT-X-MEDIA), named by every
  // variant. Alternate audio is made by the job, so it is listed while the
  // job runs too (the variants have no sound of their own); subtitles come
  // once it has ended.
  std::string audio_group, subtitles_group, audio_codecs;
  uint64_t audio_peak = 0, audio_average = 0;
  for (auto& rr : rs) {
    const bool audio = rr.kind == rendition_kind::audio;
    if (rr.kind == rendition_kind::variant || (!audio && !ended))
      continue;
    media::media_entry m;
    m.type = audio ? media::media_entry::kind::audio : media::media_entry::kind::subtitles;
    m.group_id = audio ? "aud" : "subs";
    (audio ? audio_group : subtitles_group) = m.group_id;
    m.name = rr.label.empty() ? rr.name : rr.label;
    m.language = rr.language;
    m.is_default = rr.is_default;
    m.autoselect = true;
    m.forced = rr.forced;
    m.uri = rr.name + "/playlist.m3u8";
    if (audio) {
      // Records written before the count was kept said 2, as the
      // playlists did then.
      m.channels = std::to_string(rr.channels > 0 ? rr.channels : 2);
      audio_codecs = join_codecs(audio_codecs, rr.codecs);
      const auto [peak, average] = bandwidth_of(rr);
      audio_peak = std::max(audio_peak, peak);
      audio_average = std::max(audio_average, average);
    }
    snap->master.media.push_back(std::move(m));
  }
  for (auto& rr : rs) {
    media::media_playlist pl;
    pl.min_target_duration = min_target;
    pl.segments = rr.segments;
    if (rr.kind != rendition_kind::subtitles) {
      pl.type = ended ? media::playlist_type::vod : media::playlist_type::event;
      pl.ended = ended;
    }
    snap->rendition_names.push_back(rr.name);
    snap->renditions.push_back(std::move(pl));
    if (rr.kind != rendition_kind::variant || !(ended || snap->master.variants.empty()))
      continue; // while the job runs, the top variant only
    media::variant_entry v;
    v.uri = rr.name + "/playlist.m3u8";
    // A variant plays with any track of its audio group: its BANDWIDTH
    // counts the largest (RFC 8216 4.3.4.2), its CODECS name the audio's.
    const auto [peak, average] = bandwidth_of(rr);
    v.bandwidth = peak + audio_peak;
    v.average_bandwidth = average + audio_average;
    v.codecs = join_codecs(rr.codecs, audio_codecs);
    v.width = rr.width;
    v.height = rr.height;
    v.frame_rate = rr.frame_rate;
    v.audio_group = audio_group;
    v.subtitles_group = subtitles_group;
    snap->master.variants.push_back(std::move(v));
  }
  return snap;
}

} // namespace hlsgate::actors
