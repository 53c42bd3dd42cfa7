#include "proxy/rewrite.hpp"

#include <charconv>
#include <cmath>

#include "live/pull_guard.hpp"
#include "proxy/m3u_lex.hpp"

namespace hlsgate::proxy {

std::string_view to_string(ref_kind k) {
  switch (k) {
  case ref_kind::playlist:
    return "playlist";
  case ref_kind::segment:
    return "segment";
  case ref_kind::key:
    return "key";
  case ref_kind::map:
    return "map";
  }
  return "";
}

namespace {

using guard = live::playlist_guard;

using namespace m3u;

constexpr size_t max_line = 8 * 1024;

// What a tag's URI="..." attributes name.
enum class uri_rule : uint8_t { none, playlist, segment, key, map, preload_hint, drop };

enum tag_id : uint8_t {
  t_other,
  t_plain, // known, nothing to read or rewrite
  t_targetduration,
  t_media_sequence,
  t_discontinuity_sequence,
  t_extinf,
  t_discontinuity,
  t_skip,
  t_endlist,
  t_stream_inf,
  t_byterange,
};

enum tag_flags : uint8_t {
  f_header = 1,  ///< may come before the first segment without ending the header
  f_master = 2,  ///< master playlists only
  f_media = 4,   ///< media playlists only
  f_variant = 8, ///< counts against playlist_guard::max_variants
  f_segment = 16 ///< belongs to the segment that follows (RFC 8216 §4.3.2)
};

struct tag_def {
  std::string_view name;
  tag_id id;
  uint8_t flags;
  uri_rule uri;
};

constexpr tag_def tag_table[] = {
    {"EXTINF", t_extinf, f_media | f_segment, uri_rule::none},
    {"EXT-X-BYTERANGE", t_byterange, f_media | f_segment, uri_rule::none},
    {"EXT-X-PROGRAM-DATE-TIME", t_plain, f_media | f_segment, uri_rule::none},
    {"EXT-X-PART", t_plain, f_media | f_segment, uri_rule::segment},
    {"EXT-X-KEY", t_plain, f_media | f_segment, uri_rule::key},
    {"EXT-X-MAP", t_plain, f_media | f_segment, uri_rule::map},
    {"EXT-X-DISCONTINUITY", t_discontinuity, f_media | f_segment, uri_rule::none},
    {"EXT-X-GAP", t_plain, f_media | f_segment, uri_rule::none},
    {"EXT-X-BITRATE", t_plain, f_media | f_segment, uri_rule::none},
    {"EXT-X-DATERANGE", t_plain, f_media, uri_rule::none},
    {"EXT-X-PRELOAD-HINT", t_plain, f_media, uri_rule::preload_hint},
    {"EXT-X-RENDITION-REPORT", t_plain, f_media, uri_rule::playlist},
    {"EXT-X-ENDLIST", t_endlist, f_media, uri_rule::none},
    {"EXT-X-SKIP", t_skip, f_media, uri_rule::none},
    {"EXT-X-STREAM-INF", t_stream_inf, f_master | f_variant, uri_rule::none},
    {"EXT-X-I-FRAME-STREAM-INF", t_plain, f_master | f_variant, uri_rule::playlist},
    {"EXT-X-MEDIA", t_plain, f_master | f_variant, uri_rule::playlist},
    {"EXT-X-SESSION-DATA", t_plain, f_master, uri_rule::segment},
    {"EXT-X-SESSION-KEY", t_plain, f_master, uri_rule::key},
    // A steering manifest would send the viewer to upstream pathways.
    {"EXT-X-CONTENT-STEERING", t_plain, f_master, uri_rule::drop},
    {"EXT-X-VERSION", t_plain, f_header, uri_rule::none},
    {"EXT-X-TARGETDURATION", t_targetduration, f_header | f_media, uri_rule::none},
    {"EXT-X-MEDIA-SEQUENCE", t_media_sequence, f_header | f_media, uri_rule::none},
    {"EXT-X-DISCONTINUITY-SEQUENCE", t_discontinuity_sequence, f_header | f_media, uri_rule::none},
    {"EXT-X-PLAYLIST-TYPE", t_plain, f_header | f_media, uri_rule::none},
    {"EXT-X-I-FRAMES-ONLY", t_plain, f_header | f_media, uri_rule::none},
    {"EXT-X-SERVER-CONTROL", t_plain, f_header | f_media, uri_rule::none},
    {"EXT-X-PART-INF", t_plain, f_header | f_media, uri_rule::none},
    {"EXT-X-INDEPENDENT-SEGMENTS", t_plain, f_header, uri_rule::none},
    {"EXT-X-START", t_plain, f_header, uri_rule::none},
    {"EXT-X-DEFINE", t_plain, f_header, uri_rule::none},
};

// Tags nobody knows stay where they are, end no header and open no segment.
constexpr tag_def unknown_tag{"", t_other, f_header, uri_rule::none};

const tag_def& find_tag(std::string_view name) {
  for (const tag_def& t : tag_table)
    if (t.name == name)
      return t;
  return unknown_tag;
}

class rewriter {
public:
  rewriter(const net::url& base, const url_mapper& map, const rewrite_options& opt)
      : base_(base), map_(map), opt_(opt) {}

  rewrite_result run(std::string_view body);

private:
  bool fail(std::string reason) {
    if (error_.empty())
      error_ = "line " + std::to_string(line_no_) + ": " + std::move(reason);
    return false;
  }
  bool line(std::string_view l);
  bool tag_line(std::string_view l);
  bool uri_line(std::string_view l);
  bool rewrite_attrs(std::string_view l, size_t list_at, const tag_def& t);
  bool emit_url(std::string_view ref, ref_kind kind, bool key, bool quoted, std::string_view what,
                const byte_range& range = {});
  bool finish_header(bool media);
  void open_segment();

  const net::url& base_;
  const url_mapper& map_;
  const rewrite_options& opt_;
  std::string out_;
  playlist_facts facts_;
  std::string error_;
  size_t line_no_ = 0;

  bool in_header_ = true, media_ = false;
  bool saw_master_ = false, saw_media_ = false, pending_variant_ = false;
  bool seen_ms_ = false, seen_ds_ = false, seen_td_ = false;
  size_t variants_ = 0;
  size_t ds_value_at_ = npos;   ///< where the discontinuity sequence's value goes in out_
  size_t after_ms_line_ = npos; ///< out_ just after the EXT-X-MEDIA-SEQUENCE line
  int64_t next_seq_ = 0;        ///< shifted media sequence number of the next segment
  bool segment_open_ = false;   ///< a tag of the coming segment was written
  bool inserted_disc_ = false;  ///< and it was our EXT-X-DISCONTINUITY
  bool disc_written_ = false;   ///< the coming segment has an EXT-X-DISCONTINUITY (any)
  bool first_segment_ = true;   ///< no URI line of a segment written yet
  bool seq_exhausted_ = false;  ///< a segment numbered 2^63-1 was written
  bool have_range_ = false;     ///< an EXT-X-BYTERANGE for the coming segment
  int64_t range_length_ = 0, range_offset_ = -1;
  std::string last_range_uri_; ///< the previous segment's URI when it was a sub-range
  int64_t last_range_end_ = 0; ///< and the byte after it
};

rewrite_result rewriter::run(std::string_view body) {
  rewrite_result r;
  if (body.size() > guard::max_bytes) {
    r.error = "playlist larger than 1 MiB";
    return r;
  }
  if (body.substr(0, 3) == "\xEF\xBB\xBF")
    body.remove_prefix(3);
  out_.reserve(body.size() * 2 + 256);

  const char* s = body.data();
  const size_t n = body.size();
  size_t pos = 0;
  bool ok = true;
  while (ok && pos < n) {
    if (++line_no_ > guard::max_lines) {
      ok = fail("playlist of more than 20000 lines");
      break;
    }
    size_t end = pos;
    while (end < n) {
      const auto b = static_cast<unsigned char>(s[end]);
      if (b >= 0x20 && b != 0x7f) {
        ++end;
        continue;
      }
      if (b == '\n' || (b == '\r' && (end + 1 == n || s[end + 1] == '\n')))
        break;
      if (b != '\t') {
        ok = fail("control character in playlist");
        break;
      }
      ++end;
    }
    if (!ok)
      break;
    const std::string_view l(s + pos, end - pos);
    pos = end;
    if (pos < n && s[pos] == '\r')
      ++pos;
    if (pos < n && s[pos] == '\n')
      ++pos;
    if (l.size() > max_line) {
      ok = fail("line longer than 8 KiB");
      break;
    }
    if (line_no_ == 1) {
      if (trim(l) != "#EXTM3U") {
        ok = fail("not an HLS playlist (no #EXTM3U)");
        break;
      }
      out_ += "#EXTM3U\n";
      continue;
    }
    ok = line(l);
  }
  if (ok && line_no_ == 0)
    ok = fail("not an HLS playlist (no #EXTM3U)");
  if (ok && in_header_)
    ok = finish_header(saw_media_);
  if (!ok) {
    r.error = std::move(error_);
    return r;
  }
  facts_.master = saw_master_;
  r.text = std::move(out_);
  r.facts = facts_;
  return r;
}

bool rewriter::line(std::string_view l) {
  if (l.substr(0, 4) == "#EXT")
    return tag_line(l);
  if (!l.empty() && l.front() == '#')
    return true; // a comment: left out
  const std::string_view uri = trim(l);
  if (uri.empty())
    return true;
  return uri_line(uri);
}

bool rewriter::finish_header(bool media) {
  in_header_ = false;
  media_ = media;
  int64_t ds = facts_.discontinuity_sequence;
  if (media) {
    int64_t first = 0;
    if (__builtin_add_overflow(facts_.media_sequence, opt_.media_sequence_offset, &first) ||
        first < 0)
      return fail("media sequence out of range after the offset");
    next_seq_ = first;
    // Ours has left the window: count it, unless it shared its segment with
    // the upstream's own, which the upstream's sequence counts already.
    const bool slid_out = opt_.discontinuity_before >= 0 && opt_.discontinuity_before < first &&
                          !opt_.discontinuity_shared;
    if (__builtin_add_overflow(ds, opt_.discontinuity_sequence_offset, &ds) ||
        __builtin_add_overflow(ds, slid_out ? 1 : 0, &ds) || ds < 0)
      return fail("discontinuity sequence out of range after the offset");
    if (!seen_ms_ && opt_.media_sequence_offset != 0) {
      out_ += "#EXT-X-MEDIA-SEQUENCE:";
      append_int(out_, first);
      out_ += '\n';
      after_ms_line_ = out_.size();
    }
  }
  facts_.discontinuity_sequence_out = ds;
  if (ds_value_at_ != npos) {
    std::string v;
    append_int(v, ds);
    out_.insert(ds_value_at_, v);
  } else if (ds != 0) {
    std::string t = "#EXT-X-DISCONTINUITY-SEQUENCE:";
    append_int(t, ds);
    t += '\n';
    out_.insert(after_ms_line_ != npos ? after_ms_line_ : out_.size(), t);
  }
  return true;
}

void rewriter::open_segment() {
  if (segment_open_ || !media_)
    return;
  segment_open_ = true;
  if (opt_.discontinuity_before >= 0 && next_seq_ == opt_.discontinuity_before) {
    out_ += "#EXT-X-DISCONTINUITY\n";
    inserted_disc_ = disc_written_ = true;
  }
}

bool rewriter::tag_line(std::string_view l) {
  const size_t colon = l.find(':');
  const std::string_view name = trim(l.substr(1, colon == npos ? npos : colon - 1));
  const std::string_view value = colon == npos ? std::string_view{} : l.substr(colon + 1);
  const tag_def& t = find_tag(name);

  if (t.flags & f_master)
    saw_master_ = true;
  if (t.flags & f_media)
    saw_media_ = true;
  if (saw_master_ && saw_media_)
    return fail("playlist mixes master and media playlist tags");
  if ((t.flags & f_variant) && ++variants_ > guard::max_variants)
    return fail("playlist naming more than 32 variants and renditions");
  if (in_header_ && !(t.flags & f_header) && !finish_header(!(t.flags & f_master)))
    return false;
  if (t.flags & f_segment)
    open_segment();

  switch (t.id) {
  case t_targetduration:
    if (seen_td_)
      return fail("EXT-X-TARGETDURATION appears twice");
    seen_td_ = true;
    if (!parse_duration(value, facts_.target_duration))
      return fail("malformed EXT-X-TARGETDURATION");
    break;
  case t_media_sequence:
    if (seen_ms_ || !in_header_)
      return fail("EXT-X-MEDIA-SEQUENCE twice or after a segment");
    seen_ms_ = true;
    if (!parse_sequence(value, facts_.media_sequence))
      return fail("malformed EXT-X-MEDIA-SEQUENCE");
    {
      int64_t shifted = 0;
      if (__builtin_add_overflow(facts_.media_sequence, opt_.media_sequence_offset, &shifted) ||
          shifted < 0)
        return fail("media sequence out of range after the offset");
      out_ += "#EXT-X-MEDIA-SEQUENCE:";
      append_int(out_, shifted);
      out_ += '\n';
      after_ms_line_ = out_.size();
    }
    return true;
  case t_discontinuity_sequence:
    if (seen_ds_ || !in_header_)
      return fail("EXT-X-DISCONTINUITY-SEQUENCE twice or after a segment");
    seen_ds_ = true;
    if (!parse_sequence(value, facts_.discontinuity_sequence))
      return fail("malformed EXT-X-DISCONTINUITY-SEQUENCE");
    out_ += "#EXT-X-DISCONTINUITY-SEQUENCE:";
    ds_value_at_ = out_.size(); // the value once the header is read
    out_ += '\n';
    return true;
  case t_extinf:
    if (!parse_duration(value.substr(0, value.find(',')), facts_.last_segment_duration))
      return fail("malformed EXTINF duration");
    break;
  case t_discontinuity:
    if (inserted_disc_)
      return true; // ours is already there
    disc_written_ = true;
    break;
  case t_skip: {
    int64_t skipped = -1;
    const bool ok = for_each_attr(value, [&](const attr& a) {
      if (a.name == "SKIPPED-SEGMENTS" &&
          !parse_sequence(value.substr(a.begin, a.end - a.begin), skipped))
        return false;
      return true;
    });
    if (!ok || skipped < 0 || __builtin_add_overflow(next_seq_, skipped, &next_seq_))
      return fail("malformed EXT-X-SKIP");
    break;
  }
  case t_endlist:
    facts_.endlist = true;
    break;
  case t_stream_inf:
    pending_variant_ = true;
    break;
  case t_byterange:
    if (!parse_byterange(value, range_length_, range_offset_))
      return fail("malformed EXT-X-BYTERANGE");
    have_range_ = true;
    return true; // not written: the segment's reference names exactly these bytes
  default:
    break;
  }

  switch (t.uri) {
  case uri_rule::none:
    // A tag that is not rewritten but may name a URL (an ad's X-ASSET-URI
    // in EXT-X-DATERANGE, EXT-X-DEFINE's IMPORT, an unknown tag's URI)
    // would show the viewer an upstream: it is left out. Structural tags
    // (EXT-X-STREAM-INF) stay whatever their attributes hold.
    if ((t.id == t_other || t.name == "EXT-X-DATERANGE" || t.name == "EXT-X-DEFINE") &&
        (l.find("://") != npos || l.find("URI=") != npos))
      return true;
    out_ += l;
    out_ += '\n';
    return true;
  case uri_rule::drop:
    return true;
  default:
    return rewrite_attrs(l, colon == npos ? l.size() : colon + 1, t);
  }
}

bool rewriter::rewrite_attrs(std::string_view l, size_t list_at, const tag_def& t) {
  const std::string_view list = l.substr(list_at);
  const bool key = t.uri == uri_rule::key;
  ref_kind kind = ref_kind::segment;
  switch (t.uri) {
  case uri_rule::playlist:
    kind = ref_kind::playlist;
    break;
  case uri_rule::key:
    kind = ref_kind::key;
    break;
  case uri_rule::map:
    kind = ref_kind::map;
    break;
  case uri_rule::preload_hint: {
    bool map = false;
    if (!for_each_attr(list, [&](const attr& a) {
          if (a.name == "TYPE")
            map = list.substr(a.begin, a.end - a.begin) == "MAP";
          return true;
        }))
      return fail("malformed attribute list in " + std::string{t.name});
    kind = map ? ref_kind::map : ref_kind::segment;
    break;
  }
  default:
    break;
  }
  // Byte ranges: a map's goes into its reference (the tag is written as
  // URI alone); a part or preload hint naming one is left out (players
  // fetch the whole segments).
  byte_range range;
  bool ranged = false, malformed = false;
  std::string_view uri;
  bool quoted_uri = true;
  if (!for_each_attr(list,
                     [&](const attr& a) {
                       const auto v = list.substr(a.begin, a.end - a.begin);
                       if (a.name == "URI") {
                         uri = v;
                         quoted_uri = a.quoted;
                       } else if (a.name == "BYTERANGE" || a.name == "BYTERANGE-START" ||
                                  a.name == "BYTERANGE-LENGTH") {
                         ranged = true;
                         int64_t length = 0, offset = 0;
                         if (t.uri == uri_rule::map && a.name == "BYTERANGE") {
                           if (!a.quoted || !parse_byterange(v, length, offset)) {
                             malformed = true;
                             return false;
                           }
                           range.first = std::max<int64_t>(offset, 0);
                           range.last = range.first + length - 1; // parse_byterange checked it fits
                         }
                       }
                       return true;
                     }) ||
      malformed)
    return fail("malformed attribute list in " + std::string{t.name});
  if (ranged && t.uri != uri_rule::map)
    return true;
  if (ranged) {
    if (uri.empty() || !quoted_uri)
      return fail("EXT-X-MAP without a quoted URI");
    out_ += "#EXT-X-MAP:URI=\"";
    if (!emit_url(uri, kind, false, true, t.name, range))
      return false;
    out_ += "\"\n";
    return true;
  }
  size_t copied = 0; // bytes of `list` written so far
  out_.append(l.data(), list_at);
  const bool ok = for_each_attr(list, [&](const attr& a) {
    if (a.name != "URI")
      return true;
    if (!a.quoted)
      return fail("unquoted URI in " + std::string{t.name});
    out_.append(list.data() + copied, a.begin - copied);
    copied = a.end;
    return emit_url(list.substr(a.begin, a.end - a.begin), kind, key, true, t.name);
  });
  if (!ok)
    return fail("malformed attribute list in " + std::string{t.name});
  out_.append(list.data() + copied, list.size() - copied);
  out_ += '\n';
  return true;
}

bool rewriter::uri_line(std::string_view uri) {
  if (in_header_ && !finish_header(true))
    return false;
  const bool variant = pending_variant_;
  pending_variant_ = false;
  if (!variant) {
    saw_media_ = true;
    if (saw_master_)
      return fail("playlist mixes master and media playlist tags");
    if (seq_exhausted_)
      return fail("media sequence out of range");
    open_segment();
  }
  byte_range range;
  if (!variant && have_range_) {
    // Without an offset, the range follows the previous segment's, which
    // must be a range of the same resource.
    int64_t first = range_offset_;
    if (first < 0 && !last_range_uri_.empty() && uri == last_range_uri_)
      first = last_range_end_;
    if (first < 0)
      return fail("EXT-X-BYTERANGE without an offset after another resource");
    if (__builtin_add_overflow(first, range_length_ - 1, &range.last) || range.last == INT64_MAX)
      return fail("EXT-X-BYTERANGE out of range");
    range.first = first;
    last_range_uri_.assign(uri);
    last_range_end_ = range.last + 1;
    have_range_ = false;
  } else if (!variant) {
    last_range_uri_.clear();
  }
  if (!emit_url(uri, variant ? ref_kind::playlist : ref_kind::segment, false, false, "URI line",
                range))
    return false;
  out_ += '\n';
  if (!variant) {
    ++facts_.segments;
    // Counted with the segment it belongs to (a tag after the last URI
    // line belongs to a segment not in the playlist yet).
    if (disc_written_)
      ++facts_.discontinuities_out;
    if (first_segment_ && disc_written_ && !inserted_disc_)
      facts_.first_segment_discontinuity = true;
    first_segment_ = false;
    segment_open_ = inserted_disc_ = disc_written_ = false;
    if (next_seq_ == INT64_MAX)
      seq_exhausted_ = true; // the last number there is: no segment may follow
    else
      ++next_seq_;
  }
  return true;
}

bool rewriter::emit_url(std::string_view ref, ref_kind kind, bool key, bool quoted,
                        std::string_view what, const byte_range& range) {
  if (key) {
    const std::string_view scheme = scheme_of(ref);
    if (ieq_ascii(scheme, "skd") || ieq_ascii(scheme, "data")) {
      out_ += ref;
      return true;
    }
  }
  std::string why;
  const auto u = net::resolve_reference(base_, ref, why);
  if (!u)
    return fail(std::string{what} + " is not an http(s) URL (" + why + ")");
  const std::string mapped = map_(*u, kind, range);
  if (mapped.empty() || (!quoted && mapped.front() == '#'))
    return fail("the mapped URL is empty or starts with '#'");
  for (char c : mapped) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f || c == '"')
      return fail("the mapped URL holds a quote or control character");
  }
  out_ += mapped;
  return true;
}

} // namespace

rewrite_result rewrite_playlist(std::string_view body, const net::url& base, const url_mapper& map,
                                const rewrite_options& opt) {
  try {
    return rewriter{base, map, opt}.run(body);
  } catch (const std::exception&) {
    rewrite_result r;
    r.error = "cannot rewrite the playlist (internal error)";
    return r;
  } catch (...) {
    rewrite_result r;
    r.error = "cannot rewrite the playlist (internal error)";
    return r;
  }
}

} // namespace hlsgate::proxy
