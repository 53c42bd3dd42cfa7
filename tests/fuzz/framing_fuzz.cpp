// check_framing over fuzzed Transfer-Encoding / Content-Length field lists.
// Invariants: ok with a Transfer-Encoding means exactly one "chunked" on
// HTTP/1.1 and no Content-Length; ok with a Content-Length means one
// all-digit value.
#include "http/framing.hpp"
#include "http/text.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hlsgate::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = hlsgate::fuzz::fields(data, size, 6);
  const int version = !f[0].empty() && (f[0][0] & 1) ? 10 : 11;
  std::vector<std::string_view> te, cl;
  const unsigned nte = f[0].size() > 1 ? static_cast<unsigned char>(f[0][1]) % 3 : 0;
  const unsigned ncl = f[0].size() > 2 ? static_cast<unsigned char>(f[0][2]) % 3 : 0;
  for (unsigned i = 0; i < nte; ++i)
    te.push_back(f[1 + i]);
  for (unsigned i = 0; i < ncl; ++i)
    cl.push_back(f[3 + i]);
  const framing_verdict v = check_framing(version, te, cl);
  if (v != framing_verdict::ok)
    return 0;
  if (!te.empty() && (version != 11 || te.size() != 1 || !cl.empty() ||
                      !text::iequals(text::trim(te[0]), "chunked")))
    __builtin_trap();
  if (!cl.empty()) {
    if (cl.size() != 1)
      __builtin_trap();
    for (char c : text::trim(cl[0]))
      if (c < '0' || c > '9')
        __builtin_trap();
  }
  return 0;
}
