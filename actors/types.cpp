#include "actors/types.hpp"

namespace hlsgate::actors {

const char* to_string(media_status s) noexcept {
  switch (s) {
  case media_status::queued:
    return "queued";
  case media_status::processing:
    return "processing";
  case media_status::ready:
    return "ready";
  case media_status::failed:
    return "failed";
  }
  return "failed";
}

const char* reported_status(const media_record& r) noexcept {
  return r.on_demand && r.status == media_status::queued ? "imported" : to_string(r.status);
}

bool from_string(const std::string& s, media_status& out) noexcept {
  for (auto x : {media_status::queued, media_status::processing, media_status::ready,
                 media_status::failed}) {
    if (s == to_string(x)) {
      out = x;
      return true;
    }
  }
  return false;
}

} // namespace hlsgate::actors
