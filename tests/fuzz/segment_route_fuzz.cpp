// parse_segment_path on arbitrary targets. Invariant: an accepted path has
// parts made only of their allowed characters, so it cannot name anything
// outside {root}/{storage_id}/{rendition}/.
#include "http/segment_route.hpp"

#include <cstdint>
#include <string_view>

using namespace hlsgate::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  segment_target t;
  if (!parse_segment_path(path, t))
    return 0;
  auto ok = [](std::string_view s, const char* extra) {
    for (char c : s) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && std::string_view(extra).find(c) == std::string_view::npos)
        return false;
    }
    return !s.empty();
  };
  if (!ok(t.storage_id, "_-") || !ok(t.rendition, "") || !ok(t.file, "_.") ||
      t.file.find("..") != std::string_view::npos)
    __builtin_trap();
  if ("/seg/" + std::string(t.storage_id) + "/" + std::string(t.rendition) + "/" +
          std::string(t.file) !=
      path)
    __builtin_trap();
  return 0;
}
