// Which files media/ may read as a source. Every libav input open of
// hlsgate_media (probe, transcode, thumbnails) goes through one function
// (media/source.cpp) that enforces, for every policy:
//  - the path is opened by us, read-only, refusing a symbolic link as its
//    last component; only a regular file or a FIFO is read;
//  - libav reads only that descriptor, through our own I/O context: it never
//    opens a file or URL itself, and every nested open a demuxer attempts
//    (a playlist entry, a reference, a segment) is refused;
//  - only plain single-file audio/video containers are demuxed (MP4/MOV,
//    Matroska/WebM, MPEG-TS/PS, AVI, FLV, ASF, MP3, AAC, WAV, Ogg, FLAC, raw
//    H.264/HEVC, ...): never HLS, DASH, concat lists, image sequences or any
//    other demuxer that references other resources.
// What a refusal returns: errc::unsupported_media with a short, path-free reason.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "media/test_pattern.hpp"

namespace hlsgate::media {

/// What kind of input a job reads.
enum class source_kind {
  file,         ///< a file on disk, under the rules above
  test_pattern, ///< hlsgate's own generated test signal (live channels): the
                ///< input path is ignored; libav's lavfi device runs a filter
                ///< graph that hlsgate writes itself (test_pattern_graph), in
                ///< real time and without end
  live_url,     ///< a live stream at a URL hlsgate built itself from its own
                ///< configuration (rtmp:// of its nginx-rtmp application):
                ///< read with the rtmp and tcp protocols and the FLV demuxer
                ///< only; nested opens refused
  stream,       ///< MPEG-TS a publisher pushes to hlsgate (SRT): bytes from
                ///< a stream_reader, the MPEG-TS demuxer only, nothing opened
  pull,         ///< an HLS playlist or a continuous MPEG-TS stream at a URL a
                ///< user gave: every URL (the source, and each playlist,
                ///< segment or key the HLS demuxer names) is opened by the
                ///< policy's url_opener, which decides what may be fetched;
                ///< only the HLS and MPEG-TS demuxers run, and libav opens
                ///< nothing itself
};

/// A live byte stream hlsgate reads (an SRT publisher's connection). Read
/// on the ingest's thread only.
class stream_reader {
public:
  virtual ~stream_reader() = default;
  /// Up to `size` bytes into `buf`: how many, 0 at the end of the stream, or
  /// a negative AVERROR (a stall, a lost connection). Returns within about a
  /// second of `cancel` (watch) becoming true.
  virtual int read(uint8_t* buf, int size) = 0;
  /// Where the bytes come from after redirects (readers of a URL), else "".
  virtual std::string location() const { return {}; }
  /// The flag that stops a blocked read: the ingest session's cancel flag.
  void watch(std::shared_ptr<std::atomic<bool>> cancel) { cancel_ = std::move(cancel); }

protected:
  bool cancelled() const noexcept { return cancel_ && cancel_->load(); }

private:
  std::shared_ptr<std::atomic<bool>> cancel_;
};

/// Opens the URLs of a pulled source (source_kind::pull). Called on the
/// ingest's thread.
class url_opener {
public:
  virtual ~url_opener() = default;
  /// A reader of the body of `url` (bytes `first`..`last` when first >= 0;
  /// last -1 = to the end), or null with a short reason in `why`. `nested`:
  /// the HLS demuxer asks (a playlist, segment or key), not the channel.
  virtual std::shared_ptr<stream_reader> open(const std::string& url, int64_t first, int64_t last,
                                              bool nested, std::string& why) = 0;
  /// True once the ingest is told to stop: libav's waits give way.
  virtual bool cancelled() const = 0;
  /// Why the last open or read of one of its URLs failed ("" if none did).
  virtual std::string last_failure() const = 0;
};

struct open_policy {
  /// An absolute directory the opened file must lie in, judged from the
  /// descriptor actually opened (every symbolic link of the parents
  /// resolved, at open time); empty = anywhere. A later network source gets
  /// a policy of its own.
  std::string confine_root;
  /// Whether a FIFO is acceptable. Only for files hlsgate itself placed (an
  /// upload's original); never for a user's library or an upload, where a
  /// FIFO could hold a thread forever.
  bool allow_fifo = false;
  source_kind kind = source_kind::file;
  /// source_kind::test_pattern: its size and rate.
  test_pattern pattern;
  /// source_kind::live_url and pull: the URL (the input path is ignored).
  std::string url;
  /// source_kind::stream: where the bytes come from.
  std::shared_ptr<stream_reader> stream;
  /// source_kind::pull: what opens `url` and everything it names.
  std::shared_ptr<url_opener> opener;
};

/// The policy of files under `root` (no FIFO).
inline open_policy confined_to(std::string root) {
  open_policy p;
  p.confine_root = std::move(root);
  return p;
}

} // namespace hlsgate::media
