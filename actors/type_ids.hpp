// The one message-type registry of hlsgate: atoms and the structs actors
// exchange. Every message stays inside one process (remote transcoders would
// get their own serialisable protocol), so the types that carry callbacks or
// shared pointers are allowed as unsafe (not serialisable) message types.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/completion.hpp"
#include "actors/types.hpp"
#include "auth/jwt.hpp"
#include "config/config.hpp"
#include "media/probe.hpp"
#include "media/transcoder.hpp"
#include "metrics/metrics.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(hlsgate, caf::first_custom_type_id)

CAF_ADD_ATOM(hlsgate, hlsgate::actors, upload_atom, "upload")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, playlist_atom, "playlist")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, refresh_atom, "refresh")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, info_atom, "info")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, extend_atom, "extend")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, delete_atom, "delete")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, put_atom, "put")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, gone_atom, "gone")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, expire_atom, "expire")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, probe_atom, "probe")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, submit_atom, "submit")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, cancel_atom, "cancel")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, run_atom, "run")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, idle_atom, "idle")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, progress_atom, "progress")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, job_done_atom, "jobdone")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, job_failed_atom, "jobfailed")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, wait_timeout_atom, "waittmo")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, tick_atom, "tick")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, segment_atom, "segment")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, import_atom, "import")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, stream_info_atom, "streaminfo")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, pl_timeout_atom, "pltimeout")

CAF_END_TYPE_ID_BLOCK(hlsgate)

namespace hlsgate::actors {

/// What every media actor, the registry and the pool share. Immutable after
/// start-up; `now` is injectable so tests control the wall clock.
struct environment {
  config::settings cfg;
  std::shared_ptr<const auth::jwt_codec> jwt;
  metrics::registry* metrics = nullptr;
  std::string media_root;  ///< <data>/media: finished media folders
  std::string source_root; ///< <data>/sources: originals awaiting their job
  caf::actor store;
  caf::actor pool;
  std::function<int64_t()> now; ///< unix seconds
};
using env_ptr = std::shared_ptr<const environment>;

/// A transcode job as queued by the pool and run by a worker.
struct job {
  std::string media_id;
  std::string storage_id;
  std::string source_path;
  std::string media_root;
  media::transcode_options options;
  double thumbnail_seconds = 0; ///< storyboard interval; 0 = no thumbnails
  caf::actor owner;             ///< the media actor: gets progress, segments, done or failed
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  /// Steady-clock milliseconds of the worker's last sign of life; the pool's
  /// watchdog fails the job when it grows stale.
  std::shared_ptr<std::atomic<int64_t>> heartbeat = std::make_shared<std::atomic<int64_t>>(0);
};

/// What the prober found in a library import: each file with its probe.
using probed_files = std::vector<std::pair<std::string, media::result<media::probe_info>>>;

/// Sent by a worker to the media actor when its job succeeded.
struct job_result {
  media::transcode_output output;
  bool has_thumbnails = false;
};

/// Sent by a worker or the pool to the media actor when its job failed.
struct job_failure {
  media::errc code = media::errc::internal;
  std::string reason; ///< short, user-safe
};

} // namespace hlsgate::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::job_failure)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::job_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::probed_files)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::media::segment_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::import_params)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::import_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::stream_info_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::media_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::admin_credential)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::upload_params)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::auth::token_claims)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::media::result<hlsgate::media::probe_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::upload_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::playlist_ptr>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::token_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::info_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::extend_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::done>)
