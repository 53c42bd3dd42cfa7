// What the API handlers read from a request: typed query parameters, the
// bearer credential, the admin library's filter, and small files read
// without following symlinks. Pure over `request`; no actors.
#pragma once

#include <string>

#include "actors/media_index.hpp"
#include "actors/types.hpp"
#include "http/server.hpp"

namespace hlsgate::http {

/// Parses an optional integer query parameter within [lo, hi].
/// Returns false (and fills `err`) when present but invalid.
bool int_param(const request& req, const char* name, unsigned lo, unsigned hi, unsigned& out,
               actors::api_error& err);

/// ?name=true|1|yes.
bool bool_param(const request& req, const char* name);

/// ?status=&q= of GET/DELETE /media; "" when fine, else the reason.
std::string media_filter_of(const request& req, actors::media_filter& f);

/// The credential of `Authorization: Bearer <x>` (RFC 6750 §2.1); "" when none.
std::string bearer(const request& req);

/// The API token as the caller sent it: the bearer credential, else the
/// X-API-Token header (m3u-proxy's clients); "" when neither.
std::string operator_token(const request& req);

/// An item's access token: ?token= first, else the bearer credential.
std::string access_token(const request& req);

/// An item's admin credential: its admin key (X-Admin-Key, else
/// ?admin_key=) and `is_operator`, whether the caller's bearer is the API
/// token (checked by the caller, who has the service).
actors::admin_credential admin_credential_of(const request& req, bool is_operator);

/// Reads a small regular file that must not be a symlink; false otherwise
/// (also when it is larger than `limit`).
bool read_small_file(const std::string& path, std::string& out, size_t limit);

} // namespace hlsgate::http
