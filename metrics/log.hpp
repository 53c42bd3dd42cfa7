// A small logging facade: levels and key=value fields on one line to stderr
//   2026-11-21T16:35:14Z level=info msg="media expired" media_id=abc
// or, with HLSGATE_LOG_FORMAT=json, one JSON object per line
//   {"time":"2026-11-21T16:35:14Z","level":"info","msg":"media expired","media_id":"abc"}
// CAF's own logging is compiled out in Debian's build; this is ours.
#pragma once

#include <atomic>
#include <cstdint>
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

/// text: `time level=.. msg=".." key=value` (the default); json: one JSON
/// object per line, {"time", "level", "msg", then the fields}, every value
/// a string.
enum class format { text, json };
/// "json" or "text" (others: text).
void set_format(std::string_view name) noexcept;

using field = std::pair<std::string_view, std::string_view>;

/// One log line (with its newline) as write() emits it; values holding
/// control characters are escaped, so every call is exactly one line.
std::string format_line(level l, std::string_view msg, std::initializer_list<field> fields,
                        std::time_t when, format f = format::text);
/// The same into `out` (cleared first; its buffer reused).
void format_into(std::string& out, level l, std::string_view msg,
                 std::initializer_list<field> fields, std::time_t when, format f);

/// Writes one line atomically (a single write(2)) if `l` is enabled.
/// `when` (unix seconds) as "YYYY-MM-DDTHH:MM:SSZ": the one timestamp format
/// of logs, API answers and webhook envelopes.
std::string utc_iso8601(std::time_t when);

void write(level l, std::string_view msg, std::initializer_list<field> fields = {}) noexcept;

/// At most `per_second` lines a second from one noisy source (libav can log
/// a warning per frame); the lines beyond are counted and reported once the
/// next second lets a line through. Thread-safe, lock-free.
class rate_limit {
public:
  explicit rate_limit(unsigned per_second) : per_second_(per_second) {}
  /// True when a line may be written now; `suppressed` receives how many
  /// were dropped since the last line allowed (to report them).
  bool allow(uint64_t& suppressed) noexcept;

private:
  const unsigned per_second_;
  std::atomic<int64_t> second_{0};
  std::atomic<unsigned> used_{0};
  std::atomic<uint64_t> dropped_{0};
};

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
