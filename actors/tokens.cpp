#include "actors/tokens.hpp"

#include <algorithm>

#include "auth/crypto.hpp"

namespace hlsgate::actors {

namespace {

bool usable(const token_record& t, const media_record& r, int64_t now) {
  return !t.revoked && t.gen == r.token_gen && (t.expires_at == 0 || t.expires_at > now);
}

/// Keeps at most max_token_records: drops the oldest unusable records first.
void bound(media_record& r, int64_t now) {
  auto& ts = r.tokens;
  for (auto i = ts.begin(); ts.size() > max_token_records && i != ts.end();) {
    if (!usable(*i, r, now))
      i = ts.erase(i);
    else
      ++i;
  }
  if (ts.size() > max_token_records)
    ts.erase(ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(ts.size() - max_token_records));
}

} // namespace

minted_token mint_token(media_record& r, const auth::jwt_codec& jwt, int64_t now, unsigned minutes,
                        std::string label) {
  minted_token out;
  auto& t = out.record;
  t.jti = auth::random_id();
  t.label = std::move(label);
  t.created_at = now;
  t.expires_at = minutes > 0 ? now + int64_t{minutes} * 60 : 0;
  t.gen = r.token_gen;
  auth::token_claims c;
  c.sub = r.media_id;
  c.gen = r.token_gen;
  c.jti = t.jti;
  c.iat = now;
  c.exp = t.expires_at;
  out.token = jwt.issue(c);
  r.tokens.push_back(t);
  bound(r, now);
  return out;
}

bool token_current(const media_record& r, const auth::token_claims& claims) {
  if (claims.gen != r.token_gen)
    return false;
  if (claims.jti.empty())
    return true;
  for (const auto& t : r.tokens)
    if (t.jti == claims.jti)
      return !t.revoked && t.gen == r.token_gen;
  return false; // not one of ours any more (pruned)
}

bool revoke_token(media_record& r, std::string_view jti) {
  for (auto& t : r.tokens) {
    if (t.jti == jti) {
      t.revoked = true;
      return true;
    }
  }
  return false;
}

token_list list_tokens(const media_record& r) {
  token_list out;
  out.reserve(r.tokens.size());
  for (const auto& t : r.tokens)
    out.push_back({t.jti, t.label, t.created_at, t.expires_at, t.revoked || t.gen != r.token_gen});
  return out;
}

auth::revocation_table::item_state revocation_state(const media_record& r) {
  auth::revocation_table::item_state s;
  s.gen = r.token_gen;
  s.deadline = r.expires_at;
  for (const auto& t : r.tokens)
    if (t.revoked && t.gen == r.token_gen)
      s.revoked.push_back(t.jti);
  return s;
}

bool admin_allowed(const admin_credential& who, const std::string& admin_key_hash, api_error& err) {
  if (who.is_operator)
    return true;
  if (who.admin_key.empty()) {
    err = {api_errc::unauthorized, "Admin key required"};
    return false;
  }
  if (!auth::constant_time_equal(auth::sha256_hex(who.admin_key), admin_key_hash)) {
    err = {api_errc::forbidden, "Invalid admin key"};
    return false;
  }
  return true;
}

} // namespace hlsgate::actors
