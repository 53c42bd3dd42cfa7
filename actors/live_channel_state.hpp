// A channel actor's state, shared by the files that make up the actor:
// live_channel.cpp (its behaviour: ingest sessions, windows, timers) and
// live_channel_store.cpp (what it writes durably and reads back: the record
// with its windows, a kept event's segments, the files an archive joins).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "actors/live_channel.hpp"

namespace hlsgate::actors {

/// Seconds of playlist requests the viewer estimate looks at.
constexpr size_t viewer_span = 10;

struct channel_state {
  live_env_ptr env;
  live::channel_record record;
  std::vector<live::dvr_window> windows; ///< parallel to record.renditions
  std::vector<live::marker> markers;     ///< by start time
  live::channel_status status = live::channel_status::waiting;
  uint64_t session = 0;
  bool ingesting = false;
  std::shared_ptr<std::atomic<bool>> cancel;
  /// SRT: a publisher that connected while the previous session was still
  /// ending; its session starts as soon as that one has.
  std::shared_ptr<media::stream_reader> next_publisher;
  unsigned backoff = 0;
  uint64_t restarts = 0;
  std::string last_error;
  size_t expected = 0; ///< renditions the ingest produces
  /// Wall clock (unix ms) when the session's source started, and how much
  /// media each rendition got from it: a live source delivers frame t at
  /// start + t, which is the capture time its PROGRAM-DATE-TIME carries.
  int64_t session_start_ms = 0;
  std::vector<double> session_media;   ///< seconds, per rendition
  uint64_t session_first = 0;          ///< the session's first segment file number
  std::vector<uint64_t> session_files; ///< segments per rendition this session
  std::shared_ptr<const live_view> view;
  uint64_t last_bitrate = 0;
  /// Video frames the ingest could not decode or decoded damaged: in the
  /// sessions before this one, and in this one so far.
  uint64_t dropped_before = 0, session_dropped = 0;
  uint64_t dropped_frames() const noexcept { return dropped_before + session_dropped; }
  std::array<uint32_t, viewer_span> requests{};
  int64_t request_second = 0;
  int64_t next_test_marker = 0;
  uint64_t test_markers = 0;
  int64_t lost_since = 0; ///< unix ms the source went away after being live (0: not lost)
  /// keep_event: the kept segments of the top rendition (oldest first), as
  /// recorded in the store, their names and their length. At most
  /// HLSGATE_MAX_SOURCE_SECONDS (the longest archive) are kept.
  std::deque<live::live_segment> kept;
  std::unordered_set<std::string> kept_names;
  double kept_seconds = 0;
  bool gone = false;     ///< deleted or expired: waiting for the ingest to end
  bool draining = false; ///< shutting down: no new session
  static inline const char* name = "live_channel";

  ~channel_state() {
    // The actor is going away (deleted, or the system stops): its ingest
    // stops within one packet; the actor system waits for that thread.
    if (cancel)
      cancel->store(true);
  }
};

using channel_ptr = channel_actor::stateful_pointer<channel_state>;

inline int64_t now_ms(channel_ptr self) {
  return self->state.env->now_ms();
}

/// The channel's folder in the media tree.
inline std::filesystem::path folder(channel_ptr self) {
  return std::filesystem::path{self->state.env->cfg.media_dir} / self->state.record.storage_id;
}

/// The record with the windows as they are now, written durably.
bool persist(channel_ptr self);

/// A restored channel: its windows as saved; files no window lists (written
/// after the last save, or half-written) are removed, except a kept event's.
void restore_windows(channel_ptr self);

/// A channel that keeps its event: records the top rendition's newest
/// segment, whose file then outlives the window; the oldest go once the
/// kept event is longer than HLSGATE_MAX_SOURCE_SECONDS.
void keep_event_segment(channel_ptr self);

/// The files an archive joins: the top rendition's window, or, for a
/// channel that keeps its event, every kept segment of it (the window when
/// none could be read back after a restart); empty before the first.
archive_plan plan_archive(channel_ptr self);

} // namespace hlsgate::actors
