#include "actors/subtitle_tracks.hpp"

#include <algorithm>
#include <cctype>

#include "media/names.hpp"
#include "media/subtitles.hpp"

namespace hlsgate::actors {

namespace {

constexpr size_t max_track_bytes = size_t{16} << 20;
constexpr size_t max_label_bytes = 64;

/// What players may show as NAME: UTF-8 without control characters, quotes
/// or line separators, at most 64 bytes (cut at a character boundary).
std::string clean_label(const std::string& in) {
  if (!media::valid_utf8(in))
    return "";
  std::string out;
  for (size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    const std::string_view ch(in.data() + i, n);
    i += n;
    const bool control = (n == 1 && (c < 0x20 || c == 0x7f || c == '"')) ||
                         (n == 2 && c == 0xc2 && static_cast<unsigned char>(ch[1]) < 0xa0) ||
                         ch == "\xe2\x80\xa8" || ch == "\xe2\x80\xa9";
    if (control)
      continue;
    if (out.size() + n > max_label_bytes)
      break;
    out.append(ch);
  }
  return out;
}

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
  const std::string cleaned = clean_label(label);
  const std::string base = !cleaned.empty() ? cleaned : !language.empty() ? language : name;
  // NAME is unique in its group (RFC 8216 4.3.4.1.1): "English", "English 2", ...
  rr.label = base;
  for (int n = 2; std::any_of(taken.begin(), taken.end(),
                              [&](const rendition_record& x) {
                                return x.kind == rendition_kind::subtitles && x.label == rr.label;
                              });
       ++n)
    rr.label = base + " " + std::to_string(n);
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
