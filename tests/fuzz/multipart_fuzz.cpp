// The streaming multipart parser: field 0 is a Content-Type, field 1 the
// body, fed in pieces whose sizes come from field 2. Invariants: the parser
// never reports more part data than it was given, and it ends done or failed.
#include "http/multipart.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = hlsgate::fuzz::fields(data, size, 3);
  std::string boundary;
  if (!multipart_parser::boundary_from_content_type(f[0], boundary))
    boundary = "b";
  size_t emitted = 0;
  multipart_parser::callbacks cb;
  cb.on_part_begin = [](const multipart_part& p) { return p.name.size() < 1000000; };
  cb.on_part_data = [&emitted](std::string_view d) {
    emitted += d.size();
    return true;
  };
  multipart_parser p(boundary, std::move(cb));
  std::string_view body = f[1];
  size_t i = 0;
  while (!body.empty()) {
    size_t n = f[2].empty() ? body.size() : 1 + static_cast<unsigned char>(f[2][i++ % f[2].size()]);
    n = std::min(n, body.size());
    if (!p.feed(body.substr(0, n)))
      break;
    body.remove_prefix(n);
  }
  const bool ok = p.finish();
  if (emitted > f[1].size())
    hlsgate::fuzz::fail();
  if (ok != p.done())
    hlsgate::fuzz::fail();
  return 0;
}
