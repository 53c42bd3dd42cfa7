#include "actors/media_actor.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "media/crypto.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

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
//    expire timer or DELETE: files, then store row, then registry, then quit
//
// The timer is a delayed (expire_atom, epoch) to self; extend bumps the
// epoch so an earlier, now stale timer message is ignored.

namespace {

using self_ptr = caf::stateful_actor<media_state>*;

constexpr int64_t max_lifetime_seconds = 7 * 24 * 3600;

int64_t now(self_ptr self) {
  return self->state.env->now();
}

void touch(self_ptr self) {
  self->state.record.updated_at = now(self);
}

std::string issue_token(self_ptr self, unsigned minutes) {
  auto& st = self->state;
  auto t = now(self);
  media::token_claims c;
  c.sub = st.record.media_id;
  c.gen = st.record.token_gen;
  c.iat = t;
  c.exp = st.record.expires_at;
  if (minutes > 0)
    c.exp = std::min<int64_t>(c.exp, t + int64_t{minutes} * 60);
  if (st.env->metrics != nullptr)
    st.env->metrics->token_issued();
  return st.env->jwt->issue(c);
}

void schedule_expiry(self_ptr self) {
  auto& st = self->state;
  auto left = std::max<int64_t>(0, st.record.expires_at - now(self));
  self->delayed_send(self, std::chrono::seconds(left), expire_atom_v, ++st.timer_epoch);
}

void remove_files(self_ptr self) {
  auto& st = self->state;
  std::error_code ec;
  if (!st.record.storage_id.empty())
    fs::remove_all(fs::path{st.env->media_root} / st.record.storage_id, ec);
  if (!st.record.source_path.empty())
    fs::remove(st.record.source_path, ec);
}

void count_status(self_ptr self, media_status s, double delta) {
  if (auto* m = self->state.env->metrics)
    m->media_items_add(static_cast<metrics::media_state>(s), delta);
}

void set_status(self_ptr self, media_status s) {
  auto& r = self->state.record;
  if (r.status == s)
    return;
  count_status(self, r.status, -1);
  count_status(self, s, +1);
  r.status = s;
}

upload_result make_upload_result(self_ptr self) {
  auto& st = self->state;
  upload_result res;
  res.media_id = st.record.media_id;
  res.admin_key = st.admin_key;
  res.access_token = issue_token(self, st.env->cfg.token_minutes);
  res.expires_at = st.record.expires_at;
  res.expiry_minutes = static_cast<unsigned>(st.record.expiry_minutes());
  res.status = st.record.status;
  res.progress = st.progress;
  res.error = st.record.error;
  return res;
}

/// Cancels the job, removes files, then the row, then tells the registry.
void destroy(self_ptr self, std::function<void()> then) {
  auto& st = self->state;
  if (st.cancel)
    st.cancel->store(true);
  if (st.env->pool && st.record.status != media_status::ready &&
      st.record.status != media_status::failed)
    self->send(st.env->pool, cancel_atom_v, st.record.storage_id);
  remove_files(self);
  auto finish = [self, then = std::move(then)] {
    auto& st = self->state;
    for (auto& w : st.waiters)
      w.cb(api_error{api_errc::not_found, "Media was deleted"});
    st.waiters.clear();
    count_status(self, st.record.status, -1);
    if (st.registry)
      self->send(st.registry, gone_atom_v, st.record.media_id);
    if (then)
      then();
    self->quit();
  };
  self->request(st.env->store, caf::infinite, delete_atom_v, st.record.media_id)
      .await([finish](bool) { finish(); }, [finish](caf::error&) { finish(); });
}

/// Persists the record, then runs `ok` or `fail`; other messages wait.
template <class Ok, class Fail> void persist(self_ptr self, Ok ok, Fail fail) {
  self->request(self->state.env->store, caf::infinite, put_atom_v, self->state.record)
      .await(
          [ok, fail](bool done) mutable {
            if (done)
              ok();
            else
              fail();
          },
          [fail](caf::error&) mutable { fail(); });
}

void submit_job(self_ptr self, bool force, std::function<void(bool)> then) {
  auto& st = self->state;
  job j;
  j.media_id = st.record.media_id;
  j.storage_id = st.record.storage_id;
  j.source_path = st.record.source_path;
  j.media_root = st.env->media_root;
  j.options.segment_seconds = st.env->cfg.segment_seconds;
  j.options.x264_preset = st.env->cfg.x264_preset;
  j.owner = caf::actor_cast<caf::actor>(self);
  st.cancel = j.cancel;
  self->request(st.env->pool, caf::infinite, submit_atom_v, std::move(j), force)
      .await([then](bool accepted) { then(accepted); }, [then](caf::error&) { then(false); });
}

bool check_admin(self_ptr self, const std::string& key, api_error& err) {
  if (key.empty()) {
    err = {api_errc::unauthorized, "Admin key required"};
    return false;
  }
  if (!media::constant_time_equal(media::sha256_hex(key), self->state.record.admin_key_hash)) {
    if (auto* m = self->state.env->metrics)
      m->auth_failure("bad_admin_key");
    err = {api_errc::forbidden, "Invalid admin key"};
    return false;
  }
  return true;
}

void answer_waiters(self_ptr self) {
  auto& st = self->state;
  if (st.waiters.empty())
    return;
  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  for (auto& w : waiters) {
    if (st.record.status == media_status::failed)
      w.cb(api_error{api_errc::failed, st.record.error});
    else
      w.cb(make_upload_result(self));
  }
}

void on_job_done(self_ptr self, media::transcode_output& out) {
  auto& st = self->state;
  auto& r = st.record;
  logging::info("media ready", {{"media_id", r.media_id}});
  r.duration = out.duration;
  r.renditions.clear();
  for (auto& x : out.renditions) {
    rendition_record rr;
    rr.name = x.name;
    rr.has_video = x.has_video;
    rr.has_audio = x.has_audio;
    rr.width = x.width;
    rr.height = x.height;
    rr.frame_rate = x.frame_rate;
    rr.codecs = x.codecs;
    rr.peak_bandwidth = x.peak_bandwidth;
    rr.average_bandwidth = x.average_bandwidth;
    rr.segments = std::move(x.segments);
    r.renditions.push_back(std::move(rr));
  }
  std::error_code ec;
  if (!r.source_path.empty())
    fs::remove(r.source_path, ec); // the original is not needed once the job succeeded
  r.source_path.clear();
  set_status(self, media_status::ready);
  st.progress = 100;
  st.cancel.reset();
  touch(self);
  st.snapshot = make_snapshot(r);
  persist(
      self, [self] { answer_waiters(self); },
      [self] {
        for (auto& w : self->state.waiters)
          w.cb(api_error{api_errc::internal, "Cannot record the media"});
        self->state.waiters.clear();
      });
}

void on_job_failed(self_ptr self, const job_failure& f) {
  auto& st = self->state;
  st.cancel.reset();
  if (f.code == media::errc::cancelled)
    return; // only a delete or expiry cancels, and those clean up themselves
  set_status(self, media_status::failed);
  st.record.error = f.reason.empty() ? "Transcoding failed" : f.reason;
  logging::warn("transcoding failed",
                {{"media_id", st.record.media_id}, {"reason", st.record.error}});
  std::error_code ec;
  if (!st.record.source_path.empty())
    fs::remove(st.record.source_path, ec);
  st.record.source_path.clear();
  touch(self);
  if (!st.waiters.empty() && !st.admin_key.empty()) {
    // Nobody but the waiting uploader knows this item's keys: it gets the
    // reason and the item goes away whole instead of lingering.
    auto code = f.code == media::errc::invalid_input || f.code == media::errc::unsupported_media
                    ? api_errc::unsupported_media
                    : api_errc::failed;
    auto reason = st.record.error;
    auto waiters = std::move(st.waiters);
    st.waiters.clear();
    destroy(self, [waiters = std::move(waiters), code, reason] {
      for (auto& w : waiters)
        w.cb(api_error{code, reason});
    });
    return;
  }
  persist(
      self, [self] { answer_waiters(self); }, [self] { answer_waiters(self); });
}

void start_fresh(self_ptr self, media_params& p) {
  auto creator = std::move(p.creator);
  auto wait_ready = p.wait_ready;
  auto fail = [self, creator](api_error e) {
    remove_files(self);
    count_status(self, self->state.record.status, -1);
    if (self->state.registry)
      self->send(self->state.registry, gone_atom_v, self->state.record.media_id);
    creator(std::move(e));
    self->quit();
  };
  persist(
      self,
      [self, creator, wait_ready, fail] {
        submit_job(self, false, [self, creator, wait_ready, fail](bool accepted) {
          if (!accepted) {
            self->request(self->state.env->store, caf::infinite, delete_atom_v,
                          self->state.record.media_id)
                .await(
                    [fail](bool) {
                      fail({api_errc::queue_full, "Too many jobs queued"});
                    },
                    [fail](caf::error&) {
                      fail({api_errc::queue_full, "Too many jobs queued"});
                    });
            return;
          }
          schedule_expiry(self);
          if (!wait_ready) {
            creator(make_upload_result(self));
            return;
          }
          auto id = ++self->state.next_waiter;
          self->state.waiters.push_back({id, creator});
          self->delayed_send(self, std::chrono::seconds(self->state.env->cfg.upload_wait_seconds),
                             wait_timeout_atom_v, id);
        });
      },
      [fail] {
        fail({api_errc::internal, "Cannot record the media"});
      });
}

void start_restored(self_ptr self) {
  auto& st = self->state;
  auto& r = st.record;
  schedule_expiry(self);
  if (r.status == media_status::ready) {
    st.progress = 100;
    st.snapshot = make_snapshot(r);
    return;
  }
  if (r.status == media_status::failed)
    return;
  // Unfinished job: resume it if the original is still there. Its partial
  // output never became visible (it lived in a temporary folder).
  std::error_code ec;
  if (r.source_path.empty() || !fs::is_regular_file(r.source_path, ec)) {
    on_job_failed(self, {media::errc::io_error, "The original was lost before transcoding"});
    return;
  }
  set_status(self, media_status::queued);
  submit_job(self, true, [self](bool accepted) {
    if (!accepted)
      on_job_failed(self, {media::errc::internal, "Cannot resume the job"});
  });
}

} // namespace

playlist_ptr make_snapshot(const media_record& r) {
  auto snap = std::make_shared<playlist_snapshot>();
  snap->media_id = r.media_id;
  snap->storage_id = r.storage_id;
  for (auto& rr : r.renditions) {
    media::variant_entry v;
    v.uri = rr.name + "/playlist.m3u8";
    v.bandwidth = rr.peak_bandwidth;
    v.average_bandwidth = rr.average_bandwidth;
    v.codecs = rr.codecs;
    v.width = rr.width;
    v.height = rr.height;
    v.frame_rate = rr.frame_rate;
    snap->master.variants.push_back(std::move(v));
    media::media_playlist pl;
    pl.type = media::playlist_type::vod;
    pl.ended = true;
    pl.segments = rr.segments;
    snap->rendition_names.push_back(rr.name);
    snap->renditions.push_back(std::move(pl));
  }
  return snap;
}

caf::behavior make_media_behavior(caf::stateful_actor<media_state>* self, media_params p) {
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
      [self](progress_atom, double fraction) {
        auto& st = self->state;
        if (st.record.status == media_status::queued)
          set_status(self, media_status::processing);
        st.progress = std::clamp(fraction * 100.0, 0.0, 99.9);
      },
      [self](job_done_atom, media::transcode_output& out) { on_job_done(self, out); },
      [self](job_failed_atom, const job_failure& f) { on_job_failed(self, f); },
      [self](wait_timeout_atom, uint64_t id) {
        // The synchronous upload waited long enough: answer with the status.
        auto& ws = self->state.waiters;
        auto i = std::find_if(ws.begin(), ws.end(), [id](const waiter& w) { return w.id == id; });
        if (i == ws.end())
          return;
        auto cb = std::move(i->cb);
        ws.erase(i);
        cb(make_upload_result(self));
      },
      [self](playlist_atom, const media::token_claims& claims, callback<playlist_ptr>& cb) {
        auto& st = self->state;
        if (claims.gen != st.record.token_gen) {
          if (auto* m = st.env->metrics)
            m->auth_failure("revoked");
          cb(api_error{api_errc::forbidden, "Token was revoked"});
        } else if (now(self) >= st.record.expires_at) {
          cb(api_error{api_errc::expired, "Media expired"});
        } else if (st.record.status == media_status::failed) {
          cb(api_error{api_errc::failed, st.record.error});
        } else if (!st.snapshot) {
          cb(api_error{api_errc::not_ready, "Media is still processing"});
        } else {
          cb(st.snapshot);
        }
      },
      [self](refresh_atom, const std::string& key, unsigned minutes, callback<token_result>& cb) {
        api_error err;
        if (!check_admin(self, key, err))
          return cb(std::move(err));
        if (minutes < 1 || minutes > 10080)
          return cb(api_error{api_errc::bad_parameter, "expiry_minutes must be in [1, 10080]"});
        auto& r = self->state.record;
        ++r.token_gen; // every older token stops working now
        r.last_token_refresh = now(self);
        touch(self);
        persist(
            self,
            [self, minutes, cb] {
              token_result res;
              res.media_id = self->state.record.media_id;
              res.access_token = issue_token(self, minutes);
              res.expires_at = std::min<int64_t>(self->state.record.expires_at,
                                                 now(self) + int64_t{minutes} * 60);
              res.expires_in_minutes =
                  static_cast<unsigned>((res.expires_at - now(self) + 59) / 60);
              cb(std::move(res));
            },
            [cb] {
              cb(api_error{api_errc::internal, "Cannot record the new token"});
            });
      },
      [self](info_atom, const std::string& key, callback<info_result>& cb) {
        api_error err;
        if (!check_admin(self, key, err))
          return cb(std::move(err));
        info_result res;
        res.record = self->state.record;
        res.record.admin_key_hash.clear();
        res.record.source_path.clear();
        res.progress = self->state.progress;
        cb(std::move(res));
      },
      [self](extend_atom, const std::string& key, unsigned minutes, callback<extend_result>& cb) {
        api_error err;
        if (!check_admin(self, key, err))
          return cb(std::move(err));
        auto& r = self->state.record;
        if (minutes < 1 || minutes > 10080)
          return cb(api_error{api_errc::bad_parameter, "additional_minutes must be in [1, 10080]"});
        auto t = now(self);
        auto deadline = r.expires_at + int64_t{minutes} * 60;
        if (deadline - t > max_lifetime_seconds)
          return cb(api_error{api_errc::bad_parameter,
                              "Expiry would exceed 7 days from now (10080 minutes)"});
        extend_result res;
        res.media_id = r.media_id;
        res.previous_expiry_minutes = r.expiry_minutes();
        auto previous_deadline = r.expires_at;
        r.expires_at = deadline;
        res.new_expiry_minutes = r.expiry_minutes();
        res.extended_by_minutes = minutes;
        res.expires_at = deadline;
        touch(self);
        persist(
            self,
            [self, res, cb] {
              schedule_expiry(self);
              cb(res);
            },
            [self, previous_deadline, cb] {
              self->state.record.expires_at = previous_deadline;
              cb(api_error{api_errc::internal, "Cannot record the new expiry"});
            });
      },
      [self](delete_atom, const std::string& key, callback<done>& cb) {
        api_error err;
        if (!check_admin(self, key, err))
          return cb(std::move(err));
        logging::info("media deleted", {{"media_id", self->state.record.media_id}});
        destroy(self, [cb] { cb(done{}); });
      },
      [self](expire_atom, uint64_t epoch) {
        if (epoch != self->state.timer_epoch)
          return; // superseded by an extend
        logging::info("media expired", {{"media_id", self->state.record.media_id}});
        destroy(self, nullptr);
      },
  };
}

} // namespace hlsgate::actors
