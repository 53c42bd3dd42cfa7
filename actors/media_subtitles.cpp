// POST /media/{id}/subtitles on the media actor: a parsed subtitle file
// becomes a segmented WebVTT rendition ("s0".."s15") aligned with the
// item's video segments, written durably (item_files::add_rendition), then
// recorded (commit), then answered; the snapshot is rebuilt so the master
// playlist lists it (EXT-X-MEDIA TYPE=SUBTITLES).
#include "actors/media_ops.hpp"
#include "actors/snapshot.hpp"
#include "actors/subtitle_tracks.hpp"

namespace hlsgate::actors::ops {

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
  const std::string name = free_subtitle_name(st.record.renditions);
  if (name.empty())
    return done(api_error{api_errc::bad_parameter, "An item holds at most 16 subtitle tracks"});
  auto made = make_subtitle_rendition(name, req.cues, grid, req.language, req.label, req.is_default,
                                      req.forced);
  if (!made)
    return done(api_error{api_errc::bad_parameter, "Subtitle file: " + made.err().reason});
  if (!st.env->files.add_rendition(st.record.storage_id, name, made->files)) {
    logging::error("cannot write subtitles", {{"media_id", st.record.media_id}});
    return done(api_error{api_errc::internal, "Cannot store the subtitles"});
  }
  media_record r = st.record;
  if (req.is_default) // one default per group
    for (auto& x : r.renditions)
      if (x.kind == rendition_kind::subtitles)
        x.is_default = false;
  r.renditions.push_back(made->record);
  subtitle_result res{r.media_id, name, req.cues.size(), made->record.segments.size()};
  commit(
      self, std::move(r),
      [self, res, done] {
        auto& s = self->state;
        s.snapshot = make_snapshot(s.record, s.record.renditions, true, s.env->cfg.segment_seconds);
        logging::info("subtitles added",
                      {{"media_id", res.media_id}, {"rendition", res.rendition}});
        done(res);
      },
      [self, name, done] {
        auto& s = self->state;
        s.env->files.remove_rendition(s.record.storage_id, name);
        done(api_error{api_errc::internal, "Cannot record the subtitles"});
      });
}

} // namespace hlsgate::actors::ops
