// Timeline markers of a live channel: the body of POST /live/{id}/markers,
// parsed strictly (it comes from a caller and ends up in every viewer's
// playlist), and their EXT-X-DATERANGE form (RFC 8216 §4.3.2.7).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hlsgate::live {

struct marker {
  std::string id;                     ///< unique in its channel (the DATERANGE ID)
  std::string label;                  ///< X-LABEL: 1-200 bytes of UTF-8, no quote or control
  std::string cls = "hlsgate.marker"; ///< CLASS: [A-Za-z0-9._-]{1,64}
  int64_t start_ms = 0;               ///< START-DATE, unix ms
  double duration = -1;               ///< DURATION in seconds; < 0: END-ON-NEXT
  std::string data;                   ///< X-DATA: a JSON object as text ("" when none)
};

inline constexpr size_t max_marker_body = 8 * 1024;
inline constexpr size_t max_marker_data = 4 * 1024;

/// Parses `{"label", "class", "at", "duration", "data"}` into `out` (id left
/// alone). `at` is ISO 8601 with a zone (`2026-12-06T20:00:00.250Z`,
/// `+01:00`) or unix ms; without it, `now_ms`. Returns "" or why it was
/// refused; unknown fields are refused.
std::string parse_marker(std::string_view body, int64_t now_ms, marker& out);

/// A label: 1-200 bytes of well-formed UTF-8 (media::valid_utf8) with no
/// control character (C0, DEL, C1) and no '"' (which would end a playlist's
/// quoted string). Channel names follow the same rule.
bool valid_label(std::string_view s);

/// The marker as the store keeps it (every field, `start_ms` as a number),
/// and back; from_json is strict and false on anything else.
std::string to_json(const marker& m);
bool from_json(std::string_view text, marker& m);

/// "2026-12-06T20:00:00.250Z" (always milliseconds, UTC).
std::string iso8601_ms(int64_t unix_ms);
/// Parses ISO 8601 date-time with seconds and a zone ("Z" or ±HH:MM), with
/// up to 9 fraction digits (kept to the millisecond). False when it is not one.
bool parse_iso8601_ms(std::string_view s, int64_t& unix_ms);

/// Appends the marker's EXT-X-DATERANGE line (with its newline) to `out`.
/// END-ON-NEXT markers carry CLASS, as the RFC requires; X-DATA is the JSON
/// text base64-encoded in a quoted string (JSON holds quotes, which a quoted
/// string may not).
void write_daterange(const marker& m, std::string& out);

} // namespace hlsgate::live
