// auth::url_signer::verify with a fuzzed prefix, md5, expires and clock.
// Invariant: only a signature made by sign() for that prefix verifies.
#include "auth/signed_url.hpp"
#include "tests/fuzz/fuzz_input.hpp"

#include <charconv>

using namespace hlsgate::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const url_signer signer("fuzz-edge-secret");
  auto f = hlsgate::fuzz::fields(data, size, 4);
  int64_t now = 0;
  std::from_chars(f[3].data(), f[3].data() + f[3].size(), now);
  const auto verdict = signer.verify(f[0], f[1], f[2], now);
  if (verdict != signature_check::bad) {
    int64_t exp = 0;
    auto r = std::from_chars(f[2].data(), f[2].data() + f[2].size(), exp);
    if (r.ec != std::errc{} || signer.sign(f[0], exp) != f[1])
      __builtin_trap(); // accepted something sign() did not produce
  }
  return 0;
}
