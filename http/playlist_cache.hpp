// Rendered media playlists, cached per thread, plain and gzipped.
//
// A media playlist's bytes depend only on the item's playlist snapshot (an
// immutable object, replaced when the item changes), the rendition, and the
// signature query (expiry bucket and revocation handle): so a 1,800-segment
// playlist is rendered (and compressed) once per thread and bucket, not per
// request. The rendering runs where the item's grant completes (a CAF
// worker thread, in the media actor's context); each thread keeps a small
// LRU of its own: no lock on the hot path; an entry holds its snapshot alive, so a key can never be
// confused with a later object at the same address.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace hlsgate::http {

struct rendered_playlist {
  std::shared_ptr<const std::string> plain;
  /// Made on the first request that accepts it; null if zlib failed (serve plain).
  std::shared_ptr<const std::string> gzip;
};

/// The cached rendering of (`snapshot`, `rendition`, `query`), or `render()`'s
/// result, cached. With `want_gzip`, `gzip` is filled too (unless zlib
/// fails). An exception from `render()` propagates and caches nothing.
rendered_playlist cached_playlist(const std::shared_ptr<const void>& snapshot, size_t rendition,
                                  std::string_view query, bool want_gzip,
                                  const std::function<std::string()>& render);

/// gzip (RFC 1952) of `data`.
std::string gzip_compress(std::string_view data);

/// Whether an Accept-Encoding value (RFC 9110 §12.5.3) accepts gzip: "gzip"
/// or "x-gzip" or "*" with a non-zero q, unless gzip itself has q=0.
bool accepts_gzip(std::string_view accept_encoding);

} // namespace hlsgate::http
