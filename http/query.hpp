// Percent-decoding (RFC 3986 §2.1) and query parameters
// (application/x-www-form-urlencoded, where '+' is a space). Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace hlsgate::http::query {

/// Appends the percent-decoded `in` to `out`. `plus_is_space` for query
/// components. False on a truncated or non-hex escape and on a NUL, raw or
/// encoded (a NUL can never be part of a file name or an id, and C APIs stop at it);
/// `out` then holds a partial result.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);

/// `in` with every byte outside RFC 3986's unreserved set (ALPHA DIGIT - . _ ~)
/// percent-encoded: safe as a path segment or a query value.
std::string percent_encode(std::string_view in);

/// The raw (undecoded) value of the first `key` in a query string, matched
/// byte for byte against the raw key. False when absent. Used on the /seg/
/// hot path, whose parameters are plain base64url and digits.
bool raw_value(std::string_view query, std::string_view key, std::string_view& value);

/// The decoded value of the first parameter whose decoded name is `name`.
/// A value with a bad escape is returned verbatim (callers validate values);
/// a name with a bad escape never matches. False when absent.
bool param(std::string_view query, std::string_view name, std::string& out);

} // namespace hlsgate::http::query
