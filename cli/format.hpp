// What the client commands print for people: sizes, progress bars, the
// library table, an item's details. Pure functions over the API's JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hlsgate::cli {

/// 1536 -> "1.5 KiB"; below 1 KiB in bytes.
std::string human_bytes(uint64_t bytes);

/// 75.5 -> "1:16"; 3725 -> "1:02:05"; negative -> "?".
std::string clock_text(double seconds);

/// One progress line (no newline): `label [#####.....]  42%  detail`,
/// `fraction` clamped to [0, 1], the bar `bar_width` cells wide. The label is
/// shortened to 24 characters and stripped of control characters (a file name
/// must not move the cursor).
std::string progress_line(std::string_view label, double fraction, std::string_view detail,
                          size_t bar_width = 30);

/// Control characters (and DEL) replaced by '?': text from the server or a
/// file name, printed to a terminal.
std::string printable(std::string_view text);

/// The library as a table: ID, STATUS, DURATION, EXPIRES, NAME (one line
/// per MediaSummary, with a header line).
std::string media_table(const nlohmann::json& items);

/// An item's details (MediaInfo) as "key: value" lines.
std::string info_text(const nlohmann::json& info);

/// Access tokens (TokenList) as a table: JTI, CREATED, EXPIRES, STATE, LABEL.
std::string tokens_table(const nlohmann::json& tokens);

} // namespace hlsgate::cli
