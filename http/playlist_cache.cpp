#include "http/playlist_cache.hpp"

#include <zlib.h>

#include <array>
#include <stdexcept>

#include "http/text.hpp"

namespace hlsgate::http {

namespace {

constexpr size_t cache_entries = 32; // per thread

struct entry {
  std::shared_ptr<const void> snapshot;
  size_t rendition = 0;
  std::string query;
  rendered_playlist body;
  uint64_t used = 0;
};

struct thread_cache {
  std::array<entry, cache_entries> entries;
  uint64_t clock = 0;
};

/// q-value of a coding's parameters ("q=0.5"); 1 when absent.
double q_value(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view p = text::trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      p.remove_prefix(2);
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
      if (p.empty() || (p[0] != '0' && p[0] != '1'))
        return 0;
      if (p[0] == '1')
        return 1;
      for (char c : p.substr(1))
        if (c != '.' && c != '0')
          return 0.5; // some positive value below 1
      return 0;
    }
  }
  return 1;
}

/// The gzip of a rendered playlist, or null when zlib fails (the playlist
/// is then served plain: compression is an optimisation, never a 500).
std::shared_ptr<const std::string> compressed(const std::string& plain) {
  try {
    return std::make_shared<const std::string>(gzip_compress(plain));
  } catch (const std::exception&) {
    return nullptr;
  }
}

} // namespace

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper; level 6 (zlib's default).
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END)
    throw std::runtime_error("zlib: deflate failed");
  out.resize(written);
  out.shrink_to_fit(); // cached: deflateBound over-reserves by about the input's size
  return out;
}

bool accepts_gzip(std::string_view header) {
  bool gzip_listed = false, gzip_ok = false, any_ok = false;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = text::trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const size_t semi = item.find(';');
    const std::string_view coding = text::trim(item.substr(0, semi));
    const double q =
        q_value(semi == std::string_view::npos ? std::string_view{} : item.substr(semi + 1));
    if (text::iequals(coding, "gzip") || text::iequals(coding, "x-gzip")) {
      gzip_listed = true;
      gzip_ok = gzip_ok || q > 0;
    } else if (coding == "*") {
      any_ok = q > 0;
    }
  }
  return gzip_listed ? gzip_ok : any_ok;
}

rendered_playlist cached_playlist(const std::shared_ptr<const void>& snapshot, size_t rendition,
                                  std::string_view query, bool want_gzip,
                                  const std::function<std::string()>& render) {
  thread_local thread_cache cache;
  ++cache.clock;
  entry* victim = &cache.entries[0];
  for (auto& e : cache.entries) {
    if (e.snapshot == snapshot && e.rendition == rendition && e.query == query) {
      e.used = cache.clock;
      if (want_gzip && !e.body.gzip)
        e.body.gzip = compressed(*e.body.plain);
      return e.body;
    }
    if (e.used < victim->used)
      victim = &e;
  }
  // Built aside and stored only once complete: a render() that throws
  // leaves the cache as it was (never a stale body under the new key).
  entry fresh;
  fresh.body.plain = std::make_shared<const std::string>(render());
  if (want_gzip)
    fresh.body.gzip = compressed(*fresh.body.plain);
  fresh.snapshot = snapshot;
  fresh.rendition = rendition;
  fresh.query.assign(query);
  fresh.used = cache.clock;
  *victim = std::move(fresh);
  return victim->body;
}

} // namespace hlsgate::http
