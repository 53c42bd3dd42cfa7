// The body of a playlist a pulled channel reads, judged as it arrives. The
// HLS demuxer keeps every entry of a playlist in memory (its URL resolved
// to an absolute one, up to 4 KiB each) and fetches every variant it names
// when it opens, so an upstream's playlist is bounded in bytes, lines and
// variants before libav sees it. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hlsgate::live {

/// Whether a pulled body that starts with `first` is an MPEG-TS stream (its
/// sync byte), read without a size limit; anything else is a playlist.
constexpr bool starts_mpegts(uint8_t first) {
  return first == 0x47;
}

class playlist_guard {
public:
  static constexpr size_t max_bytes = 1u << 20;
  static constexpr size_t max_lines = 20000;
  static constexpr size_t max_variants = 32; ///< EXT-X-STREAM-INF, EXT-X-MEDIA, I-frame playlists

  /// Takes the next bytes of the body: "" while it stays within the bounds,
  /// else why not (and from then on).
  std::string feed(std::string_view bytes);

private:
  size_t bytes_ = 0, lines_ = 0, variants_ = 0;
  std::string head_; ///< the first bytes of the line being read
  std::string refused_;
};

} // namespace hlsgate::live
