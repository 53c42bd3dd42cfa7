#include "actors/transcoder_pool.hpp"

#include "actors/snapshot.hpp"
#include "actors/subtitle_tracks.hpp"
#include "media/subtitle_extract.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <system_error>

#include "media/thumbnails.hpp"
#include "media/track_labels.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

const char* reason_label(media::errc e) {
  switch (e) {
  case media::errc::invalid_input:
    return "invalid_input";
  case media::errc::unsupported_media:
    return "unsupported_media";
  case media::errc::io_error:
    return "io_error";
  case media::errc::cancelled:
    return "cancelled";
  case media::errc::limit_exceeded:
    return "limit_exceeded";
  case media::errc::internal:
    break;
  }
  return "internal";
}

// -- worker ------------------------------------------------------------------

worker_actor::behavior_type worker_behavior(worker_actor::pointer self, pool_actor pool,
                                            metrics::registry* metrics) {
  return {
      [self, pool, metrics](run_atom, const job& j) {
        using clock = std::chrono::steady_clock;
        auto started = clock::now();
        auto last = started - std::chrono::seconds(1);
        auto owner = j.owner;
        auto beat = [&j] {
          j.heartbeat->store(
              std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch())
                  .count());
        };
        beat();
        auto progress = [&](double f) {
          beat();
          auto t = clock::now();
          if (t - last < std::chrono::milliseconds(250))
            return;
          last = t;
          caf::anon_send(owner, progress_atom_v, j.id, f);
        };
        auto on_segment = [&](const media::segment_event& ev) {
          beat();
          caf::anon_send(owner, segment_atom_v, j.id, ev);
        };
        auto res = run_job(j, progress, on_segment);
        double seconds = std::chrono::duration<double>(clock::now() - started).count();
        if (res) {
          if (metrics != nullptr && seconds > 0)
            metrics->transcode_finished(seconds, res->output.duration / seconds);
          auto out = std::move(res).value();
          out.job = j.id;
          caf::anon_send(owner, job_done_atom_v, std::move(out));
        } else {
          if (metrics != nullptr)
            metrics->transcode_failure(reason_label(res.err().code));
          caf::anon_send(owner, job_failed_atom_v,
                         job_failure{j.id, res.err().code, res.err().reason, res.err().detail});
        }
        self->send(pool, idle_atom_v);
      },
  };
}

// -- supervisor ----------------------------------------------------------------

struct slot {
  worker_actor worker;
  bool busy = false;
  job current;
};

struct pool_state {
  pool_params params;
  std::deque<job> queue;
  std::vector<slot> slots;
  static inline const char* name = "transcoder_pool";
};

using pool_ptr = pool_actor::stateful_pointer<pool_state>;

void update_gauges(pool_ptr self) {
  auto depth = self->state.queue.size();
  self->state.params.env->queued->store(depth, std::memory_order_relaxed);
  if (auto* m = self->state.params.env->metrics)
    m->transcode_queue_depth(static_cast<double>(depth));
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

worker_actor spawn_worker(pool_ptr self);
void dispatch(pool_ptr self);

/// Fails the running job of every worker that went silent, and replaces it.
void watchdog(pool_ptr self) {
  auto& st = self->state;
  auto limit = int64_t{st.params.watchdog_seconds} * 1000;
  auto now = steady_ms();
  bool replaced = false;
  for (auto& s : st.slots) {
    if (!s.busy || now - s.current.heartbeat->load() <= limit)
      continue;
    logging::error("transcode job stopped making progress; replacing its worker",
                   {{"media_id", s.current.media_id}, {"request_id", s.current.request_id}});
    s.current.cancel->store(true);
    if (auto* m = st.params.env->metrics) {
      m->transcode_failure("watchdog");
      m->transcode_jobs_add(metrics::job_state::running, -1);
    }
    caf::anon_send(s.current.owner, job_failed_atom_v,
                   job_failure{s.current.id, media::errc::internal,
                               "The transcoder stopped making progress",
                               "watchdog: no progress for " +
                                   std::to_string(st.params.watchdog_seconds) + " s"});
    self->demonitor(s.worker.address());
    self->send_exit(s.worker, caf::exit_reason::kill);
    s = slot{spawn_worker(self), false, {}};
    replaced = true;
  }
  if (replaced)
    dispatch(self);
}

worker_actor spawn_worker(pool_ptr self) {
  return self->spawn<caf::detached + caf::monitored>(worker_behavior, pool_actor{self},
                                                     self->state.params.env->metrics);
}

void dispatch(pool_ptr self) {
  auto& st = self->state;
  for (auto& s : st.slots) {
    if (st.queue.empty())
      break;
    if (s.busy)
      continue;
    s.busy = true;
    s.current = std::move(st.queue.front());
    s.current.heartbeat->store(steady_ms());
    st.queue.pop_front();
    if (auto* m = st.params.env->metrics) {
      m->transcode_jobs_add(metrics::job_state::queued, -1);
      m->transcode_jobs_add(metrics::job_state::running, +1);
    }
    logging::info("transcode job started",
                  {{"media_id", s.current.media_id}, {"request_id", s.current.request_id}});
    self->send(s.worker, run_atom_v, s.current);
  }
  update_gauges(self);
}

pool_actor::behavior_type pool_behavior(pool_ptr self, pool_params p) {
  self->state.params = std::move(p);
  auto n = std::max(1u, self->state.params.workers);
  for (unsigned i = 0; i < n; ++i)
    self->state.slots.push_back({spawn_worker(self), false, {}});
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& s : st.slots) {
      if (s.worker.address() != dm.source)
        continue;
      logging::error("transcode worker died; replacing it",
                     {{"media_id", s.busy ? std::string_view{s.current.media_id} : "-"}});
      if (s.busy) {
        auto* m = st.params.env->metrics;
        if (m != nullptr) {
          m->transcode_failure("crashed");
          m->transcode_jobs_add(metrics::job_state::running, -1);
        }
        caf::anon_send(s.current.owner, job_failed_atom_v,
                       job_failure{s.current.id, media::errc::internal, "The transcoder crashed",
                                   "worker exited: " + caf::to_string(dm.reason)});
      }
      s = slot{spawn_worker(self), false, {}};
      break;
    }
    dispatch(self);
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& s : self->state.slots) {
      if (s.busy)
        s.current.cancel->store(true);
      self->send_exit(s.worker, em.reason);
    }
    self->quit(em.reason);
  });
  self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
  return {
      [self](tick_atom) {
        watchdog(self);
        self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
      },
      [self](submit_atom, job& j, bool force) -> bool {
        auto& st = self->state;
        if (!force && st.queue.size() >= st.params.queue_limit)
          return false;
        st.queue.push_back(std::move(j));
        if (auto* m = st.params.env->metrics)
          m->transcode_jobs_add(metrics::job_state::queued, +1);
        dispatch(self);
        return true;
      },
      [self](cancel_atom, const std::string& storage_id) {
        auto& q = self->state.queue;
        for (auto i = q.begin(); i != q.end(); ++i) {
          if (i->storage_id == storage_id) {
            q.erase(i);
            if (auto* m = self->state.params.env->metrics)
              m->transcode_jobs_add(metrics::job_state::queued, -1);
            break;
          }
        }
        update_gauges(self);
      },
      [self](idle_atom) {
        auto sender = self->current_sender();
        for (auto& s : self->state.slots) {
          if (s.worker.address() == caf::actor_cast<caf::actor_addr>(sender) && s.busy) {
            s.busy = false;
            s.current = job{};
            if (auto* m = self->state.params.env->metrics)
              m->transcode_jobs_add(metrics::job_state::running, -1);
          }
        }
        dispatch(self);
      },
  };
}

/// The source's own text subtitle streams (SRT, ASS, mov_text, WebVTT; at
/// most 16) become WebVTT renditions next to the video; picture-based ones
/// and any beyond 16 are named in the item's warning. Subtitles are a
/// nicety: a failure leaves the media without them, with a log line.
/// Returns false only when the job was cancelled meanwhile.
bool add_source_subtitles(const job& j, job_result& out) {
  std::vector<rendition_record> variants;
  for (const auto& x : out.output.renditions) {
    variants.push_back(to_record(x));
    variants.back().segments = x.segments;
  }
  const auto grid = subtitle_grid(variants);
  if (grid.empty())
    return true;
  auto found = media::extract_subtitles(j.source_path, j.options.source, out.output.origin_ms,
                                        max_subtitle_tracks, j.cancel.get(),
                                        [&j] { j.heartbeat->store(steady_ms()); });
  if (!found) {
    if (found.err().code == media::errc::cancelled)
      return false;
    logging::warn(
        "subtitles not read",
        {{"media_id", j.media_id}, {"request_id", j.request_id}, {"reason", found.err().reason}});
    return true;
  }
  bool have_default = false;
  for (auto& track : found->tracks) {
    const auto& info = track.info;
    if (track.cues.empty())
      continue;
    const bool is_default = info.is_default && !have_default;
    auto made =
        make_subtitle_rendition(out.subtitles, track.cues, grid, media::language_tag(info.language),
                                info.title, is_default, info.forced);
    if (!made || !j.files.add_rendition(j.storage_id, made->record.name, made->files)) {
      logging::warn("subtitle track not kept", {{"media_id", j.media_id},
                                                {"request_id", j.request_id},
                                                {"stream", std::to_string(info.index)}});
      continue;
    }
    have_default = have_default || is_default;
    out.subtitles.push_back(std::move(made->record));
  }
  if (!found->skipped.empty()) {
    std::string why = std::to_string(found->skipped.size()) + " subtitle track" +
                      (found->skipped.size() > 1 ? "s" : "") + " skipped (";
    for (size_t i = 0; i < found->skipped.size(); ++i)
      why += (i ? ", " : "") + found->skipped[i].codec;
    why += "): only text subtitles are kept, at most 16";
    out.output.warning += (out.output.warning.empty() ? "" : "; ") + why;
  }
  return true;
}

} // namespace

media::result<job_result> run_job(const job& j, const media::progress_fn& progress,
                                  const media::segment_fn& on_segment) {
  std::error_code ec;
  // Segments land in the final folder as they are finished (each one is
  // renamed from .part when complete), so playback can start during the job.
  // Nothing there is visible until the media actor lists it; a re-run after
  // a crash starts from an empty folder.
  if (auto s = j.files.prepare_output(j.storage_id); !s)
    return s.err();
  auto dir = fs::path{j.files.output_dir(j.storage_id)};
  auto fail = [&](media::error e) -> media::result<job_result> {
    j.files.remove_output(j.storage_id);
    return e;
  };
  auto res = media::transcode(j.source_path, dir.string(), j.options, progress, j.cancel.get(),
                              on_segment);
  if (!res)
    return fail(res.err());
  job_result out;
  out.output = std::move(res).value();
  bool video = std::any_of(out.output.renditions.begin(), out.output.renditions.end(),
                           [](const media::rendition_output& r) { return r.has_video; });
  if (video && j.thumbnail_seconds > 0) {
    auto thumbs = dir / "thumbs";
    fs::create_directories(thumbs, ec);
    media::thumbnail_options topts;
    topts.interval_seconds = j.thumbnail_seconds;
    topts.source = j.options.source;
    topts.heartbeat = [&j] { j.heartbeat->store(steady_ms()); };
    auto t = media::make_thumbnails(j.source_path, thumbs.string(), topts, j.cancel.get());
    if (t) {
      out.has_thumbnails = true;
    } else {
      fs::remove_all(thumbs, ec);
      if (t.err().code == media::errc::cancelled)
        return fail(t.err());
      // Thumbnails are a nicety: the media plays without them.
      logging::warn(
          "thumbnails failed",
          {{"media_id", j.media_id}, {"request_id", j.request_id}, {"reason", t.err().reason}});
    }
  }
  if (!add_source_subtitles(j, out))
    return fail({media::errc::cancelled, "Cancelled"});
  // The owner sets the flag before deleting the folder; checking last covers
  // a delete that raced with the job's end.
  if (j.cancel->load())
    return fail({media::errc::cancelled, "Cancelled"});
  return out;
}

pool_actor spawn_transcoder_pool(caf::actor_system& sys, pool_params p) {
  return sys.spawn(pool_behavior, std::move(p));
}

} // namespace hlsgate::actors
