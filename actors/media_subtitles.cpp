// POST /media/{id}/subtitles on the media actor: a parsed subtitle file
// becomes a segmented WebVTT rendition ("s0".."s15") aligned with the
// item's video segments, written durably (item_files::add_rendition), then
// recorded (commit), then answered; the snapshot is rebuilt so the master
// playlist lists it (EXT-X-MEDIA TYPE=SUBTITLES).
#include "actors/media_ops.hpp"
#include "actors/snapshot.hpp"
#include "media/names.hpp"
#include "media/subtitles.hpp"

namespace hlsgate::actors::ops {

namespace {

constexpr size_t max_subtitle_tracks = 16;

/// The first free subtitle folder name, or "" when all 16 are taken.
std::string free_subtitle_name(const media_record& r) {
  for (size_t i = 0; i < max_subtitle_tracks; ++i) {
    const std::string name = "s" + std::to_string(i);
    if (std::none_of(r.renditions.begin(), r.renditions.end(),
                     [&](const rendition_record& x) { return x.name == name; }))
      return name;
  }
  return "";
}

/// The segment grid subtitles follow: the first variant's (every variant
/// cuts at the same times).
const rendition_record* timeline_of(const media_record& r) {
  for (const auto& x : r.renditions)
    if (x.kind == rendition_kind::variant && !x.segments.empty())
      return &x;
  return nullptr;
}

/// What the segmented files would weigh: a cue goes into every segment it
/// overlaps, so a few long cues over a long item add up. Computed before
/// anything is written.
uint64_t segmented_bytes(const std::vector<media::subtitle_cue>& cues,
                         const std::vector<double>& durations) {
  std::vector<int64_t> ends; // each segment's end, ms
  double t = 0;
  for (double d : durations)
    ends.push_back(static_cast<int64_t>((t += std::max(0.0, d)) * 1000));
  uint64_t bytes = 80 * durations.size(); // headers
  for (const auto& c : cues) {
    const auto first = std::upper_bound(ends.begin(), ends.end(), c.start_ms);
    const auto last = std::lower_bound(ends.begin(), ends.end(), c.end_ms);
    const auto n = last == ends.end() ? ends.end() - first : last - first + 1;
    bytes += static_cast<uint64_t>(std::max<std::ptrdiff_t>(0, n)) * (c.text.size() + 40);
  }
  return bytes;
}

constexpr uint64_t max_segmented_bytes = 64ull << 20;

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
  const rendition_record* grid = timeline_of(st.record);
  if (!grid)
    return done(api_error{api_errc::not_ready, "Media has no segments"});
  const size_t taken = static_cast<size_t>(
      std::count_if(st.record.renditions.begin(), st.record.renditions.end(),
                    [](const rendition_record& x) { return x.kind == rendition_kind::subtitles; }));
  const std::string name = free_subtitle_name(st.record);
  if (taken >= max_subtitle_tracks || name.empty())
    return done(api_error{api_errc::bad_parameter, "An item holds at most 16 subtitle tracks"});

  std::vector<double> durations;
  durations.reserve(grid->segments.size());
  for (const auto& s : grid->segments)
    durations.push_back(s.duration);
  if (segmented_bytes(req.cues, durations) > max_segmented_bytes)
    return done(api_error{api_errc::bad_parameter,
                          "Subtitle file: its cues would take more than 64 MiB once segmented"});
  auto texts = media::write_webvtt_segments(req.cues, durations, media::mpegts_time_zero);
  rendition_record rr;
  rr.name = name;
  rr.kind = rendition_kind::subtitles;
  rr.language = req.language;
  rr.label = req.label.empty() ? (req.language.empty() ? name : req.language) : req.label;
  rr.is_default = req.is_default;
  rr.forced = req.forced;
  std::vector<std::pair<std::string, std::string>> files;
  files.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto file = media::segment_file_name(i, media::segment_kind::vtt);
    rr.segments.push_back({file, durations[i], texts[i].size()});
    files.emplace_back(std::move(file), std::move(texts[i]));
  }
  const auto& item_files = st.env->files;
  if (!item_files.add_rendition(st.record.storage_id, name, files)) {
    logging::error("cannot write subtitles", {{"media_id", st.record.media_id}});
    return done(api_error{api_errc::internal, "Cannot store the subtitles"});
  }
  media_record r = st.record;
  if (rr.is_default) // one default per group
    for (auto& x : r.renditions)
      if (x.kind == rendition_kind::subtitles)
        x.is_default = false;
  r.renditions.push_back(rr);
  subtitle_result res{r.media_id, name, req.cues.size(), rr.segments.size()};
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
