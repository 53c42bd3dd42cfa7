// The pure core of live channels: the DVR window (RFC 8216 §6.2.2 eviction,
// grace, sequence numbers), the strict marker body parser, ISO 8601 with
// milliseconds, EXT-X-DATERANGE lines and the live media playlist.
#include <gtest/gtest.h>

#include "live/live_playlist.hpp"
#include "live/markers.hpp"
#include "live/window.hpp"

namespace hlsgate::live {
namespace {

constexpr int64_t t0 = 1796587200000; // 2026-12-06T20:00:00.000Z

live_segment seg(int n, double d = 2.0) {
  live_segment s;
  s.uri = "seg_" + std::to_string(n) + ".ts";
  s.duration = d;
  s.pdt_ms = t0 + int64_t{n} * 2000;
  return s;
}

TEST(dvr_window, keeps_the_window_and_numbers_segments) {
  dvr_window w(10, 2);
  for (int i = 0; i < 20; ++i)
    w.append(seg(i), t0 + i * 2000);
  EXPECT_EQ(w.segments().size(), 5u);
  EXPECT_DOUBLE_EQ(w.listed_seconds(), 10.0);
  EXPECT_EQ(w.media_sequence(), 15u);
  EXPECT_EQ(w.segments().front().uri, "seg_15.ts");
  EXPECT_EQ(w.segments().back().sequence, 19u);
  EXPECT_EQ(w.next_sequence(), 20u);
}

TEST(dvr_window, never_lists_less_than_three_target_durations) {
  dvr_window w(1, 2); // a window shorter than the RFC allows
  for (int i = 0; i < 10; ++i)
    w.append(seg(i), t0);
  EXPECT_DOUBLE_EQ(w.listed_seconds(), 6.0);
  EXPECT_EQ(w.segments().size(), 3u);
}

TEST(dvr_window, dropped_segments_wait_out_their_grace) {
  dvr_window w(4, 2);
  for (int i = 0; i < 4; ++i) // the 4th (8 s) drops seg_0 at once
    w.append(seg(i), t0);
  // A dropped 2 s segment stays for its duration plus the longest playlist
  // it was in (8 s): 10 s.
  EXPECT_TRUE(w.take_expired(t0 + 9999).empty());
  auto gone = w.take_expired(t0 + 10000);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], "seg_0.ts");
  EXPECT_TRUE(w.take_expired(t0 + 60000).empty()) << "each name is returned once";
  w.append(seg(4), t0 + 20000);
  auto rest = w.take_all_retired();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], "seg_1.ts");
}

TEST(dvr_window, discontinuities_are_tagged_and_counted_when_they_leave) {
  dvr_window w(6, 2);
  w.mark_discontinuity(); // before anything: no tag on the very first segment
  w.append(seg(0), t0);
  EXPECT_FALSE(w.segments().back().discontinuity);
  w.append(seg(1), t0);
  w.mark_discontinuity();
  w.append(seg(2), t0);
  EXPECT_TRUE(w.segments().back().discontinuity);
  EXPECT_EQ(w.discontinuity_sequence(), 0u);
  w.append(seg(3), t0); // drops seg_0
  w.append(seg(4), t0); // drops seg_1
  EXPECT_EQ(w.discontinuity_sequence(), 0u) << "seg_2 still carries its tag";
  w.append(seg(5), t0); // drops seg_2 and its tag
  EXPECT_EQ(w.discontinuity_sequence(), 1u);
}

TEST(dvr_window, resumes_numbering_after_a_restart) {
  dvr_window w(10, 2);
  w.resume(1234, 5);
  w.mark_discontinuity();
  w.append(seg(0), t0);
  EXPECT_EQ(w.media_sequence(), 1234u);
  EXPECT_EQ(w.discontinuity_sequence(), 5u);
  EXPECT_TRUE(w.segments().front().discontinuity) << "numbering went on: the source restarted";
}

TEST(iso8601, round_trips_and_reads_zones) {
  EXPECT_EQ(iso8601_ms(t0 + 250), "2026-12-06T20:00:00.250Z");
  int64_t ms = 0;
  ASSERT_TRUE(parse_iso8601_ms("2026-12-06T20:00:00.250Z", ms));
  EXPECT_EQ(ms, t0 + 250);
  ASSERT_TRUE(parse_iso8601_ms("2026-12-06T21:00:00+01:00", ms));
  EXPECT_EQ(ms, t0);
  ASSERT_TRUE(parse_iso8601_ms("2026-12-06T19:30:00.123456789-00:30", ms));
  EXPECT_EQ(ms, t0 + 123);
  ASSERT_TRUE(parse_iso8601_ms("2024-02-29T00:00:00Z", ms));
  for (int64_t x : {t0, t0 + 1, t0 + 999, int64_t{946684800000}})
    ASSERT_TRUE(parse_iso8601_ms(iso8601_ms(x), ms) && ms == x) << x;
  for (const char* bad :
       {"2026-12-06T20:00:00", "2026-12-06 20:00:00Z", "2026-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-06T24:00:00Z",
        "2026-12-06T20:00:00.Z", "2026-12-06T20:00:00Zjunk", "2026-12-06T20:00:00+1:00", "",
        "2026-12-06T20:00:00+01:00:00", "20261206T200000Z", "2026-12-06T20:00:60Z"})
    EXPECT_FALSE(parse_iso8601_ms(bad, ms)) << bad;
}

TEST(markers, a_full_body_and_the_defaults) {
  marker m;
  m.id = "m1";
  ASSERT_EQ(
      parse_marker(R"({"label":"Goal · 1-0","class":"sport.goal","at":"2026-12-06T20:00:01.5Z",)"
                   R"("duration":30,"data":{"team":"home","n":1}})",
                   t0, m),
      "");
  EXPECT_EQ(m.id, "m1");
  EXPECT_EQ(m.label, "Goal · 1-0");
  EXPECT_EQ(m.cls, "sport.goal");
  EXPECT_EQ(m.start_ms, t0 + 1500);
  EXPECT_DOUBLE_EQ(m.duration, 30);
  EXPECT_EQ(m.data, R"({"n":1,"team":"home"})");
  marker d;
  ASSERT_EQ(parse_marker(R"({"label":"x","at":1796587201000})", t0, d), "");
  EXPECT_EQ(d.start_ms, t0 + 1000);
  ASSERT_EQ(parse_marker(R"({"label":"x"})", t0, d), "");
  EXPECT_EQ(d.start_ms, t0) << "at defaults to now";
  EXPECT_EQ(d.cls, "hlsgate.marker");
  EXPECT_LT(d.duration, 0) << "no duration: END-ON-NEXT";
  EXPECT_EQ(d.data, "");
}

TEST(markers, hostile_bodies_are_refused_and_leave_the_marker_alone) {
  const std::string big_label(201, 'a');
  const std::string big_data = R"({"label":"x","data":{"k":")" + std::string(5000, 'a') + R"("}})";
  const std::string huge(9000, ' ');
  const char* bad[] = {"",
                       "[]",
                       "null",
                       R"("label")",
                       "{}",
                       R"({"label":""})",
                       R"({"label":"a\"b"})",
                       R"({"label":"a\nb"})",
                       R"({"label":"a\u0000b"})",
                       R"({"label":"\u0085"})",
                       R"({"label":7})",
                       R"({"label":"x","class":"a b"})",
                       R"({"label":"x","class":""})",
                       R"({"label":"x","class":"a\"b"})",
                       R"({"label":"x","at":"2026-12-06T20:00:00"})",
                       R"({"label":"x","at":"yesterday"})",
                       R"({"label":"x","at":1})",
                       R"({"label":"x","at":99999999999999999})",
                       R"({"label":"x","at":1.5e12})",
                       R"({"label":"x","at":18446744073709551615})",
                       R"({"label":"x","duration":-1})",
                       R"({"label":"x","duration":"5"})",
                       R"({"label":"x","duration":1e9})",
                       R"({"label":"x","data":[1]})",
                       R"({"label":"x","data":"s"})",
                       R"({"label":"x","id":"mine"})",
                       R"({"label":"x","extra":1})",
                       R"({"label":"x"} trailing)"};
  for (const char* b : bad) {
    marker m;
    m.label = "kept";
    EXPECT_NE(parse_marker(b, t0, m), "") << b;
    EXPECT_EQ(m.label, "kept") << b;
  }
  for (const std::string& b : {R"({"label":")" + big_label + "\"}", big_data, huge}) {
    marker m;
    EXPECT_NE(parse_marker(b, t0, m), "") << b.substr(0, 40);
  }
  marker m;
  EXPECT_NE(parse_marker("{\"label\":\"\xc0\xaf\"}", t0, m), "") << "overlong UTF-8";
}

TEST(markers, daterange_lines) {
  marker m;
  m.id = "ab12";
  m.label = "Kick-off";
  m.start_ms = t0 + 250;
  m.duration = 12.5;
  m.data = R"({"a":1})";
  std::string out;
  write_daterange(m, out);
  EXPECT_EQ(out,
            "#EXT-X-DATERANGE:ID=\"ab12\",CLASS=\"hlsgate.marker\",START-DATE=\"2026-12-06T20:00:"
            "00.250Z\",DURATION=12.500,X-LABEL=\"Kick-off\",X-DATA=\"eyJhIjoxfQ==\"\n");
  m.duration = -1;
  m.data.clear();
  out.clear();
  write_daterange(m, out);
  EXPECT_EQ(out,
            "#EXT-X-DATERANGE:ID=\"ab12\",CLASS=\"hlsgate.marker\",START-DATE=\"2026-12-06T20:00:"
            "00.250Z\",END-ON-NEXT=YES,X-LABEL=\"Kick-off\"\n");
}

TEST(live_playlist, window_markers_discontinuity_and_end) {
  dvr_window w(6, 2);
  for (int i = 0; i < 4; ++i) { // seg_0 leaves the window
    if (i == 3)
      w.mark_discontinuity();
    w.append(seg(i), t0);
  }
  marker old_one; // ended before the window starts (seg_1 at t0 + 2 s)
  old_one.id = "old";
  old_one.cls = "other"; // another class: it does not end open_one
  old_one.label = "before";
  old_one.start_ms = t0;
  old_one.duration = 1;
  marker open_one; // END-ON-NEXT: lasts until in_window, so it touches the window
  open_one.id = "open";
  open_one.label = "still on";
  open_one.start_ms = t0 - 60000;
  marker in_window;
  in_window.id = "in";
  in_window.label = "now";
  in_window.start_ms = t0 + 4000;
  in_window.duration = 0;
  std::string out;
  write_live_playlist(w, {old_one, open_one, in_window}, "v0/", "?s=1", out);
  EXPECT_EQ(out,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:2\n"
            "#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n"
            "#EXT-X-DATERANGE:ID=\"open\",CLASS=\"hlsgate.marker\",START-DATE=\"2026-12-06T19:"
            "59:00.000Z\",END-ON-NEXT=YES,X-LABEL=\"still on\"\n"
            "#EXT-X-DATERANGE:ID=\"in\",CLASS=\"hlsgate.marker\",START-DATE=\"2026-12-06T20:00:"
            "04.000Z\",DURATION=0.000,X-LABEL=\"now\"\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T20:00:02.000Z\n#EXTINF:2.000,\nv0/seg_1.ts?s=1\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T20:00:04.000Z\n#EXTINF:2.000,\nv0/seg_2.ts?s=1\n"
            "#EXT-X-DISCONTINUITY\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-06T20:00:06.000Z\n#EXTINF:2.000,\nv0/seg_3.ts?s=1\n");
  w.end();
  out.clear();
  write_live_playlist(dvr_window(6, 2), {in_window}, "", "", out);
  EXPECT_EQ(out.find("DATERANGE"), std::string::npos) << "no DATERANGE without a PROGRAM-DATE-TIME";
  out.clear();
  write_live_playlist(w, {}, "", "", out);
  EXPECT_EQ(out.substr(out.size() - 15), "#EXT-X-ENDLIST\n");
}

} // namespace
} // namespace hlsgate::live
