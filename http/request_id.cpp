#include "http/request_id.hpp"

#include <atomic>
#include <cstdint>
#include <random>

namespace hlsgate::http {

namespace {

uint64_t process_prefix() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

void append_hex(std::string& out, uint64_t v, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i)
    out.push_back(hex[(v >> (4 * i)) & 15]);
}

} // namespace

bool valid_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64)
    return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

void next_request_id(std::string& out) {
  static const uint64_t prefix = process_prefix();
  static std::atomic<uint64_t> counter{0};
  const uint64_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  out.clear();
  append_hex(out, prefix, 16);
  out.push_back('-');
  append_hex(out, n, 12);
}

} // namespace hlsgate::http
