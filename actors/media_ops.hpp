// The media actor's operations on its own state, shared by its behaviour
// (media_actor.cpp), its job side and start (media_job.cpp), and the
// helpers in media_ops.cpp. Internal to hlsgate_actors: every function runs
// on the actor's own thread with `self` its pointer.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/media_actor.hpp"
#include "actors/tokens.hpp"
#include "metrics/log.hpp"

namespace hlsgate::actors::ops {

using self_ptr = media_pointer;

constexpr int64_t max_lifetime_seconds = 7 * 24 * 3600;
constexpr auto retry_delete_after = std::chrono::seconds(60);

int64_t now(self_ptr self);
metrics::registry* metrics_of(self_ptr self);
void count_status(self_ptr self, media_status s, double delta);
/// Sends the item's line of the admins' listing to the registry.
void announce(self_ptr self);
/// The in-memory status (counted in hlsgate_media_items).
void set_status(self_ptr self, media_status s);
/// Tells the segment path (any HTTP thread) what tokens of the item count.
void publish_tokens(self_ptr self);
/// Makes `r` the item's record (it was written durably).
void adopt(self_ptr self, media_record r);
token_result make_token_result(self_ptr self, const minted_token& m);
void schedule_expiry(self_ptr self);
upload_result make_upload_result(self_ptr self);
/// The current playlists as the token of `claims` may use them.
playlist_grant grant(self_ptr self, const auth::token_claims& claims);
/// Answers every parked playlist request from the current state.
void answer_playlist_waiters(self_ptr self);
/// Answers every waiting synchronous upload with the item as it is now.
void answer_upload_waiters(self_ptr self);
/// The item is gone: requests still queued are answered 404; the registry
/// forgets the id and then stops this actor.
void retire(self_ptr self);
/// Tells the webhooks what happened to the item (`type` e.g. "media.ready").
void emit(self_ptr self, const char* type, nlohmann::json data = nlohmann::json::object());
/// Removes the item for good (record first, durably; then job, files,
/// waiters, registry). `then(false)` when the record could not be deleted.
/// `event` ("media.deleted", "media.expired") goes to the webhooks once it is gone.
void destroy(self_ptr self, api_error why, std::function<void(bool)> then,
             const char* event = nullptr);
/// The job options of this item: the server's settings, its own ladder.
job make_job(self_ptr self);
/// Queues the item's job; `then(accepted)` runs once the pool answered.
void submit_job(self_ptr self, bool force, std::function<void(bool)> then);
bool check_admin(self_ptr self, const admin_credential& who, api_error& err);

// The job's side and the start (media_job.cpp).
void mark_started(self_ptr self);
void on_segment(self_ptr self, media::segment_event& ev);
void on_job_done(self_ptr self, job_result& res);
api_errc failure_code(const job_failure& f);
void record_failure(self_ptr self, const job_failure& f);
void on_job_failed(self_ptr self, const job_failure& f);
/// An imported item's first viewer starts its job and waits (bounded) for
/// the first segments.
void start_on_demand(self_ptr self, const auth::token_claims& claims,
                     completion<playlist_grant>& done);
void start_fresh(self_ptr self, media_params& p);
void start_restored(self_ptr self);

// Subtitle uploads (media_subtitles.cpp).
void add_subtitles(self_ptr self, const admin_credential& who, subtitle_request& req,
                   completion<subtitle_result>& done);

/// Writes `proposed` and adopts it once durable; `ok` runs then. When the
/// write fails, nothing changed and `fail` runs.
template <class Ok, class Fail>
void commit(self_ptr self, media_record proposed, Ok ok, Fail fail) {
  proposed.updated_at = now(self);
  self->request(self->state.env->store, caf::infinite, put_atom_v, proposed)
      .await(
          [self, proposed, ok, fail](bool written) mutable {
            if (!written) {
              logging::error("cannot record a media change",
                             {{"media_id", self->state.record.media_id}});
              return fail();
            }
            adopt(self, std::move(proposed));
            ok();
          },
          [self, fail](caf::error&) mutable {
            logging::error("cannot record a media change",
                           {{"media_id", self->state.record.media_id}});
            fail();
          });
}

/// Answers 404 for an item that is gone; true when it did.
template <class T> bool tombstoned(self_ptr self, completion<T>& done) {
  if (!self->state.gone)
    return false;
  done(api_error{api_errc::not_found, "Media not found"});
  return true;
}

template <class T> void take_waiter(std::vector<T>& ws, uint64_t id, T& out, bool& found) {
  auto i = std::find_if(ws.begin(), ws.end(), [id](const T& w) { return w.id == id; });
  found = i != ws.end();
  if (!found)
    return;
  out = std::move(*i);
  ws.erase(i);
}

} // namespace hlsgate::actors::ops
