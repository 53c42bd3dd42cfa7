#include "metrics/log.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <string>

namespace hlsgate::logging {

namespace {

std::atomic<int> threshold{static_cast<int>(level::info)};
std::atomic<int> output_format{static_cast<int>(format::text)};

const char* name(level l) {
  switch (l) {
  case level::debug:
    return "debug";
  case level::info:
    return "info";
  case level::warn:
    return "warn";
  case level::error:
    break;
  }
  return "error";
}

bool needs_escape(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

/// The length of the valid UTF-8 sequence at the start of `v`; 0 when
/// there is none (a stray byte, a byte that never starts one, an overlong
/// form, a surrogate, beyond U+10FFFF).
size_t utf8_length(std::string_view v) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(v[i]); };
  const unsigned char c = b(0);
  const size_t n = c >= 0xc2 && c <= 0xdf   ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
  if (n == 0 || v.size() < n)
    return 0;
  for (size_t i = 1; i < n; ++i)
    if ((b(i) & 0xc0) != 0x80)
      return 0;
  if ((c == 0xe0 && b(1) < 0xa0) || (c == 0xed && b(1) >= 0xa0) || (c == 0xf0 && b(1) < 0x90) ||
      (c == 0xf4 && b(1) >= 0x90))
    return 0;
  return n;
}

/// The length of the character at the start of `v` (whose first byte is
/// >= 0x80) when a log viewer shows it as text: valid UTF-8 that is not a C1
/// control (U+0080..U+009F, NEL and CSI among them) nor a line or paragraph
/// separator (U+2028, U+2029). 0 otherwise: escape its bytes.
size_t printable_length(std::string_view v) {
  const size_t n = utf8_length(v);
  if (n == 2 && static_cast<unsigned char>(v[0]) == 0xc2 && static_cast<unsigned char>(v[1]) < 0xa0)
    return 0;
  if (n == 3 && (v.substr(0, 3) == "\xe2\x80\xa8" || v.substr(0, 3) == "\xe2\x80\xa9"))
    return 0;
  return n;
}

/// A value as one token: quoted when it holds spaces, quotes, '=' or
/// anything that needs escaping; control characters (CR, LF, ESC, C1, line
/// separators) and invalid UTF-8 are written as \n, \r, \t or \xNN, so no
/// string from a client or a file can start a forged log line or drive the
/// terminal.
void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (size_t i = 0; i < v.size() && !quote;) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      const size_t n = printable_length(v.substr(i));
      quote = n == 0;
      i += n;
      continue;
    }
    quote = c == ' ' || c == '"' || c == '=' || c == '\\' || needs_escape(c);
    ++i;
  }
  if (!quote) {
    out.append(v);
    return;
  }
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < v.size();) {
    const char c = v[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      if (const size_t n = printable_length(v.substr(i)); n > 0) {
        out.append(v.substr(i, n));
        i += n;
        continue;
      }
    }
    ++i;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (needs_escape(u) || u >= 0x80) {
      out.append("\\x");
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

/// A JSON string: quotes, backslashes and control characters escaped (C1
/// controls and U+2028/9 as \uXXXX too), invalid UTF-8 replaced by U+FFFD,
/// so every line parses and none shows as two.
void append_json_string(std::string& out, std::string_view v) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto escape = [&](unsigned cp) {
    out.append("\\u");
    for (int shift = 12; shift >= 0; shift -= 4)
      out.push_back(hex[(cp >> shift) & 15]);
  };
  out.push_back('"');
  for (size_t i = 0; i < v.size();) {
    const auto u = static_cast<unsigned char>(v[i]);
    if (u >= 0x80) {
      const size_t n = utf8_length(v.substr(i));
      if (n == 0) {
        escape(0xfffd);
        ++i;
      } else if (printable_length(v.substr(i)) == 0) {
        // C1 (2 bytes) or U+2028/9 (3 bytes): decode the code point.
        const auto b1 = static_cast<unsigned char>(v[i + 1]);
        escape(n == 2 ? ((u & 0x1fu) << 6) | (b1 & 0x3fu)
                      : 0x2000u | (static_cast<unsigned char>(v[i + 2]) & 0x3fu));
        i += n;
      } else {
        out.append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    if (u == '"' || u == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(u));
    } else if (u == '\n') {
      out.append("\\n");
    } else if (needs_escape(u)) {
      escape(u);
    } else {
      out.push_back(static_cast<char>(u));
    }
  }
  out.push_back('"');
}

} // namespace

bool rate_limit::allow(uint64_t& suppressed) noexcept {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  int64_t seen = second_.load(std::memory_order_relaxed);
  if (seen != now && second_.compare_exchange_strong(seen, now, std::memory_order_relaxed))
    used_.store(0, std::memory_order_relaxed);
  if (used_.fetch_add(1, std::memory_order_relaxed) >= per_second_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  suppressed = dropped_.exchange(0, std::memory_order_relaxed);
  return true;
}

void set_level(std::string_view n) noexcept {
  level l = level::info;
  if (n == "debug")
    l = level::debug;
  else if (n == "warn")
    l = level::warn;
  else if (n == "error")
    l = level::error;
  threshold.store(static_cast<int>(l));
}

void set_format(std::string_view n) noexcept {
  output_format.store(static_cast<int>(n == "json" ? format::json : format::text));
}

bool enabled(level l) noexcept {
  return static_cast<int>(l) >= threshold.load();
}

std::string format_line(level l, std::string_view msg, std::initializer_list<field> fields,
                        std::time_t when, format f) {
  std::string line;
  line.reserve(128);
  format_into(line, l, msg, fields, when, f);
  return line;
}

namespace {

void iso8601_into(char (&ts)[32], std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

} // namespace

std::string utc_iso8601(std::time_t when) {
  char ts[32];
  iso8601_into(ts, when);
  return ts;
}

void format_into(std::string& line, level l, std::string_view msg,
                 std::initializer_list<field> fields, std::time_t when, format f) {
  line.clear();
  char ts[32];
  iso8601_into(ts, when);
  if (f == format::json) {
    line.append("{\"time\":\"").append(ts).append("\",\"level\":\"").append(name(l));
    line.append("\",\"msg\":");
    append_json_string(line, msg);
    for (auto& [k, v] : fields) {
      line.push_back(',');
      append_json_string(line, k);
      line.push_back(':');
      append_json_string(line, v);
    }
    line.append("}\n");
    return;
  }
  line.append(ts).append(" level=").append(name(l)).append(" msg=");
  append_value(line, msg);
  for (auto& [k, v] : fields) {
    line.push_back(' ');
    line.append(k).push_back('=');
    append_value(line, v);
  }
  line.push_back('\n');
}

void write(level l, std::string_view msg, std::initializer_list<field> fields) noexcept {
  if (!enabled(l))
    return;
  try {
    // One buffer per thread, reused: a line costs no allocation once it
    // has grown to the longest line this thread wrote.
    thread_local std::string line;
    format_into(line, l, msg, fields, std::time(nullptr),
                static_cast<format>(output_format.load()));
    auto rc = ::write(2, line.data(), line.size());
    (void)rc;
  } catch (...) {
    // Logging never throws into its caller.
  }
}

} // namespace hlsgate::logging
