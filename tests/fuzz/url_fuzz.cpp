// net::parse_url on arbitrary text, and the same text as a reference (a
// redirect's Location, a playlist entry) resolved against a base URL.
// Invariants: an accepted URL has a host, a port, a target starting with
// '/', no byte outside printable ASCII, and parsing its own rendering gives
// the same URL; an IP host always classifies.
#include "net/address_policy.hpp"
#include "net/url.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate::net;

namespace {

void check(const std::optional<url>& u, const std::string& why) {
  if (!u) {
    if (why.empty())
      hlsgate::fuzz::fail();
    return;
  }
  if (u->host.empty() || u->port == 0 || u->target.empty() || u->target[0] != '/')
    hlsgate::fuzz::fail();
  for (char c : u->target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      hlsgate::fuzz::fail();
  const std::string again = u->text();
  std::string why2;
  auto v = parse_url(again, why2);
  if (!v || v->host != u->host || v->port != u->port || v->target != u->target ||
      v->tls != u->tls || v->host_is_ip != u->host_is_ip)
    hlsgate::fuzz::fail();
  if (u->host_is_ip) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(u->host, ec);
    if (ec)
      hlsgate::fuzz::fail();
    (void)allowed(a, false);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  check(parse_url(text, why), why);
  static const url base = [] {
    std::string w;
    return *parse_url("https://cdn.example:8443/live/a/index.m3u8?token=x", w);
  }();
  std::string why_ref;
  check(resolve_reference(base, text, why_ref), why_ref);
  return 0;
}
