// The validator must accept what RFC 8216 allows and name what it forbids;
// each rule is checked with a playlist that breaks exactly that rule.
#include "tests/support/hls_validator.hpp"

#include <gtest/gtest.h>

#include "media/playlist.hpp"

using namespace hlsgate;
using hlsgate::test::validate_master_playlist;
using hlsgate::test::validate_media_playlist;

namespace {

const std::string good_media = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n"
                               "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                               "#EXT-X-INDEPENDENT-SEGMENTS\n"
                               "#EXTINF:6.000,\nseg_00000.ts\n#EXTINF:5.500,\nseg_00001.ts\n"
                               "#EXT-X-ENDLIST\n";

const std::string good_master =
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,"
    "AUTOSELECT=YES,URI=\"a0/playlist.m3u8\"\n"
    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Deutsch\",LANGUAGE=\"de\",DEFAULT=NO,"
    "AUTOSELECT=YES,URI=\"a1/playlist.m3u8\"\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,"
    "CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO=\"aud\"\n"
    "v0/playlist.m3u8\n";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto i = s.find(from);
  EXPECT_NE(i, std::string::npos) << from;
  return i == std::string::npos ? s : s.replace(i, from.size(), to);
}

void expect_problem(const test::hls_problems& p, const std::string& needle) {
  EXPECT_NE(p.str().find(needle), std::string::npos) << "expected '" << needle << "' in:\n"
                                                     << p.str();
}

} // namespace

TEST(HlsValidator, AcceptsGoodPlaylists) {
  EXPECT_TRUE(validate_media_playlist(good_media).ok())
      << validate_media_playlist(good_media).str();
  EXPECT_TRUE(validate_master_playlist(good_master).ok())
      << validate_master_playlist(good_master).str();
}

TEST(HlsValidator, AcceptsWhatOurWriterProduces) {
  media::media_playlist pl;
  pl.segments = {
      {"seg_00000.ts", 6.006, 1000}, {"seg_00001.ts", 6.006, 1000}, {"seg_00002.ts", 2.5, 10}};
  std::string out;
  media::write_playlist(pl, "/seg/x/v0/", "?md5=a&expires=1", out);
  EXPECT_TRUE(validate_media_playlist(out).ok()) << validate_media_playlist(out).str() << out;
  media::master_playlist m;
  m.variants.push_back(
      {"v0/playlist.m3u8", 3000000, 2000000, "avc1.640028,mp4a.40.2", 1920, 1080, 30, "", ""});
  m.variants.push_back({"a0/playlist.m3u8", 130000, 128000, "mp4a.40.2", 0, 0, 0, "", ""});
  out.clear();
  media::write_playlist(m, "", "?token=t", out);
  EXPECT_TRUE(validate_master_playlist(out).ok()) << validate_master_playlist(out).str() << out;
}

TEST(HlsValidator, MediaPlaylistRules) {
  expect_problem(validate_media_playlist("#EXT-X-VERSION:3\n"), "#EXTM3U");
  expect_problem(validate_media_playlist(replace(good_media, "#EXT-X-TARGETDURATION:6\n", "")),
                 "TARGETDURATION is missing");
  expect_problem(
      validate_media_playlist(replace(good_media, "TARGETDURATION:6", "TARGETDURATION:5")),
      "above EXT-X-TARGETDURATION");
  expect_problem(
      validate_media_playlist(replace(good_media, "#EXT-X-VERSION:3", "#EXT-X-VERSION:2")),
      "needs version 3");
  expect_problem(validate_media_playlist(replace(good_media, "#EXT-X-ENDLIST\n", "")),
                 "must end with EXT-X-ENDLIST");
  expect_problem(validate_media_playlist(good_media + "#EXTINF:1.000,\nx.ts\n"),
                 "after EXT-X-ENDLIST");
  expect_problem(validate_media_playlist(replace(good_media, "seg_00000.ts\n", "")),
                 "EXTINF without a URI");
  expect_problem(validate_media_playlist(replace(good_media, "#EXTINF:5.500,\n", "#EXTINF:abc,\n")),
                 "not a non-negative duration");
  expect_problem(validate_media_playlist(replace(good_media, "#EXT-X-ENDLIST",
                                                 "#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-ENDLIST")),
                 "after the first segment");
  expect_problem(
      validate_media_playlist(replace(good_media, "PLAYLIST-TYPE:VOD", "PLAYLIST-TYPE:LIVE")),
      "must be VOD or EVENT");
  expect_problem(validate_media_playlist(replace(good_media, "#EXT-X-INDEPENDENT-SEGMENTS",
                                                 "#EXT-X-STREAM-INF:BANDWIDTH=1")),
                 "master playlist tag");
  expect_problem(
      validate_media_playlist(replace(good_media, "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-BOGUS")),
      "unknown tag");
}

TEST(HlsValidator, DateRangesAndProgramDateTime) {
  auto live = std::string{
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
      "#EXT-X-MEDIA-SEQUENCE:10\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T10:00:00.000Z\n"
      "#EXT-X-DATERANGE:ID=\"m1\",CLASS=\"goal\",START-DATE=\"2026-12-01T10:00:01.000Z\","
      "DURATION=5.0,X-LABEL=\"Goal\"\n"
      "#EXTINF:2.000,\ns10.ts\n"};
  EXPECT_TRUE(validate_media_playlist(live).ok()) << validate_media_playlist(live).str();
  expect_problem(validate_media_playlist(replace(live, "10:00:00.000Z", "10:00:00.000")),
                 "ISO 8601");
  expect_problem(validate_media_playlist(replace(live, "ID=\"m1\",", "")), "quoted ID");
  expect_problem(validate_media_playlist(replace(live, "DURATION=5.0", "DURATION=-1")),
                 "non-negative");
  expect_problem(
      validate_media_playlist(replace(live, "DURATION=5.0", "END-ON-NEXT=YES,DURATION=1")),
      "END-ON-NEXT excludes");
  auto twice = replace(live, "#EXTINF:2.000,\ns10.ts\n",
                       "#EXT-X-DATERANGE:ID=\"m1\",START-DATE=\"2026-12-01T10:00:02Z\"\n"
                       "#EXTINF:2.000,\ns10.ts\n");
  expect_problem(validate_media_playlist(twice), "used twice");
}

TEST(HlsValidator, MasterPlaylistRules) {
  expect_problem(validate_master_playlist(replace(good_master, "BANDWIDTH=3000000,", "")),
                 "BANDWIDTH");
  expect_problem(validate_master_playlist(replace(good_master, ",FRAME-RATE=30.000", "")),
                 "FRAME-RATE");
  expect_problem(validate_master_playlist(replace(good_master, ",RESOLUTION=1280x720", "")),
                 "RESOLUTION");
  expect_problem(
      validate_master_playlist(replace(good_master, "AUDIO=\"aud\"\n", "AUDIO=\"nope\"\n")),
      "names no EXT-X-MEDIA group");
  expect_problem(validate_master_playlist(replace(good_master, "AVERAGE-BANDWIDTH=2500000",
                                                  "AVERAGE-BANDWIDTH=3500000")),
                 "AVERAGE-BANDWIDTH above");
  expect_problem(
      validate_master_playlist(replace(good_master, "NAME=\"Deutsch\"", "NAME=\"English\"")),
      "used twice in group");
  expect_problem(validate_master_playlist(replace(good_master, "DEFAULT=NO", "DEFAULT=YES")),
                 "more than one DEFAULT");
  expect_problem(validate_master_playlist(replace(good_master, "v0/playlist.m3u8\n", "")),
                 "has no URI");
  expect_problem(
      validate_master_playlist(replace(good_master, "CODECS=\"avc1.64001f,mp4a.40.2\",", "")),
      "needs CODECS");
  expect_problem(validate_master_playlist(replace(good_master, "CODECS=\"avc1.64001f,mp4a.40.2\"",
                                                  "CODECS=\"avc1.64001f\"")),
                 "audio codec in CODECS");
  expect_problem(
      validate_master_playlist(replace(good_master, "GROUP-ID=\"aud\",NAME=\"English\"",
                                       "GROUP-ID=\"aud\",GROUP-ID=\"x\",NAME=\"English\"")),
      "duplicate attribute");
}
