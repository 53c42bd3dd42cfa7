// Uploaded subtitle files (media/subtitles.hpp), any bytes. Invariants: an
// error comes alone and short; cues have start < end within the time limit,
// sorted starts, non-empty valid UTF-8 text of at most max_cue_bytes without
// a blank line, CR or "-->"; clean_cue_text gives the same guarantees; every
// WebVTT segment written from the cues starts with the WebVTT header.
#include "media/subtitles.hpp"

#include <string>
#include <string_view>
#include <vector>

using namespace hlsgate::media;

namespace {

// An independent check (not media::valid_utf8): the oracle for the parser's output.
bool oracle_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80                 ? 1
               : c >= 0xc2 && c <= 0xdf ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (n == 0 || i + n > s.size())
      return false;
    uint32_t cp = n == 1 ? c : c & (0x3f >> (n - 1));
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (b & 0x3f);
    }
    const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

/// What any cue text we produce must be.
void check_text(std::string_view t, bool may_be_empty) {
  if (t.empty() && !may_be_empty)
    __builtin_trap();
  if (!oracle_utf8(t) || t.find("\n\n") != std::string_view::npos ||
      t.find("-->") != std::string_view::npos || t.find('\r') != std::string_view::npos)
    __builtin_trap();
  if (!t.empty() && (t.front() == '\n' || t.back() == '\n'))
    __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_text(clean_cue_text(in), true);

  const subtitle_limits limits;
  const subtitle_parse_result r = parse_subtitles(in, limits);
  if (!r.error.empty()) {
    if (!r.cues.empty() || r.error.size() > 64)
      __builtin_trap();
    return 0;
  }
  if (r.cues.empty() || r.cues.size() > limits.max_cues)
    __builtin_trap();
  for (size_t i = 0; i < r.cues.size(); ++i) {
    const subtitle_cue& c = r.cues[i];
    if (c.start_ms < 0 || c.end_ms <= c.start_ms || c.end_ms > limits.max_time_ms)
      __builtin_trap();
    if (i > 0 && r.cues[i - 1].start_ms > c.start_ms)
      __builtin_trap();
    if (c.text.size() > limits.max_cue_bytes)
      __builtin_trap();
    check_text(c.text, false);
  }

  // A few segments whose lengths come from the input's first bytes.
  std::vector<double> durations;
  for (size_t i = 0; i < 1 + size % 5; ++i)
    durations.push_back(data[i % size] * 0.25 * static_cast<double>(i + 1));
  const std::vector<std::string> files = write_webvtt_segments(r.cues, durations, 900000);
  if (files.size() != durations.size())
    __builtin_trap();
  for (const std::string& f : files)
    if (f.compare(0, 7, "WEBVTT\n") != 0 || !oracle_utf8(f))
      __builtin_trap();
  return 0;
}
