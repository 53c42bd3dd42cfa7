// An item's access tokens: minting and bookkeeping, as pure functions over
// its record (the media actor applies them to a copy and commits it).
//
// A token carries its own lifetime only: `exp` when it was minted with one,
// none when it lives as long as the media. The media's deadline is checked
// when the token is used, so extending a media extends every token's use.
// Tokens are revoked all at once by a refresh (the item's generation moves
// on) or one by one by jti.
#pragma once

#include <string>
#include <string_view>

#include "actors/types.hpp"
#include "auth/jwt.hpp"
#include "auth/revocation.hpp"

namespace hlsgate::actors {

/// Token records kept per item; beyond it the oldest no longer usable ones
/// (revoked, older generation, expired) go first, then the oldest.
inline constexpr size_t max_token_records = 256;
/// Longest label an admin may give a token.
inline constexpr size_t max_token_label = 200;

struct minted_token {
  std::string token; ///< the JWT
  token_record record;
};

/// Mints a token of `r`'s current generation with a lifetime of `minutes`
/// from `now` (0 = as long as the media) and records it in `r.tokens`.
minted_token mint_token(media_record& r, const auth::jwt_codec& jwt, int64_t now, unsigned minutes,
                        std::string label);

/// Whether `claims` (signature already verified, for this item) is one of
/// the item's current tokens: its generation, and its jti not revoked (or
/// empty: a token minted before jti existed).
bool token_current(const media_record& r, const auth::token_claims& claims);

/// Revokes the token `jti`; false when the item has no such token.
bool revoke_token(media_record& r, std::string_view jti);

/// Every recorded token, oldest first; `revoked` covers both one-by-one
/// revocation and refreshes (an older generation).
token_list list_tokens(const media_record& r);

/// Whether `who` may manage an item (a media item or a live channel) whose
/// admin key hashes to `admin_key_hash`: the API token always, otherwise the
/// key, compared in constant time. On refusal `err` says why (401 without a
/// key, 403 with a wrong one).
bool admin_allowed(const admin_credential& who, const std::string& admin_key_hash, api_error& err);

/// What the segment path needs to know of `r`.
auth::revocation_table::item_state revocation_state(const media_record& r);

} // namespace hlsgate::actors
