#include "media/ts_timeline.hpp"

#include <algorithm>

namespace hlsgate::media {

namespace {
/// A packet's length when the upstream gives none: one frame at 25 fps.
constexpr int64_t default_duration = 3600;
} // namespace

ts_timeline::ts_timeline(std::vector<bool> video) {
  for (bool v : video) {
    stream s;
    s.video = v;
    has_video_ = has_video_ || v;
    streams_.push_back(s);
  }
}

void ts_timeline::begin_upstream() {
  ++upstreams_;
  anchored_ = false;
  for (auto& s : streams_)
    s.started = false;
}

ts_timeline::verdict ts_timeline::place(size_t index, int64_t pts, int64_t dts, int64_t duration,
                                        bool key) {
  if (index >= streams_.size() || upstreams_ == 0)
    return {};
  auto& s = streams_[index];
  if (dts == none)
    dts = pts;
  if (dts == none)
    return {};
  if (pts == none)
    pts = dts;
  if (!s.started) {
    // Video starts at a keyframe; with video in the output, nothing
    // starts before the first one (it anchors the upstream's clock).
    if (s.video ? !key : (has_video_ && !anchored_))
      return {};
    s.started = true;
  }
  if (!anchored_) {
    anchored_ = true;
    int64_t next = none;
    for (const auto& o : streams_)
      if (o.end != none)
        next = std::max(next, o.end);
    // The first upstream keeps its clock; a later one follows what was written.
    offset_ = next == none ? 0 : next - dts;
  }
  if (s.end != none) {
    const int64_t at = dts + offset_;
    if (at > s.end + max_jump || at < s.end - max_jump)
      offset_ = s.end - dts; // the upstream's clock jumped: follow on from here
  }
  verdict v;
  v.pts = pts + offset_;
  v.dts = dts + offset_;
  if (s.last_dts != none && v.dts <= s.last_dts)
    return {}; // would not move the stream forward (overlap at a switch)
  v.keep = true;
  s.last_dts = v.dts;
  s.end = v.dts + (duration > 0 ? duration : default_duration);
  return v;
}

} // namespace hlsgate::media
