// Formatting of response heads (RFC 9112 §4, §5): status line, the fixed
// fields, CORS, framing and connection fields. Pure; the session appends the
// result to its reused output buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlsgate::http::wire {

/// The reason phrase of a status (RFC 9110 §15); "Unknown" for others.
std::string_view reason(unsigned status) noexcept;

/// The current "Date:" value (RFC 9110 §6.6.1), formatted at most once per
/// second per thread.
std::string_view http_date();

void append_uint(std::string& out, uint64_t v);

/// "HTTP/1.1 <status> <reason>", Server and Date.
void begin_head(std::string& out, unsigned status);

/// One "name: value" line.
void append_field(std::string& out, std::string_view name, std::string_view value);

struct cors_policy {
  bool any = false;
  const std::vector<std::string>* origins = nullptr; ///< exact matches
  bool enabled() const noexcept { return any || (origins && !origins->empty()); }
};

/// CORS fields for `origin`, Content-Length (when given), Connection and the
/// empty line. `close`: the connection ends after this response; `http10`:
/// the client spoke HTTP/1.0 (keep-alive must then be announced).
void end_head(std::string& out, const cors_policy& cors, std::string_view origin,
              std::optional<uint64_t> content_length, bool close, bool http10);

/// The complete response sent to a connection beyond the cap (no session).
std::string over_capacity_response();

} // namespace hlsgate::http::wire
