#include "media/subtitles.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>

namespace hlsgate::media {

namespace {

constexpr std::string_view kBom = "\xef\xbb\xbf";
constexpr std::string_view kReplacement = "\xef\xbf\xbd"; // U+FFFD
constexpr int64_t kHuge = 1'000'000'000; // where numbers saturate: beyond any time limit

/// Length of the UTF-8 sequence at the front of `s` (1 to 4), or 0 when it is
/// not one: truncated, overlong, a surrogate, above U+10FFFF.
size_t utf8_sequence(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  const size_t n = c < 0x80 ? 1 : c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
  if (n < 2)
    return n;
  // The second byte's range excludes overlong forms, surrogates and > U+10FFFF.
  const unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
  const unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
  if (s.size() < n || byte(1) < lo || byte(1) > hi)
    return 0;
  for (size_t i = 2; i < n; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf)
      return 0;
  return n;
}

bool begins(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// "HH:MM:SS.mmm", hours of two digits or more; negative times as 0.
std::string format_time(int64_t ms) {
  ms = std::max<int64_t>(ms, 0);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02d:%02d.%03d", static_cast<long long>(ms / 3600000),
                static_cast<int>(ms / 60000 % 60), static_cast<int>(ms / 1000 % 60),
                static_cast<int>(ms % 1000));
  return buf;
}

/// Length of the character reference at the front of `s` that WebVTT text
/// may keep as written ("&amp;", "&#233;", "&#xe9;"), or 0.
size_t kept_reference(std::string_view s) {
  const size_t semi = s.substr(0, 10).find(';');
  if (semi == std::string_view::npos || semi < 2)
    return 0;
  std::string_view body = s.substr(1, semi - 1);
  for (std::string_view name : {"amp", "lt", "gt", "nbsp", "lrm", "rlm"})
    if (body == name)
      return semi + 1;
  const bool hex = body.size() > 1 && body[0] == '#' && (body[1] | 0x20) == 'x';
  if (body[0] != '#')
    return 0;
  body.remove_prefix(hex ? 2 : 1);
  uint32_t cp = 0; // at most 8 digits: no overflow
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), cp, hex ? 16 : 10);
  if (ec != std::errc() || end != body.data() + body.size())
    return 0;
  if (cp < 0x20 || cp == 0x7f || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return semi + 1;
}

/// Length of the tag at the front of `s` ('<' to '>', on one line, no '<'
/// inside), or 0. Outside WebVTT a tag name starts with a letter, so that
/// "a <3 b>" is text.
size_t tag_length(std::string_view s, bool vtt) {
  size_t i = 1;
  if (!vtt) {
    if (i < s.size() && s[i] == '/')
      ++i;
    if (i >= s.size() || (s[i] | 0x20) < 'a' || (s[i] | 0x20) > 'z')
      return 0;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '>')
      return i + 1;
    if (s[i] == '<' || s[i] == '\n' || s[i] == '\r')
      return 0;
  }
  return 0;
}

/// What a tag becomes: "<b>", "</i>", ... for <b>, <i>, <u> (any case, classes
/// and annotations dropped: "<B.loud>" is "<b>"), "" for any other.
std::string kept_tag(std::string_view tag) {
  std::string_view body = tag.substr(1, tag.size() - 2);
  const bool closing = !body.empty() && body[0] == '/';
  if (closing)
    body.remove_prefix(1);
  const std::string_view name = body.substr(0, body.find_first_of(" \t."));
  const char lower = name.size() == 1 ? static_cast<char>(name[0] | 0x20) : 0;
  if (lower != 'b' && lower != 'i' && lower != 'u')
    return {};
  return (closing ? "</" : "<") + std::string(1, lower) + ">";
}

/// Length of the ASS override block ("{\\an8}", "{\\i1\\b1}") at the front
/// of `s`, closed on its line before any other '{', or 0.
size_t override_block(std::string_view s) {
  if (s.size() < 2 || s[1] != '\\')
    return 0;
  const size_t close = s.find_first_of("{}\r\n", 1);
  return close != std::string_view::npos && s[close] == '}' ? close + 1 : 0;
}

std::string_view trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  return first == std::string_view::npos ? std::string_view()
                                         : s.substr(first, s.find_last_not_of(" \t") + 1 - first);
}

enum class text_source { decoder, srt, webvtt };

/// The cleaning of clean_cue_text(); from a file, "\N" is text and WebVTT
/// keeps its character references.
std::string clean_text(std::string_view in, text_source from) {
  const bool vtt = from == text_source::webvtt, ass_breaks = from == text_source::decoder;
  std::string out, line;
  bool visible = false; // the line has something besides spaces and tags
  const auto end_line = [&] {
    if (visible) {
      if (!out.empty())
        out += '\n';
      out += trim(line);
    }
    line.clear();
    visible = false;
  };
  const auto text = [&](std::string_view s) {
    line += s;
    visible = true;
  };
  for (size_t i = 0; i < in.size();) {
    const std::string_view rest = in.substr(i);
    const char c = rest[0];
    if (c == '\r' || c == '\n') {
      end_line();
      i += c == '\r' && rest.size() > 1 && rest[1] == '\n' ? 2 : 1;
    } else if (ass_breaks && c == '\\' && rest.size() > 1 && (rest[1] == 'N' || rest[1] == 'n')) {
      end_line();
      i += 2;
    } else if (const size_t block = c == '{' ? override_block(rest) : 0) {
      i += block;
    } else if (const size_t tag = c == '<' ? tag_length(rest, vtt) : 0) {
      line += kept_tag(rest.substr(0, tag));
      i += tag;
    } else if (const size_t ref = c == '&' && vtt ? kept_reference(rest) : 0) {
      text(rest.substr(0, ref));
      i += ref;
    } else if (c == '&' || c == '<' || c == '>') {
      text(c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;");
      ++i;
    } else if (c == ' ' || c == '\t') {
      line += ' ';
      ++i;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      ++i; // other control characters
    } else if (const size_t n = utf8_sequence(rest)) {
      text(rest.substr(0, n));
      i += n;
    } else {
      text(kReplacement);
      ++i;
    }
  }
  end_line();
  return out;
}

bool blank(std::string_view s) {
  return trim(s).empty();
}

bool has_arrow(std::string_view s) {
  return s.find("-->") != std::string_view::npos;
}

/// A counter line of SRT: digits, perhaps between spaces.
bool counter_line(std::string_view s) {
  s = trim(s);
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

/// A WebVTT block that holds no cue: NOTE, STYLE, REGION.
bool skipped_block(std::string_view s) {
  for (std::string_view word : {"NOTE", "STYLE", "REGION"})
    if (begins(s, word) &&
        (s.size() == word.size() || s[word.size()] == ' ' || s[word.size()] == '\t'))
      return true;
  return false;
}

void skip_spaces(std::string_view& s) {
  s.remove_prefix(std::min(s.size(), s.find_first_not_of(" \t")));
}

/// Reads the digits of `s` from `i` on into `v` (saturating: a huge number
/// fails the time limit); how many there were.
size_t take_digits(std::string_view s, size_t& i, int64_t& v) {
  const size_t from = i;
  for (v = 0; i < s.size() && is_digit(s[i]); ++i)
    v = std::min(v * 10 + (s[i] - '0'), kHuge);
  return i - from;
}

/// Reads a timestamp at the front of `s` and removes it: SRT "HH:MM:SS,mmm"
/// (or '.'), WebVTT "[HH:]MM:SS.mmm"; hours of any number of digits. nullopt
/// when there is none.
std::optional<int64_t> take_timestamp(std::string_view& s, bool vtt) {
  int64_t group[3] = {}, ms = 0;
  size_t digits[3] = {}, count = 0, i = 0;
  do {
    i += count > 0; // the ':'
    if ((digits[count] = take_digits(s, i, group[count])) == 0)
      return std::nullopt;
  } while (++count < 3 && i < s.size() && s[i] == ':');
  if (count < (vtt ? 2u : 3u))
    return std::nullopt;
  const int64_t min = group[count - 2], sec = group[count - 1];
  if (digits[count - 2] != 2 || digits[count - 1] != 2 || min >= 60 || sec >= 60 || i >= s.size() ||
      !(s[i] == '.' || (!vtt && s[i] == ',')))
    return std::nullopt;
  if (take_digits(s, ++i, ms) != 3)
    return std::nullopt;
  s.remove_prefix(i);
  return (((count == 3 ? group[0] : 0) * 60 + min) * 60 + sec) * 1000 + ms;
}

struct timing {
  int64_t start = 0, end = 0;
};

/// "start --> end", then nothing or a space and anything (settings).
std::optional<timing> parse_timing(std::string_view s, bool vtt) {
  skip_spaces(s);
  const auto start = take_timestamp(s, vtt);
  skip_spaces(s);
  if (!start || !begins(s, "-->"))
    return std::nullopt;
  s.remove_prefix(3);
  skip_spaces(s);
  const auto end = take_timestamp(s, vtt);
  if (!end || !(s.empty() || s[0] == ' ' || s[0] == '\t'))
    return std::nullopt;
  return timing{*start, *end};
}

/// One line of the file, without its line ending.
struct text_line {
  std::string_view text;
  size_t number = 0;         ///< from 1
  size_t begin = 0, end = 0; ///< offsets in the file
};

/// The lines of a file, ending in LF, CRLF or CR.
struct line_reader {
  std::string_view data_;
  size_t pos_ = 0;
  size_t number_ = 0;

  bool next(text_line& l) {
    if (pos_ >= data_.size())
      return false;
    const size_t end = std::min(data_.find_first_of("\r\n", pos_), data_.size());
    l = {data_.substr(pos_, end - pos_), ++number_, pos_, end};
    pos_ = end;
    if (pos_ < data_.size())
      pos_ += data_[pos_] == '\r' && pos_ + 1 < data_.size() && data_[pos_ + 1] == '\n' ? 2 : 1;
    return true;
  }
};

std::string at_line(size_t number, std::string_view what) {
  return "line " + std::to_string(number) + ": " + std::string(what);
}

class parser {
public:
  parser(std::string_view data, size_t from, bool vtt, const subtitle_limits& limits)
      : data_(data), reader_{data, from}, vtt_(vtt), limits_(limits) {}

  /// The error, or "" once every cue is in `cues`.
  std::string run() {
    text_line l;
    if (vtt_) {
      reader_.next(l); // the signature; the header runs to a blank or a timing line
      for (line_reader at = reader_; reader_.next(l) && !blank(l.text); at = reader_) {
        if (has_arrow(l.text)) {
          reader_ = at;
          break;
        }
      }
    }
    while (reader_.next(l)) {
      if (blank(l.text))
        continue;
      if (vtt_ && skipped_block(l.text)) {
        while (reader_.next(l) && !blank(l.text)) {
        }
        continue;
      }
      if (!has_arrow(l.text)) { // an identifier, then the timing
        const size_t id = l.number;
        if (!reader_.next(l) || blank(l.text))
          return at_line(id, "bad timing");
      }
      if (std::string error = cues_from(l); !error.empty())
        return error;
    }
    return {};
  }

  std::vector<subtitle_cue> cues;

private:
  /// The cue of the timing line `l` and its text lines, and the next ones
  /// when a text line is a timing line.
  std::string cues_from(text_line l) {
    while (true) {
      const auto t = parse_timing(l.text, vtt_);
      if (!t)
        return at_line(l.number, "bad timing");
      if (t->start > limits_.max_time_ms || t->end > limits_.max_time_ms)
        return at_line(l.number, "time beyond " + format_time(limits_.max_time_ms));
      if (t->end <= t->start)
        return at_line(l.number, "end time not after start time");
      const size_t timing_line = l.number;
      size_t lines = 0, begin = 0, end = 0, end_before = 0; // the text: [begin, end)
      std::string_view last;
      bool more = false;
      while (reader_.next(l) && !blank(l.text)) {
        if (has_arrow(l.text) && parse_timing(l.text, vtt_)) {
          more = true;
          break;
        }
        begin = lines++ == 0 ? l.begin : begin;
        end_before = std::exchange(end, l.end);
        last = l.text;
      }
      if (more && !vtt_ && lines > 0 && counter_line(last)) {
        --lines;
        end = end_before;
      }
      const std::string text = lines == 0
                                   ? std::string()
                                   : clean_text(data_.substr(begin, end - begin),
                                                vtt_ ? text_source::webvtt : text_source::srt);
      if (text.size() > limits_.max_cue_bytes)
        return at_line(timing_line,
                       "cue text over " + std::to_string(limits_.max_cue_bytes) + " bytes");
      if (!text.empty()) {
        cues.push_back({t->start, t->end, std::move(text)});
        if (cues.size() > limits_.max_cues)
          return "more than " + std::to_string(limits_.max_cues) + " cues";
      }
      if (!more)
        return {};
    }
  }

  std::string_view data_;
  line_reader reader_;
  bool vtt_;
  const subtitle_limits& limits_;
};

} // namespace

bool valid_utf8(std::string_view s) {
  while (!s.empty()) {
    const size_t n = utf8_sequence(s);
    if (n == 0)
      return false;
    s.remove_prefix(n);
  }
  return true;
}

subtitle_parse_result parse_subtitles(std::string_view data, const subtitle_limits& limits) {
  if (data.size() > limits.max_bytes)
    return {{}, "file larger than " + std::to_string(limits.max_bytes) + " bytes"};
  const size_t from = begins(data, kBom) ? kBom.size() : 0;
  const std::string_view body = data.substr(from);
  if (!valid_utf8(body))
    return {{}, "not UTF-8 text"};
  const bool vtt =
      begins(body, "WEBVTT") &&
      (body.size() == 6 || std::string_view(" \t\r\n").find(body[6]) != std::string_view::npos);
  parser p(data, from, vtt, limits);
  if (std::string error = p.run(); !error.empty())
    return {{}, std::move(error)};
  if (p.cues.empty())
    return {{}, "no subtitle cues"};
  subtitle_parse_result r;
  r.cues = std::move(p.cues);
  std::stable_sort(r.cues.begin(), r.cues.end(), [](const subtitle_cue& a, const subtitle_cue& b) {
    return a.start_ms < b.start_ms;
  });
  return r;
}

std::string clean_cue_text(std::string_view text) {
  return clean_text(text, text_source::decoder);
}

std::vector<std::string> write_webvtt_segments(const std::vector<subtitle_cue>& cues,
                                               const std::vector<double>& segment_durations,
                                               int64_t mpegts_origin, size_t max_total_bytes) {
  const std::string header =
      "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:" + std::to_string(mpegts_origin) + ",LOCAL:00:00:00.000\n\n";
  const size_t n = segment_durations.size();
  std::vector<std::string> out(n, header);
  // bounds[i]: where segment i starts, ms; bounds[n]: where the last one ends.
  std::vector<int64_t> bounds{0};
  double seconds = 0;
  for (const double d : segment_durations) {
    if (std::isfinite(d) && d > 0)
      seconds = std::min(seconds + d, 1e12); // keeps the milliseconds within int64
    bounds.push_back(std::llround(seconds * 1000));
  }
  std::vector<const subtitle_cue*> order;
  for (const subtitle_cue& c : cues)
    if (c.end_ms > c.start_ms && !c.text.empty())
      order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const subtitle_cue* a, const subtitle_cue* b) {
    return a->start_ms < b->start_ms;
  });
  // The first segment ending after a cue starts, and those after it that
  // start before the cue ends.
  const auto first_segment = [&](const subtitle_cue* c) {
    return static_cast<size_t>(std::upper_bound(bounds.begin() + 1, bounds.end(), c->start_ms) -
                               bounds.begin() - 1);
  };
  // What it would weigh, before anything is made: a cue goes into every
  // segment it overlaps, so a few long cues over a long item add up.
  uint64_t total = header.size() * n;
  for (const subtitle_cue* c : order) {
    const uint64_t entry = 2 * format_time(c->start_ms).size() + 7 + c->text.size();
    for (size_t i = first_segment(c); i < n && bounds[i] < c->end_ms; ++i)
      if (bounds[i + 1] > bounds[i] && (total += entry) > max_total_bytes)
        return {};
  }
  for (const subtitle_cue* c : order) {
    const std::string entry =
        format_time(c->start_ms) + " --> " + format_time(c->end_ms) + "\n" + c->text + "\n\n";
    for (size_t i = first_segment(c); i < n && bounds[i] < c->end_ms; ++i)
      if (bounds[i + 1] > bounds[i])
        out[i] += entry;
  }
  return out;
}

} // namespace hlsgate::media
