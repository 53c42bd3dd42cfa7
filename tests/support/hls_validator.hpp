// A strict HLS playlist validator for the tests: every playlist hlsgate
// serves is checked against RFC 8216 and the parts of Apple's HLS authoring
// specification that apply to what we produce. It reports every problem it
// finds (not just the first), each as one line naming the rule.
//
// Checked (RFC 8216 section in brackets):
//  - both kinds: #EXTM3U first [4.3.1.1]; one EXT-X-VERSION at most, and at
//    least the version the features used require [4.3.1.2, 7]; attribute
//    lists well formed, no duplicate attribute names [4.2]; tags of the other
//    playlist kind absent [4.1]; unknown EXT-X tags reported;
//  - media: EXT-X-TARGETDURATION present once, a decimal integer, and >= every
//    EXTINF rounded to the nearest integer [4.3.3.1]; every EXTINF a number
//    followed by a URI line [4.3.2.1]; EXT-X-MEDIA-SEQUENCE and
//    EXT-X-DISCONTINUITY-SEQUENCE before the first segment [4.3.3.2,
//    4.3.3.3]; EXT-X-PLAYLIST-TYPE VOD or EVENT; VOD ends with ENDLIST
//    [4.3.3.5]; nothing after ENDLIST [4.3.3.4]; EXT-X-PROGRAM-DATE-TIME an
//    ISO 8601 date with time zone [4.3.2.6]; EXT-X-DATERANGE with ID and
//    START-DATE, non-negative DURATION, END-ON-NEXT=YES only with CLASS and
//    without DURATION or END-DATE, unique IDs [4.3.2.7];
//  - master: every EXT-X-STREAM-INF has BANDWIDTH and is followed by a URI
//    [4.3.4.2]; Apple: CODECS on every variant, RESOLUTION and FRAME-RATE on
//    every variant whose CODECS name a video codec, AVERAGE-BANDWIDTH <=
//    BANDWIDTH; EXT-X-MEDIA has TYPE, GROUP-ID and NAME, URI for SUBTITLES
//    and none for CLOSED-CAPTIONS, DEFAULT=YES implies AUTOSELECT=YES, NAME
//    unique in its group, at most one DEFAULT per group [4.3.4.1]; AUDIO,
//    SUBTITLES references resolve to a group of that TYPE [4.3.4.2].
#pragma once

#include <map>
#include <string>
#include <vector>

namespace hlsgate::test {

struct hls_problems {
  std::vector<std::string> items;
  bool ok() const { return items.empty(); }
  /// All problems, one per line (for test failure messages).
  std::string str() const;
};

/// Parses an attribute list (RFC 8216 §4.2): NAME=value pairs, values kept
/// as written (quoted strings keep their quotes). False on a syntax error.
bool parse_attributes(const std::string& text, std::map<std::string, std::string>& out,
                      std::string& error);

/// Validates `text` as a media playlist.
hls_problems validate_media_playlist(const std::string& text);

/// Validates `text` as a master (multivariant) playlist.
hls_problems validate_master_playlist(const std::string& text);

/// Either kind, decided by the presence of EXT-X-STREAM-INF / EXT-X-MEDIA.
hls_problems validate_playlist(const std::string& text);

} // namespace hlsgate::test
