// Conditional and range requests on a static file (RFC 9110 §13, §14):
// what to answer for a GET or HEAD given the file's size and mtime and the
// request's Range, If-Range and If-None-Match. Pure: the session only
// executes the decision (headers, then sendfile of the byte window).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hlsgate::http {

struct file_facts {
  uint64_t size = 0;
  int64_t mtime = 0; ///< unix seconds
};

struct file_conditions {
  bool head = false;         ///< HEAD: same headers, no body
  std::string_view range;    ///< Range value, empty when absent
  std::string_view if_range; ///< If-Range value
  std::string_view if_none_match;
};

struct file_decision {
  /// 200 (whole file), 206 (one range), 304 (If-None-Match matched),
  /// 416 (range not satisfiable; `content_range` is "bytes */size").
  unsigned status = 200;
  uint64_t first = 0;        ///< first byte to send
  uint64_t length = 0;       ///< Content-Length of the file part (0 for 304/416)
  bool send_body = true;     ///< false for HEAD and 304 (and 416: its JSON body is the caller's)
  std::string etag;          ///< strong validator: "<mtime hex>-<size hex>" in quotes
  std::string last_modified; ///< IMF-fixdate of mtime
  std::string content_range; ///< Content-Range value for 206/416, else empty
};

/// Decides the answer for a file served with status 200 by default.
/// - If-None-Match (weak comparison, RFC 9110 §13.1.2): "*" or a listed tag
///   equal to ours → 304.
/// - Range applies to GET only (RFC 9110 §14.2); one "bytes" range is served,
///   anything else (several ranges, other units, bad syntax) gets the whole
///   file, which a server may always do.
/// - If-Range (RFC 9110 §13.1.5): the range is used only when the value is
///   our strong ETag or exactly our Last-Modified date.
/// - A syntactically valid range that starts at or beyond the end → 416.
file_decision decide_file(const file_facts& f, const file_conditions& c);

/// One "bytes=first-last" range against `size` (RFC 9110 §14.1.2).
enum class range_kind { none, partial, unsatisfiable };
range_kind parse_byte_range(std::string_view value, uint64_t size, uint64_t& first, uint64_t& last);

/// The IMF-fixdate of unix time `t` (RFC 9110 §5.6.7).
std::string imf_fixdate(int64_t t);

} // namespace hlsgate::http
