// A small HLS playlist model (RFC 8216) and its writers. Playlists are
// rendered from this model per request, with per-response signed query
// strings, never copied from files a muxer wrote.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hlsgate::media {

struct segment_entry {
  std::string uri;     ///< relative name, e.g. "seg_00000.ts"
  double duration = 0; ///< seconds, as written in EXTINF
  uint64_t bytes = 0;  ///< size on disk
};

enum class playlist_type { none, event, vod };

struct media_playlist {
  int version = 3;
  playlist_type type = playlist_type::vod;
  bool independent_segments = true;
  bool ended = true; ///< write EXT-X-ENDLIST
  uint64_t media_sequence = 0;
  std::vector<segment_entry> segments;

  /// A floor for the target duration: an EVENT playlist's target must not
  /// change as it grows (RFC 8216 §6.2.1), so it starts at what the segmenter
  /// aims for.
  int min_target_duration = 0;

  /// EXT-X-TARGETDURATION: the smallest integer ≥ every EXTINF as written
  /// (stricter than RFC 8216 §4.3.3.1's rounding), at least
  /// min_target_duration and 1.
  int target_duration() const;
};

struct variant_entry {
  std::string uri;        ///< e.g. "v0/playlist.m3u8"
  uint64_t bandwidth = 0; ///< peak bits/s
  uint64_t average_bandwidth = 0;
  std::string codecs;          ///< e.g. "avc1.640028,mp4a.40.2"
  int width = 0, height = 0;   ///< 0 for audio-only
  double frame_rate = 0;       ///< 0 for audio-only
  std::string audio_group;     ///< AUDIO: an EXT-X-MEDIA group, or ""
  std::string subtitles_group; ///< SUBTITLES: an EXT-X-MEDIA group, or ""
};

/// An EXT-X-MEDIA rendition (RFC 8216 §4.3.4.1): an alternate audio track
/// or a subtitle track, in a group the variants name.
struct media_entry {
  enum class kind { audio, subtitles };
  kind type = kind::subtitles;
  std::string group_id; ///< "aud" or "subs"
  std::string name;     ///< NAME: unique in its group
  std::string language; ///< LANGUAGE (RFC 5646 tag) or ""
  bool is_default = false;
  bool autoselect = true;
  bool forced = false;  ///< FORCED (subtitles only)
  std::string uri;      ///< e.g. "s0/playlist.m3u8"
  std::string channels; ///< CHANNELS (audio only), e.g. "2"; "" to leave out
};

struct master_playlist {
  int version = 3;
  bool independent_segments = true;
  std::vector<media_entry> media;
  std::vector<variant_entry> variants;
};

/// Writes `pl` to `out` (appending). Each segment URI is written as
/// `uri_prefix + segment.uri + uri_suffix`; pass the signed query string
/// (e.g. "?md5=..&expires=..") as `uri_suffix`.
void write_playlist(const media_playlist& pl, std::string_view uri_prefix,
                    std::string_view uri_suffix, std::string& out);

/// Same for master playlists; each variant URI is `uri_prefix + uri + uri_suffix`.
void write_playlist(const master_playlist& pl, std::string_view uri_prefix,
                    std::string_view uri_suffix, std::string& out);

} // namespace hlsgate::media
