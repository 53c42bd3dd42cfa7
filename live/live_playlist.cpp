#include "live/live_playlist.hpp"

#include <cstdio>
#include <limits>

namespace hlsgate::live {

namespace {

/// Where the marker ends, unix ms, for deciding whether it touches the window.
int64_t marker_end(const marker& m, const std::vector<marker>& all) {
  if (m.duration >= 0)
    return m.start_ms + static_cast<int64_t>(m.duration * 1000);
  int64_t end = std::numeric_limits<int64_t>::max();
  for (const auto& o : all)
    if (o.cls == m.cls && o.start_ms > m.start_ms && o.start_ms < end)
      end = o.start_ms;
  return end;
}

} // namespace

void write_live_playlist(const dvr_window& w, const std::vector<marker>& markers,
                         std::string_view uri_prefix, std::string_view uri_suffix,
                         std::string& out) {
  char buf[64];
  out += "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  std::snprintf(buf, sizeof buf, "#EXT-X-TARGETDURATION:%d\n", w.target_duration());
  out += buf;
  std::snprintf(buf, sizeof buf, "#EXT-X-MEDIA-SEQUENCE:%llu\n",
                static_cast<unsigned long long>(w.media_sequence()));
  out += buf;
  std::snprintf(buf, sizeof buf, "#EXT-X-DISCONTINUITY-SEQUENCE:%llu\n",
                static_cast<unsigned long long>(w.discontinuity_sequence()));
  out += buf;
  const auto& segs = w.segments();
  if (!segs.empty()) {
    // DATERANGE needs a PROGRAM-DATE-TIME in the playlist: only with segments.
    const int64_t from = segs.front().pdt_ms;
    for (const auto& m : markers)
      if (marker_end(m, markers) >= from)
        write_daterange(m, out);
  }
  for (const auto& s : segs) {
    if (s.discontinuity)
      out += "#EXT-X-DISCONTINUITY\n";
    out += "#EXT-X-PROGRAM-DATE-TIME:";
    out += iso8601_ms(s.pdt_ms);
    std::snprintf(buf, sizeof buf, "\n#EXTINF:%.3f,\n", s.duration);
    out += buf;
    out.append(uri_prefix).append(s.uri).append(uri_suffix);
    out += '\n';
  }
  if (w.ended())
    out += "#EXT-X-ENDLIST\n";
}

} // namespace hlsgate::live
