#include "actors/media_ops.hpp"

#include "actors/snapshot.hpp"
#include "auth/crypto.hpp"

namespace hlsgate::actors::ops {

int64_t now(self_ptr self) {
  return self->state.env->now();
}

metrics::registry* metrics_of(self_ptr self) {
  return self->state.env->metrics;
}

void count_status(self_ptr self, media_status s, double delta) {
  auto* m = metrics_of(self);
  if (!m)
    return;
  // A library file waiting for its first play is counted as imported.
  const bool imported = s == media_status::queued && self->state.record.on_demand;
  m->media_items_add(
      imported ? metrics::media_state::imported : static_cast<metrics::media_state>(s), delta);
}

void announce(self_ptr self) {
  if (!self->state.registry || self->state.gone)
    return;
  self->send(self->state.registry, summary_atom_v, summarize(self->state.record));
}

namespace {

void change_status(self_ptr self, media_status s) {
  auto& r = self->state.record;
  count_status(self, r.status, -1);
  count_status(self, s, +1);
  r.status = s;
}

} // namespace

/// The in-memory status (counted in hlsgate_media_items).
void set_status(self_ptr self, media_status s) {
  if (self->state.record.status == s)
    return;
  change_status(self, s);
  announce(self);
}

/// Tells the segment path (any HTTP thread) what tokens of the item count.
void publish_tokens(self_ptr self) {
  auto& st = self->state;
  st.env->revocations->publish(st.record.storage_id, revocation_state(st.record));
}

void emit(self_ptr self, const char* type, nlohmann::json data) {
  auto& st = self->state;
  if (!st.env->events)
    return;
  webhook_event e;
  e.type = type;
  e.subject_key = "media_id";
  e.subject_id = st.record.media_id;
  e.data_json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  self->send(st.env->events, event_atom_v, std::move(e));
}

/// Makes `r` the item's record (it was written durably).
void adopt(self_ptr self, media_record r) {
  const bool changed = self->state.record.status != r.status;
  if (changed)
    change_status(self, r.status);
  self->state.record = std::move(r);
  publish_tokens(self);
  announce(self);
  const auto& rec = self->state.record;
  if (changed && rec.status == media_status::ready)
    emit(self, "media.ready",
         {{"status", "ready"},
          {"original_name", rec.original_name},
          {"duration", rec.duration},
          {"renditions", rec.renditions.size()}});
  else if (changed && rec.status == media_status::failed)
    emit(self, "media.failed",
         {{"status", "failed"}, {"original_name", rec.original_name}, {"error", rec.error}});
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

/// Removes the item for good. The record goes first (durably): a crash
/// afterwards leaves only files that the start-up sweep removes, never a
/// record whose files are gone. Then the job is cancelled, the files
/// removed (ownership honoured), waiters answered with `why`, the registry
/// told, and the actor quits. When the record cannot be deleted nothing is
/// removed and `then(false)` runs: the item stays whole.
void destroy(self_ptr self, api_error why, std::function<void(bool)> then, const char* event) {
  auto finish = [self, why, then, event](bool deleted) {
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
    if (event != nullptr) {
      nlohmann::json data{{"original_name", st.record.original_name}};
      if (std::string_view{event} == "media.failed") // the job failed; the item went with it
        data.update({{"status", "failed"}, {"error", why.detail}});
      emit(self, event, std::move(data));
    }
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
  j.request_id = st.request_id;
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
  if (admin_allowed(who, self->state.record.admin_key_hash, err))
    return true;
  if (err.code == api_errc::forbidden)
    if (auto* m = metrics_of(self))
      m->auth_failure("bad_admin_key");
  return false;
}

} // namespace hlsgate::actors::ops
