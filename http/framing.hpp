// Message framing of a request head (RFC 9112 §6): which of
// Transfer-Encoding and Content-Length decides where the body ends. Any
// ambiguity is refused, because a proxy in front of us may have framed the
// same bytes differently (request smuggling, RFC 9112 §6.3 and §11.2).
// Pure: the session feeds it the raw field values it collected.
#pragma once

#include <string_view>
#include <vector>

namespace hlsgate::http {

enum class framing_verdict {
  ok,
  bad_transfer_encoding, ///< 400: not exactly one "chunked", or on HTTP/1.0, or with Content-Length
  bad_content_length,    ///< 400: not one plain decimal value
};

/// Checks the framing fields of a request. `version` is 10 or 11;
/// `transfer_encoding` and `content_length` hold every field line of that
/// name, in order (empty: absent). Allowed: no framing field (no body), one
/// Content-Length of 1*DIGIT (at most 19 digits), or, on HTTP/1.1, one
/// Transfer-Encoding whose value is exactly "chunked" (ASCII
/// case-insensitive, optional surrounding whitespace) and no Content-Length.
/// Everything else, including codings we would otherwise have to decode
/// ("gzip, chunked"), parameters ("chunked;q=1"), duplicates and lists
/// ("5, 5"), is refused.
framing_verdict check_framing(int version, const std::vector<std::string_view>& transfer_encoding,
                              const std::vector<std::string_view>& content_length);

const char* to_string(framing_verdict v) noexcept;

} // namespace hlsgate::http
