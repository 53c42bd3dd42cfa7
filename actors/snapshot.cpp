#include "actors/snapshot.hpp"

#include <algorithm>
#include <cmath>

namespace hlsgate::actors {

rendition_record to_record(const media::rendition_output& x) {
  rendition_record rr;
  rr.name = x.name;
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

playlist_ptr make_snapshot(const media_record& r, const std::vector<rendition_record>& rs,
                           bool ended, double segment_seconds) {
  auto snap = std::make_shared<playlist_snapshot>();
  snap->media_id = r.media_id;
  snap->storage_id = r.storage_id;
  snap->has_thumbnails = r.has_thumbnails;
  const int min_target = static_cast<int>(std::ceil(std::max(0.0, segment_seconds) - 1e-9));
  // Alternate audio and subtitle tracks (EXT-X-MEDIA), named by every variant.
  std::string audio_group, subtitles_group;
  for (auto& rr : rs) {
    if (rr.kind == rendition_kind::variant || !ended)
      continue;
    media::media_entry m;
    const bool audio = rr.kind == rendition_kind::audio;
    m.type = audio ? media::media_entry::kind::audio : media::media_entry::kind::subtitles;
    m.group_id = audio ? "aud" : "subs";
    (audio ? audio_group : subtitles_group) = m.group_id;
    m.name = rr.label.empty() ? rr.name : rr.label;
    m.language = rr.language;
    m.is_default = rr.is_default;
    m.autoselect = true;
    m.forced = rr.forced;
    m.uri = rr.name + "/playlist.m3u8";
    if (audio)
      m.channels = "2";
    snap->master.media.push_back(std::move(m));
  }
  for (auto& rr : rs) {
    if (rr.kind != rendition_kind::variant) {
      media::media_playlist pl;
      pl.min_target_duration = min_target;
      pl.segments = rr.segments;
      snap->rendition_names.push_back(rr.name);
      snap->renditions.push_back(std::move(pl));
      continue;
    }
    const bool listed = ended || snap->master.variants.empty();
    media::variant_entry v;
    v.uri = rr.name + "/playlist.m3u8";
    v.bandwidth = rr.peak_bandwidth;
    v.average_bandwidth = rr.average_bandwidth;
    if (v.bandwidth == 0) {
      // A running job: measure what exists so far (RFC 8216 §4.3.4.2).
      uint64_t bytes = 0;
      double seconds = 0;
      for (auto& s : rr.segments) {
        bytes += s.bytes;
        seconds += s.duration;
        if (s.duration > 0)
          v.bandwidth =
              std::max<uint64_t>(v.bandwidth, static_cast<uint64_t>(s.bytes * 8 / s.duration));
      }
      if (seconds > 0)
        v.average_bandwidth = static_cast<uint64_t>(bytes * 8 / seconds);
    }
    v.codecs = rr.codecs;
    v.width = rr.width;
    v.height = rr.height;
    v.frame_rate = rr.frame_rate;
    v.audio_group = audio_group;
    v.subtitles_group = subtitles_group;
    if (listed)
      snap->master.variants.push_back(std::move(v));
    media::media_playlist pl;
    pl.min_target_duration = min_target;
    pl.type = ended ? media::playlist_type::vod : media::playlist_type::event;
    pl.ended = ended;
    pl.segments = rr.segments;
    snap->rendition_names.push_back(rr.name);
    snap->renditions.push_back(std::move(pl));
  }
  return snap;
}

} // namespace hlsgate::actors
