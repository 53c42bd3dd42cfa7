#include "media/log.hpp"

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/log.h>
}

namespace hlsgate::media {

static_assert(log_level::panic == AV_LOG_PANIC && log_level::fatal == AV_LOG_FATAL &&
              log_level::error == AV_LOG_ERROR && log_level::warning == AV_LOG_WARNING &&
              log_level::info == AV_LOG_INFO && log_level::verbose == AV_LOG_VERBOSE &&
              log_level::debug == AV_LOG_DEBUG);

namespace {

/// A line longer than this (bytes) is passed on in pieces.
constexpr size_t kMaxLine = 4096;

std::mutex g_mutex;
std::shared_ptr<const log_sink> g_sink; ///< guarded by g_mutex
std::atomic<int> g_max_level{AV_LOG_WARNING};

/// A thread's line under construction: libav logs a line in several calls.
struct line_buffer {
  std::string text;
  int level = AV_LOG_TRACE; ///< the most severe level of the parts
  int print_prefix = 1;     ///< av_log_format_line2's state: at the start of a line
};

void deliver(int level, std::string_view line) {
  std::shared_ptr<const log_sink> sink;
  {
    std::lock_guard<std::mutex> lk(g_mutex);
    sink = g_sink;
  }
  if (!sink || !*sink)
    return;
  if (line.find("://") == std::string_view::npos)
    return (*sink)(level, line);
  (*sink)(level, redact_url_queries(line));
}

} // namespace

std::string redact_url_queries(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  size_t i = 0;
  while (i < line.size()) {
    const size_t scheme = line.find("://", i);
    if (scheme == std::string_view::npos)
      break;
    const size_t end = line.find_first_of(" \t'\"]>", scheme);
    const size_t stop = end == std::string_view::npos ? line.size() : end;
    const size_t query = line.find('?', scheme);
    if (query != std::string_view::npos && query < stop) {
      out.append(line.substr(i, query - i));
      out.append("?…");
    } else {
      out.append(line.substr(i, stop - i));
    }
    i = stop;
  }
  out.append(line.substr(std::min(i, line.size())));
  return out;
}

namespace {

void callback(void* avcl, int level, const char* fmt, va_list vl) {
  // The bits above 8 carry the colour some callers ask for (AV_LOG_C).
  const int lvl = level >= 0 ? level & 0xff : level;
  if (lvl > g_max_level.load(std::memory_order_relaxed))
    return;
  thread_local line_buffer buf;
  const int prefix_before = buf.print_prefix;
  char small[1024];
  va_list copy;
  va_copy(copy, vl);
  int n = av_log_format_line2(avcl, level, fmt, copy, small, sizeof small, &buf.print_prefix);
  va_end(copy);
  if (n < 0)
    return;
  if (static_cast<size_t>(n) < sizeof small) {
    buf.text.append(small, static_cast<size_t>(n));
  } else {
    std::vector<char> big(static_cast<size_t>(n) + 1);
    buf.print_prefix = prefix_before;
    va_copy(copy, vl);
    n = av_log_format_line2(avcl, level, fmt, copy, big.data(), static_cast<int>(big.size()),
                            &buf.print_prefix);
    va_end(copy);
    if (n < 0)
      return;
    buf.text.append(big.data(), std::min(static_cast<size_t>(n), big.size() - 1));
  }
  // The first line completed here joins earlier parts (the most severe
  // level wins); any further line is this message's alone.
  buf.level = std::min(buf.level, lvl);
  size_t start = 0;
  for (size_t nl; (nl = buf.text.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (nl > start) // a bare newline carries nothing
      deliver(buf.level, std::string_view(buf.text).substr(start, nl - start));
    buf.level = lvl;
  }
  buf.text.erase(0, start);
  if (buf.text.empty())
    buf.level = AV_LOG_TRACE;
  if (buf.text.size() >= kMaxLine) {
    deliver(buf.level, buf.text);
    buf.text.clear();
    buf.level = AV_LOG_TRACE;
  }
}

} // namespace

void set_log_sink(log_sink sink, int max_level) {
  {
    std::lock_guard<std::mutex> lk(g_mutex);
    g_sink = std::make_shared<const log_sink>(std::move(sink));
  }
  g_max_level.store(max_level, std::memory_order_relaxed);
  av_log_set_callback(callback);
}

} // namespace hlsgate::media
