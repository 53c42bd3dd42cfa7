#include "media/names.hpp"

#include <cstdio>

namespace hlsgate::media {

std::string segment_file_name(size_t index, segment_kind kind) {
  char name[32];
  std::snprintf(name, sizeof name, "seg_%05zu.%s", index, kind == segment_kind::vtt ? "vtt" : "ts");
  return name;
}

bool parse_segment_file_name(std::string_view name, segment_kind& kind) {
  if (name.substr(0, 4) != "seg_")
    return false;
  name.remove_prefix(4);
  size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9')
    ++digits;
  if (digits < 5 || digits > 9)
    return false;
  const std::string_view ext = name.substr(digits);
  if (ext == ".ts")
    kind = segment_kind::ts;
  else if (ext == ".vtt")
    kind = segment_kind::vtt;
  else
    return false;
  return true;
}

bool is_rendition_name(std::string_view name) {
  if (name.empty() || name.size() > 8)
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
  return true;
}

const char* segment_content_type(segment_kind kind) {
  return kind == segment_kind::vtt ? "text/vtt; charset=utf-8" : "video/mp2t";
}

} // namespace hlsgate::media
