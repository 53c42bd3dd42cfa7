// Rewriting an upstream HLS playlist for the stream proxy: every URL in it
// (URI lines and the URI="..." attributes of EXT-X-MEDIA, EXT-X-KEY,
// EXT-X-MAP, EXT-X-PART, ...) is resolved against the playlist's own URL and
// replaced by the text a mapper returns (a local, signed URL), so a viewer
// never names an upstream URL itself. The body is bounded as
// live::playlist_guard bounds a pulled one, read in a single pass, and
// refused whole when anything in it cannot be rewritten safely. Media
// playlists can have their sequence numbers shifted and a discontinuity
// inserted (an upstream failover). Pure: no I/O, no exceptions escape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/url.hpp"

namespace hlsgate::proxy {

/// What an upstream URL names; a proxied reference carries it.
enum class ref_kind : uint8_t { playlist = 0, segment = 1, key = 2, map = 3 };
/// "playlist", "segment", "key", "map" ("" for a value outside the enum).
std::string_view to_string(ref_kind k);

struct rewrite_options {
  /// Added to EXT-X-MEDIA-SEQUENCE (media playlists; the tag is inserted
  /// after the header when absent and the offset is not 0).
  int64_t media_sequence_offset = 0;
  /// Added to EXT-X-DISCONTINUITY-SEQUENCE (the tag is inserted after
  /// EXT-X-MEDIA-SEQUENCE, or before the first segment, when absent and the
  /// result is not 0).
  int64_t discontinuity_sequence_offset = 0;
  /// Shifted media sequence number of a segment that must be preceded by
  /// EXT-X-DISCONTINUITY (a failover happened there). When it is below the
  /// playlist's first shifted sequence number the discontinuity has slid out
  /// of the window: the discontinuity sequence gets 1 more instead. An
  /// upstream EXT-X-DISCONTINUITY on that segment is not doubled. -1: none.
  int64_t discontinuity_before = -1;
  /// The segment at discontinuity_before has the upstream's own
  /// EXT-X-DISCONTINUITY (playlist_facts::first_segment_discontinuity when
  /// the switch happened): once it slides out, the upstream's discontinuity
  /// sequence counts it, and it is not counted twice.
  bool discontinuity_shared = false;
};

struct playlist_facts {
  bool master = false; ///< a master playlist tag seen (EXT-X-STREAM-INF, EXT-X-MEDIA, ...)
  bool endlist = false;
  double target_duration = 0;
  int64_t media_sequence = 0; ///< as upstream wrote it (0 when absent)
  int64_t discontinuity_sequence = 0;
  /// As written: after the offset, plus 1 when the inserted discontinuity has slid out.
  int64_t discontinuity_sequence_out = 0;
  /// EXT-X-DISCONTINUITY tags written (the inserted one too): the last
  /// segment's discontinuity sequence number is discontinuity_sequence_out + this.
  int64_t discontinuities_out = 0;
  /// The first segment carries the upstream's own EXT-X-DISCONTINUITY.
  bool first_segment_discontinuity = false;
  size_t segments = 0; ///< URI lines of a media playlist
  double last_segment_duration = 0;
};

/// The bytes of an upstream resource a URL stands for: [first, last], both
/// included; first -1: the whole resource.
struct byte_range {
  int64_t first = -1, last = -1;
  bool whole() const { return first < 0; }
};

/// Maps an absolute upstream URL of kind `kind` to the exact text written in
/// its place (the caller builds a local signed URL). `range` is the part of
/// the resource it names (a segment's EXT-X-BYTERANGE, a map's BYTERANGE):
/// the playlist written names whole resources only, so the local URL must
/// stand for exactly those bytes. Called once per URL; must not throw (an
/// exception fails the whole playlist). The text must hold no '"', control
/// character or line break.
using url_mapper =
    std::function<std::string(const net::url& absolute, ref_kind kind, const byte_range& range)>;

struct rewrite_result {
  std::string text; ///< the rewritten playlist, LF line endings ("" on error)
  playlist_facts facts;
  std::string error; ///< "" on success; else a short reason (never upstream bytes)
};

/// Rewrites `body`, the playlist fetched from `base`. Comment lines (a '#'
/// not followed by "EXT") and blank lines are left out; a UTF-8 BOM is
/// dropped; other tags are kept byte for byte except their URI values.
/// EXT-X-BYTERANGE lines go (their range goes to the mapper), EXT-X-MAP is
/// written as URI alone, and parts and preload hints with byte ranges are
/// left out (players fetch the whole segments).
/// Keys with an `skd:` or `data:` URI are kept as they are.
rewrite_result rewrite_playlist(std::string_view body, const net::url& base, const url_mapper& map,
                                const rewrite_options& opt = {});

} // namespace hlsgate::proxy
