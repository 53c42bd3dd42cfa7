// Sources with several audio tracks: video renditions without sound and one
// AAC rendition per track (EXT-X-MEDIA TYPE=AUDIO), labelled from the
// source's tags, starting with the picture, each decoding cleanly and
// carrying its own track's sound.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/transcoder.hpp"
#include "tests/media/clip_fixture.hpp"
#include "tests/media/transcode_helpers.hpp"

namespace hlsgate::media {
namespace {

using test::make_temp_dir;
using test::run_command;
using test::shell_quote;

/// Runs ffmpeg with `args` (inputs and outputs already quoted).
void ffmpeg(const std::string& args) {
  const std::string cmd = "ffmpeg -nostdin -hide_banner -v error -y " + args + " 2>&1";
  std::string out;
  ASSERT_EQ(run_command(cmd, &out), 0) << cmd << "\n" << out;
}

/// A 640x360 H.264 video (2 s GOP, remuxable as a 360p rung) with one sine
/// per entry of `tones`, each an audio stream of its own, in Matroska.
/// `tags` holds the per-stream ffmpeg options (codec, metadata, disposition).
std::string several_tracks(const std::string& name, const std::vector<int>& tones,
                           const std::string& tags, double seconds = 8) {
  const std::string dir = make_temp_dir("alt-audio");
  const std::string out = dir + "/" + name + ".mkv";
  const std::string d = std::to_string(seconds);
  std::string args = "-f lavfi -i testsrc2=size=640x360:rate=30:duration=" + d + " ";
  std::string maps = "-map 0:v ";
  for (size_t i = 0; i < tones.size(); ++i) {
    args += "-f lavfi -i sine=frequency=" + std::to_string(tones[i]) +
            ":sample_rate=48000:duration=" + d + " ";
    maps += "-map " + std::to_string(i + 1) + ":a ";
  }
  ffmpeg(args + maps +
         "-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -g 60 -b:v 600k "
         "-c:a aac -b:a 96k " +
         tags + " " + shell_quote(out));
  return out;
}

/// Sign changes per second of the first channel of `file`'s audio: twice
/// its frequency for a sine.
double zero_crossings_per_second(const std::string& file) {
  const std::string raw = file + ".s16";
  ffmpeg("-i " + shell_quote(file) + " -map 0:a:0 -ac 1 -ar 48000 -f s16le " + shell_quote(raw));
  FILE* f = std::fopen(raw.c_str(), "rb");
  if (!f)
    return 0;
  std::vector<int16_t> s(1 << 20);
  const size_t n = std::fread(s.data(), sizeof(int16_t), s.size(), f);
  std::fclose(f);
  size_t crossings = 0;
  for (size_t i = 1; i < n; ++i)
    crossings += (s[i - 1] < 0) != (s[i] < 0);
  return n > 0 ? crossings / (n / 48000.0) : 0;
}

/// ffmpeg -xerror's complaints about a file (empty when it decodes cleanly).
std::string strict_errors(const std::string& file) {
  std::string out;
  const int rc = run_command(
      "ffmpeg -nostdin -v error -xerror -i " + shell_quote(file) + " -f null - 2>&1", &out);
  return rc == 0 ? out : out + "(exit status " + std::to_string(rc) + ")";
}

double first_audio_pts(const std::string& file) {
  const auto kv =
      ffprobe("-select_streams a:0 -show_entries packet=pts_time -read_intervals %+#1", file);
  const std::string v = value_of(kv, "pts_time");
  return v.empty() ? -1 : std::stod(v);
}

TEST(AlternateAudio, EveryTrackIsARenditionOfItsOwn) {
  const std::string src =
      several_tracks("three", {440, 880, 1320},
                     "-metadata:s:a:0 language=eng -metadata:s:a:0 title=English "
                     "-metadata:s:a:1 language=fre -metadata:s:a:1 title=Français "
                     "-disposition:a:0 0 -disposition:a:1 default -disposition:a:2 0");
  transcode_options opts = fast_options(2);
  opts.ladder = {{360, 800000}, {240, 400000}};
  const run_result r = run_transcode(src, opts);
  ASSERT_TRUE(r.out) << r.out.err().detail;
  const transcode_output& out = *r.out;
  ASSERT_EQ(out.renditions.size(), 5u);
  EXPECT_EQ(out.warning, "");
  check_events(r);

  for (size_t i = 0; i < 2; ++i) {
    const rendition_output& v = out.renditions[i];
    EXPECT_EQ(v.name, "v" + std::to_string(i));
    EXPECT_FALSE(v.alternate);
    EXPECT_TRUE(v.has_video);
    EXPECT_FALSE(v.has_audio) << "the sound is in the audio renditions";
    EXPECT_EQ(v.codecs.find("mp4a"), std::string::npos) << v.codecs;
  }
  EXPECT_TRUE(out.renditions[0].remuxed) << "the video is copied whatever the audio is";

  const rendition_output& top = out.renditions[0];
  const std::string video = concat_segments(r.dir, top);
  const double picture = first_video_pts(video);
  const struct {
    const char* name;
    const char* language;
    const char* label;
    bool is_default;
    double hz;
  } want[] = {{"a0", "en", "English", false, 440},
              {"a1", "fr", "Français", true, 880},
              {"a2", "", "Audio 3", false, 1320}};
  for (size_t k = 0; k < 3; ++k) {
    const rendition_output& a = out.renditions[2 + k];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, want[k].name);
    EXPECT_TRUE(a.alternate);
    EXPECT_FALSE(a.has_video);
    EXPECT_TRUE(a.has_audio);
    EXPECT_EQ(a.codecs, "mp4a.40.2");
    EXPECT_EQ(a.language, want[k].language);
    EXPECT_EQ(a.label, want[k].label);
    EXPECT_EQ(a.is_default, want[k].is_default);
    EXPECT_EQ(a.channels, 1) << "the sources are mono and stay mono";
    EXPECT_GT(a.peak_bandwidth, 0u);
    EXPECT_NEAR(total_duration(a), total_duration(top), 0.1);

    const std::string sound = concat_segments(r.dir, a);
    EXPECT_EQ(strict_errors(sound), "");
    // Its own track: the sine's frequency, within 2 %.
    EXPECT_NEAR(zero_crossings_per_second(sound) / 2, want[k].hz, want[k].hz * 0.02);
    // It starts with the picture: no more than one AAC frame before it, none after.
    const double start = first_audio_pts(sound);
    EXPECT_LE(start, picture + 1e-3);
    EXPECT_GT(start, picture - 1024 / 48000.0 - 1e-3);
  }
  EXPECT_EQ(strict_errors(video), "");
}

TEST(AlternateAudio, AtMostEightTracksTheOthersReported) {
  const std::vector<int> tones = {300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200};
  const std::string src = several_tracks("ten", tones, "", 3);
  transcode_options opts = fast_options(2);
  opts.ladder = {{240, 300000}};
  const run_result r = run_transcode(src, opts);
  ASSERT_TRUE(r.out) << r.out.err().detail;
  ASSERT_EQ(r.out->renditions.size(), 9u);
  for (size_t k = 0; k < 8; ++k)
    EXPECT_EQ(r.out->renditions[1 + k].name, "a" + std::to_string(k));
  EXPECT_TRUE(r.out->renditions[1].is_default) << "no track is marked: the first is the default";
  EXPECT_NE(r.out->warning.find("2 audio tracks skipped: at most 8 are kept"), std::string::npos)
      << r.out->warning;
}

// A track whose sound all ends before the first picture (here: one second
// of sound, the picture from 2 s on) has nothing to play: it is left out
// and said so, and the default moves to a track that plays.
TEST(AlternateAudio, ATrackWithoutSoundIsLeftOutAndTheDefaultMoves) {
  const std::string dir = make_temp_dir("alt-audio");
  const std::string src = dir + "/late-picture.mkv";
  ffmpeg("-itsoffset 2 -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 "
         "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 "
         "-f lavfi -i sine=frequency=880:sample_rate=48000:duration=6 "
         "-map 0:v -map 1:a -map 2:a -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "
         "-disposition:a:0 default -disposition:a:1 0 -metadata:s:a:1 language=ger " +
         shell_quote(src));
  transcode_options opts = fast_options(2);
  opts.ladder = {{240, 300000}};
  const run_result r = run_transcode(src, opts);
  ASSERT_TRUE(r.out) << r.out.err().detail;
  ASSERT_EQ(r.out->renditions.size(), 2u);
  const rendition_output& a = r.out->renditions[1];
  EXPECT_EQ(a.name, "a1");
  EXPECT_EQ(a.language, "de");
  EXPECT_TRUE(a.is_default) << "the default track was left out";
  EXPECT_NE(r.out->warning.find("1 audio track had no sound and was left out"), std::string::npos)
      << r.out->warning;
}

TEST(AlternateAudio, OneTrackStaysMuxed) {
  const std::string src = several_tracks("one", {440}, "", 3);
  transcode_options opts = fast_options(2);
  opts.ladder = {{240, 300000}};
  const run_result r = run_transcode(src, opts);
  ASSERT_TRUE(r.out) << r.out.err().detail;
  ASSERT_EQ(r.out->renditions.size(), 1u);
  EXPECT_TRUE(r.out->renditions[0].has_audio);
  EXPECT_FALSE(r.out->renditions[0].alternate);
}

} // namespace
} // namespace hlsgate::media
