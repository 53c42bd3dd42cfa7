#include "metrics/log.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <string>

namespace hlsgate::logging {

namespace {

std::atomic<int> threshold{static_cast<int>(level::info)};

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

void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty() || v.find_first_of(" \"=") != std::string_view::npos;
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\')
      out.push_back('\\');
    out.push_back(c == '\n' ? ' ' : c);
  }
  out.push_back('"');
}

} // namespace

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

bool enabled(level l) noexcept {
  return static_cast<int>(l) >= threshold.load();
}

void write(level l, std::string_view msg, std::initializer_list<field> fields) noexcept {
  if (!enabled(l))
    return;
  try {
    std::string line;
    line.reserve(128);
    char ts[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    line.append(ts).append(" level=").append(name(l)).append(" msg=");
    append_value(line, msg);
    for (auto& [k, v] : fields) {
      line.push_back(' ');
      line.append(k).push_back('=');
      append_value(line, v);
    }
    line.push_back('\n');
    auto rc = ::write(2, line.data(), line.size());
    (void)rc;
  } catch (...) {
    // Logging never throws into its caller.
  }
}

} // namespace hlsgate::logging
