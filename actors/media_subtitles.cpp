// POST /media/{id}/subtitles on the media actor: a parsed subtitle file
// becomes a segmented WebVTT rendition ("s0".."s15") aligned with the
// item's video segments, written durably (item_files::add_rendition), then
// recorded (commit), then answered; the snapshot is rebuilt so the master
// playlist lists it (EXT-X-MEDIA TYPE=SUBTITLES).
#include "actors/media_ops.hpp"
#include "actors/snapshot.hpp"
#include "actors/subtitle_tracks.hpp"

namespace hlsgate::actors::ops {

namespace {

/// A one-shot writer on a thread of its own: the files (up to 16 MiB, each
/// flushed) are not written on the scheduler's threads.
using rendition_writer =
    caf::typed_actor<caf::replies_to<write_atom, std::string, subtitle_rendition>::with<bool>>;

rendition_writer::behavior_type writer_behavior(rendition_writer::pointer self, item_files files) {
  return {[self, files](write_atom, const std::string& storage_id, const subtitle_rendition& r) {
    const bool ok = static_cast<bool>(files.add_rendition(storage_id, r.record.name, r.files));
    self->quit();
    return ok;
  }};
}

} // namespace

void add_subtitles(self_ptr self, const admin_credential& who, subtitle_request& req,
                   completion<subtitle_result>& done) {
  if (tombstoned(self, done))
    return;
  api_error err;
  if (!check_admin(self, who, err))
    return done(std::move(err));
  auto& st = self->state;
  if (st.record.status != media_status::ready)
    return done(api_error{api_errc::not_ready, "Media is not ready yet"});
  const auto grid = subtitle_grid(st.record.renditions);
  if (grid.empty())
    return done(api_error{api_errc::not_ready, "Media has no segments"});
  auto made = make_subtitle_rendition(st.record.renditions, req.cues, grid, req.language, req.label,
                                      req.is_default, req.forced);
  if (!made)
    return done(api_error{api_errc::bad_parameter, "Subtitle file: " + made.err().reason});
  subtitle_result res{st.record.media_id, made->record.name, req.cues.size(),
                      made->record.segments.size()};
  auto writer = self->spawn<caf::detached>(writer_behavior, st.env->files);
  // await: this item answers nothing else until its files are written and
  // recorded (two uploads cannot take the same folder).
  self->request(writer, caf::infinite, write_atom_v, st.record.storage_id, *made)
      .await(
          [self, res, done, record = made->record, is_default = req.is_default](bool ok) mutable {
            auto& s = self->state;
            if (!ok || s.gone) {
              logging::error("cannot write subtitles", {{"media_id", res.media_id}});
              if (ok)
                s.env->files.remove_rendition(s.record.storage_id, record.name);
              return done(api_error{api_errc::internal, "Cannot store the subtitles"});
            }
            media_record r = s.record;
            if (is_default) // one default per group
              for (auto& x : r.renditions)
                if (x.kind == rendition_kind::subtitles)
                  x.is_default = false;
            r.renditions.push_back(std::move(record));
            commit(
                self, std::move(r),
                [self, res, done] {
                  auto& s = self->state;
                  s.snapshot = make_snapshot(s.record, s.record.renditions, true,
                                             s.env->cfg.segment_seconds);
                  logging::info("subtitles added",
                                {{"media_id", res.media_id}, {"rendition", res.rendition}});
                  done(res);
                },
                [self, name = res.rendition, done] {
                  auto& s = self->state;
                  s.env->files.remove_rendition(s.record.storage_id, name);
                  done(api_error{api_errc::internal, "Cannot record the subtitles"});
                });
          },
          [self, res, done](caf::error&) mutable {
            logging::error("cannot write subtitles", {{"media_id", res.media_id}});
            done(api_error{api_errc::internal, "Cannot store the subtitles"});
          });
}

} // namespace hlsgate::actors::ops
