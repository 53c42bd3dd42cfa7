#include "media/playlist.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::media;

namespace {

media_playlist three_segments() {
  media_playlist pl;
  pl.segments = {
      {"seg_00000.ts", 6.0, 1000}, {"seg_00001.ts", 6.0, 1000}, {"seg_00002.ts", 3.52, 500}};
  return pl;
}

std::string render(const media_playlist& pl, std::string_view prefix = "",
                   std::string_view suffix = "") {
  std::string out;
  write_playlist(pl, prefix, suffix, out);
  return out;
}

std::string render(const master_playlist& pl, std::string_view prefix = "",
                   std::string_view suffix = "") {
  std::string out;
  write_playlist(pl, prefix, suffix, out);
  return out;
}

} // namespace

TEST(MediaPlaylist, Vod) {
  EXPECT_EQ(render(three_segments()), "#EXTM3U\n"
                                      "#EXT-X-VERSION:3\n"
                                      "#EXT-X-TARGETDURATION:6\n"
                                      "#EXT-X-MEDIA-SEQUENCE:0\n"
                                      "#EXT-X-PLAYLIST-TYPE:VOD\n"
                                      "#EXT-X-INDEPENDENT-SEGMENTS\n"
                                      "#EXTINF:6.000,\n"
                                      "seg_00000.ts\n"
                                      "#EXTINF:6.000,\n"
                                      "seg_00001.ts\n"
                                      "#EXTINF:3.520,\n"
                                      "seg_00002.ts\n"
                                      "#EXT-X-ENDLIST\n");
}

TEST(MediaPlaylist, EventInProgress) {
  auto pl = three_segments();
  pl.type = playlist_type::event;
  pl.ended = false;
  pl.segments.pop_back();
  EXPECT_EQ(render(pl), "#EXTM3U\n"
                        "#EXT-X-VERSION:3\n"
                        "#EXT-X-TARGETDURATION:6\n"
                        "#EXT-X-MEDIA-SEQUENCE:0\n"
                        "#EXT-X-PLAYLIST-TYPE:EVENT\n"
                        "#EXT-X-INDEPENDENT-SEGMENTS\n"
                        "#EXTINF:6.000,\n"
                        "seg_00000.ts\n"
                        "#EXTINF:6.000,\n"
                        "seg_00001.ts\n");
}

TEST(MediaPlaylist, NoTypeNoIndependentSequence) {
  media_playlist pl;
  pl.type = playlist_type::none;
  pl.independent_segments = false;
  pl.version = 4;
  pl.media_sequence = 17;
  pl.segments = {{"a.ts", 5.9999, 1}, {"b.ts", 0.0004, 1}};
  EXPECT_EQ(render(pl), "#EXTM3U\n"
                        "#EXT-X-VERSION:4\n"
                        "#EXT-X-TARGETDURATION:6\n"
                        "#EXT-X-MEDIA-SEQUENCE:17\n"
                        "#EXTINF:6.000,\n"
                        "a.ts\n"
                        "#EXTINF:0.000,\n"
                        "b.ts\n"
                        "#EXT-X-ENDLIST\n");
}

TEST(MediaPlaylist, PrefixAndSuffix) {
  auto pl = three_segments();
  pl.segments.resize(2);
  pl.segments[1].duration = 6.006;
  EXPECT_EQ(render(pl, "/seg/S1d/v0/", "?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647"),
            "#EXTM3U\n"
            "#EXT-X-VERSION:3\n"
            "#EXT-X-TARGETDURATION:7\n" // the ceiling of 6.006
            "#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n"
            "#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXTINF:6.000,\n"
            "/seg/S1d/v0/seg_00000.ts?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647\n"
            "#EXTINF:6.006,\n"
            "/seg/S1d/v0/seg_00001.ts?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647\n"
            "#EXT-X-ENDLIST\n");
}

TEST(MediaPlaylist, AppendsToExistingOutput) {
  media_playlist pl;
  pl.segments = {{"s.ts", 2, 1}};
  std::string out = "HEAD";
  write_playlist(pl, "", "", out);
  EXPECT_EQ(out, "HEAD#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n#EXTINF:2.000,\ns.ts\n#EXT-X-ENDLIST\n");
}

TEST(MediaPlaylist, Empty) {
  media_playlist pl;
  pl.ended = false;
  pl.type = playlist_type::event;
  EXPECT_EQ(render(pl), "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n"
                        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
                        "#EXT-X-INDEPENDENT-SEGMENTS\n");
}

TEST(MediaPlaylist, LargeRendersExactly) {
  media_playlist pl;
  std::string expected = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:7\n"
                         "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                         "#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (int i = 0; i < 1800; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "seg_%05d.ts", i);
    const double d = i % 7 == 0 ? 6.5 : 6.0;
    pl.segments.push_back({name, d, 0});
    expected += i % 7 == 0 ? "#EXTINF:6.500,\n" : "#EXTINF:6.000,\n";
    expected += std::string("/p/") + name + "?q=1\n";
  }
  expected += "#EXT-X-ENDLIST\n";
  EXPECT_EQ(render(pl, "/p/", "?q=1"), expected);
}

TEST(TargetDuration, CeilingOfWrittenDurations) {
  media_playlist pl;
  EXPECT_EQ(pl.target_duration(), 1); // no segments
  pl.segments = {{"a", 6.0, 0}};
  EXPECT_EQ(pl.target_duration(), 6);
  pl.segments = {{"a", 6.0004, 0}}; // written as 6.000
  EXPECT_EQ(pl.target_duration(), 6);
  pl.segments = {{"a", 6.021, 0}}; // GStreamer warns when EXTINF > target
  EXPECT_EQ(pl.target_duration(), 7);
  pl.segments = {{"a", 5.49, 0}, {"b", 4.0, 0}, {"c", 6.51, 0}, {"d", 2.0, 0}};
  EXPECT_EQ(pl.target_duration(), 7); // max over segments
  pl.segments = {{"a", 0.2, 0}};
  EXPECT_EQ(pl.target_duration(), 1); // at least 1
  pl.segments = {{"a", 10.0, 0}, {"b", 9.7, 0}};
  EXPECT_EQ(pl.target_duration(), 10);
}

TEST(TargetDuration, FloorKeepsAGrowingPlaylistStable) {
  media_playlist pl;
  pl.min_target_duration = 6;
  pl.segments = {{"a", 2.0, 0}};
  EXPECT_EQ(pl.target_duration(), 6);
  pl.segments.push_back({"b", 6.0, 0});
  EXPECT_EQ(pl.target_duration(), 6);
  pl.segments.push_back({"c", 8.2, 0});
  EXPECT_EQ(pl.target_duration(), 9);
}

TEST(TargetDuration, WrittenValueMatches) {
  media_playlist pl;
  pl.segments = {{"a.ts", 4.0, 0}, {"b.ts", 6.5, 0}, {"c.ts", 1.0, 0}};
  EXPECT_NE(render(pl).find("#EXT-X-TARGETDURATION:7\n"), std::string::npos);
}

TEST(MasterPlaylist, VideoLadderAndAudioOnly) {
  master_playlist pl;
  pl.variants = {
      {"v0/playlist.m3u8", 2000000, 1500000, "avc1.640028,mp4a.40.2", 1280, 720, 30.0, "", ""},
      {"v1/playlist.m3u8", 800000, 0, "avc1.64001f,mp4a.40.2", 640, 360, 29.97, "", ""},
      {"a0/playlist.m3u8", 128000, 96000, "mp4a.40.2", 0, 0, 0, "", ""},
      {"x/playlist.m3u8", 64000, 0, "", 0, 0, 0, "", ""},
  };
  EXPECT_EQ(render(pl, "/stream/ID/", "?token=T"),
            "#EXTM3U\n"
            "#EXT-X-VERSION:3\n"
            "#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000,"
            "CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000\n"
            "/stream/ID/v0/playlist.m3u8?token=T\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.64001f,mp4a.40.2\","
            "RESOLUTION=640x360,FRAME-RATE=29.970\n"
            "/stream/ID/v1/playlist.m3u8?token=T\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=128000,AVERAGE-BANDWIDTH=96000,CODECS=\"mp4a.40.2\"\n"
            "/stream/ID/a0/playlist.m3u8?token=T\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=64000\n"
            "/stream/ID/x/playlist.m3u8?token=T\n");
}

TEST(MasterPlaylist, NoIndependentSegments) {
  master_playlist pl;
  pl.independent_segments = false;
  pl.variants = {{"v0/playlist.m3u8", 1000, 0, "", 0, 0, 0, "", ""}};
  EXPECT_EQ(render(pl), "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n"
                        "v0/playlist.m3u8\n");
}

TEST(MasterPlaylist, AlternateAudioAndSubtitleGroups) {
  master_playlist pl;
  media_entry en;
  en.type = media_entry::kind::audio;
  en.group_id = "aud";
  en.name = "English";
  en.language = "en";
  en.is_default = true;
  en.autoselect = false; // DEFAULT=YES forces AUTOSELECT=YES
  en.channels = "2";
  en.uri = "a0/playlist.m3u8";
  media_entry fr = en;
  fr.name = "Fran\xc3\xa7"
            "ais \"VF\"\r\n"; // quotes and line breaks cannot be written
  fr.language = "fr";
  fr.is_default = false;
  fr.autoselect = true;
  fr.uri = "a1/playlist.m3u8";
  media_entry sub;
  sub.group_id = "subs";
  sub.name = "English (forced)";
  sub.language = "en";
  sub.forced = true;
  sub.uri = "s0/playlist.m3u8";
  pl.media = {en, fr, sub};
  pl.variants = {
      {"v0/playlist.m3u8", 1000, 0, "avc1.64001f,mp4a.40.2", 640, 360, 30.0, "aud", "subs"}};
  EXPECT_EQ(
      render(pl, "/stream/ID/", "?token=T"),
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\","
      "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"/stream/ID/a0/playlist.m3u8?token=T\"\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Fran\xc3\xa7"
      "ais VF\",LANGUAGE=\"fr\","
      "DEFAULT=NO,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"/stream/ID/a1/playlist.m3u8?token=T\"\n"
      "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English (forced)\","
      "LANGUAGE=\"en\",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES,"
      "URI=\"/stream/ID/s0/playlist.m3u8?token=T\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=640x360,"
      "FRAME-RATE=30.000,AUDIO=\"aud\",SUBTITLES=\"subs\"\n"
      "/stream/ID/v0/playlist.m3u8?token=T\n");
}
