#include "actors/subtitle_tracks.hpp"

#include <algorithm>
#include <cctype>

#include "media/names.hpp"

namespace hlsgate::actors {

namespace {

constexpr uint64_t max_segmented_bytes = 64ull << 20;

uint64_t segmented_bytes(const std::vector<media::subtitle_cue>& cues,
                         const std::vector<double>& grid) {
  std::vector<int64_t> ends; // each segment's end, ms
  double t = 0;
  for (double d : grid)
    ends.push_back(static_cast<int64_t>((t += std::max(0.0, d)) * 1000));
  uint64_t bytes = 80 * grid.size(); // headers
  for (const auto& c : cues) {
    const auto first = std::upper_bound(ends.begin(), ends.end(), c.start_ms);
    const auto last = std::lower_bound(ends.begin(), ends.end(), c.end_ms);
    const auto n = last == ends.end() ? ends.end() - first : last - first + 1;
    bytes += static_cast<uint64_t>(std::max<std::ptrdiff_t>(0, n)) * (c.text.size() + 40);
  }
  return bytes;
}

} // namespace

std::string free_subtitle_name(const std::vector<rendition_record>& taken) {
  for (size_t i = 0; i < max_subtitle_tracks; ++i) {
    const std::string name = "s" + std::to_string(i);
    if (std::none_of(taken.begin(), taken.end(),
                     [&](const rendition_record& x) { return x.name == name; }))
      return name;
  }
  return "";
}

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
make_subtitle_rendition(const std::string& name, const std::vector<media::subtitle_cue>& cues,
                        const std::vector<double>& grid, const std::string& language,
                        const std::string& label, bool is_default, bool forced) {
  if (segmented_bytes(cues, grid) > max_segmented_bytes)
    return media::error{media::errc::invalid_input,
                        "its cues would take more than 64 MiB once segmented"};
  subtitle_rendition out;
  rendition_record& rr = out.record;
  rr.name = name;
  rr.kind = rendition_kind::subtitles;
  rr.language = language;
  rr.label = !label.empty() ? label : !language.empty() ? language : name;
  rr.is_default = is_default;
  rr.forced = forced;
  auto texts = media::write_webvtt_segments(cues, grid, media::mpegts_time_zero);
  out.files.reserve(texts.size());
  for (size_t i = 0; i < texts.size() && i < grid.size(); ++i) {
    auto file = media::segment_file_name(i, media::segment_kind::vtt);
    rr.segments.push_back({file, grid[i], texts[i].size()});
    out.files.emplace_back(std::move(file), std::move(texts[i]));
  }
  return out;
}

std::string language_tag(const std::string& lang) {
  static const std::pair<const char*, const char*> iso639_2[] = {
      {"eng", "en"}, {"fra", "fr"}, {"fre", "fr"}, {"deu", "de"}, {"ger", "de"}, {"spa", "es"},
      {"ita", "it"}, {"por", "pt"}, {"nld", "nl"}, {"dut", "nl"}, {"rus", "ru"}, {"jpn", "ja"},
      {"zho", "zh"}, {"chi", "zh"}, {"kor", "ko"}, {"ara", "ar"}, {"hin", "hi"}, {"pol", "pl"},
      {"swe", "sv"}, {"nor", "no"}, {"dan", "da"}, {"fin", "fi"}, {"tur", "tr"}, {"ell", "el"},
      {"gre", "el"}, {"heb", "he"}, {"ces", "cs"}, {"cze", "cs"}, {"hun", "hu"}, {"ukr", "uk"}};
  if (lang.size() < 2 || lang.size() > 3)
    return "";
  std::string l;
  for (char c : lang) {
    if (!std::isalpha(static_cast<unsigned char>(c)))
      return "";
    l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (l == "und" || l == "mul" || l == "zxx" || l == "mis")
    return "";
  for (auto [three, two] : iso639_2)
    if (l == three)
      return two;
  return l;
}

} // namespace hlsgate::actors
