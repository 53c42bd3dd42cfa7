#include "actors/media_actor.hpp"

#include "actors/snapshot.hpp"
#include "actors/tokens.hpp"

#include <algorithm>
#include <chrono>

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

namespace {

using self_ptr = media_pointer;

constexpr int64_t max_lifetime_seconds = 7 * 24 * 3600;
constexpr auto retry_delete_after = std::chrono::seconds(60);

int64_t now(self_ptr self) {
  return self->state.env->now();
}

metrics::registry* metrics_of(self_ptr self) {
  return self->state.env->metrics;
}

void count_status(self_ptr self, media_status s, double delta) {
  if (auto* m = metrics_of(self))
    m->media_items_add(static_cast<metrics::media_state>(s), delta);
}

/// The in-memory status (counted in hlsgate_media_items).
void set_status(self_ptr self, media_status s) {
  auto& r = self->state.record;
  if (r.status == s)
    return;
  count_status(self, r.status, -1);
  count_status(self, s, +1);
  r.status = s;
}

/// Tells the segment path (any HTTP thread) what tokens of the item count.
void publish_tokens(self_ptr self) {
  auto& st = self->state;
  st.env->revocations->publish(st.record.storage_id, revocation_state(st.record));
}

/// Makes `r` the item's record (it was written durably).
void adopt(self_ptr self, media_record r) {
  set_status(self, r.status);
  self->state.record = std::move(r);
  publish_tokens(self);
}

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

token_result make_token_result(self_ptr self, const minted_token& m) {
  auto& r = self->state.record;
  token_result res;
  res.media_id = r.media_id;
  res.access_token = m.token;
  res.jti = m.record.jti;
  res.label = m.record.label;
  res.expires_at = m.record.expires_at;
  res.media_expires_at = r.expires_at;
  const auto until =
      m.record.expires_at == 0 ? r.expires_at : std::min(r.expires_at, m.record.expires_at);
  res.expires_in_minutes = static_cast<unsigned>(std::max<int64_t>(0, until - now(self) + 59) / 60);
  if (auto* mt = metrics_of(self))
    mt->token_issued();
  return res;
}

void schedule_expiry(self_ptr self) {
  auto& st = self->state;
  auto left = std::max<int64_t>(0, st.record.expires_at - now(self));
  self->delayed_send(self, std::chrono::seconds(left), expire_atom_v, ++st.timer_epoch);
}

upload_result make_upload_result(self_ptr self) {
  auto& st = self->state;
  upload_result res;
  res.media_id = st.record.media_id;
  res.admin_key = st.admin_key;
  res.access_token = st.upload_token;
  res.expires_at = st.record.expires_at;
  res.expiry_minutes = static_cast<unsigned>(st.record.expiry_minutes());
  res.status = st.record.status;
  res.progress = st.progress;
  res.error = st.record.error;
  return res;
}

/// The current playlists as the token of `claims` may use them.
playlist_grant grant(self_ptr self, const auth::token_claims& claims) {
  auto& st = self->state;
  return {st.snapshot, st.record.token_gen, claims.jti, claims.exp, st.record.expires_at};
}

/// Answers every parked playlist request from the current state.
void answer_playlist_waiters(self_ptr self) {
  auto& st = self->state;
  auto ws = std::move(st.playlist_waiters);
  st.playlist_waiters.clear();
  for (auto& w : ws) {
    if (st.snapshot)
      w.done(grant(self, w.claims));
    else if (st.record.status == media_status::failed)
      w.done(api_error{api_errc::failed, st.record.error});
    else
      w.done(api_error{api_errc::try_later, "Media is being prepared; retry shortly"});
  }
}

/// Answers every waiting synchronous upload with the item as it is now.
void answer_upload_waiters(self_ptr self) {
  auto& st = self->state;
  auto ws = std::move(st.waiters);
  st.waiters.clear();
  for (auto& w : ws) {
    if (st.record.status == media_status::failed)
      w.done(api_error{api_errc::failed, st.record.error});
    else
      w.done(make_upload_result(self));
  }
}

/// The item is gone: from now on every request still in the mailbox is
/// answered 404 (not dropped: a dropped request would surface as a 503).
/// The registry forgets the id and then stops this actor.
void retire(self_ptr self) {
  auto& st = self->state;
  st.gone = true;
  st.cancel.reset();
  st.job = 0;
  ++st.timer_epoch;
  st.snapshot.reset();
  if (st.registry)
    self->send(st.registry, gone_atom_v, st.record.media_id);
  else
    self->quit();
}

/// Answers 404 for an item that is gone; true when it did.
template <class T> bool tombstoned(self_ptr self, completion<T>& done) {
  if (!self->state.gone)
    return false;
  done(api_error{api_errc::not_found, "Media not found"});
  return true;
}

/// Removes the item for good. The record goes first (durably): a crash
/// afterwards leaves only files that the start-up sweep removes, never a
/// record whose files are gone. Then the job is cancelled, the files
/// removed (ownership honoured), waiters answered with `why`, the registry
/// told, and the actor quits. When the record cannot be deleted nothing is
/// removed and `then(false)` runs: the item stays whole.
void destroy(self_ptr self, api_error why, std::function<void(bool)> then) {
  auto finish = [self, why, then](bool deleted) {
    auto& st = self->state;
    if (!deleted) {
      logging::error("cannot delete a media record", {{"media_id", st.record.media_id}});
      if (then)
        then(false);
      return;
    }
    if (st.cancel) {
      st.cancel->store(true);
      self->send(st.env->pool, cancel_atom_v, st.record.storage_id);
    }
    st.env->revocations->erase(st.record.storage_id);
    st.env->files.remove(st.record);
    for (auto& w : st.waiters)
      w.done(why);
    st.waiters.clear();
    for (auto& w : st.playlist_waiters)
      w.done(why);
    st.playlist_waiters.clear();
    count_status(self, st.record.status, -1);
    retire(self);
    if (then)
      then(true);
  };
  self->request(self->state.env->store, caf::infinite, delete_atom_v, self->state.record.media_id)
      .await([finish](bool deleted) { finish(deleted); }, [finish](caf::error&) { finish(false); });
}

/// The job options of this item: the server's settings, its own ladder.
job make_job(self_ptr self) {
  auto& st = self->state;
  job j;
  j.media_id = st.record.media_id;
  j.storage_id = st.record.storage_id;
  j.source_path = st.record.source_path;
  j.files = st.env->files;
  j.options.segment_seconds = st.env->cfg.segment_seconds;
  j.options.x264_preset = st.env->cfg.x264_preset;
  // libav reads the original only where it may be: an upload's among the
  // originals, an imported file under the import root (checked on the
  // descriptor opened, so a file swapped for a symlink is refused).
  j.options.source.confine_root =
      st.record.source_owned ? st.env->files.source_dir() : st.env->cfg.import_root;
  j.options.source.allow_fifo = st.record.source_owned;
  std::vector<config::rung> rungs = st.env->cfg.ladder;
  if (!st.record.ladder.empty())
    config::parse_ladder(st.record.ladder, rungs); // validated at upload
  for (auto& r : rungs)
    j.options.ladder.push_back({r.height, r.video_bitrate});
  j.thumbnail_seconds = st.env->cfg.thumbnail_seconds;
  j.owner = self;
  // Unique in the process: a worker replaced by the watchdog may still
  // report on the job it abandoned, after a new one started.
  static std::atomic<uint64_t> next_job{1};
  j.id = next_job.fetch_add(1, std::memory_order_relaxed);
  return j;
}

/// Queues the item's job; `then(accepted)` runs once the pool answered.
void submit_job(self_ptr self, bool force, std::function<void(bool)> then) {
  auto j = make_job(self);
  self->state.cancel = j.cancel;
  self->state.job = j.id;
  self->request(self->state.env->pool, caf::infinite, submit_atom_v, std::move(j), force)
      .await(
          [self, then](bool accepted) {
            if (!accepted)
              self->state.cancel.reset();
            then(accepted);
          },
          [self, then](caf::error&) {
            self->state.cancel.reset();
            then(false);
          });
}

bool check_admin(self_ptr self, const admin_credential& who, api_error& err) {
  if (who.is_operator)
    return true;
  if (who.admin_key.empty()) {
    err = {api_errc::unauthorized, "Admin key required"};
    return false;
  }
  if (!auth::constant_time_equal(auth::sha256_hex(who.admin_key),
                                 self->state.record.admin_key_hash)) {
    if (auto* m = metrics_of(self))
      m->auth_failure("bad_admin_key");
    err = {api_errc::forbidden, "Invalid admin key"};
    return false;
  }
  return true;
}

// -- the job's side ----------------------------------------------------------------

void mark_started(self_ptr self) {
  auto& st = self->state;
  if (st.record.status == media_status::queued)
    set_status(self, media_status::processing);
  if (st.job_started == 0)
    st.job_started = now(self);
}

void on_segment(self_ptr self, media::segment_event& ev) {
  auto& st = self->state;
  if (!st.cancel || ev.rendition_index >= ev.rendition_count)
    return; // no job of ours is running (a late event)
  mark_started(self);
  if (st.live.size() != ev.rendition_count)
    st.live.resize(ev.rendition_count);
  auto& rr = st.live[ev.rendition_index];
  auto segments = std::move(rr.segments);
  rr = to_record(ev.rendition);
  rr.segments = std::move(segments);
  rr.segments.push_back(std::move(ev.segment));
  bool all = std::all_of(st.live.begin(), st.live.end(),
                         [](const rendition_record& x) { return !x.segments.empty(); });
  if (!all)
    return;
  st.snapshot = make_snapshot(st.record, st.live, false, st.env->cfg.segment_seconds);
  answer_playlist_waiters(self);
}

void on_job_done(self_ptr self, job_result& res) {
  auto& st = self->state;
  if (!st.cancel || res.job != st.job)
    return; // no job of ours is running, or this is an earlier one's late answer
  auto& out = res.output;
  media_record r = st.record;
  r.status = media_status::ready;
  r.duration = out.served_duration > 0 ? out.served_duration : out.duration;
  r.warning = out.warning;
  if (!r.warning.empty())
    logging::warn("media shorter than declared",
                  {{"media_id", r.media_id}, {"warning", r.warning}});
  r.renditions.clear();
  for (auto& x : out.renditions) {
    auto rr = to_record(x);
    rr.segments = std::move(x.segments);
    r.renditions.push_back(std::move(rr));
  }
  r.has_thumbnails = res.has_thumbnails;
  const media_record before = st.record;
  r.source_path = r.source_owned ? std::string{} : r.source_path;
  commit(
      self, std::move(r),
      [self, before] {
        auto& st = self->state;
        logging::info("media ready", {{"media_id", st.record.media_id}});
        st.env->files.drop_source(before); // only an owned original; durably unreferenced now
        st.cancel.reset();
        st.live.clear();
        st.progress = 100;
        st.snapshot =
            make_snapshot(st.record, st.record.renditions, true, st.env->cfg.segment_seconds);
        answer_playlist_waiters(self);
        answer_upload_waiters(self);
      },
      [self] {
        // The output exists but is not recorded: the job runs again after a
        // restart (its original is kept). Nobody waits forever meanwhile.
        auto& st = self->state;
        st.cancel.reset();
        for (auto& w : st.waiters)
          w.done(api_error{api_errc::internal, "Cannot record the media"});
        st.waiters.clear();
        answer_playlist_waiters(self);
      });
}

api_errc failure_code(const job_failure& f) {
  switch (f.code) {
  case media::errc::invalid_input:
  case media::errc::unsupported_media:
    return api_errc::unsupported_media;
  case media::errc::limit_exceeded:
    return api_errc::limit_exceeded;
  default:
    return api_errc::failed;
  }
}

/// Records that the item's job failed (durably), or removes the item when
/// only a waiting uploader knows its keys.
void record_failure(self_ptr self, const job_failure& f) {
  auto& st = self->state;
  const std::string reason = f.reason.empty() ? "Transcoding failed" : f.reason;
  logging::warn("transcoding failed",
                {{"media_id", st.record.media_id}, {"reason", reason}, {"detail", f.detail}});
  st.live.clear();
  st.snapshot.reset();
  st.env->files.remove_output(st.record.storage_id);
  if (!st.waiters.empty() && !st.admin_key.empty()) {
    // Nobody but the waiting uploader knows this item's keys: it gets the
    // reason and the item goes away whole instead of lingering.
    destroy(self, api_error{failure_code(f), reason}, nullptr);
    return;
  }
  media_record r = st.record;
  r.status = media_status::failed;
  r.error = reason;
  r.error_detail = f.detail;
  const media_record before = st.record;
  if (r.source_owned)
    r.source_path.clear();
  commit(
      self, std::move(r),
      [self, before] {
        self->state.env->files.drop_source(before);
        answer_playlist_waiters(self);
        answer_upload_waiters(self);
      },
      [self] {
        answer_playlist_waiters(self);
        answer_upload_waiters(self);
      });
}

void on_job_failed(self_ptr self, const job_failure& f) {
  auto& st = self->state;
  if (!st.cancel || f.job != st.job)
    return; // no job of ours is running, or an earlier one's late message
  st.cancel.reset();
  if (f.code == media::errc::cancelled)
    return; // only a delete or expiry cancels, and those clean up themselves
  record_failure(self, f);
}

/// An imported item's first viewer starts its job and waits (bounded) for
/// the first segments.
void start_on_demand(self_ptr self, const auth::token_claims& claims,
                     completion<playlist_grant>& done) {
  auto& st = self->state;
  auto id = ++st.next_waiter;
  st.playlist_waiters.push_back({id, std::move(done), claims});
  self->delayed_send(self, std::chrono::seconds(st.env->cfg.ondemand_wait_seconds),
                     pl_timeout_atom_v, id);
  if (st.cancel)
    return; // already submitted
  logging::info("starting on-demand job", {{"media_id", st.record.media_id}});
  submit_job(self, false, [self](bool accepted) {
    if (!accepted)
      answer_playlist_waiters(self);
  });
}

// -- start ---------------------------------------------------------------------------

void start_fresh(self_ptr self, media_params& p) {
  auto creator = std::move(p.creator);
  auto wait_ready = p.wait_ready;
  auto& st0 = self->state;
  st0.upload_token =
      mint_token(st0.record, *st0.env->jwt, now(self), st0.env->cfg.token_minutes, "").token;
  if (auto* m = metrics_of(self))
    m->token_issued();
  // Nothing of a refused upload is kept: its original, its record.
  auto refuse = [self, creator](api_error e) {
    auto& st = self->state;
    st.env->files.remove(st.record);
    count_status(self, st.record.status, -1);
    retire(self);
    creator(std::move(e));
  };
  self->request(self->state.env->store, caf::infinite, put_atom_v, self->state.record)
      .await(
          [self, creator, wait_ready, refuse](bool written) {
            if (!written)
              return refuse({api_errc::internal, "Cannot record the media"});
            publish_tokens(self);
            submit_job(self, false, [self, creator, wait_ready, refuse](bool accepted) {
              if (!accepted) {
                destroy(self, {api_errc::queue_full, "Too many jobs queued"}, [creator](bool) {
                  creator(api_error{api_errc::queue_full, "Too many jobs queued"});
                });
                return;
              }
              schedule_expiry(self);
              if (!wait_ready)
                return creator(make_upload_result(self));
              auto& st = self->state;
              auto id = ++st.next_waiter;
              st.waiters.push_back({id, creator});
              self->delayed_send(self, std::chrono::seconds(st.env->cfg.upload_wait_seconds),
                                 wait_timeout_atom_v, id);
            });
          },
          [refuse](caf::error&) {
            refuse({api_errc::internal, "Cannot record the media"});
          });
}

void start_restored(self_ptr self) {
  auto& st = self->state;
  auto& r = st.record;
  publish_tokens(self);
  schedule_expiry(self);
  if (r.status == media_status::ready) {
    st.progress = 100;
    st.snapshot = make_snapshot(r, r.renditions, true, st.env->cfg.segment_seconds);
    return;
  }
  if (r.status == media_status::failed)
    return;
  if (r.on_demand && r.status == media_status::queued)
    return; // waits for its first playlist request
  // Unfinished job: run it again; the worker wipes the partial output first.
  if (r.source_path.empty()) {
    record_failure(self,
                   {0, media::errc::io_error, "The original was lost before transcoding", {}});
    return;
  }
  set_status(self, media_status::queued);
  submit_job(self, true, [self](bool accepted) {
    if (!accepted)
      record_failure(self,
                     {0, media::errc::internal, "Cannot resume the job", "the pool refused it"});
  });
}

template <class T> void take_waiter(std::vector<T>& ws, uint64_t id, T& out, bool& found) {
  auto i = std::find_if(ws.begin(), ws.end(), [id](const T& w) { return w.id == id; });
  found = i != ws.end();
  if (!found)
    return;
  out = std::move(*i);
  ws.erase(i);
}

} // namespace

// -- the behaviour -----------------------------------------------------------------

media_actor::behavior_type make_media_behavior(media_pointer self, media_params p) {
  auto& st = self->state;
  st.env = p.env;
  st.record = std::move(p.record);
  st.registry = p.registry;
  st.admin_key = p.admin_key;
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
        logging::info("media deleted", {{"media_id", self->state.record.media_id}});
        destroy(self, {api_errc::not_found, "Media was deleted"}, [done](bool deleted) {
          if (deleted)
            done(actors::done{});
          else
            done(api_error{api_errc::internal, "Cannot delete the media"});
        });
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
        destroy(self, {api_errc::expired, "Media expired"}, [self](bool deleted) {
          if (!deleted) // try again later; the item stays whole meanwhile
            self->delayed_send(self, retry_delete_after, expire_atom_v, self->state.timer_epoch);
        });
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
