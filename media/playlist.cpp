#include "media/playlist.hpp"

#include <algorithm>

#include <charconv>
#include <cmath>
#include <cstring>

namespace hlsgate::media {

namespace {

// EXTINF values are clamped to this (31 years), which bounds their text to
// "1000000000.000" (14 chars).
constexpr double max_duration = 1e9;
constexpr size_t max_extinf_line = 8 + 14 + 2; // "#EXTINF:" value ",\n"

double sane_duration(double d) noexcept {
  if (!(d >= 0)) // negative or NaN
    return 0;
  return d > max_duration ? max_duration : d;
}

/// Writes `d` (sane) with exactly 3 decimals, as std::to_chars(fixed, 3)
/// would, but through integer formatting when that gives the same digits:
/// for d < 1e6, d * 1000 is within 2^-23 of the exact product, so rounding it
/// is exact unless it lies next to a .5 tie (then: to_chars).
char* write_millis(char* first, char* last, double d) noexcept {
  if (d < 1e6) {
    const double x = d * 1000.0;
    const double fl = std::floor(x);
    if (std::fabs(x - fl - 0.5) > 1e-6) {
      const auto ms = static_cast<uint64_t>(x - fl > 0.5 ? fl + 1 : fl);
      char* p = std::to_chars(first, last, ms / 1000).ptr;
      const auto frac = static_cast<unsigned>(ms % 1000);
      p[0] = '.';
      p[1] = static_cast<char>('0' + frac / 100);
      p[2] = static_cast<char>('0' + frac / 10 % 10);
      p[3] = static_cast<char>('0' + frac % 10);
      return p + 4;
    }
  }
  return std::to_chars(first, last, d, std::chars_format::fixed, 3).ptr;
}

/// Formats "#EXTINF:<d with 3 decimals>,\n", reusing the previous result when
/// the duration repeats (the usual case: fixed-length segments).
class extinf_formatter {
public:
  std::string_view line(double d) noexcept {
    d = sane_duration(d);
    if (len_ == 0 || d != last_) {
      last_ = d;
      std::memcpy(buf_, "#EXTINF:", 8);
      char* p = write_millis(buf_ + 8, buf_ + sizeof buf_ - 2, d);
      *p++ = ',';
      *p++ = '\n';
      len_ = static_cast<size_t>(p - buf_);
    }
    return {buf_, len_};
  }

private:
  double last_ = 0;
  size_t len_ = 0;
  char buf_[max_extinf_line + 8];
};

inline char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

template <class Int> inline char* put_int(char* p, Int v) noexcept {
  return std::to_chars(p, p + 24, v).ptr;
}

int target_from_max(double max_d, int floor) noexcept {
  // The smallest integer >= every EXTINF as written (to the millisecond):
  // stricter than RFC 8216's rounding, which strict clients (GStreamer)
  // warn about. ceil is monotonic, so max(ceil(d_i)) == ceil(max(d_i)).
  const double ms = std::round(sane_duration(max_d) * 1000.0) / 1000.0;
  const long r = std::lround(std::ceil(ms - 1e-9));
  return static_cast<int>(std::max<long>({r, floor, 1}));
}

void append_int(std::string& out, uint64_t v) {
  char buf[24];
  out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
}

} // namespace

int media_playlist::target_duration() const {
  double max_d = 0;
  for (const auto& s : segments)
    if (s.duration > max_d)
      max_d = s.duration;
  return target_from_max(max_d, min_target_duration);
}

void write_playlist(const media_playlist& pl, std::string_view uri_prefix,
                    std::string_view uri_suffix, std::string& out) {
  // One pass for the exact URI bytes and the target duration.
  size_t uri_bytes = 0;
  double max_d = 0;
  for (const auto& s : pl.segments) {
    uri_bytes += s.uri.size();
    if (s.duration > max_d)
      max_d = s.duration;
  }
  const size_t per_segment = max_extinf_line + uri_prefix.size() + uri_suffix.size() + 1;
  const size_t bound = 256 + uri_bytes + pl.segments.size() * per_segment;

  // Size once, write through a pointer, trim to what was written.
  const size_t old = out.size();
  out.resize(old + bound);
  char* const begin = out.data() + old;
  char* p = begin;

  p = put(p, "#EXTM3U\n#EXT-X-VERSION:");
  p = put_int(p, pl.version);
  p = put(p, "\n#EXT-X-TARGETDURATION:");
  p = put_int(p, target_from_max(max_d, pl.min_target_duration));
  p = put(p, "\n#EXT-X-MEDIA-SEQUENCE:");
  p = put_int(p, pl.media_sequence);
  *p++ = '\n';
  if (pl.type == playlist_type::vod)
    p = put(p, "#EXT-X-PLAYLIST-TYPE:VOD\n");
  else if (pl.type == playlist_type::event)
    p = put(p, "#EXT-X-PLAYLIST-TYPE:EVENT\n");
  if (pl.independent_segments)
    p = put(p, "#EXT-X-INDEPENDENT-SEGMENTS\n");

  extinf_formatter extinf;
  for (const auto& s : pl.segments) {
    p = put(p, extinf.line(s.duration));
    p = put(p, uri_prefix);
    p = put(p, s.uri);
    p = put(p, uri_suffix);
    *p++ = '\n';
  }
  if (pl.ended)
    p = put(p, "#EXT-X-ENDLIST\n");

  out.resize(old + static_cast<size_t>(p - begin));
}

namespace {

/// `,NAME="value"`: a quoted-string (RFC 8216 §4.2) cannot hold '"', CR or
/// LF; those and other control characters are left out.
void append_quoted(std::string& out, std::string_view attr, std::string_view value) {
  out.push_back(',');
  out.append(attr);
  out.append("=\"");
  for (char c : value)
    if (c != '"' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)
      out.push_back(c);
  out.push_back('"');
}

void write_media_entry(const media_entry& m, std::string_view uri_prefix,
                       std::string_view uri_suffix, std::string& out) {
  const bool audio = m.type == media_entry::kind::audio;
  out.append(audio ? "#EXT-X-MEDIA:TYPE=AUDIO" : "#EXT-X-MEDIA:TYPE=SUBTITLES");
  append_quoted(out, "GROUP-ID", m.group_id);
  append_quoted(out, "NAME", m.name);
  if (!m.language.empty())
    append_quoted(out, "LANGUAGE", m.language);
  out.append(m.is_default ? ",DEFAULT=YES" : ",DEFAULT=NO");
  // AUTOSELECT must be YES when DEFAULT is (RFC 8216 §4.3.4.1).
  out.append(m.autoselect || m.is_default ? ",AUTOSELECT=YES" : ",AUTOSELECT=NO");
  if (!audio && m.forced)
    out.append(",FORCED=YES");
  if (audio && !m.channels.empty())
    append_quoted(out, "CHANNELS", m.channels);
  out.append(",URI=\"");
  out.append(uri_prefix);
  out.append(m.uri);
  out.append(uri_suffix);
  out.append("\"\n");
}

} // namespace

void write_playlist(const master_playlist& pl, std::string_view uri_prefix,
                    std::string_view uri_suffix, std::string& out) {
  size_t bound = 64;
  for (const auto& v : pl.variants)
    bound += 200 + v.codecs.size() + uri_prefix.size() + v.uri.size() + uri_suffix.size();
  for (const auto& m : pl.media)
    bound += 160 + m.name.size() + uri_prefix.size() + m.uri.size() + uri_suffix.size();
  out.reserve(out.size() + bound);

  out.append("#EXTM3U\n#EXT-X-VERSION:");
  append_int(out, static_cast<uint64_t>(pl.version < 0 ? 0 : pl.version));
  out.push_back('\n');
  if (pl.independent_segments)
    out.append("#EXT-X-INDEPENDENT-SEGMENTS\n");
  for (const auto& m : pl.media)
    write_media_entry(m, uri_prefix, uri_suffix, out);
  for (const auto& v : pl.variants) {
    out.append("#EXT-X-STREAM-INF:BANDWIDTH=");
    append_int(out, v.bandwidth);
    if (v.average_bandwidth > 0) {
      out.append(",AVERAGE-BANDWIDTH=");
      append_int(out, v.average_bandwidth);
    }
    if (!v.codecs.empty()) {
      out.append(",CODECS=\"");
      out.append(v.codecs);
      out.push_back('"');
    }
    if (v.width > 0 && v.height > 0) {
      out.append(",RESOLUTION=");
      append_int(out, static_cast<uint64_t>(v.width));
      out.push_back('x');
      append_int(out, static_cast<uint64_t>(v.height));
    }
    if (v.frame_rate > 0) {
      char buf[32];
      const double fr = v.frame_rate > 1e6 ? 1e6 : v.frame_rate;
      out.append(",FRAME-RATE=");
      out.append(
          buf,
          static_cast<size_t>(
              std::to_chars(buf, buf + sizeof buf, fr, std::chars_format::fixed, 3).ptr - buf));
    }
    if (!v.audio_group.empty())
      append_quoted(out, "AUDIO", v.audio_group);
    if (!v.subtitles_group.empty())
      append_quoted(out, "SUBTITLES", v.subtitles_group);
    out.push_back('\n');
    out.append(uri_prefix);
    out.append(v.uri);
    out.append(uri_suffix);
    out.push_back('\n');
  }
}

} // namespace hlsgate::media
