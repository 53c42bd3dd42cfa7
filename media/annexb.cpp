#include "media/annexb.hpp"

#include <cstring>
#include <vector>

namespace hlsgate::media {

namespace {

struct nal_unit {
  size_t begin = 0; ///< first byte of its start code (with a leading zero_byte)
  size_t end = 0;
  int type = -1;
};

/// Offset of the next "00 00 01" at or after `from`, or `size`.
size_t next_start_code(const uint8_t* d, size_t size, size_t from) {
  for (size_t i = from; i + 2 < size; ++i)
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1)
      return i;
  return size;
}

int rank(int type) {
  switch (type) {
  case 9: // access unit delimiter
    return 0;
  case 7:  // SPS
  case 13: // SPS extension
  case 8:  // PPS
    return 1;
  default:
    return 2;
  }
}

} // namespace

bool parameter_sets_first(uint8_t* data, size_t size) {
  if (!data || size < 4)
    return false;
  size_t code = next_start_code(data, size, 0);
  if (code > 1 || (code == 1 && data[0] != 0)) // "00 00 01" or "00 00 00 01" first
    return false;
  std::vector<nal_unit> units;
  while (code < size) {
    nal_unit u;
    // A zero byte right before "00 00 01" is that start code's zero_byte.
    u.begin = units.empty() ? 0 : (data[code - 1] == 0 ? code - 1 : code);
    u.type = code + 3 < size ? (data[code + 3] & 0x1f) : -1;
    if (!units.empty())
      units.back().end = u.begin;
    units.push_back(u);
    code = next_start_code(data, size, code + 3);
  }
  units.back().end = size;
  bool in_order = true;
  for (size_t i = 1; i < units.size(); ++i)
    in_order = in_order && rank(units[i - 1].type) <= rank(units[i].type);
  if (in_order)
    return false;
  std::vector<uint8_t> out;
  out.reserve(size);
  for (int r = 0; r <= 2; ++r)
    for (const nal_unit& u : units)
      if (rank(u.type) == r)
        out.insert(out.end(), data + u.begin, data + u.end);
  std::memcpy(data, out.data(), size);
  return true;
}

} // namespace hlsgate::media
