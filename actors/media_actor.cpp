#include "actors/media_actor.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "auth/crypto.hpp"
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
// While processing, segment events build an EVENT snapshot as soon as every
// rendition has its first segment, so playback starts before the job ends.
// Imported (on-demand) items stay queued until their first playlist request.
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
  auth::token_claims c;
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
  if (!st.record.source_path.empty() && st.record.source_owned)
    fs::remove(st.record.source_path, ec);
}

/// The original is not needed once its job ended (imported files are the
/// user's library: never deleted).
void drop_source(self_ptr self) {
  auto& r = self->state.record;
  if (!r.source_owned || r.source_path.empty())
    return;
  std::error_code ec;
  fs::remove(r.source_path, ec);
  r.source_path.clear();
}

void answer_playlist_waiters(self_ptr self) {
  auto& st = self->state;
  if (st.playlist_waiters.empty())
    return;
  auto ws = std::move(st.playlist_waiters);
  st.playlist_waiters.clear();
  for (auto& w : ws) {
    if (st.snapshot)
      w.cb(st.snapshot);
    else if (st.record.status == media_status::failed)
      w.cb(api_error{api_errc::failed, st.record.error});
    else
      w.cb(api_error{api_errc::try_later, "Media is being prepared; retry shortly"});
  }
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
  std::vector<config::rung> rungs = st.env->cfg.ladder;
  if (!st.record.ladder.empty())
    config::parse_ladder(st.record.ladder, rungs); // validated at upload
  for (auto& r : rungs)
    j.options.ladder.push_back({r.height, r.video_bitrate});
  j.thumbnail_seconds = st.env->cfg.thumbnail_seconds;
  j.owner = caf::actor_cast<caf::actor>(self);
  st.cancel = j.cancel;
  self->request(st.env->pool, caf::infinite, submit_atom_v, std::move(j), force)
      .await([then](bool accepted) { then(accepted); }, [then](caf::error&) { then(false); });
}

bool check_admin(self_ptr self, const admin_credential& who, api_error& err) {
  if (who.is_operator)
    return true;
  const auto& key = who.admin_key;
  if (key.empty()) {
    err = {api_errc::unauthorized, "Admin key required"};
    return false;
  }
  if (!auth::constant_time_equal(auth::sha256_hex(key), self->state.record.admin_key_hash)) {
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

void on_job_done(self_ptr self, job_result& res) {
  auto& st = self->state;
  auto& r = st.record;
  auto& out = res.output;
  logging::info("media ready", {{"media_id", r.media_id}});
  r.duration = out.duration;
  r.renditions.clear();
  for (auto& x : out.renditions) {
    auto rr = to_record(x);
    rr.segments = std::move(x.segments);
    r.renditions.push_back(std::move(rr));
  }
  r.has_thumbnails = res.has_thumbnails;
  st.live.clear();
  drop_source(self);
  set_status(self, media_status::ready);
  st.progress = 100;
  st.cancel.reset();
  touch(self);
  st.snapshot = make_snapshot(r);
  answer_playlist_waiters(self);
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
  drop_source(self);
  st.live.clear();
  st.snapshot.reset();
  std::error_code ec;
  fs::remove_all(fs::path{st.env->media_root} / st.record.storage_id, ec);
  answer_playlist_waiters(self);
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
  if (r.on_demand && r.status == media_status::queued)
    return; // waits for its first playlist request
  // Unfinished job: resume it if the original is still there. Its partial
  // output never became visible (it lived in a temporary folder).
  std::error_code ec;
  if (r.source_path.empty() || !fs::exists(r.source_path, ec) ||
      fs::is_directory(r.source_path, ec)) {
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

rendition_record to_record(const media::rendition_output& x) {
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
  return rr;
}

namespace {

playlist_ptr build_snapshot(const media_record& r, const std::vector<rendition_record>& rs,
                            bool ended) {
  auto snap = std::make_shared<playlist_snapshot>();
  snap->media_id = r.media_id;
  snap->storage_id = r.storage_id;
  snap->has_thumbnails = r.has_thumbnails;
  for (auto& rr : rs) {
    media::variant_entry v;
    v.uri = rr.name + "/playlist.m3u8";
    v.bandwidth = rr.peak_bandwidth;
    v.average_bandwidth = rr.average_bandwidth;
    if (v.bandwidth == 0) {
      // A running job: measure what exists so far (RFC 8216 §4.3.4.2).
      uint64_t bytes = 0;
      double seconds = 0;
      for (auto& s : rr.segments) {
        bytes += s.bytes;
        seconds += s.duration;
        if (s.duration > 0)
          v.bandwidth =
              std::max<uint64_t>(v.bandwidth, static_cast<uint64_t>(s.bytes * 8 / s.duration));
      }
      if (seconds > 0)
        v.average_bandwidth = static_cast<uint64_t>(bytes * 8 / seconds);
    }
    v.codecs = rr.codecs;
    v.width = rr.width;
    v.height = rr.height;
    v.frame_rate = rr.frame_rate;
    snap->master.variants.push_back(std::move(v));
    media::media_playlist pl;
    pl.type = ended ? media::playlist_type::vod : media::playlist_type::event;
    pl.ended = ended;
    pl.segments = rr.segments;
    snap->rendition_names.push_back(rr.name);
    snap->renditions.push_back(std::move(pl));
  }
  return snap;
}

void on_segment(self_ptr self, media::segment_event& ev) {
  auto& st = self->state;
  if (st.record.status == media_status::ready || st.record.status == media_status::failed ||
      ev.rendition_index >= ev.rendition_count)
    return;
  if (st.record.status == media_status::queued)
    set_status(self, media_status::processing);
  if (st.job_started == 0)
    st.job_started = now(self);
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
  st.snapshot = build_snapshot(st.record, st.live, false);
  answer_playlist_waiters(self);
}

/// An imported item's first viewer starts its job and waits (bounded) for
/// the first segments.
void start_on_demand(self_ptr self, completion<playlist_ptr>& cb) {
  auto& st = self->state;
  auto id = ++st.next_waiter;
  st.playlist_waiters.push_back({id, std::move(cb)});
  self->delayed_send(self, std::chrono::seconds(st.env->cfg.ondemand_wait_seconds),
                     pl_timeout_atom_v, id);
  if (st.cancel)
    return; // already submitted
  logging::info("starting on-demand job", {{"media_id", st.record.media_id}});
  submit_job(self, false, [self](bool accepted) {
    if (!accepted) {
      self->state.cancel.reset();
      answer_playlist_waiters(self);
    }
  });
}

} // namespace

playlist_ptr make_snapshot(const media_record& r) {
  return build_snapshot(r, r.renditions, true);
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
        if (st.job_started == 0)
          st.job_started = now(self);
        st.progress = std::clamp(fraction * 100.0, 0.0, 99.9);
      },
      [self](segment_atom, media::segment_event& ev) { on_segment(self, ev); },
      [self](job_done_atom, job_result& res) { on_job_done(self, res); },
      [self](pl_timeout_atom, uint64_t id) {
        auto& ws = self->state.playlist_waiters;
        auto i = std::find_if(ws.begin(), ws.end(),
                              [id](const playlist_waiter& w) { return w.id == id; });
        if (i == ws.end())
          return;
        auto cb = std::move(i->cb);
        ws.erase(i);
        cb(api_error{api_errc::try_later, "Media is being prepared; retry shortly"});
      },
      [self](stream_info_atom, const auth::token_claims& claims,
             completion<stream_info_result>& cb) {
        auto& st = self->state;
        if (claims.gen != st.record.token_gen)
          return cb(api_error{api_errc::forbidden, "Token was revoked"});
        stream_info_result res;
        res.record = st.record;
        res.record.admin_key_hash.clear();
        res.record.source_path.clear();
        if (st.record.status != media_status::ready)
          res.record.renditions = st.live;
        res.progress = st.progress;
        res.playable = st.snapshot != nullptr;
        cb(std::move(res));
      },
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
      [self](playlist_atom, const auth::token_claims& claims, completion<playlist_ptr>& cb) {
        auto& st = self->state;
        if (claims.gen != st.record.token_gen) {
          if (auto* m = st.env->metrics)
            m->auth_failure("revoked");
          cb(api_error{api_errc::forbidden, "Token was revoked"});
        } else if (now(self) >= st.record.expires_at) {
          cb(api_error{api_errc::expired, "Media expired"});
        } else if (st.record.status == media_status::failed) {
          cb(api_error{api_errc::failed, st.record.error});
        } else if (!st.snapshot && st.record.on_demand) {
          start_on_demand(self, cb);
        } else if (!st.snapshot) {
          cb(api_error{api_errc::not_ready, "Media is still processing"});
        } else {
          cb(st.snapshot);
        }
      },
      [self](refresh_atom, const admin_credential& key, unsigned minutes,
             completion<token_result>& cb) {
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
      [self](info_atom, const admin_credential& key, completion<info_result>& cb) {
        api_error err;
        if (!check_admin(self, key, err))
          return cb(std::move(err));
        info_result res;
        res.record = self->state.record;
        res.record.admin_key_hash.clear();
        res.record.source_path.clear();
        res.progress = self->state.progress;
        auto& st = self->state;
        if (st.job_started > 0 && st.progress > 0 && st.progress < 100) {
          auto elapsed = static_cast<double>(now(self) - st.job_started);
          res.eta_seconds = elapsed * (100 - st.progress) / st.progress;
        }
        cb(std::move(res));
      },
      [self](extend_atom, const admin_credential& key, unsigned minutes,
             completion<extend_result>& cb) {
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
      [self](delete_atom, const admin_credential& key, completion<done>& cb) {
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
