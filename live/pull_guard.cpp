#include "live/pull_guard.hpp"

namespace hlsgate::live {

namespace {

constexpr size_t head_size = 26; // "#EXT-X-I-FRAME-STREAM-INF:"

bool names_a_variant(std::string_view head) {
  for (std::string_view tag : {"#EXT-X-STREAM-INF:", "#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:"})
    if (head.substr(0, tag.size()) == tag)
      return true;
  return false;
}

} // namespace

std::string playlist_guard::feed(std::string_view bytes) {
  if (!refused_.empty())
    return refused_;
  bytes_ += bytes.size();
  if (bytes_ > max_bytes)
    return refused_ = "playlist larger than 1 MiB";
  for (char c : bytes) {
    if (c != '\n') {
      if (head_.size() < head_size)
        head_.push_back(c);
      continue;
    }
    if (++lines_ > max_lines)
      return refused_ = "playlist of more than 20000 lines";
    if (names_a_variant(head_) && ++variants_ > max_variants)
      return refused_ = "playlist naming more than 32 variants and renditions";
    head_.clear();
  }
  return {};
}

} // namespace hlsgate::live
