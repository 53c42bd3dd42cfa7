// The media actor's job side (segments, done, failed) and its start (fresh,
// restored, on demand).
#include "actors/media_ops.hpp"

#include "actors/snapshot.hpp"

namespace hlsgate::actors::ops {

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
  // Playable once every variant has a segment and, when the sound is in
  // alternate tracks, one of them has: a track that has none yet (its sound
  // starts late, or never) is left out of the master until it has.
  const auto has_segments = [](const rendition_record& x) { return !x.segments.empty(); };
  const size_t variants =
      ev.variant_count == 0 ? st.live.size() : std::min(ev.variant_count, st.live.size());
  const auto first_alt = st.live.begin() + static_cast<std::ptrdiff_t>(variants);
  if (!std::all_of(st.live.begin(), first_alt, has_segments))
    return;
  if (first_alt != st.live.end() && std::none_of(first_alt, st.live.end(), has_segments))
    return;
  std::vector<rendition_record> shown;
  std::copy_if(st.live.begin(), st.live.end(), std::back_inserter(shown), has_segments);
  st.snapshot = make_snapshot(st.record, shown, false, st.env->cfg.segment_seconds);
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
    logging::warn(
        "media ready with a warning",
        {{"media_id", r.media_id}, {"request_id", st.request_id}, {"warning", r.warning}});
  r.renditions.clear();
  for (auto& x : out.renditions) {
    auto rr = to_record(x);
    rr.segments = std::move(x.segments);
    r.renditions.push_back(std::move(rr));
  }
  for (auto& x : res.subtitles)
    r.renditions.push_back(std::move(x));
  r.has_thumbnails = res.has_thumbnails;
  const media_record before = st.record;
  r.source_path = r.source_owned ? std::string{} : r.source_path;
  commit(
      self, std::move(r),
      [self, before] {
        auto& st = self->state;
        logging::info("media ready",
                      {{"media_id", st.record.media_id}, {"request_id", st.request_id}});
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
  logging::warn("transcoding failed", {{"media_id", st.record.media_id},
                                       {"request_id", st.request_id},
                                       {"reason", reason},
                                       {"detail", f.detail}});
  st.live.clear();
  st.snapshot.reset();
  st.env->files.remove_output(st.record.storage_id);
  if (!st.waiters.empty() && !st.admin_key.empty()) {
    // Nobody but the waiting uploader knows this item's keys: it gets the
    // reason and the item goes away whole instead of lingering.
    destroy(self, api_error{failure_code(f), reason}, nullptr, "media.failed");
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

} // namespace hlsgate::actors::ops
