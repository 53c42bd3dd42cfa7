// A small logging facade: levels and key=value fields on one line to stderr
//   2026-11-21T16:35:14Z level=info msg="media expired" media_id=abc
// CAF's own logging is compiled out in Debian's build; this is ours.
#pragma once

#include <ctime>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace hlsgate::logging {

enum class level { debug, info, warn, error };

/// Sets the threshold; "debug", "info", "warn" or "error" (others: info).
void set_level(std::string_view name) noexcept;
bool enabled(level l) noexcept;

using field = std::pair<std::string_view, std::string_view>;

/// One log line (with its newline) as write() emits it; values holding
/// control characters are escaped, so every call is exactly one line.
std::string format_line(level l, std::string_view msg, std::initializer_list<field> fields,
                        std::time_t when);

/// Writes one line atomically (a single write(2)) if `l` is enabled.
void write(level l, std::string_view msg, std::initializer_list<field> fields = {}) noexcept;

inline void debug(std::string_view m, std::initializer_list<field> f = {}) noexcept {
  write(level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<field> f = {}) noexcept {
  write(level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<field> f = {}) noexcept {
  write(level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<field> f = {}) noexcept {
  write(level::error, m, f);
}

} // namespace hlsgate::logging
