// One actor per media item: it owns the item's record, its expiry timer and
// its job, and serialises everything about the item through its mailbox.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace hlsgate::actors {

struct media_params {
  env_ptr env;
  media_record record;
  gone_listener registry; ///< told (gone_atom, media_id) when the item is gone
  /// New upload: the actor persists the record, submits its job, and answers
  /// `creator` (at once, or when playable if `wait_ready`).
  bool fresh = false;
  std::string admin_key; ///< plaintext, only for the creator's reply
  bool wait_ready = false;
  completion<upload_result> creator;
  std::string request_id; ///< the creating upload's X-Request-Id
};

/// A synchronous upload waiting until its media is playable.
struct upload_waiter {
  uint64_t id = 0;
  completion<upload_result> done;
};

/// A playlist request parked until the first segments of an on-demand job.
struct playlist_waiter {
  uint64_t id = 0;
  completion<playlist_grant> done;
  auth::token_claims claims; ///< of the token that asked
};

struct media_state {
  env_ptr env;
  media_record record;
  gone_listener registry;
  std::string admin_key;    ///< plaintext until the creator got it
  std::string upload_token; ///< the access token minted for the creator's reply
  /// X-Request-Id of the upload that created the item, named in its job's
  /// log lines; "-" for items restored or imported.
  std::string request_id = "-";
  double progress = 0; ///< percent
  /// When the last media.progress event went out (they are throttled).
  std::chrono::steady_clock::time_point last_progress_event{};
  uint64_t timer_epoch = 0;
  std::shared_ptr<std::atomic<bool>> cancel; ///< set while a job is submitted or running
  uint64_t job = 0;                          ///< id of that job: messages of any other are stale
  /// EVENT while the job runs (once every rendition has a segment), then VOD.
  playlist_ptr snapshot;
  std::vector<rendition_record> live; ///< renditions of the running job, from segment events
  int64_t job_started = 0;            ///< unix seconds of the job's first sign of life
  std::vector<upload_waiter> waiters;
  std::vector<playlist_waiter> playlist_waiters;
  uint64_t next_waiter = 0;
  bool gone = false; ///< deleted or expired: requests still queued get 404
  static inline const char* name = "media";
};

using media_pointer = media_actor::stateful_pointer<media_state>;

media_actor::behavior_type make_media_behavior(media_pointer self, media_params p);

} // namespace hlsgate::actors
