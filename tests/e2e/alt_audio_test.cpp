// A source with two audio languages and a SubRip track, uploaded over real
// HTTP: the master playlist lists both languages (EXT-X-MEDIA TYPE=AUDIO)
// and the subtitles; the variants name both groups and the audio codec;
// every playlist and segment is served signed, decodes with ffmpeg -xerror,
// and the tracks survive a restart.
#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

/// 10 s of 640x360 video, English (440 Hz, default) and German (880 Hz,
/// titled) AAC, and French SubRip, in Matroska.
std::string two_languages() {
  const std::string dir = make_temp_dir("two-languages");
  {
    std::ofstream srt(dir + "/fr.srt");
    srt << "1\n00:00:01,000 --> 00:00:02,000\nBonjour\n";
  }
  const std::string out = dir + "/film.mkv";
  std::string log;
  const std::string cmd =
      "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x360:rate=25:duration=10 "
      "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=10 "
      "-f lavfi -i sine=frequency=880:sample_rate=48000:duration=10 -i " +
      shell_quote(dir + "/fr.srt") +
      " -map 0:v -map 1:a -map 2:a -map 3:s -c:v libx264 -preset veryfast -pix_fmt yuv420p "
      "-c:a aac -ac:a:1 2 -c:s srt -metadata:s:a:0 language=eng -metadata:s:a:1 language=ger "
      "-metadata:s:a:1 title=Deutsch -disposition:a:0 default -disposition:a:1 0 "
      "-metadata:s:s:0 language=fre " +
      shell_quote(out) + " 2>&1";
  EXPECT_EQ(run_command(cmd, &log), 0) << log;
  return out;
}

class alt_audio : public e2e {};

TEST_F(alt_audio, two_languages_become_an_audio_group_every_variant_names) {
  start();
  auto r = upload(two_languages(), "?expiry_minutes=60");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = parse_json(r);
  const std::string id = j["media_id"], key = j["admin_key"], token = j["access_token"];

  auto m = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
  ASSERT_EQ(m.status, 200u) << m.body;
  EXPECT_TRUE(validate_master_playlist(m.body).ok())
      << validate_master_playlist(m.body).str() << m.body;
  EXPECT_NE(m.body.find("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"en\",LANGUAGE=\"en\","
                        "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"1\",URI=\"a0/playlist.m3u8?token=" +
                        token + "\""),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Deutsch\","
                        "LANGUAGE=\"de\",DEFAULT=NO,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"a1/"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"fr\""),
            std::string::npos)
      << m.body;
  const auto variants = playlist_uris(m.body);
  EXPECT_EQ(variants.size(), 1u) << "360p: one rung; " << m.body;
  size_t stream_infs = 0;
  for (size_t i = m.body.find("#EXT-X-STREAM-INF:"); i != std::string::npos;
       i = m.body.find("#EXT-X-STREAM-INF:", i + 1)) {
    const std::string line = m.body.substr(i, m.body.find('\n', i) - i);
    EXPECT_NE(line.find(",mp4a.40.2\""), std::string::npos) << line;
    EXPECT_NE(line.find("AUDIO=\"aud\""), std::string::npos) << line;
    EXPECT_NE(line.find("SUBTITLES=\"subs\""), std::string::npos) << line;
    ++stream_infs;
  }
  EXPECT_EQ(stream_infs, variants.size());

  auto inf = info(id, key);
  ASSERT_EQ(inf["renditions"].size(), 4u) << inf.dump();
  EXPECT_EQ(inf["renditions"][0]["kind"], "variant");
  EXPECT_EQ(inf["renditions"][0]["has_audio"], false);
  EXPECT_EQ(inf["renditions"][1]["kind"], "audio");
  EXPECT_EQ(inf["renditions"][1]["language"], "en");
  EXPECT_EQ(inf["renditions"][2]["label"], "Deutsch");
  EXPECT_EQ(inf["renditions"][3]["kind"], "subtitles");

  // Each audio playlist is a signed VOD playlist of MPEG-TS audio that
  // decodes strictly, as long as the video.
  for (const char* a : {"a0", "a1"}) {
    auto pl = http_get(port(), "/stream/" + id + "/" + a + "/playlist.m3u8?token=" + token);
    ASSERT_EQ(pl.status, 200u) << pl.body;
    EXPECT_TRUE(validate_media_playlist(pl.body).ok()) << validate_media_playlist(pl.body).str();
    EXPECT_NE(pl.body.find("#EXT-X-ENDLIST"), std::string::npos);
    auto uris = playlist_uris(pl.body);
    ASSERT_FALSE(uris.empty());
    auto seg = http_get(port(), uris[0]);
    EXPECT_EQ(seg.status, 200u);
    EXPECT_EQ(seg.header("content-type"), "video/mp2t");
    std::string out;
    const std::string url =
        srv->base_url() + "/stream/" + id + "/" + a + "/playlist.m3u8?token=" + token;
    EXPECT_EQ(
        run_command("ffmpeg -nostdin -v error -xerror -i " + shell_quote(url) + " -f null - 2>&1",
                    &out),
        0)
        << out;
    EXPECT_EQ(out, "") << a;
    std::string dur;
    run_command("ffprobe -v error -show_entries format=duration -of csv=p=0 " + shell_quote(url),
                &dur);
    EXPECT_NEAR(std::atof(dur.c_str()), 10.0, 0.3) << a << ": " << dur;
  }
  // ffmpeg plays the master with an audio track of the group, strictly.
  std::string out;
  const std::string master_url =
      srv->base_url() + "/stream/" + id + "/playlist.m3u8?token=" + token;
  EXPECT_EQ(run_command("ffmpeg -nostdin -v error -xerror -i " + shell_quote(master_url) +
                            " -map 0:v:0 -map 0:a:0 -f null - 2>&1",
                        &out),
            0)
      << out;
  EXPECT_EQ(out, "");

  // Durable: after a restart the same playlist is served.
  ASSERT_EQ(srv->stop(), 0);
  start();
  auto again = http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token);
  EXPECT_EQ(again.body, m.body);
}

} // namespace
} // namespace hlsgate::test
