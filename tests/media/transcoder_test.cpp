#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/transcoder.hpp"
#include "tests/media/clip_fixture.hpp"

namespace hlsgate::media {
namespace {

namespace fs = std::filesystem;
using test::clip_kind;
using test::clip_spec;
using test::make_clip;
using test::make_temp_dir;
using test::run_command;
using test::shell_quote;

// ---------------------------------------------------------------------------
// ffprobe / ffmpeg CLI helpers

/// `key=value` lines from ffprobe's default writer (nw=1), in order.
std::vector<std::pair<std::string, std::string>> ffprobe(const std::string& args,
                                                         const std::string& file) {
  std::string out;
  const int rc = run_command(
      "ffprobe -v error " + args + " -of default=nw=1 " + shell_quote(file) + " 2>/dev/null", &out);
  EXPECT_EQ(rc, 0) << "ffprobe " << args << " " << file;
  std::vector<std::pair<std::string, std::string>> kv;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos)
      kv.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return kv;
}

std::string value_of(const std::vector<std::pair<std::string, std::string>>& kv,
                     const std::string& key) {
  for (const auto& [k, v] : kv) {
    if (k == key)
      return v;
  }
  return {};
}

/// Decodes the whole file; returns ffmpeg's error output (empty when clean).
std::string decode_errors(const std::string& file) {
  std::string out;
  const int rc =
      run_command("ffmpeg -nostdin -v error -i " + shell_quote(file) + " -f null - 2>&1", &out);
  if (rc != 0)
    out += "\n(exit status " + std::to_string(rc) + ")";
  return out;
}

transcode_options fast_options(double segment_seconds) {
  transcode_options o;
  o.segment_seconds = segment_seconds;
  o.x264_preset = "veryfast";
  return o;
}

struct run_result {
  result<transcode_output> out;
  std::string dir;
  std::vector<double> progress;
  double wall_seconds = 0;
};

run_result run_transcode(const std::string& input, const transcode_options& opts) {
  run_result r{error{}, make_temp_dir("transcode"), {}, 0};
  std::vector<double>& progress = r.progress;
  const auto t0 = std::chrono::steady_clock::now();
  r.out = transcode(
      input, r.dir, opts, [&](double f) { progress.push_back(f); }, nullptr);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

double total_duration(const rendition_output& r) {
  double d = 0;
  for (const auto& s : r.segments)
    d += s.duration;
  return d;
}

/// Checks the invariants of every segment of a video rendition with ffprobe/ffmpeg.
void check_video_segments(const std::string& dir, const rendition_output& r, int width,
                          int height) {
  double prev_start = -1, prev_duration = 0;
  for (const auto& seg : r.segments) {
    SCOPED_TRACE(seg.uri);
    const std::string path = dir + "/" + r.name + "/" + seg.uri;
    ASSERT_TRUE(fs::exists(path));
    EXPECT_EQ(fs::file_size(path), seg.bytes);

    // The first video packet of every segment is a keyframe (an IDR: the
    // stream is decodable from the start of the file without errors).
    const auto pkt = ffprobe("-select_streams v:0 -show_entries packet=flags,pts_time "
                             "-read_intervals %+#1",
                             path);
    ASSERT_FALSE(value_of(pkt, "flags").empty());
    EXPECT_EQ(value_of(pkt, "flags").substr(0, 1), "K");

    const auto st = ffprobe("-select_streams v:0 -show_entries stream=codec_name,profile,pix_fmt,"
                            "width,height",
                            path);
    EXPECT_EQ(value_of(st, "codec_name"), "h264");
    EXPECT_EQ(value_of(st, "profile"), "High");
    EXPECT_EQ(value_of(st, "pix_fmt"), "yuv420p");
    EXPECT_EQ(value_of(st, "width"), std::to_string(width));
    EXPECT_EQ(value_of(st, "height"), std::to_string(height));

    EXPECT_EQ(decode_errors(path), "");

    // Timestamps continue across segments: each starts where the previous ended.
    const double start =
        std::stod(value_of(ffprobe("-show_entries format=start_time", path), "start_time"));
    if (prev_start >= 0) {
      EXPECT_NEAR(start, prev_start + prev_duration, 0.1);
    }
    prev_start = start;
    prev_duration = seg.duration;
  }
}

void expect_durations(const rendition_output& r, const std::vector<double>& expected) {
  ASSERT_EQ(r.segments.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(r.segments[i].duration, expected[i], 0.5) << "segment " << i;
}

// ---------------------------------------------------------------------------
// probe

TEST(Probe, VideoAudioClip) {
  auto info = probe(make_clip(test::clip_720p()));
  ASSERT_TRUE(info) << info.err().reason;
  EXPECT_TRUE(info->has_video);
  EXPECT_TRUE(info->has_audio);
  EXPECT_NEAR(info->duration, 20, 0.2);
  EXPECT_EQ(info->width, 1280);
  EXPECT_EQ(info->height, 720);
  EXPECT_EQ(info->video_codec, "h264");
  EXPECT_EQ(info->audio_codec, "aac");
  EXPECT_NE(info->format.find("mp4"), std::string::npos);
}

TEST(Probe, AudioOnlyClip) {
  auto info = probe(make_clip(test::clip_audio_only()));
  ASSERT_TRUE(info) << info.err().reason;
  EXPECT_FALSE(info->has_video);
  EXPECT_TRUE(info->has_audio);
  EXPECT_NEAR(info->duration, 20, 0.2);
  EXPECT_EQ(info->width, 0);
}

void expect_refused(const result<probe_info>& r, const std::string& path) {
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.err().code == errc::unsupported_media || r.err().code == errc::invalid_input);
  EXPECT_FALSE(r.err().reason.empty());
  EXPECT_EQ(r.err().reason.find(path), std::string::npos) << "reason leaks the path";
  EXPECT_EQ(r.err().reason.find("/"), std::string::npos);
}

TEST(Probe, RefusesNonMedia) {
  for (clip_kind k : {clip_kind::not_media, clip_kind::random_bytes}) {
    const std::string path = make_clip(test::clip_of(k));
    expect_refused(probe(path), path);
  }
}

TEST(Probe, RefusesEmptyFile) {
  const std::string path = make_clip(test::clip_of(clip_kind::empty));
  expect_refused(probe(path), path);
}

TEST(Probe, RefusesMissingFile) {
  expect_refused(probe("/nonexistent/file.mp4"), "/nonexistent/file.mp4");
}

// ---------------------------------------------------------------------------
// transcode: the 20 s 720p clip

TEST(Transcode, Clip720pSixSecondSegments) {
  auto r = run_transcode(make_clip(test::clip_720p()), fast_options(6));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  std::printf("[ perf     ] 20 s 720p clip transcoded in %.2f s wall\n", r.wall_seconds);
  const transcode_output& out = *r.out;
  EXPECT_NEAR(out.duration, 20, 0.2);
  ASSERT_EQ(out.renditions.size(), 1u);
  const rendition_output& v = out.renditions[0];
  EXPECT_EQ(v.name, "v0");
  EXPECT_TRUE(v.has_video);
  EXPECT_TRUE(v.has_audio);
  EXPECT_EQ(v.width, 1280);
  EXPECT_EQ(v.height, 720);
  EXPECT_NEAR(v.frame_rate, 30, 0.01);
  EXPECT_EQ(v.codecs.substr(0, 9), "avc1.6400") << v.codecs; // High, no constraint flags
  EXPECT_EQ(v.codecs.size(), std::string("avc1.64001f,mp4a.40.2").size()) << v.codecs;
  EXPECT_EQ(v.codecs.substr(11), ",mp4a.40.2");
  expect_durations(v, {6, 6, 6, 2});
  EXPECT_NEAR(total_duration(v), 20, 0.2);
  for (size_t i = 0; i < v.segments.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "seg_%05zu.ts", i);
    EXPECT_EQ(v.segments[i].uri, name);
  }
  // ~0.1 bit/pixel/frame at 720p30 is ~2.8 Mbit/s; the audio adds 128 kbit/s.
  EXPECT_GT(v.average_bandwidth, 500000u);
  EXPECT_LT(v.average_bandwidth, 6000000u);
  EXPECT_GE(v.peak_bandwidth, v.average_bandwidth);
  EXPECT_LT(v.peak_bandwidth, 3 * v.average_bandwidth);
  check_video_segments(r.dir, v, 1280, 720);

  // The audio is in the segments too.
  const auto a = ffprobe("-select_streams a:0 -show_entries stream=codec_name,profile,channels",
                         r.dir + "/v0/seg_00001.ts");
  EXPECT_EQ(value_of(a, "codec_name"), "aac");
  EXPECT_EQ(value_of(a, "profile"), "LC");

  // Progress: a few reports, non-decreasing, in [0,1], ending at 1.
  ASSERT_FALSE(r.progress.empty());
  for (size_t i = 1; i < r.progress.size(); ++i)
    EXPECT_GE(r.progress[i], r.progress[i - 1]);
  EXPECT_GE(r.progress.front(), 0.0);
  EXPECT_DOUBLE_EQ(r.progress.back(), 1.0);
  EXPECT_LE(r.progress.size(), static_cast<size_t>(r.wall_seconds * 4 + 3));
}

TEST(Transcode, Clip720pFourSecondSegmentsDownscaled) {
  transcode_options opts = fast_options(4);
  opts.max_height = 480;
  auto r = run_transcode(make_clip(test::clip_720p()), opts);
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  EXPECT_EQ(v.width, 854); // 1280 * 480 / 720 = 853.3, rounded to even
  EXPECT_EQ(v.height, 480);
  expect_durations(v, {4, 4, 4, 4, 4});
  EXPECT_NEAR(total_duration(v), 20, 0.2);
  check_video_segments(r.dir, v, 854, 480);
}

TEST(Transcode, AudioOnly) {
  auto r = run_transcode(make_clip(test::clip_audio_only()), fast_options(6));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  ASSERT_EQ(r.out->renditions.size(), 1u);
  const rendition_output& a = r.out->renditions[0];
  EXPECT_EQ(a.name, "a0");
  EXPECT_FALSE(a.has_video);
  EXPECT_TRUE(a.has_audio);
  EXPECT_EQ(a.codecs, "mp4a.40.2");
  EXPECT_EQ(a.width, 0);
  expect_durations(a, {6, 6, 6, 2});
  EXPECT_NEAR(total_duration(a), 20, 0.2);
  EXPECT_GT(a.average_bandwidth, 100000u);
  EXPECT_LT(a.average_bandwidth, 250000u);
  for (const auto& seg : a.segments) {
    const std::string path = r.dir + "/a0/" + seg.uri;
    EXPECT_EQ(fs::file_size(path), seg.bytes);
    EXPECT_EQ(decode_errors(path), "") << seg.uri;
    const auto st = ffprobe("-show_entries stream=codec_type,codec_name,sample_rate", path);
    EXPECT_EQ(value_of(st, "codec_type"), "audio");
    EXPECT_EQ(value_of(st, "sample_rate"), "48000");
  }
  EXPECT_FALSE(fs::exists(r.dir + "/v0"));
}

// ---------------------------------------------------------------------------
// transcode: cancellation and hostile input

TEST(Transcode, CancelFromProgressCallback) {
  const std::string dir = make_temp_dir("cancel");
  std::atomic<bool> cancel{false};
  int calls = 0;
  auto out = transcode(
      make_clip(test::clip_720p(4)), dir, fast_options(2),
      [&](double) {
        ++calls;
        cancel = true;
      },
      &cancel);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.err().code, errc::cancelled);
  EXPECT_EQ(calls, 1); // returned at the next packet, without another report
}

TEST(Transcode, CancelledBeforeStart) {
  std::atomic<bool> cancel{true};
  auto out = transcode(make_clip(test::clip_720p(4)), make_temp_dir("cancel"), fast_options(2),
                       nullptr, &cancel);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.err().code, errc::cancelled);
}

TEST(Transcode, RefusesNonMedia) {
  for (clip_kind k : {clip_kind::not_media, clip_kind::random_bytes, clip_kind::empty}) {
    const std::string path = make_clip(test::clip_of(k));
    auto r = run_transcode(path, fast_options(6));
    ASSERT_FALSE(r.out) << path;
    EXPECT_TRUE(r.out.err().code == errc::unsupported_media ||
                r.out.err().code == errc::invalid_input);
    EXPECT_EQ(r.out.err().reason.find(path), std::string::npos);
  }
}

TEST(Transcode, TruncatedInputDoesNotCrash) {
  const std::string path = make_clip(test::clip_of(clip_kind::truncated));
  auto r = run_transcode(path, fast_options(1));
  if (!r.out) {
    EXPECT_TRUE(r.out.err().code == errc::unsupported_media ||
                r.out.err().code == errc::invalid_input);
    return;
  }
  // Whatever was readable came out as valid segments.
  const rendition_output& v = r.out->renditions.at(0);
  ASSERT_FALSE(v.segments.empty());
  for (const auto& seg : v.segments)
    EXPECT_EQ(decode_errors(r.dir + "/v0/" + seg.uri), "") << seg.uri;
}

// ---------------------------------------------------------------------------
// transcode: awkward but valid inputs (short clips, 2 s segments)

TEST(Transcode, VideoOnly) {
  auto r = run_transcode(make_clip(test::clip_of(clip_kind::video_only)), fast_options(2));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  EXPECT_EQ(v.name, "v0");
  EXPECT_TRUE(v.has_video);
  EXPECT_FALSE(v.has_audio);
  EXPECT_EQ(v.codecs.find("mp4a"), std::string::npos) << v.codecs;
  EXPECT_EQ(v.codecs.substr(0, 5), "avc1.");
  expect_durations(v, {2, 2});
  check_video_segments(r.dir, v, 1280, 720);
  EXPECT_TRUE(
      ffprobe("-select_streams a -show_entries stream=codec_name", r.dir + "/v0/seg_00000.ts")
          .empty());
}

TEST(Transcode, OddSizeIsMadeEven) {
  clip_spec s = test::clip_of(clip_kind::video_audio);
  s.width = 321;
  s.height = 241;
  s.container = "mkv";
  auto r = run_transcode(make_clip(s), fast_options(2));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  EXPECT_EQ(v.width, 320);
  EXPECT_EQ(v.height, 240);
  expect_durations(v, {2, 2});
  check_video_segments(r.dir, v, 320, 240);
}

TEST(Transcode, RawH264WithoutTimestamps) {
  clip_spec s = test::clip_of(clip_kind::video_only, 6);
  s.width = 640;
  s.height = 360;
  s.fps = 25;
  s.container = "h264";
  auto r = run_transcode(make_clip(s), fast_options(2));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  EXPECT_NEAR(total_duration(v), 6, 0.3);
  expect_durations(v, {2, 2, 2});
  check_video_segments(r.dir, v, 640, 360);
}

TEST(Transcode, VariableFrameRate) {
  clip_spec s = test::clip_of(clip_kind::video_audio, 8);
  s.width = 640;
  s.height = 360;
  s.container = "mkv";
  s.variable_frame_rate = true;
  auto r = run_transcode(make_clip(s), fast_options(3));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  // Durations follow timestamps, not frame counts (4 of every 5 frames are kept).
  expect_durations(v, {3, 3, 2});
  EXPECT_NEAR(total_duration(v), 8, 0.3);
  check_video_segments(r.dir, v, 640, 360);
}

TEST(Transcode, AudioStartsLater) {
  clip_spec s = test::clip_of(clip_kind::video_audio, 8);
  s.width = 640;
  s.height = 360;
  s.container = "ts";
  s.audio_delay = 1;
  auto r = run_transcode(make_clip(s), fast_options(3));
  ASSERT_TRUE(r.out) << r.out.err().reason;
  const rendition_output& v = r.out->renditions.at(0);
  EXPECT_TRUE(v.has_audio);
  expect_durations(v, {3, 3, 2});
  check_video_segments(r.dir, v, 640, 360);
  // The audio keeps its 1 s offset against the video.
  const std::string seg0 = r.dir + "/v0/seg_00000.ts";
  const double vstart = std::stod(
      value_of(ffprobe("-select_streams v:0 -show_entries stream=start_time", seg0), "start_time"));
  const double astart = std::stod(
      value_of(ffprobe("-select_streams a:0 -show_entries stream=start_time", seg0), "start_time"));
  EXPECT_NEAR(astart - vstart, 1.0, 0.1);
}

} // namespace
} // namespace hlsgate::media
