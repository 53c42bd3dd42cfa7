// auth::jwt_codec::verify on arbitrary tokens. Invariant: a token accepted
// by verify re-verifies identically, and a token we issue always verifies.
#include "auth/jwt.hpp"

#include <cstdint>
#include <string>

using namespace hlsgate::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const jwt_codec codec("fuzz-secret-0123456789abcdef0123456789");
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  const int64_t now = 1700000000;
  token_claims claims;
  token_error err{};
  if (codec.verify(token, now, claims, err)) {
    if (claims.exp < now)
      __builtin_trap();
    const std::string again = codec.issue(claims);
    token_claims back;
    if (!codec.verify(again, now, back, err) || back.sub != claims.sub || back.gen != claims.gen)
      __builtin_trap();
  }
  return 0;
}
