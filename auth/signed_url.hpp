// Signed segment URLs in nginx's secure_link_md5 form:
//   md5 = base64url(MD5("{expires}{prefix} {secret}")), no padding
// nginx edge config: secure_link $arg_md5,$arg_expires;
//                    secure_link_md5 "$secure_link_expires$prefix $secret";
// (see deploy/nginx.conf). One signature covers every file under `prefix`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hlsgate::auth {

enum class signature_check { ok, bad, expired };

class url_signer {
public:
  explicit url_signer(std::string secret);

  /// The 22-char md5 value for `prefix` valid until `expires` (unix seconds).
  std::string sign(std::string_view prefix, int64_t expires) const;

  /// Appends "md5=<sig>&expires=<expires>" to `out`.
  void append_query(std::string_view prefix, int64_t expires, std::string& out) const;

  /// Stateless check; `md5` and `expires` are the raw query values.
  /// A bad or missing value is `bad`; a valid signature past `now` is `expired`.
  signature_check verify(std::string_view prefix, std::string_view md5, std::string_view expires,
                         int64_t now) const;

  const std::string& secret() const noexcept { return secret_; }

private:
  std::string secret_;
};

} // namespace hlsgate::auth
