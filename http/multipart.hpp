// Incremental multipart/form-data parser (RFC 7578 over RFC 2046 §5.1).
// Fed arbitrary chunks of a body, it emits each part's headers and data
// through callbacks without buffering a whole part: between chunks it keeps
// at most a delimiter-length tail (plus a bounded part-header block).
// Plain C++ (no Beast) so it is unit-testable on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace hlsgate::http {

/// Headers of one part, as announced by its Content-Disposition/Content-Type.
struct multipart_part {
  std::string name;         ///< form field name (`name=` parameter)
  std::string filename;     ///< `filename=` parameter; empty when absent
  std::string content_type; ///< part Content-Type; empty when absent
};

class multipart_parser {
public:
  enum class error {
    none,
    no_boundary,      ///< Content-Type is not multipart/form-data with a boundary
    malformed,        ///< bad delimiter line or bad part header
    header_too_large, ///< one part's header block exceeds max_header_bytes
    truncated,        ///< input ended before the closing delimiter
    aborted,          ///< a callback returned false
  };

  /// Every callback may be empty. Returning false from a callback stops the
  /// parser with error::aborted. `data` views are only valid during the call.
  struct callbacks {
    std::function<bool(const multipart_part&)> on_part_begin;
    std::function<bool(std::string_view data)> on_part_data;
    std::function<bool()> on_part_end;
  };

  /// Largest header block of one part (bytes).
  static constexpr size_t max_header_bytes = 16 * 1024;

  /// Extracts the boundary from a Content-Type value such as
  /// `multipart/form-data; boundary="abc"`. False when the media type is not
  /// multipart/form-data or the boundary is missing or invalid (RFC 2046:
  /// 1..70 characters).
  static bool boundary_from_content_type(std::string_view content_type, std::string& boundary);

  /// A parser for `boundary` (as returned by boundary_from_content_type).
  /// An empty or over-long boundary leaves the parser in error::no_boundary.
  multipart_parser(std::string_view boundary, callbacks cb);

  /// Convenience: boundary taken from a Content-Type header value.
  static multipart_parser from_content_type(std::string_view content_type, callbacks cb);

  /// Consumes the next piece of the body. Returns false once an error is set;
  /// data after the closing delimiter (the epilogue) is ignored.
  bool feed(std::string_view chunk);

  /// Declares the end of input: error::truncated unless the closing delimiter
  /// was seen. Returns ok().
  bool finish();

  bool ok() const noexcept { return err_ == error::none; }
  /// True once the closing delimiter has been parsed.
  bool done() const noexcept { return state_ == state::done; }
  error err() const noexcept { return err_; }
  /// A short, user-safe description of err().
  const char* message() const noexcept;
  static const char* to_string(error e) noexcept;

private:
  enum class state : uint8_t {
    preamble,    ///< before the first delimiter
    after_delim, ///< just after "--boundary": transport padding, then CRLF or "--"
    close_dash,  ///< saw the first '-' of the closing "--"
    expect_lf,   ///< saw CR after the delimiter line
    headers,     ///< collecting one part's header block
    body,        ///< part data
    done,        ///< closing delimiter seen; epilogue ignored
    failed,
  };

  size_t scan_data(std::string_view in);
  size_t scan_headers(std::string_view in);
  bool emit(std::string_view data);
  bool fail(error e);
  bool parse_part_headers(std::string_view block, multipart_part& part);

  std::string delim_;  ///< "\r\n--" + boundary
  std::string tail_;   ///< undecided bytes at the end of the previous chunk
  std::string window_; ///< scratch: tail_ + head of the next chunk
  std::string header_; ///< the current part's header block
  multipart_part part_;
  callbacks cb_;
  state state_ = state::preamble;
  error err_ = error::none;
};

} // namespace hlsgate::http
