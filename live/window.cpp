#include "live/window.hpp"

#include <algorithm>
#include <cmath>

namespace hlsgate::live {

dvr_window::dvr_window(double dvr_seconds, int target_seconds)
    : dvr_seconds_(dvr_seconds), target_(std::max(1, target_seconds)) {}

void dvr_window::resume(uint64_t next, uint64_t discontinuities) noexcept {
  next_ = next;
  discontinuity_sequence_ = discontinuities;
}

void dvr_window::restore(std::vector<live_segment> listed, uint64_t next, uint64_t discontinuities,
                         std::vector<retired_segment> retired) {
  retired_.assign(std::make_move_iterator(retired.begin()), std::make_move_iterator(retired.end()));
  listed_.clear();
  listed_seconds_ = 0;
  for (auto& s : listed) {
    listed_seconds_ += s.duration;
    next = std::max(next, s.sequence + 1);
    listed_.push_back(std::move(s));
  }
  longest_listed_ = std::max(longest_listed_, listed_seconds_);
  next_ = next;
  discontinuity_sequence_ = discontinuities;
  pending_discontinuity_ = true;
}

void dvr_window::append(live_segment s, int64_t now_ms) {
  s.sequence = next_++;
  if (pending_discontinuity_) {
    // The first listed segment needs no tag: the sequence already says it.
    s.discontinuity = !listed_.empty() || s.sequence > 0;
    pending_discontinuity_ = false;
  }
  listed_seconds_ += s.duration;
  listed_.push_back(std::move(s));
  longest_listed_ = std::max(longest_listed_, listed_seconds_);
  // Drop from the front while what stays still covers the window and at
  // least three target durations (§6.2.2: a client must find 3 × target).
  const double keep = std::max(dvr_seconds_, 3.0 * target_);
  while (listed_.size() > 1 && listed_seconds_ - listed_.front().duration >= keep) {
    live_segment& front = listed_.front();
    listed_seconds_ -= front.duration;
    // Its EXT-X-DISCONTINUITY leaves the playlist with it: §6.2.2 counts it
    // in EXT-X-DISCONTINUITY-SEQUENCE from now on.
    if (front.discontinuity)
      ++discontinuity_sequence_;
    const auto grace_ms =
        static_cast<int64_t>(std::ceil((front.duration + longest_listed_) * 1000));
    retired_.push_back({std::move(front.uri), now_ms + grace_ms});
    listed_.pop_front();
  }
}

std::vector<std::string> dvr_window::take_expired(int64_t now_ms) {
  std::vector<std::string> out;
  // Graces are appended in order of removal and all use the same longest
  // playlist or a longer one, so they end nearly in order; scan them all.
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (it->delete_at_ms <= now_ms) {
      out.push_back(std::move(it->uri));
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<std::string> dvr_window::take_all_retired() {
  std::vector<std::string> out;
  for (auto& r : retired_)
    out.push_back(std::move(r.uri));
  retired_.clear();
  return out;
}

} // namespace hlsgate::live
