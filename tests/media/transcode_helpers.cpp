// Helpers of the transcoder tests: ffprobe / ffmpeg CLI checks of the output.
#include "tests/media/transcode_helpers.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/media/clip_fixture.hpp"

namespace hlsgate::media {

namespace fs = std::filesystem;
using test::make_temp_dir;
using test::run_command;
using test::shell_quote;

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

/// The server's default ladder (config::default_ladder; media/ has no default
/// of its own): 1080p 5 Mb/s, 720p 2.8 Mb/s, 480p 1.4 Mb/s, 360p 0.8 Mb/s.
std::vector<rung> standard_ladder() {
  return {{1080, 5000000}, {720, 2800000}, {480, 1400000}, {360, 800000}};
}

transcode_options fast_options(double segment_seconds) {
  transcode_options o;
  o.segment_seconds = segment_seconds;
  o.x264_preset = "veryfast";
  o.ladder = standard_ladder();
  return o;
}

run_result run_transcode(const std::string& input, const transcode_options& opts) {
  run_result r{error{}, make_temp_dir("transcode"), {}, {}, 0};
  std::vector<double>& progress = r.progress;
  std::vector<seen_event>& events = r.events;
  const std::string dir = r.dir;
  const auto t0 = std::chrono::steady_clock::now();
  r.out = transcode(
      input, r.dir, opts, [&](double f) { progress.push_back(f); }, nullptr,
      [&](const segment_event& ev) {
        seen_event s;
        s.ev = ev;
        s.at = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const std::string path = dir + "/" + ev.rendition.name + "/" + ev.segment.uri;
        s.final_exists = fs::exists(path);
        s.part_exists = fs::exists(path + ".part");
        events.push_back(std::move(s));
      });
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

double total_duration(const rendition_output& r) {
  double d = 0;
  for (const auto& s : r.segments)
    d += s.duration;
  return d;
}

/// pts_time of the first video packet of a file.
double first_video_pts(const std::string& path) {
  const auto pkt =
      ffprobe("-select_streams v:0 -show_entries packet=pts_time -read_intervals %+#1", path);
  const std::string v = value_of(pkt, "pts_time");
  return v.empty() ? -1 : std::stod(v);
}

/// Checks the invariants of every segment of a video rendition with ffprobe/ffmpeg.
void check_video_segments(const std::string& dir, const rendition_output& r, int width,
                          int height) {
  SCOPED_TRACE(r.name);
  EXPECT_EQ(r.width, width);
  EXPECT_EQ(r.height, height);
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
                            "width,height,sample_aspect_ratio",
                            path);
    EXPECT_EQ(value_of(st, "codec_name"), "h264");
    EXPECT_EQ(value_of(st, "profile"), "High");
    EXPECT_EQ(value_of(st, "pix_fmt"), "yuv420p");
    EXPECT_EQ(value_of(st, "width"), std::to_string(width));
    EXPECT_EQ(value_of(st, "height"), std::to_string(height));
    const std::string sar = value_of(st, "sample_aspect_ratio");
    EXPECT_TRUE(sar == "1:1" || sar == "N/A" || sar == "0:1") << sar;

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
  SCOPED_TRACE(r.name);
  ASSERT_EQ(r.segments.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(r.segments[i].duration, expected[i], 0.5) << "segment " << i;
}

/// Every rendition has the same segment boundaries as the first one.
void expect_same_boundaries(const transcode_output& out) {
  const rendition_output& top = out.renditions.at(0);
  for (const rendition_output& r : out.renditions) {
    SCOPED_TRACE(r.name);
    ASSERT_EQ(r.segments.size(), top.segments.size());
    for (size_t i = 0; i < r.segments.size(); ++i)
      EXPECT_NEAR(r.segments[i].duration, top.segments[i].duration, 0.01) << "segment " << i;
  }
}

/// The events match the output, one per segment per rendition, in order; each
/// segment was under its final name when reported; no .part file is left.
void check_events(const run_result& r) {
  const transcode_output& out = *r.out;
  std::vector<size_t> next(out.renditions.size(), 0);
  for (const seen_event& s : r.events) {
    const segment_event& ev = s.ev;
    EXPECT_EQ(ev.rendition_count, out.renditions.size());
    EXPECT_EQ(ev.variant_count,
              std::count_if(out.renditions.begin(), out.renditions.end(),
                            [](const rendition_output& x) { return !x.alternate; }));
    ASSERT_LT(ev.rendition_index, out.renditions.size());
    const rendition_output& rend = out.renditions[ev.rendition_index];
    EXPECT_EQ(ev.rendition.name, rend.name);
    EXPECT_EQ(ev.rendition.remuxed, rend.remuxed);
    EXPECT_EQ(ev.rendition.width, rend.width);
    EXPECT_EQ(ev.rendition.height, rend.height);
    EXPECT_EQ(ev.rendition.codecs, rend.codecs);
    EXPECT_TRUE(ev.rendition.segments.empty());
    size_t& k = next[ev.rendition_index];
    ASSERT_LT(k, rend.segments.size()) << rend.name;
    EXPECT_EQ(ev.segment.uri, rend.segments[k].uri) << "out of order in " << rend.name;
    EXPECT_EQ(ev.segment.bytes, rend.segments[k].bytes);
    EXPECT_DOUBLE_EQ(ev.segment.duration, rend.segments[k].duration);
    EXPECT_TRUE(s.final_exists) << rend.name << "/" << ev.segment.uri;
    EXPECT_FALSE(s.part_exists) << rend.name << "/" << ev.segment.uri;
    ++k;
  }
  for (size_t i = 0; i < out.renditions.size(); ++i)
    EXPECT_EQ(next[i], out.renditions[i].segments.size()) << out.renditions[i].name;
  for (const auto& e : fs::recursive_directory_iterator(r.dir))
    EXPECT_NE(e.path().extension(), ".part") << e.path();
}

/// The md5 of every decoded video frame of `file`, in order.
std::vector<std::string> frame_hashes(const std::string& file) {
  std::string out;
  EXPECT_EQ(run_command("ffmpeg -nostdin -v error -i " + shell_quote(file) +
                            " -map 0:v:0 -f framemd5 - 2>/dev/null",
                        &out),
            0);
  std::vector<std::string> hashes;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    const auto comma = line.rfind(',');
    hashes.push_back(line.substr(comma + 1));
  }
  return hashes;
}

/// Concatenates the segments of a rendition (MPEG-TS concatenates byte-wise).
std::string concat_segments(const std::string& dir, const rendition_output& r) {
  const std::string path = dir + "/" + r.name + "_all.ts";
  std::ofstream all(path, std::ios::binary);
  for (const auto& seg : r.segments) {
    std::ifstream in(dir + "/" + r.name + "/" + seg.uri, std::ios::binary);
    all << in.rdbuf();
  }
  return path;
}

/// Average PSNR (dB) of the first frames of `ours` against `reference` as the
/// ffmpeg CLI shows it (autorotated), scaled to width x height.
double psnr_against(const std::string& ours, const std::string& reference, int width, int height) {
  std::string out;
  const std::string graph = "[1:v]setpts=PTS-STARTPTS,scale=" + std::to_string(width) + ":" +
                            std::to_string(height) +
                            ",format=yuv420p[ref];[0:v]setpts=PTS-STARTPTS,format=yuv420p[o];"
                            "[o][ref]psnr";
  run_command("ffmpeg -nostdin -hide_banner -i " + shell_quote(ours) + " -i " +
                  shell_quote(reference) + " -lavfi " + shell_quote(graph) +
                  " -frames:v 10 -f null - 2>&1",
              &out);
  const auto pos = out.find("average:");
  if (pos == std::string::npos)
    return 0;
  const std::string v = out.substr(pos + 8, out.find(' ', pos + 8) - pos - 8);
  return v == "inf" ? 100 : std::atof(v.c_str());
}

} // namespace hlsgate::media
