#include "config/ladder.hpp"

#include <algorithm>
#include <cmath>

namespace hlsgate::config {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Digits with an optional fraction; false on anything else. Keeps to
/// reasonable magnitudes (at most 12 integer digits).
bool parse_decimal(std::string_view s, double& out) {
  double v = 0;
  size_t i = 0, int_digits = 0, frac_digits = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++int_digits)
    v = v * 10 + (s[i] - '0');
  if (int_digits == 0 || int_digits > 12)
    return false;
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++frac_digits, scale /= 10)
      v += (s[i] - '0') * scale;
    if (frac_digits == 0)
      return false;
  }
  if (i != s.size())
    return false;
  out = v;
  return true;
}

constexpr const char* syntax = "ladder must look like 1080:5000k,720:2800k,480:1400k";

} // namespace

std::vector<rung> default_ladder() {
  return {{1080, 5000000}, {720, 2800000}, {480, 1400000}, {360, 800000}};
}

std::string parse_ladder(std::string_view text, std::vector<rung>& out) {
  std::vector<rung> ladder;
  std::string_view rest = text;
  if (trim(rest).empty())
    return syntax;
  for (;;) {
    if (ladder.size() == max_rungs)
      return "ladder has more than 8 rungs";
    const size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos)
      return syntax;
    double height = 0, bitrate = 0;
    const std::string_view h = trim(item.substr(0, colon));
    std::string_view b = trim(item.substr(colon + 1));
    if (h.find('.') != std::string_view::npos || !parse_decimal(h, height))
      return syntax;
    double mult = 1;
    if (!b.empty() && (b.back() == 'k' || b.back() == 'K'))
      mult = 1e3;
    else if (!b.empty() && (b.back() == 'm' || b.back() == 'M'))
      mult = 1e6;
    if (mult != 1)
      b.remove_suffix(1);
    if (!parse_decimal(b, bitrate))
      return syntax;
    bitrate = std::round(bitrate * mult);
    if (height < 16 || height > 4320)
      return "ladder heights must be in [16, 4320]";
    if (bitrate < 50e3 || bitrate > 100e6)
      return "ladder bitrates must be in [50k, 100M]";
    ladder.push_back(rung{static_cast<int>(height), static_cast<int>(bitrate)});
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(ladder.begin(), ladder.end(),
            [](const rung& a, const rung& b) { return a.height > b.height; });
  for (size_t i = 1; i < ladder.size(); ++i) {
    if (ladder[i].height == ladder[i - 1].height)
      return "ladder names the same height twice";
  }
  out = std::move(ladder);
  return {};
}

std::string format_ladder(const std::vector<rung>& rungs) {
  std::string out;
  for (const rung& r : rungs) {
    if (!out.empty())
      out.push_back(',');
    out += std::to_string(r.height);
    out.push_back(':');
    if (r.video_bitrate % 1000 == 0)
      out += std::to_string(r.video_bitrate / 1000) + "k";
    else
      out += std::to_string(r.video_bitrate);
  }
  return out;
}

} // namespace hlsgate::config
