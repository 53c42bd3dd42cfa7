// Subtitle files added to a ready item over real HTTP: POST
// /media/{id}/subtitles turns an SRT or WebVTT file into a segmented WebVTT
// rendition listed in the master playlist (EXT-X-MEDIA TYPE=SUBTITLES),
// served signed like the video; bad files and callers are refused with
// nothing kept; the track survives a restart.
#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

const std::string srt = "\xEF\xBB\xBF"
                        "1\r\n00:00:00,500 --> 00:00:02,000\r\nHello <i>world</i> & all\r\n\r\n"
                        "2\r\n00:00:05,000 --> 00:00:07,250\r\nAcross the <font color=red>cut"
                        "</font>\r\nsecond line\r\n\r\n";

class subtitles : public e2e {
protected:
  std::string id, key, token;

  void upload_one() {
    start();
    auto r = upload(make_clip(clip_720p(10)), "?expiry_minutes=60");
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = parse_json(r);
    id = j["media_id"];
    key = j["admin_key"];
    token = j["access_token"];
  }
  http_reply post(const std::string& query, const std::string& body, const header_list& auth = {}) {
    header_list h = auth;
    h.emplace_back("Content-Type", "application/x-subrip");
    return http_request(port(), "POST", "/media/" + id + "/subtitles" + query, h, body);
  }
  http_reply post_as_admin(const std::string& query, const std::string& body) {
    return post(query, body, {{"X-Admin-Key", key}});
  }
  std::string master() {
    auto m = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
    EXPECT_EQ(m.status, 200u) << m.body;
    return m.body;
  }
};

TEST_F(subtitles, an_srt_file_becomes_a_segmented_webvtt_rendition) {
  upload_one();
  auto r = post_as_admin("?language=en&name=English&default=1", srt);
  ASSERT_EQ(r.status, 201u) << r.body;
  auto j = parse_json(r);
  EXPECT_EQ(j["rendition"], "s0");
  EXPECT_EQ(j["cues"], 2);
  EXPECT_EQ(j["segments"], 2) << "the video's segment grid: 10 s in 6 s segments";

  const std::string m = master();
  EXPECT_TRUE(validate_master_playlist(m).ok()) << validate_master_playlist(m).str() << m;
  EXPECT_NE(m.find("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\","
                   "LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"s0/playlist.m3u8?token=" +
                   token + "\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("SUBTITLES=\"subs\""), std::string::npos) << m;
  EXPECT_EQ(playlist_uris(m).size(), 3u) << "the ladder's three variants, not the subtitles: " << m;

  auto pl = http_get(port(), "/stream/" + id + "/s0/playlist.m3u8?token=" + token);
  ASSERT_EQ(pl.status, 200u) << pl.body;
  EXPECT_TRUE(validate_media_playlist(pl.body).ok()) << validate_media_playlist(pl.body).str();
  auto video = http_get(port(), "/stream/" + id + "/v0/playlist.m3u8?token=" + token);
  auto extinfs = [](const std::string& body) {
    std::vector<std::string> out;
    for (size_t i = body.find("#EXTINF:"); i != std::string::npos; i = body.find("#EXTINF:", i + 1))
      out.push_back(body.substr(i, body.find('\n', i) - i));
    return out;
  };
  EXPECT_EQ(extinfs(pl.body), extinfs(video.body)) << "the same segment grid as the video";
  auto uris = playlist_uris(pl.body);
  ASSERT_EQ(uris.size(), 2u) << pl.body;
  auto seg0 = http_get(port(), uris[0]);
  ASSERT_EQ(seg0.status, 200u) << uris[0];
  EXPECT_EQ(seg0.header("content-type"), "text/vtt; charset=utf-8");
  EXPECT_EQ(seg0.body, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n"
                       "00:00:00.500 --> 00:00:02.000\nHello <i>world</i> &amp; all\n\n"
                       "00:00:05.000 --> 00:00:07.250\nAcross the cut\nsecond line\n\n");
  auto seg1 = http_get(port(), uris[1]);
  ASSERT_EQ(seg1.status, 200u);
  EXPECT_NE(seg1.body.find("00:00:05.000 --> 00:00:07.250"), std::string::npos)
      << "a cue across the cut is in both segments: " << seg1.body;
  // The timestamp map matches the video: media time 0 is PTS 126000 (1.4 s).
  std::string first_pts;
  run_command("ffprobe -v error -select_streams v:0 -show_entries stream=start_time -of csv=p=0 " +
                  shell_quote(srv->base_url() + playlist_uris(video.body)[0]),
              &first_pts);
  EXPECT_NEAR(std::atof(first_pts.c_str()), 1.4, 0.001) << first_pts;

  auto inf = info(id, key);
  ASSERT_EQ(inf["renditions"].size(), 4u) << inf.dump();
  EXPECT_EQ(inf["renditions"][3]["kind"], "subtitles");
  EXPECT_EQ(inf["renditions"][3]["language"], "en");

  // A WebVTT file, second track: not default, the first keeps its default.
  auto v = post_as_admin("?language=fr&name=Fran%C3%A7ais",
                         "WEBVTT\n\nNOTE hi\n\n00:01.000 --> 00:03.000 line:0\nBonjour\n");
  ASSERT_EQ(v.status, 201u) << v.body;
  EXPECT_EQ(parse_json(v)["rendition"], "s1");
  const std::string m2 = master();
  EXPECT_TRUE(validate_master_playlist(m2).ok()) << validate_master_playlist(m2).str() << m2;
  EXPECT_NE(m2.find("NAME=\"Fran\xC3\xA7"
                    "ais\",LANGUAGE=\"fr\",DEFAULT=NO"),
            std::string::npos)
      << m2;

  // Durable before the reply: both tracks are there after a restart.
  ASSERT_EQ(srv->stop(), 0);
  start();
  const std::string m3 = master();
  EXPECT_NE(m3.find("s0/playlist.m3u8"), std::string::npos) << m3;
  EXPECT_NE(m3.find("s1/playlist.m3u8"), std::string::npos) << m3;
}

TEST_F(subtitles, bad_files_and_callers_are_refused_with_nothing_kept) {
  upload_one();
  EXPECT_EQ(post("?language=en", srt).status, 401u) << "no admin key";
  EXPECT_EQ(post("?language=en", srt, {{"X-Admin-Key", "wrong"}}).status, 403u);
  struct probe {
    std::string query, body, why;
  };
  for (const probe& p : std::vector<probe>{
           {"?language=en", "", "no subtitle cues"},
           {"?language=en", "not a subtitle file", "bad timing"},
           {"?language=en", "1\n00:00:05,000 --> 00:00:01,000\nbackwards\n", "not after start"},
           {"?language=en", std::string("1\n00:00:01,000 --> 00:00:02,000\n\xff\xfe\n"), "UTF-8"},
           {"?language=e", srt, "language"},
           {"?language=en%0d%0a", srt, "language"},
           {"?language=en&name=%22quoted%22", srt, "quote"},
           {"?language=en&name=a%0Ab", srt, "control"},
           {"?language=en&name=" + std::string(65, 'x'), srt, "longer than 64"}}) {
    auto r = post_as_admin(p.query, p.body);
    EXPECT_EQ(r.status, 422u) << p.query << " " << r.body;
    EXPECT_NE(r.body.find(p.why), std::string::npos) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
  }
  auto big = http_request(port(), "POST", "/media/" + id + "/subtitles?language=en",
                          {{"X-Admin-Key", key}}, std::string(2 << 20, 'a'));
  EXPECT_EQ(big.status, 413u);
  const std::string m = master();
  EXPECT_EQ(m.find("EXT-X-MEDIA"), std::string::npos) << "nothing kept: " << m;
  for (auto& item : fs::directory_iterator(data + "/media"))
    for (auto& sub : fs::directory_iterator(item.path()))
      EXPECT_NE(sub.path().filename().string()[0], 's') << "left behind: " << sub.path();
}

TEST_F(subtitles, at_most_sixteen_tracks) {
  upload_one();
  for (int i = 0; i < 16; ++i)
    ASSERT_EQ(post_as_admin("?language=en&name=t" + std::to_string(i), srt).status, 201u) << i;
  auto r = post_as_admin("?language=en&name=t16", srt);
  EXPECT_EQ(r.status, 422u) << r.body;
  EXPECT_NE(r.body.find("at most 16"), std::string::npos) << r.body;
  const std::string m = master();
  EXPECT_TRUE(validate_master_playlist(m).ok()) << validate_master_playlist(m).str();
  size_t n = 0;
  for (size_t i = m.find("TYPE=SUBTITLES"); i != std::string::npos;
       i = m.find("TYPE=SUBTITLES", i + 1))
    ++n;
  EXPECT_EQ(n, 16u);
}

} // namespace
} // namespace hlsgate::test

namespace hlsgate::test {
namespace {

TEST_F(subtitles, the_sources_own_text_tracks_become_renditions) {
  // An MKV with two SubRip streams (English, default; French, titled).
  const std::string dir = make_temp_dir("subs-src");
  {
    std::ofstream(dir + "/en.srt") << "1\n00:00:01,000 --> 00:00:03,000\nHello\n\n"
                                      "2\n00:00:07,000 --> 00:00:08,000\nLater\n";
    std::ofstream(dir + "/fr.srt") << "1\n00:00:02,000 --> 00:00:04,000\nBonjour\n";
  }
  const std::string mkv = dir + "/movie.mkv";
  std::string out;
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -i " + shell_quote(make_clip(clip_720p(10))) +
                            " -i " + shell_quote(dir + "/en.srt") + " -i " +
                            shell_quote(dir + "/fr.srt") +
                            " -map 0 -map 1 -map 2 -c:v copy -c:a copy -c:s srt"
                            " -metadata:s:s:0 language=eng -disposition:s:0 default"
                            " -metadata:s:s:1 language=fre -metadata:s:s:1 title=Fran\xC3\xA7"
                            "ais -disposition:s:1 0 " +
                            shell_quote(mkv) + " 2>&1",
                        &out),
            0)
      << out;
  start();
  auto r = upload(mkv, "?expiry_minutes=60");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  id = j["media_id"];
  key = j["admin_key"];
  token = j["access_token"];
  const std::string m = master();
  EXPECT_TRUE(validate_master_playlist(m).ok()) << validate_master_playlist(m).str() << m;
  EXPECT_NE(m.find("TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\",LANGUAGE=\"en\",DEFAULT=YES"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Fran\xC3\xA7"
                   "ais\",LANGUAGE=\"fr\",DEFAULT=NO"),
            std::string::npos)
      << m;
  auto pl = http_get(port(), "/stream/" + id + "/s1/playlist.m3u8?token=" + token);
  ASSERT_EQ(pl.status, 200u) << pl.body;
  auto uris = playlist_uris(pl.body);
  ASSERT_FALSE(uris.empty());
  auto seg = http_get(port(), uris[0]);
  EXPECT_EQ(seg.status, 200u);
  // The cue keeps its place against the picture: 2 s after the first video
  // frame, which the MKV muxer put after the AAC priming (about 21 ms).
  std::string vstart;
  run_command("ffprobe -v error -select_streams v:0 -show_entries stream=start_time -of csv=p=0 " +
                  shell_quote(mkv),
              &vstart);
  const int shift = static_cast<int>(std::lround(std::atof(vstart.c_str()) * 1000));
  EXPECT_GT(shift, 0);
  EXPECT_LT(shift, 50);
  char cue[64];
  std::snprintf(cue, sizeof cue, "00:00:02.%03d --> 00:00:04.%03d\nBonjour\n", shift, shift);
  EXPECT_NE(seg.body.find(cue), std::string::npos) << "expected " << cue << " in " << seg.body;
  auto inf = info(id, key);
  EXPECT_FALSE(inf.contains("warning")) << inf.dump();
  EXPECT_EQ(inf["renditions"].size(), 5u) << "three variants, two subtitle tracks: " << inf.dump();
}

} // namespace
} // namespace hlsgate::test
