// The Range/If-Range/If-None-Match decision. Invariants: the byte window
// always lies inside the file, 206 windows are non-empty, and only 200/206
// send a body.
#include "http/range.hpp"
#include "tests/fuzz/fuzz_input.hpp"

#include <cstring>

using namespace hlsgate::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = hlsgate::fuzz::fields(data, size, 5);
  file_facts facts;
  uint64_t raw = 0;
  std::memcpy(&raw, f[0].data(), std::min(f[0].size(), sizeof raw));
  facts.size = raw % (1ull << 40);
  facts.mtime = static_cast<int64_t>(raw >> 20);
  file_conditions c;
  c.head = !f[4].empty() && (f[4][0] & 1);
  c.range = f[1];
  c.if_range = f[2];
  c.if_none_match = f[3];
  const file_decision d = decide_file(facts, c);
  if (d.first > facts.size || d.length > facts.size - d.first)
    __builtin_trap();
  if (d.status == 206 && d.length == 0)
    __builtin_trap();
  if (d.send_body && d.status != 200 && d.status != 206)
    __builtin_trap();
  if (c.head && d.send_body)
    __builtin_trap();
  return 0;
}
