// One continuous timeline out of successive MPEG-TS upstreams (the stream
// proxy's continuous streams): when a failover moves a stream to another
// upstream, that upstream's clock is unrelated to the one before (another
// encoder, another start, maybe another frame rate). Every packet of an
// upstream is shifted by one offset, chosen at its first video keyframe
// (its first packet when there is no video) so that it follows the last
// packet written; video starts at a keyframe; a packet that would not move
// its stream forward is dropped. A jump of an upstream's own clock (an
// encoder restarted, a playout looping its files) is taken out the same
// way: a packet more than max_jump from where its stream stands moves the
// offset so that it follows on. Pure: 90 kHz ticks in, 90 kHz ticks out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace hlsgate::media {

class ts_timeline {
public:
  static constexpr int64_t none = std::numeric_limits<int64_t>::min(); ///< no timestamp
  static constexpr int64_t max_jump = 5 * 90000;                       ///< 5 s

  /// One entry per output stream: true for video.
  explicit ts_timeline(std::vector<bool> video);

  /// The next packets come from another upstream (the first one too).
  void begin_upstream();

  struct verdict {
    bool keep = false;
    int64_t pts = none, dts = none;
  };
  /// Places a packet of output stream `s` (its pts, dts and duration in 90
  /// kHz ticks; `key`: a keyframe). A packet without any timestamp is dropped.
  verdict place(size_t s, int64_t pts, int64_t dts, int64_t duration, bool key);

  /// Upstreams begun so far.
  uint64_t upstreams() const { return upstreams_; }

private:
  struct stream {
    bool video = false;
    bool started = false;    ///< this upstream's packets flow (video: a keyframe seen)
    int64_t last_dts = none; ///< last written, output clock
    int64_t end = none;      ///< last written dts + its duration
  };
  std::vector<stream> streams_;
  bool has_video_ = false;
  bool anchored_ = false; ///< this upstream's offset is chosen
  int64_t offset_ = 0;
  uint64_t upstreams_ = 0;
};

} // namespace hlsgate::media
