#include "media/checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hlsgate::media {

namespace {

/// "21600", "0.5", "29.97": at most two decimals, none when whole.
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.')
      s.pop_back();
  }
  return s;
}

} // namespace

status check_source_limits(const probe_info& info, double max_seconds, uint64_t max_pixel_rate) {
  if (max_seconds > 0 && info.duration > max_seconds)
    return error{errc::limit_exceeded,
                 "source is longer than the limit of " + number(max_seconds) + " s",
                 "check limits: " + number(info.duration) + " s"};
  if (max_pixel_rate > 0 && info.has_video) {
    const double fps = info.frame_rate > 0 ? info.frame_rate : kNominalFrameRate;
    const double rate = static_cast<double>(info.width) * info.height * fps;
    if (rate > static_cast<double>(max_pixel_rate))
      return error{errc::limit_exceeded,
                   "source exceeds the pixel rate limit (" + std::to_string(info.width) + "x" +
                       std::to_string(info.height) + " at " + number(fps) + " fps)",
                   "check limits: " + number(rate) + " pixels/s over " +
                       std::to_string(max_pixel_rate)};
  }
  return ok_status();
}

std::string duration_warning(double served, double declared, bool read_error) {
  if (declared > 0 && served < declared - std::max(1.0, 0.02 * declared)) {
    char buf[128];
    std::snprintf(buf, sizeof buf,
                  "the source ended early: %.1f s of a declared %.1f s were readable", served,
                  declared);
    return buf;
  }
  return read_error ? "the source could not be read to its end" : "";
}

} // namespace hlsgate::media
