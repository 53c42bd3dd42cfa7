// The DVR window of a live channel (RFC 8216 §6.2.2): the segments a live
// media playlist lists, their media and discontinuity sequence numbers, and
// the segments that left the window and may be deleted once every client
// that saw them in a playlist has had time to fetch them. Pure: the channel
// actor owns one per rendition and feeds it completed segments and the clock.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace hlsgate::live {

struct live_segment {
  uint64_t sequence = 0;      ///< media sequence number (set by the window)
  std::string uri;            ///< file name in the rendition folder
  double duration = 0;        ///< seconds (EXTINF)
  int64_t pdt_ms = 0;         ///< wall clock of capture of its first frame, unix ms
  bool discontinuity = false; ///< the first segment after the source restarted
  uint64_t bytes = 0;
};

/// A segment that left the playlist, kept on disk until its grace ends.
struct retired_segment {
  std::string uri;
  int64_t delete_at_ms = 0; ///< unix ms
};

class dvr_window {
public:
  /// `dvr_seconds`: how much of the past the playlist lists (at least three
  /// target durations are always kept, as §6.2.2 requires); `target_seconds`:
  /// EXT-X-TARGETDURATION.
  dvr_window(double dvr_seconds, int target_seconds);

  /// The next segment appended starts after a source restart.
  void mark_discontinuity() noexcept { pending_discontinuity_ = true; }

  /// Lists a completed segment (its sequence number is assigned here) and
  /// drops from the front what no longer fits. `now_ms` starts the grace of
  /// what is dropped.
  void append(live_segment s, int64_t now_ms);

  /// File names of dropped segments whose grace ended by `now_ms` (each
  /// returned once): the duration of the segment plus that of the longest
  /// playlist it appeared in, after it left the playlist.
  std::vector<std::string> take_expired(int64_t now_ms);

  /// Every dropped segment still in its grace, for a shutdown that deletes
  /// them at once.
  std::vector<std::string> take_all_retired();
  /// The dropped segments still in their grace (saved with the window, so a
  /// restart deletes them when their grace ends, not before).
  const std::deque<retired_segment>& retired() const noexcept { return retired_; }

  void end() noexcept { ended_ = true; }
  bool ended() const noexcept { return ended_; }

  const std::deque<live_segment>& segments() const noexcept { return listed_; }
  uint64_t media_sequence() const noexcept {
    return listed_.empty() ? next_ : listed_.front().sequence;
  }
  uint64_t discontinuity_sequence() const noexcept { return discontinuity_sequence_; }
  int target_duration() const noexcept { return target_; }
  double listed_seconds() const noexcept { return listed_seconds_; }
  double dvr_seconds() const noexcept { return dvr_seconds_; }
  /// The next sequence number (restored state resumes from it).
  uint64_t next_sequence() const noexcept { return next_; }
  /// Restores numbering after a restart: the next segment gets `next`, and
  /// the discontinuity sequence starts at `discontinuities`.
  void resume(uint64_t next, uint64_t discontinuities) noexcept;
  /// Restores a window saved before a restart: its segments (oldest first,
  /// with their sequence numbers), the next number and the discontinuity
  /// sequence, and the segments still in their grace. The next segment
  /// appended starts a discontinuity (the source cannot continue where it was).
  void restore(std::vector<live_segment> listed, uint64_t next, uint64_t discontinuities,
               std::vector<retired_segment> retired = {});

private:
  double dvr_seconds_;
  int target_;
  std::deque<live_segment> listed_;
  std::deque<retired_segment> retired_;
  double listed_seconds_ = 0;
  double longest_listed_ = 0; ///< the longest playlist so far, seconds
  uint64_t next_ = 0;
  uint64_t discontinuity_sequence_ = 0;
  bool pending_discontinuity_ = false;
  bool ended_ = false;
};

} // namespace hlsgate::live
