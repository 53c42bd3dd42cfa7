// Request ids: the X-Request-Id a client (or a proxy in front) sends is
// kept when it is a short token, otherwise one is made here; either way it
// is returned in the response and written in the access log line.
#pragma once

#include <string>
#include <string_view>

namespace hlsgate::http {

/// 1 to 64 characters of [A-Za-z0-9._:-]: what is echoed into a response
/// header and a log line unchanged.
bool valid_request_id(std::string_view id) noexcept;

/// Writes a new id into `out` (its buffer reused): 16 hex digits of this
/// process (random at start) and 12 of a counter, "3f9a0c1e5b2d7e44-00000000002a".
/// Lock-free; no allocation once `out` has room.
void next_request_id(std::string& out);

} // namespace hlsgate::http
