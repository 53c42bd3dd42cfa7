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
  callback<upload_result> creator;
};

struct waiter {
  uint64_t id = 0;
  callback<upload_result> cb;
};

struct media_state {
  env_ptr env;
  media_record record;
  caf::actor registry;
  std::string admin_key; ///< plaintext until the creator got it
  double progress = 0;   ///< percent
  uint64_t timer_epoch = 0;
  std::shared_ptr<std::atomic<bool>> cancel;
  playlist_ptr snapshot; ///< built once the item is ready
  std::vector<waiter> waiters;
  uint64_t next_waiter = 0;
  static inline const char* name = "media";
};

caf::behavior make_media_behavior(caf::stateful_actor<media_state>* self, media_params p);

/// Builds the immutable playlist view of a ready record.
playlist_ptr make_snapshot(const media_record& r);

} // namespace hlsgate::actors
