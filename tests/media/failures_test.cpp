// How media/ fails: the operator detail of a libav failure, the start-up
// check of the x264 preset, and honest durations for inputs that end early.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/transcoder.hpp"
#include "tests/media/clip_fixture.hpp"
#include "tests/media/transcode_helpers.hpp"

namespace hlsgate::media {
namespace {

namespace fs = std::filesystem;
using test::clip_kind;
using test::clip_spec;
using test::make_clip;
using test::make_temp_dir;
using test::run_command;
using test::shell_quote;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

/// A copy of the MP4 `src` (moov first) at `dst` whose media data, everything
/// after the header of its "mdat" box, is pseudo-random: the container opens,
/// nothing in it decodes.
void corrupt_media_data(const std::string& src, const std::string& dst) {
  std::string bytes = read_bytes(src);
  const size_t mdat = bytes.find("mdat");
  ASSERT_NE(mdat, std::string::npos);
  std::mt19937 rng(7);
  for (size_t i = mdat + 4; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(rng() & 0xff);
  write_bytes(dst, bytes);
}

// ---------------------------------------------------------------------------
// error::detail

TEST(Detail, CorruptMediaDataNamesTheDecodeStage) {
  clip_spec s = test::clip_of(clip_kind::video_only, 4);
  s.width = 640;
  s.height = 360;
  const std::string path = make_temp_dir("corrupt") + "/holiday-video.mp4";
  corrupt_media_data(make_clip(s), path);
  transcode_options opts = fast_options(2);
  opts.allow_remux = false; // copying would pass the garbage on without decoding it
  auto r = run_transcode(path, opts);
  ASSERT_FALSE(r.out);
  const error& e = r.out.err();
  EXPECT_EQ(e.code, errc::unsupported_media);
  EXPECT_EQ(e.reason, "no decodable audio or video");
  // The stage, then libav's text for the error it skipped last.
  EXPECT_EQ(e.detail.rfind("decode video: ", 0), 0u) << e.detail;
  EXPECT_GT(e.detail.size(), std::string("decode video: ").size()) << e.detail;
  for (const std::string& text : {e.reason, e.detail}) {
    EXPECT_EQ(text.find('/'), std::string::npos) << text;
    EXPECT_EQ(text.find("holiday"), std::string::npos) << text;
  }
}

TEST(Detail, UnreadableInputNamesTheOpenStage) {
  const std::string path = make_clip(test::clip_of(clip_kind::random_bytes));
  for (const error& e :
       {probe(path, open_policy{}).err(), run_transcode(path, fast_options(2)).out.err()}) {
    EXPECT_EQ(e.code, errc::invalid_input);
    EXPECT_EQ(e.detail, "open input: Invalid data found when processing input");
    EXPECT_EQ(e.reason.find('/'), std::string::npos) << e.reason;
    EXPECT_LT(e.reason.size(), 80u);
  }
}

// ---------------------------------------------------------------------------
// check_encoder

TEST(CheckEncoder, KnownPresetsOpen) {
  for (const char* preset : {"ultrafast", "veryfast", "medium", "slow", ""}) {
    const status s = check_encoder(preset);
    EXPECT_TRUE(s) << "'" << preset << "': " << s.err().reason << " / " << s.err().detail;
  }
}

TEST(CheckEncoder, BogusPresetIsRefused) {
  for (const char* preset : {"bogus", "veryfast,", "very fast", "fastest"}) {
    const status s = check_encoder(preset);
    ASSERT_FALSE(s) << "'" << preset << "'";
    EXPECT_EQ(s.err().detail, "open H.264 encoder: Invalid argument") << preset;
    EXPECT_NE(s.err().reason.find("preset"), std::string::npos) << s.err().reason;
  }
  // The same preset makes a transcode fail: what start-up now catches.
  clip_spec c = test::clip_of(clip_kind::video_only, 2);
  c.width = 320;
  c.height = 240;
  transcode_options opts = fast_options(2);
  opts.allow_remux = false;
  opts.x264_preset = "bogus";
  auto r = run_transcode(make_clip(c), opts);
  ASSERT_FALSE(r.out);
  EXPECT_EQ(r.out.err().detail, "open H.264 encoder: Invalid argument");
}

// ---------------------------------------------------------------------------
// honest durations
//
// Policy: reading that stops before the declared end, at an error libav
// reports mid-stream or at an early end of file, keeps what was read and says
// so in transcode_output::warning; an input of which nothing can be read fails
// with a reason.

/// A 30 s 640x360 MP4 at 16 Mb/s constant bitrate (about 60 MB), moov first.
const std::string& big_mp4() {
  static const std::string path = [] {
    const std::string p = make_temp_dir("big") + "/big.mp4";
    EXPECT_EQ(run_command("ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 "
                          "-f lavfi -i sine=frequency=440:sample_rate=48000 -t 30 -c:v libx264 "
                          "-preset veryfast -g 60 -b:v 16M -minrate 16M -maxrate 16M -bufsize 8M "
                          "-x264-params nal-hrd=cbr -c:a aac -b:a 128k -movflags +faststart " +
                          shell_quote(p) + " 2>&1"),
              0);
    return p;
  }();
  return path;
}

/// The first `bytes` of `src`, as `name` in a new directory (head -c).
std::string head_of(const std::string& src, uint64_t bytes, const std::string& name) {
  const std::string p = make_temp_dir("head") + "/" + name;
  EXPECT_EQ(run_command("head -c " + std::to_string(bytes) + " " + shell_quote(src) + " > " +
                        shell_quote(p)),
            0);
  return p;
}

std::string ended_early(double served, double declared) {
  char buf[128];
  std::snprintf(buf, sizeof buf,
                "the source ended early: %.1f s of a declared %.1f s were readable", served,
                declared);
  return buf;
}

/// One 360p rung at the big clip's own bitrate, so that it may be copied.
transcode_options one_rung() {
  transcode_options o = fast_options(2);
  o.ladder = {{360, 16000000}};
  return o;
}

TEST(Durations, TruncatedMp4IsServedForWhatItHolds) {
  ASSERT_GT(fs::file_size(big_mp4()), 50000000u);
  const std::string cut = head_of(big_mp4(), 3000000, "holiday.mp4");
  auto p = probe(cut, open_policy{});
  ASSERT_TRUE(p) << p.err().detail;
  EXPECT_NEAR(p->duration, 30, 0.1); // the container still declares 30 s
  for (bool remux : {true, false}) {
    SCOPED_TRACE(remux ? "remux" : "encode");
    transcode_options opts = one_rung();
    opts.allow_remux = remux;
    auto r = run_transcode(cut, opts);
    ASSERT_TRUE(r.out) << r.out.err().reason << " / " << r.out.err().detail;
    const transcode_output& out = *r.out;
    EXPECT_EQ(out.renditions.at(0).remuxed, remux);
    EXPECT_NEAR(out.duration, 30, 0.1);
    // 3 MB of 60 MB: about 1.5 s; and what the segments hold, as ffprobe reads them.
    EXPECT_GT(out.served_duration, 1.0);
    EXPECT_LT(out.served_duration, 2.2);
    EXPECT_NEAR(out.served_duration, total_duration(out.renditions[0]), 1e-9);
    const std::string all = concat_segments(r.dir, out.renditions[0]);
    EXPECT_NEAR(std::stod(value_of(ffprobe("-show_entries format=duration", all), "duration")),
                out.served_duration, 0.15);
    EXPECT_EQ(out.warning, ended_early(out.served_duration, 30));
  }
}

TEST(Durations, CompleteSourceHasNoWarning) {
  auto r = run_transcode(big_mp4(), one_rung()); // remuxed: nothing encoded
  ASSERT_TRUE(r.out) << r.out.err().reason;
  EXPECT_TRUE(r.out->renditions.at(0).remuxed);
  EXPECT_NEAR(r.out->duration, 30, 0.1);
  EXPECT_NEAR(r.out->served_duration, 30, 0.2);
  EXPECT_EQ(r.out->warning, "");
  // 1 % missing at the end (0.3 s) is within the tolerance of max(1 s, 2 %).
  const auto size = fs::file_size(big_mp4());
  auto nearly = run_transcode(head_of(big_mp4(), size - size / 100, "nearly.mp4"), one_rung());
  ASSERT_TRUE(nearly.out) << nearly.out.err().reason;
  EXPECT_LT(nearly.out->served_duration, 29.9);
  EXPECT_EQ(nearly.out->warning, "");
}

TEST(Durations, ErrorsMidStreamKeepWhatWasRead) {
  // A Matroska file cut in a cluster (libav: "File ended prematurely"), and
  // an MP3 with noise in its middle (the decoder: "Header missing"; the
  // demuxer gives up there): what came before is served, with the warning.
  const std::string dir = make_temp_dir("midstream");
  const std::string mkv = dir + "/big.mkv";
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -i " + shell_quote(big_mp4()) + " -c copy " +
                        shell_quote(mkv) + " 2>&1"),
            0);
  const std::string mp3 = dir + "/tone.mp3";
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=440:duration=8 " +
                        shell_quote(mp3) + " 2>&1"),
            0);
  std::string bytes = read_bytes(mp3);
  std::mt19937 rng(1);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 32768 && i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(rng() & 0xff);
  const std::string noisy = dir + "/noisy.mp3";
  write_bytes(noisy, bytes);

  struct input {
    std::string path;
    double declared, served_max;
  };
  for (const input& in :
       {input{head_of(mkv, fs::file_size(mkv) / 20, "cut.mkv"), 30, 2.5}, input{noisy, 8, 6}}) {
    SCOPED_TRACE(in.path);
    auto r = run_transcode(in.path, one_rung());
    ASSERT_TRUE(r.out) << r.out.err().reason << " / " << r.out.err().detail;
    EXPECT_NEAR(r.out->duration, in.declared, 0.1);
    EXPECT_GT(r.out->served_duration, 1.0);
    EXPECT_LT(r.out->served_duration, in.served_max);
    EXPECT_EQ(r.out->warning, ended_early(r.out->served_duration, r.out->duration));
  }
}

TEST(Durations, NothingReadableFailsWithAReason) {
  // The index (moov) at the end of the file, and the file cut in half: no
  // sample can be found.
  const std::string dir = make_temp_dir("moov-last");
  const std::string full = dir + "/full.mp4";
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -i " + shell_quote(big_mp4()) +
                        " -t 4 -c copy " + shell_quote(full) + " 2>&1"),
            0);
  const std::string cut = head_of(full, fs::file_size(full) / 2, "holiday.mp4");
  const error errors[] = {probe(cut, open_policy{}).err(),
                          run_transcode(cut, one_rung()).out.err()};
  for (const error& e : errors) {
    EXPECT_EQ(e.code, errc::invalid_input);
    EXPECT_EQ(e.reason, "not a readable media file");
    EXPECT_EQ(e.detail, "open input: Invalid data found when processing input");
  }
}

TEST(HonestLadder, SourceFarAboveTheRungBitrateIsEncodedNotCopied) {
  // The 16 Mb/s 360p clip fits a 360p rung in every way but its bitrate: a
  // copy would be advertised as an 800 kb/s rung.
  transcode_options opts = fast_options(2);
  opts.ladder = {{360, 800000}};
  auto r = run_transcode(big_mp4(), opts);
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  EXPECT_FALSE(v.remuxed);
  EXPECT_LT(v.average_bandwidth, 1500000u) << "800 kb/s video + 128 kb/s audio, encoded";
  EXPECT_GT(v.average_bandwidth, 300000u);
  EXPECT_EQ(v.height, 360);
}

TEST(HonestLadder, ContainersWhoseIndexHasNoSizesAreMeasuredToo) {
  // Matroska's cues and FLV's keyframe index carry no frame sizes: the
  // bitrate comes from the stream or the container instead, so a copy that
  // fits is made (Matroska's cues are loaded for the keyframe check), and
  // one far above the rung is still refused.
  const std::string dir = make_temp_dir("containers");
  for (const char* container : {"mkv", "flv"}) {
    SCOPED_TRACE(container);
    const std::string input = dir + "/big." + container;
    // FLV has a keyframe index only where the writer adds one.
    const std::string flags =
        std::string{container} == "flv" ? " -flvflags add_keyframe_index" : "";
    ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -i " + shell_quote(big_mp4()) + " -c copy" +
                          flags + " " + shell_quote(input) + " 2>&1"),
              0);
    auto fits = run_transcode(input, one_rung());
    ASSERT_TRUE(fits.out) << fits.out.err().reason;
    EXPECT_TRUE(fits.out->renditions.at(0).remuxed) << "16 Mb/s source, 16 Mb/s rung";
    const std::string all = concat_segments(fits.dir, fits.out->renditions.at(0));
    std::string errors;
    EXPECT_EQ(
        run_command("ffmpeg -nostdin -v error -xerror -i " + shell_quote(all) + " -f null - 2>&1",
                    &errors),
        0);
    EXPECT_EQ(errors, "") << "the copy decodes without a message";
    transcode_options low = fast_options(2);
    low.ladder = {{360, 800000}};
    auto above = run_transcode(input, low);
    ASSERT_TRUE(above.out) << above.out.err().reason;
    EXPECT_FALSE(above.out->renditions.at(0).remuxed) << "16 Mb/s source, 800 kb/s rung";
  }
}

TEST(Durations, SoundBeforeThePictureIsDroppedWithoutAGap) {
  // The sound starts 4 s before the picture (two segments' worth): the
  // rendition starts with both, and the sound has no hole after that.
  clip_spec s = test::clip_of(clip_kind::video_audio, 8);
  s.width = 640;
  s.height = 360;
  s.container = "ts";
  s.audio_delay = -4;
  auto r = run_transcode(make_clip(s), fast_options(2));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  ASSERT_TRUE(v.has_audio);
  const std::string all = concat_segments(r.dir, v);
  const double vstart = std::stod(
      value_of(ffprobe("-select_streams v:0 -show_entries stream=start_time", all), "start_time"));
  const double astart = std::stod(
      value_of(ffprobe("-select_streams a:0 -show_entries stream=start_time", all), "start_time"));
  EXPECT_NEAR(astart, vstart, 0.03) << "sound and picture start together";
  std::string packets;
  ASSERT_EQ(run_command("ffprobe -v error -select_streams a:0 -show_entries packet=pts_time,"
                        "duration_time -of csv=p=0 " +
                            shell_quote(all),
                        &packets),
            0);
  std::istringstream in{packets};
  double end = -1, worst = 0;
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    double pts = 0, dur = 0;
    if (std::sscanf(line.c_str(), "%lf,%lf", &pts, &dur) != 2)
      continue;
    ++count;
    if (end >= 0)
      worst = std::max(worst, pts - end);
    end = pts + dur;
  }
  EXPECT_GT(count, 150) << "about 4 s of AAC frames at 48 kHz";
  EXPECT_LT(worst, 0.005) << "a hole in the sound, in seconds";
}

} // namespace
} // namespace hlsgate::media
