#include "media/track_labels.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

#include "media/subtitles.hpp"

namespace hlsgate::media {

std::string clean_label(const std::string& in) {
  if (!valid_utf8(in))
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

std::string unique_label(const std::string& base, const std::vector<std::string>& taken) {
  std::string label = base;
  for (int n = 2; std::find(taken.begin(), taken.end(), label) != taken.end(); ++n)
    label = base + " " + std::to_string(n);
  return label;
}

} // namespace hlsgate::media
