// The stream proxy's pure parts (proxy/): an upstream playlist rewritten
// with a mapper that returns a fixed string, and the same bytes as an opaque
// reference. Invariants: a playlist is either refused (no text, a reason)
// or rewritten into LF-terminated lines starting with #EXTM3U, with no
// control character but tab; rewriting the result again gives the same
// text (or refuses a line the mapped URLs made longer than 8 KiB); the
// rewrite options add at most one EXT-X-DISCONTINUITY. A reference that
// opens seals back to exactly the same text; a payload made from the input
// seals and opens back to itself. Input: the playlist, then (after a 0xFF
// byte) three bytes of rewrite options; all of it as a reference.
#include <string>

#include "proxy/reference.hpp"
#include "proxy/rewrite.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate;

namespace {

const net::url& base() {
  static const net::url u = [] {
    std::string why;
    return *net::parse_url("https://up.example:8443/live/ch1/index.m3u8?tok=1", why);
  }();
  return u;
}

const proxy::url_mapper& mapper() {
  static const proxy::url_mapper m = [](const net::url&, proxy::ref_kind k,
                                        const proxy::byte_range& r) {
    if (!r.whole() && (r.last < r.first || k == proxy::ref_kind::playlist))
      fuzz::fail(); // a range is well formed, and only for segments and maps
    return "/p/" + std::string{proxy::to_string(k)} + "?r=x";
  };
  return m;
}

void check(const proxy::rewrite_result& r) {
  if (r.error.empty() == r.text.empty())
    fuzz::fail();
  if (!r.error.empty())
    return;
  if (r.text.compare(0, 8, "#EXTM3U\n") != 0 || r.text.back() != '\n')
    fuzz::fail();
  // Ranges live in the references (another tag may start with the name).
  if (r.text.find("\n#EXT-X-BYTERANGE:") != std::string::npos ||
      r.text.find("\n#EXT-X-BYTERANGE\n") != std::string::npos)
    fuzz::fail();
  for (char c : r.text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && c != '\n' && c != '\t') || b == 0x7f)
      fuzz::fail();
  }
}

size_t count_lines(const std::string& text, std::string_view line) {
  size_t n = 0;
  for (size_t at = text.find(line); at != std::string::npos; at = text.find(line, at + 1))
    if (at == 0 || text[at - 1] == '\n')
      ++n;
  return n;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // The playlist, then (after a 0xFF byte) three bytes of rewrite options.
  const auto f = fuzz::fields(data, size, 2);
  const std::string_view body = f[0], opts = f[1];

  const auto plain = proxy::rewrite_playlist(body, base(), mapper());
  check(plain);
  if (plain.error.empty()) {
    const auto again = proxy::rewrite_playlist(plain.text, base(), mapper());
    if (again.error.empty() ? again.text != plain.text
                            : again.error.find("longer than 8 KiB") == std::string::npos &&
                                  again.error.find("larger than 1 MiB") == std::string::npos)
      fuzz::fail();
  }

  if (opts.size() >= 3) {
    const auto* b = reinterpret_cast<const uint8_t*>(opts.data());
    proxy::rewrite_options o;
    o.media_sequence_offset = static_cast<int64_t>(b[0]) - 128;
    o.discontinuity_sequence_offset = b[1] & 7;
    o.discontinuity_before = static_cast<int64_t>(b[2]) - 1;
    const auto shifted = proxy::rewrite_playlist(body, base(), mapper(), o);
    check(shifted);
    if (plain.error.empty() && shifted.error.empty() &&
        count_lines(shifted.text, "#EXT-X-DISCONTINUITY\n") >
            count_lines(plain.text, "#EXT-X-DISCONTINUITY\n") + 1)
      fuzz::fail();
  }

  static const proxy::reference_codec codec{std::string(32, 'f')};
  proxy::ref_payload p;
  if (codec.open("s", in, 0, p) && codec.seal("s", p) != in)
    fuzz::fail(); // only what seal() wrote opens, and it is canonical

  p.kind = static_cast<proxy::ref_kind>(size % 4);
  p.expires = static_cast<int64_t>(size) + 1;
  p.client = std::string{in.substr(0, proxy::reference_codec::max_client)};
  p.url = std::string{in.substr(0, proxy::reference_codec::max_url)};
  const std::string stream{in.substr(0, in.find('\0') == std::string_view::npos ? 16 : 0)};
  const std::string ref = codec.seal(stream, p);
  proxy::ref_payload back;
  if (!codec.open(stream, ref, 0, back) || back.kind != p.kind || back.expires != p.expires ||
      back.client != p.client || back.url != p.url || codec.open(stream + "x", ref, 0, back))
    fuzz::fail();
  return 0;
}
