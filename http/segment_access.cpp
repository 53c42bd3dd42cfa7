#include "http/segment_access.hpp"

#include <charconv>
#include <cstring>

#include "http/segment_route.hpp"

namespace hlsgate::http {

namespace {

/// The raw value of `key`, required exactly once.
bool unique_value(std::string_view query, std::string_view key, std::string_view& value) {
  bool found = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key)
      continue;
    if (found)
      return false;
    found = true;
    value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return found;
}

segment_access refuse(unsigned status, const char* detail, const char* metric) {
  segment_access a;
  a.status = status;
  a.detail = detail;
  a.metric = metric;
  return a;
}

} // namespace

segment_access check_segment_access(const auth::url_signer& signer,
                                    const auth::revocation_table* revocations,
                                    std::string_view storage_id, std::string_view raw_query,
                                    int64_t now) {
  std::string_view md5, expires, handle;
  if (!unique_value(raw_query, "md5", md5) || !unique_value(raw_query, "expires", expires) ||
      !unique_value(raw_query, "r", handle))
    return refuse(403, "Invalid signature", "bad_url_signature");
  // The prefix is formatted into a stack buffer: no allocation per request.
  char prefix[96];
  if (storage_id.size() + 6 > sizeof prefix)
    return refuse(403, "Invalid signature", "bad_url_signature");
  std::memcpy(prefix, "/seg/", 5);
  std::memcpy(prefix + 5, storage_id.data(), storage_id.size());
  prefix[5 + storage_id.size()] = '/';
  const std::string_view pfx(prefix, storage_id.size() + 6);
  switch (signer.verify(pfx, md5, expires, handle, now)) {
  case auth::signature_check::ok:
    break;
  case auth::signature_check::bad:
    return refuse(403, "Invalid signature", "bad_url_signature");
  case auth::signature_check::expired:
    return refuse(410, "Signed URL expired", "expired_url");
  }
  if (revocations != nullptr) {
    uint64_t gen = 0;
    std::string_view jti;
    if (!auth::parse_revocation_handle(handle, gen, jti))
      return refuse(403, "Invalid signature", "bad_url_signature");
    switch (revocations->check(storage_id, gen, jti, now)) {
    case auth::revocation_table::verdict::ok:
      break;
    case auth::revocation_table::verdict::revoked:
      return refuse(403, "Token was revoked", "revoked");
    case auth::revocation_table::verdict::expired:
      return refuse(410, "Media expired", "expired");
    case auth::revocation_table::verdict::gone:
      return refuse(404, "Not found", "");
    }
  }
  segment_access ok;
  std::from_chars(expires.data(), expires.data() + expires.size(), ok.expires);
  return ok;
}

} // namespace hlsgate::http
