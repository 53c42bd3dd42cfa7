// Subtitles: an uploaded SRT (SubRip) or WebVTT file turned into cues, and
// cues written as the WebVTT segments of an HLS subtitle rendition
// (RFC 8216 §3.5). Pure C++ (no libav, no I/O), unit-tested in
// tests/media/subtitles_test.cpp and fuzzed by tests/fuzz/subtitles_fuzz.cpp:
// the file comes from an uploader and may hold any bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hlsgate::media {

/// One cue, ready to be written as WebVTT.
struct subtitle_cue {
  int64_t start_ms = 0; ///< media time, milliseconds
  int64_t end_ms = 0;   ///< > start_ms
  std::string text;     ///< WebVTT cue payload: lines joined by '\n', no blank line, no "-->"
};

/// What an uploaded subtitle file may hold.
struct subtitle_limits {
  size_t max_bytes = 4 << 20;               ///< size of the file
  size_t max_cues = 20000;                  ///< cues kept (empty ones are not counted)
  size_t max_cue_bytes = 2048;              ///< text of one cue after conversion
  int64_t max_time_ms = 48LL * 3600 * 1000; ///< latest start or end time
};

/// The cues of a file, or why there are none.
struct subtitle_parse_result {
  std::vector<subtitle_cue> cues; ///< sorted by start time (stable)
  std::string error;              ///< empty on success; short, safe to show the uploader
};

/// Well-formed UTF-8: no overlong forms, no surrogates, at most U+10FFFF.
bool valid_utf8(std::string_view s);

/// Parses an uploaded subtitle file: WebVTT when it starts with the "WEBVTT"
/// signature (after an optional UTF-8 BOM), SRT otherwise.
///  - The file must be UTF-8 ("not UTF-8 text"); lines end with LF, CRLF or
///    CR. A line of only spaces and tabs counts as blank.
///  - Blocks are separated by blank lines. A block is an optional identifier
///    line (SRT counter, WebVTT cue id: dropped), a timing line, and text
///    lines. WebVTT's header and its NOTE, STYLE and REGION blocks are skipped.
///  - Timing: "start --> end", then anything after a space (WebVTT cue
///    settings, SRT coordinates) is dropped. SRT times are HH:MM:SS,mmm (or
///    '.'), WebVTT times [HH:]MM:SS.mmm; hours may have any number of digits.
///  - A text line that is itself a whole timing line (a blank line was
///    missing) starts a new cue; in SRT the counter line just above it is
///    dropped.
///  - Text is cleaned as clean_cue_text() does (without its "\N" breaks),
///    except that in WebVTT the character references &amp; &lt; &gt; &nbsp;
///    &lrm; &rlm; and valid numeric ones are kept as written.
///  - Cues left without text are dropped.
/// Errors, naming the line of the timing: "line 12: bad timing", "line 12:
/// end time not after start time", "line 12: time beyond 48:00:00.000",
/// "line 12: cue text over 2048 bytes"; and "file larger than 4194304 bytes",
/// "more than 20000 cues", "no subtitle cues" (also for an empty file).
subtitle_parse_result parse_subtitles(std::string_view data, const subtitle_limits& limits = {});

/// The text of one cue as WebVTT, from what a decoder gives (plain text with
/// optional <b>, <i>, <u> tags, ASS override blocks such as "{\an8}", and
/// "\N" or "\n" line breaks; libav's ASS "Dialogue:" lines are not handled):
///  - <b>, <i>, <u> and their closing tags are kept (lower case, without
///    classes); every other tag (<font color=...>, <v Bob>, ...) and every
///    "{\...}" block is removed;
///  - other '&', '<' and '>' become &amp; &lt; &gt; (so "-->" becomes
///    "--&gt;");
///  - tabs become spaces, other control characters are dropped, and bytes
///    that are not UTF-8 become U+FFFD;
///  - lines are trimmed of spaces and those without visible text are dropped.
/// "" when nothing is left.
std::string clean_cue_text(std::string_view text);

/// One WebVTT file per entry of `segment_durations` (seconds, as the video
/// playlist's EXTINFs: segment i covers [sum of the previous durations, that
/// + its own)), each starting with
/// "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:<mpegts_origin>,LOCAL:00:00:00.000\n\n"
/// and holding, in start order, every cue that overlaps its window with its
/// full times ("00:00:01.000 --> 00:00:02.500\ntext\n\n"; hours have two
/// digits or more): a cue across a boundary is in both segments, one after
/// the last segment is in none. A segment without cues is the header alone.
/// Cues with end <= start or without text are left out; negative or
/// non-finite durations count as 0.
// `max_total_bytes`: when the files together would weigh more (counted
// before anything is built), the result is empty.
std::vector<std::string> write_webvtt_segments(const std::vector<subtitle_cue>& cues,
                                               const std::vector<double>& segment_durations,
                                               int64_t mpegts_origin,
                                               size_t max_total_bytes = SIZE_MAX);

} // namespace hlsgate::media
