#include "actors/media_actor.hpp"

#include "actors/media_ops.hpp"
#include "actors/snapshot.hpp"
#include "actors/tokens.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "auth/crypto.hpp"
#include "metrics/log.hpp"

namespace hlsgate::actors {

// Life of one media item:
//
//            fresh upload / restore
//                     |
//                     v
//   queued --progress--> processing --job done--> ready ----+
//      |                    |                               |
//      +------job failed----+--> failed                     |
//                                  |                        |
//   expire timer, DELETE, or keys never delivered (abandon):
//        record deleted (durably), then job cancelled, files removed,
//        waiters answered, registry told, actor quits
//
// Every change of the record is made on a copy, written to the store, and
// adopted only once the store confirmed it is durable (`commit`): a failed
// write leaves the item exactly as it was. Writes use `await`, so other
// messages wait and two changes never interleave.
//
// While processing, segment events build an EVENT snapshot as soon as every
// rendition has its first segment, so playback starts before the job ends.
// Imported (on-demand) items stay queued until their first playlist request.
//
// The expiry timer is a delayed (expire_atom, epoch) to self; extend bumps
// the epoch so an earlier, now stale timer message is ignored.

using namespace ops;

namespace {
constexpr auto progress_event_every = std::chrono::seconds{5};
} // namespace

namespace {

/// Removes the item for good and answers `done` (500 when the record could
/// not be deleted: the item stays whole).
void delete_now(media_pointer self, completion<done> done, const char* by) {
  logging::info("media deleted", {{"media_id", self->state.record.media_id}, {"by", by}});
  destroy(
      self, {api_errc::not_found, "Media was deleted"},
      [done](bool deleted) {
        if (deleted)
          done(actors::done{});
        else
          done(api_error{api_errc::internal, "Cannot delete the media"});
      },
      "media.deleted");
}

} // namespace

// -- the behaviour -----------------------------------------------------------------

media_actor::behavior_type make_media_behavior(media_pointer self, media_params p) {
  auto& st = self->state;
  st.env = p.env;
  st.record = std::move(p.record);
  st.registry = p.registry;
  st.admin_key = p.admin_key;
  if (!p.request_id.empty())
    st.request_id = std::move(p.request_id);
  count_status(self, st.record.status, +1);
  if (p.fresh)
    start_fresh(self, p);
  else
    start_restored(self);
  return {
      // -- callers -------------------------------------------------------------------
      [self](playlist_atom, const auth::token_claims& claims, completion<playlist_grant>& done) {
        if (tombstoned(self, done))
          return;
        auto& st = self->state;
        if (!token_current(st.record, claims)) {
          if (auto* m = metrics_of(self))
            m->auth_failure("revoked");
          done(api_error{api_errc::forbidden, "Token was revoked"});
        } else if (now(self) >= st.record.expires_at) {
          done(api_error{api_errc::expired, "Media expired"});
        } else if (st.record.status == media_status::failed) {
          done(api_error{api_errc::failed, st.record.error});
        } else if (!st.snapshot && st.record.on_demand) {
          start_on_demand(self, claims, done);
        } else if (!st.snapshot) {
          done(api_error{api_errc::not_ready, "Media is still processing"});
        } else {
          done(grant(self, claims));
        }
      },
      [self](stream_info_atom, const auth::token_claims& claims,
             completion<stream_info_result>& done) {
        if (tombstoned(self, done))
          return;
        auto& st = self->state;
        if (!token_current(st.record, claims))
          return done(api_error{api_errc::forbidden, "Token was revoked"});
        if (now(self) >= st.record.expires_at)
          return done(api_error{api_errc::expired, "Media expired"});
        stream_info_result res;
        res.record = st.record;
        res.record.admin_key_hash.clear();
        res.record.source_path.clear();
        res.record.error_detail.clear();
        if (st.record.status != media_status::ready)
          res.record.renditions = st.live;
        res.progress = st.progress;
        res.playable = st.snapshot != nullptr;
        done(std::move(res));
      },
      [self](refresh_atom, const admin_credential& who, unsigned minutes,
             completion<token_result>& done) {
        if (tombstoned(self, done))
          return;
        api_error err;
        if (!check_admin(self, who, err))
          return done(std::move(err));
        if (minutes < 1 || minutes > 10080)
          return done(api_error{api_errc::bad_parameter, "expiry_minutes must be in [1, 10080]"});
        media_record r = self->state.record;
        ++r.token_gen; // every older token stops working once this is durable
        r.last_token_refresh = now(self);
        auto minted = mint_token(r, *self->state.env->jwt, now(self), minutes, "");
        commit(
            self, std::move(r), [self, minted, done] { done(make_token_result(self, minted)); },
            [done] {
              done(api_error{api_errc::internal, "Cannot record the new token"});
            });
      },
      [self](info_atom, const admin_credential& who, completion<info_result>& done) {
        if (tombstoned(self, done))
          return;
        api_error err;
        if (!check_admin(self, who, err))
          return done(std::move(err));
        auto& st = self->state;
        info_result res;
        res.record = st.record;
        res.record.admin_key_hash.clear();
        res.record.source_path.clear();
        if (!who.is_operator)
          res.record.error_detail.clear();
        res.progress = st.progress;
        if (st.job_started > 0 && st.progress > 0 && st.progress < 100) {
          auto elapsed = static_cast<double>(now(self) - st.job_started);
          res.eta_seconds = elapsed * (100 - st.progress) / st.progress;
        }
        done(std::move(res));
      },
      [self](extend_atom, const admin_credential& who, unsigned minutes,
             completion<extend_result>& done) {
        if (tombstoned(self, done))
          return;
        api_error err;
        if (!check_admin(self, who, err))
          return done(std::move(err));
        if (minutes < 1 || minutes > 10080)
          return done(
              api_error{api_errc::bad_parameter, "additional_minutes must be in [1, 10080]"});
        media_record r = self->state.record;
        const auto deadline = r.expires_at + int64_t{minutes} * 60;
        if (deadline - now(self) > max_lifetime_seconds)
          return done(api_error{api_errc::bad_parameter,
                                "Expiry would exceed 7 days from now (10080 minutes)"});
        extend_result res;
        res.media_id = r.media_id;
        res.previous_expiry_minutes = r.expiry_minutes();
        r.expires_at = deadline;
        res.new_expiry_minutes = r.expiry_minutes();
        res.extended_by_minutes = minutes;
        res.expires_at = deadline;
        commit(
            self, std::move(r),
            [self, res, done] {
              schedule_expiry(self);
              done(res);
            },
            [done] {
              done(api_error{api_errc::internal, "Cannot record the new expiry"});
            });
      },
      [self](delete_atom, const admin_credential& who, completion<done>& done) {
        if (tombstoned(self, done))
          return;
        api_error err;
        if (!check_admin(self, who, err))
          return done(std::move(err));
        delete_now(self, std::move(done), "admin");
      },
      [self](bulk_delete_atom, const media_filter& f, completion<done>& done) {
        // The registry's line may be stale (a job just finished): the
        // filter is checked again against the item as it is now.
        if (tombstoned(self, done))
          return;
        if (!matches_filter(summarize(self->state.record), f))
          return done(api_error{api_errc::not_found, "No longer matches the filter"});
        delete_now(self, std::move(done), "bulk");
      },
      [self](token_create_atom, const admin_credential& who, const token_request& req,
             completion<token_result>& done) {
        if (tombstoned(self, done))
          return;
        api_error err;
        if (!check_admin(self, who, err))
          return done(std::move(err));
        if (req.expires_in_minutes > 10080)
          return done(
              api_error{api_errc::bad_parameter, "expires_in_minutes must be in [1, 10080]"});
        if (req.label.size() > max_token_label)
          return done(api_error{api_errc::bad_parameter, "label is longer than 200 bytes"});
        media_record r = self->state.record;
        auto minted =
            mint_token(r, *self->state.env->jwt, now(self), req.expires_in_minutes, req.label);
        commit(
            self, std::move(r), [self, minted, done] { done(make_token_result(self, minted)); },
            [done] {
              done(api_error{api_errc::internal, "Cannot record the new token"});
            });
      },
      [self](subtitles_atom, const admin_credential& who, subtitle_request& req,
             completion<subtitle_result>& done) { add_subtitles(self, who, req, done); },
      [self](token_list_atom, const admin_credential& who, completion<token_list>& done) {
        if (tombstoned(self, done))
          return;
        api_error err;
        if (!check_admin(self, who, err))
          return done(std::move(err));
        done(list_tokens(self->state.record));
      },
      [self](token_revoke_atom, const admin_credential& who, const std::string& jti,
             completion<done>& done) {
        if (tombstoned(self, done))
          return;
        api_error err;
        if (!check_admin(self, who, err))
          return done(std::move(err));
        media_record r = self->state.record;
        if (!revoke_token(r, jti))
          return done(api_error{api_errc::not_found, "No such token"});
        commit(
            self, std::move(r), [done] { done(actors::done{}); },
            [done] {
              done(api_error{api_errc::internal, "Cannot record the revocation"});
            });
      },
      [self](abandon_atom, completion<done>& done) {
        if (tombstoned(self, done))
          return;
        logging::warn("upload reply not delivered; removing the item",
                      {{"media_id", self->state.record.media_id}});
        destroy(self, {api_errc::not_found, "Media was removed"}, [done](bool deleted) {
          if (deleted)
            done(actors::done{});
          else
            done(api_error{api_errc::internal, "Cannot delete the media"});
        });
      },
      [self](drain_atom) {
        // Shutting down: a synchronous upload gets its keys now; its job
        // resumes after the restart.
        answer_upload_waiters(self);
      },
      // -- the job's worker ------------------------------------------------------------
      [self](progress_atom, uint64_t job, double fraction) {
        if (!self->state.cancel || job != self->state.job)
          return;
        mark_started(self);
        self->state.progress = std::clamp(fraction * 100.0, 0.0, 99.9);
        // Throttled: at most one media.progress per item every few seconds.
        const auto t = std::chrono::steady_clock::now();
        if (t - self->state.last_progress_event >= progress_event_every) {
          self->state.last_progress_event = t;
          emit(self, "media.progress", {{"progress", std::round(self->state.progress * 10) / 10}});
        }
      },
      [self](segment_atom, uint64_t job, media::segment_event& ev) {
        if (job == self->state.job)
          on_segment(self, ev);
      },
      [self](job_done_atom, job_result& res) { on_job_done(self, res); },
      [self](job_failed_atom, const job_failure& f) { on_job_failed(self, f); },
      // -- timers ----------------------------------------------------------------------
      [self](expire_atom, uint64_t epoch) {
        if (epoch != self->state.timer_epoch)
          return; // superseded by an extend
        logging::info("media expired", {{"media_id", self->state.record.media_id}});
        destroy(
            self, {api_errc::expired, "Media expired"},
            [self](bool deleted) {
              if (!deleted) // try again later; the item stays whole meanwhile
                self->delayed_send(self, retry_delete_after, expire_atom_v,
                                   self->state.timer_epoch);
            },
            "media.expired");
      },
      [self](wait_timeout_atom, uint64_t id) {
        // The synchronous upload waited long enough: answer with the status.
        upload_waiter w;
        bool found = false;
        take_waiter(self->state.waiters, id, w, found);
        if (found)
          w.done(make_upload_result(self));
      },
      [self](pl_timeout_atom, uint64_t id) {
        playlist_waiter w;
        bool found = false;
        take_waiter(self->state.playlist_waiters, id, w, found);
        if (found)
          w.done(api_error{api_errc::try_later, "Media is being prepared; retry shortly"});
      },
  };
}

} // namespace hlsgate::actors
