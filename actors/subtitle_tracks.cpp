#include "actors/subtitle_tracks.hpp"

#include <algorithm>

#include "media/names.hpp"
#include "media/subtitles.hpp"
#include "media/track_labels.hpp"

namespace hlsgate::actors {

namespace {

constexpr size_t max_track_bytes = size_t{16} << 20;

/// The first subtitle folder name ("s0".."s15") that no rendition in
/// `taken` uses; "" when all are.
std::string free_subtitle_name(const std::vector<rendition_record>& taken) {
  for (size_t i = 0; i < max_subtitle_tracks; ++i) {
    const std::string name = "s" + std::to_string(i);
    if (std::none_of(taken.begin(), taken.end(),
                     [&](const rendition_record& x) { return x.name == name; }))
      return name;
  }
  return "";
}

} // namespace

std::vector<double> subtitle_grid(const std::vector<rendition_record>& renditions) {
  std::vector<double> grid;
  for (const auto& x : renditions)
    if (x.kind == rendition_kind::variant && !x.segments.empty()) {
      for (const auto& s : x.segments)
        grid.push_back(s.duration);
      break;
    }
  return grid;
}

media::result<subtitle_rendition>
make_subtitle_rendition(const std::vector<rendition_record>& taken,
                        const std::vector<media::subtitle_cue>& cues,
                        const std::vector<double>& grid, const std::string& language,
                        const std::string& label, bool is_default, bool forced) {
  const std::string name = free_subtitle_name(taken);
  if (name.empty())
    return media::error{media::errc::invalid_input, "an item holds at most 16 subtitle tracks"};
  auto texts = media::write_webvtt_segments(cues, grid, media::mpegts_time_zero, max_track_bytes);
  if (texts.empty() && !grid.empty())
    return media::error{media::errc::invalid_input,
                        "its cues would take more than 16 MiB once segmented"};
  subtitle_rendition out;
  rendition_record& rr = out.record;
  rr.name = name;
  rr.kind = rendition_kind::subtitles;
  rr.language = language;
  const std::string cleaned = media::clean_label(label);
  std::vector<std::string> labels;
  for (const auto& x : taken)
    if (x.kind == rendition_kind::subtitles)
      labels.push_back(x.label);
  rr.label = media::unique_label(!cleaned.empty()    ? cleaned
                                 : !language.empty() ? language
                                                     : name,
                                 labels);
  rr.is_default = is_default;
  rr.forced = forced;
  out.files.reserve(texts.size());
  for (size_t i = 0; i < texts.size() && i < grid.size(); ++i) {
    auto file = media::segment_file_name(i, media::segment_kind::vtt);
    rr.segments.push_back({file, grid[i], texts[i].size()});
    out.files.emplace_back(std::move(file), std::move(texts[i]));
  }
  return out;
}

} // namespace hlsgate::actors
