// The one message-type registry of hlsgate and the typed interface of every
// actor: a message an actor does not handle is a compile error, not a
// silently dropped request.
//
//   service (plain C++) ──► registry_actor ──► media_actor (one per item)
//                                │                 │ submit/cancel       ▲ progress, segments,
//                                ▼                 ▼                     │ done / failed
//                          prober_actor       pool_actor ──► worker_actor (own thread, libav)
//                                                  │
//   media_actor, registry ─── put / delete ──► store_actor (one writer, durable before reply)
//
// Every message stays inside one process, so the structs that carry
// completions or shared pointers are allowed as unsafe (not serialisable)
// message types.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/completion.hpp"
#include "actors/item_files.hpp"
#include "actors/media_index.hpp"
#include "actors/subtitle_tracks.hpp"
#include "actors/types.hpp"
#include "actors/webhook_model.hpp"
#include "auth/jwt.hpp"
#include "auth/revocation.hpp"
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
CAF_ADD_ATOM(hlsgate, hlsgate::actors, abandon_atom, "abandon")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, drain_atom, "drain")
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
CAF_ADD_ATOM(hlsgate, hlsgate::actors, token_create_atom, "tokcreate")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, token_list_atom, "toklist")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, token_revoke_atom, "tokrevoke")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, subtitles_atom, "subtitles")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, write_atom, "write")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, summary_atom, "summary")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, list_atom, "list")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, bulk_delete_atom, "bulkdel")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, bulk_next_atom, "bulknext")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, event_atom, "event")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, hook_create_atom, "hookcreate")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, hook_list_atom, "hooklist")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, hook_delete_atom, "hookdel")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, hook_test_atom, "hooktest")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, hook_log_atom, "hooklog")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, hook_sent_atom, "hooksent")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, hook_retry_atom, "hookretry")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, stop_atom, "stop")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, marker_add_atom, "mkadd")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, marker_list_atom, "mklist")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, marker_del_atom, "mkdel")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, restart_atom, "restart")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, archive_atom, "archive")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, rekey_atom, "rekey")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, failover_atom, "failover")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, fetched_atom, "fetched")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, pump_atom, "pump")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, left_atom, "left")
CAF_ADD_ATOM(hlsgate, hlsgate::actors, client_del_atom, "clientdel")

CAF_END_TYPE_ID_BLOCK(hlsgate)

namespace hlsgate::actors {

// -- messages ------------------------------------------------------------------

/// Sent by a worker to the media actor when its job succeeded.
struct job_result {
  uint64_t job = 0; ///< which of the item's jobs (a late answer of an earlier one is ignored)
  media::transcode_output output;
  bool has_thumbnails = false;
  /// The source's own subtitle tracks, written as WebVTT renditions.
  std::vector<rendition_record> subtitles;
};

/// Sent by a worker or the pool to the media actor when its job failed.
struct job_failure {
  uint64_t job = 0; ///< which of the item's jobs
  media::errc code = media::errc::internal;
  std::string reason; ///< short, user-safe
  std::string detail; ///< for operators: failing stage and libav's error text
};

/// What the prober found in a library import: each file with its probe.
using probed_files = std::vector<std::pair<std::string, media::result<media::probe_info>>>;

// -- interfaces ------------------------------------------------------------------

/// The single writer of durable records; replies only once the write is durable.
using store_actor = caf::typed_actor<caf::replies_to<put_atom, media_record>::with<bool>,
                                     caf::replies_to<delete_atom, std::string>::with<bool>>;

/// One media item: its record, keys, expiry timer and job.
using media_actor = caf::typed_actor<
    // callers (through the registry)
    caf::reacts_to<playlist_atom, auth::token_claims, completion<playlist_grant>>,
    caf::reacts_to<stream_info_atom, auth::token_claims, completion<stream_info_result>>,
    caf::reacts_to<refresh_atom, admin_credential, unsigned, completion<token_result>>,
    caf::reacts_to<info_atom, admin_credential, completion<info_result>>,
    caf::reacts_to<extend_atom, admin_credential, unsigned, completion<extend_result>>,
    caf::reacts_to<delete_atom, admin_credential, completion<done>>,
    /// an operator's bulk delete: only if the item still matches the filter
    caf::reacts_to<bulk_delete_atom, media_filter, completion<done>>,
    caf::reacts_to<token_create_atom, admin_credential, token_request, completion<token_result>>,
    caf::reacts_to<token_list_atom, admin_credential, completion<token_list>>,
    caf::reacts_to<token_revoke_atom, admin_credential, std::string, completion<done>>,
    caf::reacts_to<subtitles_atom, admin_credential, subtitle_request, completion<subtitle_result>>,
    caf::reacts_to<abandon_atom, completion<done>>, ///< its keys never reached the uploader
    caf::reacts_to<drain_atom>,                     ///< shutting down: answer waiting uploads now
    // its job's worker
    caf::reacts_to<progress_atom, uint64_t, double>,
    caf::reacts_to<segment_atom, uint64_t, media::segment_event>,
    caf::reacts_to<job_done_atom, job_result>, caf::reacts_to<job_failed_atom, job_failure>,
    // its own timers
    caf::reacts_to<expire_atom, uint64_t>, caf::reacts_to<wait_timeout_atom, uint64_t>,
    caf::reacts_to<pl_timeout_atom, uint64_t>>;

/// What a media actor tells its registry (a subset of registry_actor): its
/// line in the admins' listing whenever it changes, and that it is gone.
using gone_listener = caf::typed_actor<caf::reacts_to<gone_atom, std::string>,
                                       caf::reacts_to<summary_atom, media_summary>>;

/// A transcode job as queued by the pool and run by a worker.
struct job {
  uint64_t id = 0; ///< unique per process; every message about the job carries it
  std::string media_id;
  std::string request_id; ///< of the creating upload ("-" when not known), for log lines
  std::string storage_id;
  std::string source_path;
  item_files files; ///< where the output goes, with which modes
  media::transcode_options options;
  double thumbnail_seconds = 0; ///< storyboard interval; 0 = no thumbnails
  media_actor owner;            ///< gets progress, segments, done or failed
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  /// Steady-clock milliseconds of the worker's last sign of life; the pool's
  /// watchdog fails the job when it grows stale.
  std::shared_ptr<std::atomic<int64_t>> heartbeat = std::make_shared<std::atomic<int64_t>>(0);
};

/// A bulk delete in progress, owned by the registry (only its thread
/// touches it): at most `window` items are being deleted at a time, and the
/// answer goes out when the last one answered.
struct bulk_delete_job {
  media_filter filter;
  std::vector<std::string> ids; ///< newest first, at most `batch_limit`
  size_t next = 0;              ///< index of the next id to delete
  size_t in_flight = 0;
  bulk_delete_result result;
  completion<bulk_delete_result> done;
  static constexpr size_t window = 8;
  static constexpr size_t batch_limit = 1000;
};

/// What a media actor needs of the pool (a subset of pool_actor).
using job_queue = caf::typed_actor<caf::replies_to<submit_atom, job, bool>::with<bool>,
                                   caf::reacts_to<cancel_atom, std::string>>;

/// The supervisor of the transcode workers.
using pool_actor = job_queue::extend<caf::reacts_to<idle_atom>, caf::reacts_to<tick_atom>>;

/// One transcode worker (a detached actor: libav runs on its own thread).
using worker_actor = caf::typed_actor<caf::reacts_to<run_atom, job>>;

/// Reads file headers on a thread of its own.
using prober_actor = caf::typed_actor<
    caf::replies_to<probe_atom, std::string>::with<media::result<media::probe_info>>,
    caf::replies_to<import_atom, import_params>::with<probed_files>>;

/// Public id -> media actor.
using registry_actor = gone_listener::extend<
    caf::reacts_to<upload_atom, upload_params, completion<upload_result>>,
    caf::reacts_to<playlist_atom, std::string, auth::token_claims, completion<playlist_grant>>,
    caf::reacts_to<stream_info_atom, std::string, auth::token_claims,
                   completion<stream_info_result>>,
    caf::reacts_to<refresh_atom, std::string, admin_credential, unsigned, completion<token_result>>,
    caf::reacts_to<info_atom, std::string, admin_credential, completion<info_result>>,
    caf::reacts_to<extend_atom, std::string, admin_credential, unsigned, completion<extend_result>>,
    caf::reacts_to<delete_atom, std::string, admin_credential, completion<done>>,
    caf::reacts_to<token_create_atom, std::string, admin_credential, token_request,
                   completion<token_result>>,
    caf::reacts_to<token_list_atom, std::string, admin_credential, completion<token_list>>,
    caf::reacts_to<token_revoke_atom, std::string, admin_credential, std::string, completion<done>>,
    caf::reacts_to<subtitles_atom, std::string, admin_credential, subtitle_request,
                   completion<subtitle_result>>,
    caf::reacts_to<abandon_atom, std::string, completion<done>>, caf::reacts_to<drain_atom>,
    caf::reacts_to<import_atom, import_params, completion<import_result>>,
    // admins
    caf::reacts_to<list_atom, media_query, completion<media_page>>,
    caf::reacts_to<bulk_delete_atom, media_filter, completion<bulk_delete_result>>,
    caf::reacts_to<bulk_next_atom, std::shared_ptr<bulk_delete_job>, bool>>;

/// Where things that happened go (media actors, later live channels and
/// proxied streams): the webhooks actor.
using event_sink = caf::typed_actor<caf::reacts_to<event_atom, webhook_event>>;

/// The one webhook system (actors/webhooks.hpp).
using webhooks_actor = event_sink::extend<
    caf::reacts_to<hook_create_atom, webhook, completion<webhook>>,
    caf::reacts_to<hook_list_atom, completion<std::vector<webhook>>>,
    caf::reacts_to<hook_delete_atom, webhook_selector, completion<size_t>>,
    caf::reacts_to<hook_test_atom, webhook_selector, completion<std::string>>,
    caf::reacts_to<hook_log_atom, std::string, completion<std::vector<webhook_delivery>>>,
    // the poster's answers and the retry timers
    caf::reacts_to<hook_sent_atom, std::string, unsigned, std::string>,
    caf::reacts_to<hook_retry_atom, std::string>>;

// -- shared context --------------------------------------------------------------

/// What every media actor, the registry and the pool share. Immutable after
/// start-up; `now` is injectable so tests control the wall clock.
struct environment {
  config::settings cfg;
  std::shared_ptr<const auth::jwt_codec> jwt;
  metrics::registry* metrics = nullptr;
  item_files files;
  std::string upload_dir; ///< where finished uploads wait for their probe
  /// Per-item token state for the segment path (written by media actors).
  std::shared_ptr<auth::revocation_table> revocations = std::make_shared<auth::revocation_table>();
  store_actor store;
  job_queue pool;
  /// Jobs waiting in the pool's queue (read lock-free by the HTTP layer to
  /// refuse an upload before its body is read).
  std::shared_ptr<std::atomic<size_t>> queued = std::make_shared<std::atomic<size_t>>(0);
  /// Events for webhooks (null in tests that do not need them).
  event_sink events;
  std::function<int64_t()> now; ///< unix seconds
};
using env_ptr = std::shared_ptr<const environment>;

} // namespace hlsgate::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::job_failure)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::job_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::probed_files)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::media::segment_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::import_params)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::media_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::admin_credential)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::upload_params)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::auth::token_claims)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::media::result<hlsgate::media::probe_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::upload_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::playlist_grant>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::token_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::info_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::extend_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::done>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::import_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::stream_info_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::token_list>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::token_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::media_summary)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::media_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::media_filter)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<hlsgate::actors::bulk_delete_job>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::media_page>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::bulk_delete_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::subtitle_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::subtitle_rendition)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::subtitle_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::webhook_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::webhook)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::webhook_selector)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<hlsgate::actors::webhook>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<std::vector<hlsgate::actors::webhook>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<size_t>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hlsgate::actors::completion<std::string>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    hlsgate::actors::completion<std::vector<hlsgate::actors::webhook_delivery>>)
