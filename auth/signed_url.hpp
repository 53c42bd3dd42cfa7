// Signed segment URLs in nginx's secure_link_md5 form:
//   md5 = base64url(MD5("{expires}{prefix}{handle} {secret}")), no padding
// nginx edge config: secure_link $arg_md5,$arg_expires;
//                    secure_link_md5 "$secure_link_expires$prefix$arg_r $secret";
// (see deploy/nginx.conf). One signature covers every file under `prefix`.
// `handle` is the revocation handle ("<gen>.<jti>", carried as `r=`): the
// signature covers it, so it cannot be swapped for another token's. With an
// empty handle the formula is nginx's documented one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hlsgate::auth {

enum class signature_check { ok, bad, expired };

/// When segment URLs signed now stop working: the token's own expiry (0 =
/// none) or the media's deadline, whichever comes first, rounded up to a
/// multiple of `bucket` seconds so that every playlist rendered within one
/// bucket carries the same URLs (cacheable; players that compare URIs across
/// reloads, such as GStreamer, see no change).
int64_t bucketed_expiry(int64_t token_exp, int64_t deadline, int64_t bucket) noexcept;

class url_signer {
public:
  explicit url_signer(std::string secret);

  /// The 22-char md5 value for `prefix` (+ `handle`) valid until `expires`
  /// (unix seconds).
  std::string sign(std::string_view prefix, int64_t expires, std::string_view handle = {}) const;

  /// Appends "md5=<sig>&expires=<expires>" (and "&r=<handle>" when there is
  /// one) to `out`. `handle` must be URL-safe as it is.
  void append_query(std::string_view prefix, int64_t expires, std::string_view handle,
                    std::string& out) const;
  void append_query(std::string_view prefix, int64_t expires, std::string& out) const {
    append_query(prefix, expires, {}, out);
  }

  /// Stateless check; `md5`, `expires` and `handle` are the raw query values.
  /// A bad or missing value is `bad`; a valid signature past `now` is `expired`.
  signature_check verify(std::string_view prefix, std::string_view md5, std::string_view expires,
                         std::string_view handle, int64_t now) const;
  signature_check verify(std::string_view prefix, std::string_view md5, std::string_view expires,
                         int64_t now) const {
    return verify(prefix, md5, expires, {}, now);
  }

  const std::string& secret() const noexcept { return secret_; }

private:
  std::string secret_;
};

} // namespace hlsgate::auth
