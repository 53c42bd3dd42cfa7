// The transcoder pool: a supervisor with N workers. Each worker is a detached
// actor (its own thread), so libav never runs on a CAF scheduler thread.
//
//   (submit_atom, job, bool force) -> bool   queued (false: queue full)
//   (cancel_atom, storage_id)                drop a queued job (a running one
//                                            stops through its cancel flag)
//
// A worker that dies (an exception escaping libav glue, say) is replaced and
// its job reported to the owner as failed ("crashed"). A worker whose job
// shows no progress for `watchdog_seconds` (a hung read, a stuck decoder) is
// abandoned and replaced, and its job failed ("watchdog"); its cancel flag is
// set so the thread stops as soon as it runs again.
#pragma once

#include "actors/interfaces.hpp"

namespace hlsgate::actors {

struct pool_params {
  env_ptr env;
  unsigned workers = 1;
  unsigned queue_limit = 32;
  unsigned watchdog_seconds = 300; ///< silence after which a running job is failed
};

pool_actor spawn_transcoder_pool(caf::actor_system& sys, pool_params p);

/// Runs one job on the calling thread: transcode into the item's output
/// folder (prepared empty by item_files; segments appear as they are
/// finished and are reported through `on_segment`), then thumbnails; the
/// folder is deleted on failure or cancellation. Used by the workers.
media::result<job_result> run_job(const job& j, const media::progress_fn& progress,
                                  const media::segment_fn& on_segment);

} // namespace hlsgate::actors
