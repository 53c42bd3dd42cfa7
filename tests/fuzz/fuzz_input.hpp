// Splitting one fuzz input into several fields: bytes up to each 0xFF byte
// are one field (so the fuzzer can grow and shrink fields independently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hlsgate::fuzz {

inline std::vector<std::string_view> fields(const uint8_t* data, size_t size, size_t max_fields) {
  std::vector<std::string_view> out;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (out.size() + 1 < max_fields) {
    const size_t sep = in.find('\xff');
    if (sep == std::string_view::npos)
      break;
    out.push_back(in.substr(0, sep));
    in.remove_prefix(sep + 1);
  }
  out.push_back(in);
  while (out.size() < max_fields)
    out.emplace_back();
  return out;
}

[[noreturn]] inline void fail() {
  __builtin_trap();
}

} // namespace hlsgate::fuzz
