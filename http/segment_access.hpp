// Whether a signed segment URL may be served now: the one decision shared
// by the origin's /seg/ route and the check endpoint an nginx edge asks
// (auth_request). Pure: no I/O, no locks in the common case.
//
//   /seg/{storage_id}/{rendition}/{file}?md5=..&expires=..&r=<gen>.<jti>
//
// 1. md5, expires and r are each present exactly once (a duplicated
//    parameter could be read differently by another parser on the way);
// 2. the signature covers the prefix /seg/{storage_id}/ and the handle r
//    (auth/signed_url.hpp): 403 when bad, 410 when past `expires`;
// 3. the handle is checked against the item's current token state
//    (auth/revocation.hpp): 403 revoked, 410 media expired, 404 item gone.
#pragma once

#include <cstdint>
#include <string_view>

#include "auth/revocation.hpp"
#include "auth/signed_url.hpp"

namespace hlsgate::http {

struct segment_access {
  unsigned status = 200;   ///< 200, or the refusal's status
  const char* detail = ""; ///< short reason of a refusal
  const char* metric = ""; ///< auth failure label ("" when none)
  int64_t expires = 0;     ///< the URL's expiry (when accepted)
};

/// `revocations` may be null (no revocation state: signature only).
segment_access check_segment_access(const auth::url_signer& signer,
                                    const auth::revocation_table* revocations,
                                    std::string_view storage_id, std::string_view raw_query,
                                    int64_t now);

} // namespace hlsgate::http
