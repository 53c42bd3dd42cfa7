// Percent-decoding, query parameters, route patterns and Accept-Encoding.
// Invariants: a successful decode never yields NUL and is never longer than
// its input; a matched {id}/{rendition}/{name} never contains '/', '\\' or
// ".."; gzip is never accepted from a header naming neither gzip nor "*".
#include <algorithm>
#include <cctype>

#include "http/playlist_cache.hpp"
#include "http/query.hpp"
#include "http/routes.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate::http;

namespace {
bool unsafe(std::string_view s) {
  return s.find('/') != std::string_view::npos || s.find('\\') != std::string_view::npos ||
         s.find("..") != std::string_view::npos || s.find('\0') != std::string_view::npos;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = hlsgate::fuzz::fields(data, size, 2);
  for (bool plus : {false, true}) {
    std::string out;
    if (query::percent_decode(f[0], out, plus) &&
        (out.find('\0') != std::string::npos || out.size() > f[0].size()))
      __builtin_trap();
  }
  std::string lower(f[1]);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (accepts_gzip(f[1]) && lower.find("gzip") == std::string::npos &&
      lower.find('*') == std::string::npos)
    __builtin_trap();
  std::string v;
  query::param(f[0], f[1], v);
  std::string_view raw;
  query::raw_value(f[0], f[1], raw);
  std::string path;
  if (!query::percent_decode(f[0], path, false))
    return 0;
  route_params p;
  for (const char* pattern : {"/stream/{id}/{rendition}/{name}", "/stream/{id}/{playlist}",
                              "/media/{id}/info", "/upload"}) {
    if (match_pattern(pattern, path, p) && (unsafe(p.id) || unsafe(p.rendition) || unsafe(p.name)))
      __builtin_trap();
  }
  return 0;
}
