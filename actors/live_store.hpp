// Durable live channels and their markers, in the same SQLite file as the
// media records (its own connection; tables `live_channels` and
// `live_markers`, and `live_event_segments` for channels that keep their event). Each channel actor
// writes only its own rows; the connection is shared, so every call takes the store's lock (a write
// is one short transaction with synchronous=FULL: durable when it returns).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "live/channel.hpp"
#include "live/markers.hpp"
#include "media/result.hpp"

namespace hlsgate::actors {

class live_store {
public:
  static media::result<std::unique_ptr<live_store>> open(const std::string& path);
  ~live_store();
  live_store(const live_store&) = delete;
  live_store& operator=(const live_store&) = delete;

  media::status put_channel(const live::channel_record& r);
  /// Removes the channel, its markers and its kept event segments.
  media::status remove_channel(const std::string& id);
  /// Every stored channel; a row that cannot be read is skipped (and logged).
  media::result<std::vector<live::channel_record>> load_channels();

  /// A channel that keeps its whole event (`keep_event`): one more segment
  /// of its top rendition, kept on disk after it leaves the window.
  media::status add_event_segment(const std::string& channel_id, const live::live_segment& s);
  /// A kept event outgrew its cap: its segments up to `last_sequence` go.
  media::status drop_event_segments(const std::string& channel_id, uint64_t last_sequence);
  /// Every kept segment of the channel, oldest first.
  media::result<std::vector<live::live_segment>> load_event_segments(const std::string& channel_id);

  media::status put_marker(const std::string& channel_id, const live::marker& m);
  /// False when the channel has no such marker.
  media::result<bool> remove_marker(const std::string& channel_id, const std::string& marker_id);
  /// The channel's markers by start time.
  media::result<std::vector<live::marker>> load_markers(const std::string& channel_id);

private:
  struct impl;
  explicit live_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::actors
