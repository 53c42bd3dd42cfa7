// JWT HS256 (RFC 7519 / RFC 7515) with the algorithm pinned: tokens whose
// header says anything but {"alg":"HS256"} ("none" included) are rejected.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/crypto.hpp"

namespace hlsgate::auth {

struct token_claims {
  std::string sub;  ///< media (public) id
  uint64_t gen = 0; ///< token generation of the media; refresh bumps it
  std::string jti;  ///< token id (revocable one by one); empty in tokens issued before jti
  int64_t iat = 0;  ///< issued at, unix seconds
  /// Expires at, unix seconds; 0 = no `exp` claim: the token lives as long
  /// as its media (whose deadline is checked when the token is used).
  int64_t exp = 0;
  std::string typ = "access";
};

enum class token_error {
  malformed,     ///< not three base64url parts / bad JSON / missing claims
  bad_algorithm, ///< alg is not HS256 (includes "none")
  bad_signature,
  expired,
  wrong_type,    ///< header typ is not "JWT" or the claim typ is not "access"
  not_yet_valid, ///< iat lies in the future beyond the allowed clock skew
};

/// Clock skew tolerated for `iat` (seconds): a token issued further in the
/// future than this was not issued by a clock we trust.
inline constexpr int64_t max_clock_skew_seconds = 60;

/// Short machine-readable name, used as a metrics label and in logs.
const char* to_string(token_error e) noexcept;

class jwt_codec {
public:
  explicit jwt_codec(std::string_view secret);

  /// Encodes and signs `claims` (header {"alg":"HS256","typ":"JWT"}).
  std::string issue(const token_claims& claims) const;

  /// Verifies, in this order: the form (three canonical base64url parts, no
  /// padding), the algorithm (HS256 only) and header type ("JWT" when
  /// present), the signature, the claims and their types (`typ` must be
  /// "access"), `iat` (at most max_clock_skew_seconds after `now`) and
  /// expiry against `now` (unix seconds).
  /// Returns false and sets `err` on failure; fills `out` on success.
  bool verify(std::string_view token, int64_t now, token_claims& out, token_error& err) const;

private:
  hmac_sha256 mac_;
};

} // namespace hlsgate::auth
