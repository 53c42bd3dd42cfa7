// One actor per media item: it owns the item's record, its expiry timer and
// its job, and serialises everything about the item through its mailbox.
#pragma once

#include <string>

#include "actors/type_ids.hpp"

namespace hlsgate::actors {

struct media_params {
  env_ptr env;
  media_record record;
  caf::actor registry; ///< told (gone_atom, media_id) when the item is gone
  /// New upload: the actor persists the record, submits its job, and answers
  /// `creator` (at once, or when playable if `wait_ready`).
  bool fresh = false;
  std::string admin_key; ///< plaintext, only for the creator's reply
  bool wait_ready = false;
  completion<upload_result> creator;
};

struct waiter {
  uint64_t id = 0;
  completion<upload_result> cb;
};

/// A playlist request parked until the first segments of an on-demand job.
struct playlist_waiter {
  uint64_t id = 0;
  completion<playlist_ptr> cb;
};

struct media_state {
  env_ptr env;
  media_record record;
  caf::actor registry;
  std::string admin_key; ///< plaintext until the creator got it
  double progress = 0;   ///< percent
  uint64_t timer_epoch = 0;
  std::shared_ptr<std::atomic<bool>> cancel;
  playlist_ptr
      snapshot; ///< EVENT while the job runs (once every rendition has a segment), then VOD
  std::vector<rendition_record> live; ///< renditions of the running job, from segment events
  int64_t job_started = 0;            ///< unix seconds of the job's first sign of life
  std::vector<waiter> waiters;
  std::vector<playlist_waiter> playlist_waiters;
  uint64_t next_waiter = 0;
  static inline const char* name = "media";
};

caf::behavior make_media_behavior(caf::stateful_actor<media_state>* self, media_params p);

/// Builds the immutable playlist view of a ready record (VOD).
playlist_ptr make_snapshot(const media_record& r);

/// Copies what the transcoder reports about a rendition (not its segments).
rendition_record to_record(const media::rendition_output& x);

} // namespace hlsgate::actors
