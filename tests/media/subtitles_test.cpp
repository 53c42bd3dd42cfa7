// media/subtitles.hpp: SRT and WebVTT uploads parsed into cues, cue text
// cleaned for WebVTT, cues cut into HLS WebVTT segments.
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/subtitles.hpp"

namespace hlsgate::media {

// Printed by GoogleTest when a comparison of cue vectors fails.
void PrintTo(const subtitle_cue& c, std::ostream* os) {
  *os << "{" << c.start_ms << ", " << c.end_ms << ", \"" << c.text << "\"}";
}

bool operator==(const subtitle_cue& a, const subtitle_cue& b) {
  return a.start_ms == b.start_ms && a.end_ms == b.end_ms && a.text == b.text;
}

namespace {

using cues = std::vector<subtitle_cue>;

/// The cues of `data`, failing the test on an error.
cues parsed(std::string_view data, const subtitle_limits& limits = {}) {
  subtitle_parse_result r = parse_subtitles(data, limits);
  EXPECT_EQ(r.error, "");
  return r.cues;
}

/// The error for `data`, checking that no cue comes with it.
std::string error_of(std::string_view data, const subtitle_limits& limits = {}) {
  subtitle_parse_result r = parse_subtitles(data, limits);
  EXPECT_TRUE(r.cues.empty());
  return r.error;
}

TEST(ParseSrt, CrlfBomMarkupAndMultiline) {
  const std::string srt = "\xef\xbb\xbf"
                          "1\r\n"
                          "00:00:01,000 --> 00:00:02,500\r\n"
                          "<i>Hello</i>, <font color=\"#ff0000\">world</font>!\r\n"
                          "{\\an8}Second <B>line</B>\r\n"
                          "\r\n"
                          "2\r\n"
                          "00:01:02.345 --> 01:00:00,000  X1:10 X2:20 Y1:5 Y2:9\r\n"
                          "Tom & Jerry <3 <u>you</u>\r\n"
                          "\r\n"
                          "3\r\n"
                          "100:00:00,000 --> 100:00:01,000\r\n"
                          "  Late  \r\n";
  subtitle_limits l;
  l.max_time_ms = 101LL * 3600 * 1000;
  EXPECT_EQ(parsed(srt, l), (cues{{1000, 2500, "<i>Hello</i>, world!\nSecond <b>line</b>"},
                                  {62345, 3600000, "Tom &amp; Jerry &lt;3 <u>you</u>"},
                                  {360000000, 360001000, "Late"}}));
}

TEST(ParseSrt, CrOnlyLinesAndCuesSortedStably) {
  const std::string srt = "1\r00:00:05,000 --> 00:00:06,000\rB\r\r"
                          "2\r00:00:01,000 --> 00:00:02,000\rA\r\r"
                          "3\r00:00:05,000 --> 00:00:07,000\rC\r";
  EXPECT_EQ(parsed(srt), (cues{{1000, 2000, "A"}, {5000, 6000, "B"}, {5000, 7000, "C"}}));
}

TEST(ParseSrt, EqualStartsKeepTheirFileOrder) {
  // Enough cues for std::sort to leave insertion sort.
  std::string srt;
  cues expected_early, expected_late;
  for (int i = 0; i < 40; ++i) {
    const bool early = i % 2 == 1;
    srt += std::to_string(i + 1) + "\n" + (early ? "00:00:01,000" : "00:00:02,000") +
           " --> 00:00:03,000\n" + std::to_string(i) + "\n\n";
    (early ? expected_early : expected_late)
        .push_back({early ? 1000 : 2000, 3000, std::to_string(i)});
  }
  expected_early.insert(expected_early.end(), expected_late.begin(), expected_late.end());
  EXPECT_EQ(parsed(srt), expected_early);
}

TEST(ParseSrt, EmptyCuesDroppedAndMissingBlankLineStartsANewCue) {
  const std::string srt = "1\n00:00:01,000 --> 00:00:02,000\n<font size=2> </font>\n\n"
                          "2\n00:00:03,000 --> 00:00:04,000\nOne\n"
                          "3\n00:00:05,000 --> 00:00:06,000\nTwo\n";
  EXPECT_EQ(parsed(srt), (cues{{3000, 4000, "One"}, {5000, 6000, "Two"}}));
}

TEST(ParseWebvtt, HeaderNotesStyleIdsSettingsAndShortTimes) {
  const std::string vtt = "WEBVTT - a title\n"
                          "Kind: captions\n"
                          "\n"
                          "STYLE\n"
                          "::cue { color: yellow }\n"
                          "\n"
                          "REGION\n"
                          "id:fred width:40%\n"
                          "\n"
                          "NOTE a comment\n"
                          "spanning lines\n"
                          "\n"
                          "intro\n"
                          "00:01.000 --> 00:02.000 align:start line:0\n"
                          "<v Bob>Hi &amp; bye &lt;3 &#233; &nbsp;</v>\n"
                          "\n"
                          "00:00:03.000 --> 00:00:04.500\n"
                          "<c.yellow>Two</c> <b.loud>lines</b>\n"
                          "& a stray & > <\n"
                          "\n"
                          "NOTE\n"
                          "\n"
                          "1:00:00.000 --> 1:00:01.000\n"
                          "Later\n";
  EXPECT_EQ(parsed(vtt), (cues{{1000, 2000, "Hi &amp; bye &lt;3 &#233; &nbsp;"},
                               {3000, 4500, "Two <b>lines</b>\n&amp; a stray &amp; &gt; &lt;"},
                               {3600000, 3601000, "Later"}}));
}

TEST(ParseWebvtt, BomCrlfAndATimingRightAfterTheSignature) {
  EXPECT_EQ(parsed("\xef\xbb\xbfWEBVTT\r\n00:00.500 --> 00:01.000\r\nA\r\n"),
            (cues{{500, 1000, "A"}}));
  // Not the signature: parsed as SRT, whose timestamps need hours.
  EXPECT_EQ(error_of("WEBVTTX\n\n00:00.500 --> 00:01.000\nA\n"), "line 1: bad timing");
  EXPECT_EQ(error_of("1\n00:00.500 --> 00:01.000\nA\n"), "line 2: bad timing");
}

TEST(ParseWebvtt, OnlyValidCharacterReferencesAreKept) {
  EXPECT_EQ(parsed("WEBVTT\n\n00:01.000 --> 00:02.000\n"
                   "&#x41; &#65; &lrm; &#0; &#xd800; &#1114112; &#9; &bogus; &amp\n"),
            (cues{{1000, 2000,
                   "&#x41; &#65; &lrm; &amp;#0; &amp;#xd800; &amp;#1114112; &amp;#9; &amp;bogus; "
                   "&amp;amp"}}));
}

TEST(ParseWebvtt, CommasAndOneDigitMinutesAreRefused) {
  EXPECT_EQ(error_of("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nA\n"), "line 3: bad timing");
  EXPECT_EQ(error_of("WEBVTT\n\n0:01.000 --> 00:02.000\nA\n"), "line 3: bad timing");
}

TEST(ParseErrors, BadTimingNamesTheLine) {
  const std::string ok = "1\n00:00:01,000 --> 00:00:02,000\nA\n\n";
  EXPECT_EQ(error_of(ok + "2\n00:00:03,000 -> 00:00:04,000\nB\n"), "line 6: bad timing");
  EXPECT_EQ(error_of(ok + "2\n00:00:03,000 --> 00:00:04\nB\n"), "line 6: bad timing");
  EXPECT_EQ(error_of(ok + "2\n00:60:03,000 --> 00:61:04,000\nB\n"), "line 6: bad timing");
  EXPECT_EQ(error_of(ok + "2\n00:00:03,0000 --> 00:00:04,000\nB\n"), "line 6: bad timing");
  EXPECT_EQ(error_of(ok + "2\n00:00:03,000 --> 00:00:04,000X\nB\n"), "line 6: bad timing");
  EXPECT_EQ(error_of(ok + "2\nSome text\nB\n"), "line 6: bad timing");
  EXPECT_EQ(error_of(ok + "stray\n"), "line 5: bad timing");
  EXPECT_EQ(error_of(ok + "\n\n2\n\n"), "line 7: bad timing");
}

TEST(ParseErrors, EndNotAfterStart) {
  EXPECT_EQ(error_of("1\n00:00:02,000 --> 00:00:01,000\nA\n"),
            "line 2: end time not after start time");
  EXPECT_EQ(error_of("WEBVTT\n\n00:02.000 --> 00:02.000\nA\n"),
            "line 3: end time not after start time");
}

TEST(ParseErrors, NotUtf8) {
  for (const std::string& bad :
       {std::string("1\n00:00:01,000 --> 00:00:02,000\ncaf\xe9\n"), std::string("\xc0\xaf"),
        std::string("\xe0\x80\xaf"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"),
        std::string("ok\xe2\x82")})
    EXPECT_EQ(error_of(bad), "not UTF-8 text") << bad;
}

TEST(ParseErrors, NoCues) {
  EXPECT_EQ(error_of(""), "no subtitle cues");
  EXPECT_EQ(error_of("\xef\xbb\xbf"), "no subtitle cues");
  EXPECT_EQ(error_of("\n\r\n  \t\n\r"), "no subtitle cues");
  EXPECT_EQ(error_of("WEBVTT\n\nNOTE nothing here\n"), "no subtitle cues");
  EXPECT_EQ(error_of("1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n"), "no subtitle cues");
}

TEST(ParseErrors, Limits) {
  const std::string two = "1\n00:00:01,000 --> 00:00:02,000\nAB\n\n"
                          "2\n00:00:03,000 --> 00:00:04,000\nCD\n";
  subtitle_limits l;
  l.max_bytes = two.size() - 1;
  EXPECT_EQ(error_of(two, l), "file larger than " + std::to_string(two.size() - 1) + " bytes");
  l.max_bytes = two.size();
  EXPECT_EQ(parsed(two, l).size(), 2u);

  l = {};
  l.max_cues = 1;
  EXPECT_EQ(error_of(two, l), "more than 1 cues");
  l.max_cues = 2;
  EXPECT_EQ(parsed(two, l).size(), 2u);

  l = {};
  l.max_cue_bytes = 1;
  EXPECT_EQ(error_of(two, l), "line 2: cue text over 1 bytes");
  l.max_cue_bytes = 2;
  EXPECT_EQ(parsed(two, l).size(), 2u);
  EXPECT_EQ(error_of("1\n00:00:01,000 --> 00:00:02,000\n&\n", l), "line 2: cue text over 2 bytes")
      << "measured after escaping";

  l = {};
  l.max_time_ms = 4000;
  EXPECT_EQ(parsed(two, l).size(), 2u);
  l.max_time_ms = 3999;
  EXPECT_EQ(error_of(two, l), "line 6: time beyond 00:00:03.999");
  EXPECT_EQ(error_of("1\n48:00:00,001 --> 48:00:01,000\nA\n"), "line 2: time beyond 48:00:00.000");
  EXPECT_EQ(error_of("1\n99999999999999999999:00:00,000 --> 99999999999999999999:00:01,000\nA\n"),
            "line 2: time beyond 48:00:00.000");
}

TEST(CleanCueText, EscapesAndArrows) {
  EXPECT_EQ(clean_cue_text("a -> b --> c & d < e > f"), "a -&gt; b --&gt; c &amp; d &lt; e &gt; f");
  EXPECT_EQ(clean_cue_text("&amp; is text here"), "&amp;amp; is text here");
  EXPECT_EQ(clean_cue_text("--<font>></font>"), "--&gt;");
  const auto r = parse_subtitles("1\n00:00:01,000 --> 00:00:02,000\nx --> y\n");
  ASSERT_EQ(r.cues.size(), 1u) << r.error;
  EXPECT_EQ(r.cues[0].text, "x --&gt; y");
}

TEST(CleanCueText, TagsOverridesAndBreaks) {
  EXPECT_EQ(clean_cue_text("{\\an8}{\\i1}<I>One</I>\\NTwo\\nThree\nFour\r\n<b>Five</b>"),
            "<i>One</i>\nTwo\nThree\nFour\n<b>Five</b>");
  EXPECT_EQ(clean_cue_text("A\\N\\N  \\N<i> </i>\\NB"), "A\nB") << "no blank line inside";
  EXPECT_EQ(clean_cue_text("{not an override} {\\unclosed"), "{not an override} {\\unclosed");
  EXPECT_EQ(clean_cue_text("<ruby>x<rt>y</rt></ruby> <3"), "xy &lt;3");
  EXPECT_EQ(clean_cue_text("tab\there\x01\x7f!"), "tab here!");
  EXPECT_EQ(clean_cue_text("bad \xff byte"), "bad \xef\xbf\xbd byte");
  EXPECT_EQ(clean_cue_text("<font color=red></font>{\\b1}"), "");
  EXPECT_EQ(clean_cue_text(""), "");
}

TEST(WriteSegments, TwoSegmentsExactText) {
  const cues c = {
      {500, 1500, "First"}, {5500, 6500, "<i>Across</i>\nthe cut"}, {7000, 8000, "Two"}};
  const auto files = write_webvtt_segments(c, {6.0, 4.0}, 900000);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n"
                      "00:00:00.500 --> 00:00:01.500\nFirst\n\n"
                      "00:00:05.500 --> 00:00:06.500\n<i>Across</i>\nthe cut\n\n");
  EXPECT_EQ(files[1], "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n"
                      "00:00:05.500 --> 00:00:06.500\n<i>Across</i>\nthe cut\n\n"
                      "00:00:07.000 --> 00:00:08.000\nTwo\n\n");
}

TEST(WriteSegments, BoundariesEmptySegmentsAndCuesAfterTheEnd) {
  const std::string header = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n";
  const cues c = {
      {4000, 8000, "B"},             // unsorted on purpose; ends where segment 2 starts
      {0, 2000, "A"},                // ends where segment 1 starts
      {30000, 40000, "after"},       // after the last segment
      {19999, 20001, "edge"},        // the last millisecond of the last segment
      {360000000, 360000001, "far"}, // hours of three digits
      {2000, 2000, "empty window"},  // end <= start: left out
  };
  const auto files = write_webvtt_segments(c, {4.0, 4.0, 4.0, 8.0}, 0);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0], header + "00:00:00.000 --> 00:00:02.000\nA\n\n");
  EXPECT_EQ(files[1], header + "00:00:04.000 --> 00:00:08.000\nB\n\n");
  EXPECT_EQ(files[2], header);
  EXPECT_EQ(files[3], header + "00:00:19.999 --> 00:00:20.001\nedge\n\n");
  EXPECT_TRUE(write_webvtt_segments(c, {}, 0).empty());
  const auto far = write_webvtt_segments(c, {400000.0}, 0);
  ASSERT_EQ(far.size(), 1u);
  EXPECT_NE(far[0].find("100:00:00.000 --> 100:00:00.001\nfar\n\n"), std::string::npos);
}

TEST(WriteSegments, ZeroAndNonsenseDurations) {
  const cues c = {{1000, 2000, "A"}};
  const auto files = write_webvtt_segments(c, {0.0, -3.0, 1.5, std::nan(""), 1.0}, 1);
  ASSERT_EQ(files.size(), 5u);
  const std::string header = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:1,LOCAL:00:00:00.000\n\n";
  EXPECT_EQ(files[0], header);
  EXPECT_EQ(files[1], header);
  EXPECT_EQ(files[2], header + "00:00:01.000 --> 00:00:02.000\nA\n\n");
  EXPECT_EQ(files[3], header);
  EXPECT_EQ(files[4], header + "00:00:01.000 --> 00:00:02.000\nA\n\n");
}

} // namespace
} // namespace hlsgate::media
