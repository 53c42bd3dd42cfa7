// POST /live/{id}/archive: the channel's actor names the segments of its DVR
// window (top rendition); a detached actor joins them into one MPEG-TS file
// in the upload folder (media::concat_segments, no re-encoding) and hands it
// to the media registry exactly as an asynchronous upload: the new item is
// recorded durably, gets its own admin key and viewer token, and its
// transcode to the channel's ladder is queued like any other.
//
//   HTTP ──► service ──archive──► channel_actor ──plan──► joiner (own thread)
//                                                            │ upload
//                                                            ▼
//                                                   media registry (item, keys)
#include <filesystem>
#include <system_error>

#include "actors/service_impl.hpp"
#include "auth/crypto.hpp"
#include "media/concat.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

/// Joins run on threads of their own: a few at a time is plenty.
constexpr unsigned max_archives = 2;

/// One archive from request to registry. It holds one of the
/// `max_archives` slots from its creation until it is destroyed, whatever
/// way it ends (an answer, an exception, a message never delivered).
struct archive_job {
  archive_plan plan;
  upload_params upload; ///< all but the file
  std::shared_ptr<service::impl::archive_jobs> jobs;
  registry_actor registry;
  completion<upload_result> done;

  explicit archive_job(std::shared_ptr<service::impl::archive_jobs> j) : jobs(std::move(j)) {}
  ~archive_job() { jobs->running.fetch_sub(1); }
  archive_job(const archive_job&) = delete;
  archive_job& operator=(const archive_job&) = delete;
};

/// The joiner's thread: the file, then the registry (which owns it from
/// then on). Every way out answers `done` once.
void join_and_upload(archive_job& j) {
  std::error_code ec;
  auto joined = media::concat_segments(j.plan.segments, j.upload.file_path, &j.jobs->cancel);
  if (joined && joined->skipped == 0 && !j.jobs->cancel.load()) {
    j.upload.bytes = fs::file_size(j.upload.file_path, ec);
    logging::info("live channel archived",
                  {{"channel_id", j.plan.channel_id},
                   {"segments", std::to_string(joined->segments)},
                   {"seconds", std::to_string(static_cast<int64_t>(joined->seconds))}});
    return caf::anon_send(j.registry, upload_atom_v, std::move(j.upload), std::move(j.done));
  }
  fs::remove(j.upload.file_path, ec);
  if (j.jobs->cancel.load() || (!joined && joined.err().code == media::errc::cancelled))
    return j.done(api_error{api_errc::shutting_down, "Server is shutting down"});
  if (joined || joined.err().code == media::errc::invalid_input) {
    // The channel was deleted or expired meanwhile, or lost segments: the
    // archive would not hold what was asked for.
    logging::warn("cannot archive a live channel",
                  {{"channel_id", j.plan.channel_id}, {"detail", "segments went away"}});
    return j.done(
        api_error{api_errc::not_ready, "The channel changed while it was archived; try again"});
  }
  logging::warn(
      "cannot archive a live channel",
      {{"channel_id", j.plan.channel_id},
       {"detail", joined.err().detail.empty() ? joined.err().reason : joined.err().detail}});
  return j.done(api_error{api_errc::internal, "Cannot join the channel's segments"});
}

} // namespace

void service::archive_channel(std::string id, admin_credential who, unsigned expiry_minutes,
                              std::string request_id, completion<upload_result> done) {
  auto& d = *impl_;
  if (!d.accepting(done, true))
    return;
  auto a = d.channels->find(id);
  if (!a)
    return done(api_error{api_errc::not_found, "Channel not found"});
  if (d.archives->running.fetch_add(1) >= max_archives) {
    d.archives->running.fetch_sub(1);
    return done(api_error{api_errc::queue_full, "Archives are being made; try again shortly"});
  }
  auto job = std::make_shared<archive_job>(d.archives); // holds the slot from here on
  job->registry = d.registry;
  job->done = std::move(done);
  job->upload.file_path = d.dir->uploads() + "/archive-" + auth::random_id() + ".ts";
  job->upload.expiry_minutes = expiry_minutes;
  job->upload.wait_ready = false;
  job->upload.request_id = std::move(request_id);
  caf::actor_system* sys = d.sys.get();
  const unsigned max_seconds = d.cfg.max_source_seconds;
  // The channel answers once (a dropped message answers "unavailable").
  caf::anon_send(a, archive_atom_v, std::move(who),
                 completion<archive_plan>{[job, sys, max_seconds](reply<archive_plan> r) {
                   if (auto* e = std::get_if<api_error>(&r))
                     return job->done(std::move(*e));
                   job->plan = std::move(std::get<archive_plan>(r));
                   if (max_seconds > 0 && job->plan.seconds > max_seconds)
                     return job->done(api_error{
                         api_errc::limit_exceeded,
                         "The archive would be longer than HLSGATE_MAX_SOURCE_SECONDS allows"});
                   job->upload.original_name = job->plan.name + " (archive).ts";
                   job->upload.ladder = job->plan.ladder;
                   // Detached: the join reads and writes files for seconds.
                   // (The job is a spawn argument: CAF 0.17 dereferences a
                   // null argument tuple when there is none.)
                   sys->spawn<caf::detached>(
                       [](caf::event_based_actor* self, std::shared_ptr<archive_job> j) {
                         join_and_upload(*j);
                         self->quit();
                       },
                       job);
                 }});
}

} // namespace hlsgate::actors
