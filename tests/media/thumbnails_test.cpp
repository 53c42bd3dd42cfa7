#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/thumbnails.hpp"
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
// helpers

struct image_info {
  std::string codec;
  int width = 0, height = 0;
};

/// ffprobe's view of a picture file.
image_info probe_image(const std::string& file) {
  std::string out;
  const int rc = run_command("ffprobe -v error -show_entries stream=codec_name,width,height "
                             "-of default=nw=1 " +
                                 shell_quote(file) + " 2>/dev/null",
                             &out);
  EXPECT_EQ(rc, 0) << "ffprobe " << file;
  image_info info;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "codec_name")
      info.codec = v;
    else if (k == "width")
      info.width = std::atoi(v.c_str());
    else if (k == "height")
      info.height = std::atoi(v.c_str());
  }
  return info;
}

/// An 8-bit gray picture.
struct gray {
  int width = 0, height = 0;
  std::string px;
  int at(int x, int y) const { return static_cast<unsigned char>(px[y * width + x]); }
};

/// Decodes `args` (ffmpeg input options + input) to gray pixels of w x h.
gray decode_gray(const std::string& args, int w, int h, const std::string& filter = "") {
  std::string out;
  const std::string vf = filter.empty() ? "" : " -vf " + shell_quote(filter);
  const int rc = run_command("ffmpeg -nostdin -v error " + args + " -frames:v 1" + vf +
                                 " -f rawvideo -pix_fmt gray - 2>/dev/null",
                             &out);
  EXPECT_EQ(rc, 0) << args;
  EXPECT_EQ(out.size(), static_cast<size_t>(w) * h) << args;
  gray g;
  g.width = w;
  g.height = h;
  g.px = out;
  g.px.resize(static_cast<size_t>(w) * h);
  return g;
}

/// The frames of a 30 fps `clip` at every whole second, w x h, scaled and
/// converted as the thumbnails are (area filter, full range). One decode
/// pass per clip and size.
const std::vector<gray>& frames_per_second(const std::string& clip, int w, int h) {
  static std::map<std::string, std::vector<gray>> cache;
  const std::string key = clip + "@" + std::to_string(w) + "x" + std::to_string(h);
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  std::ostringstream vf;
  vf << "select='not(mod(n\\,30))',scale=" << w << ':' << h << ":flags=area,format=yuvj420p";
  std::string out;
  const int rc =
      run_command("ffmpeg -nostdin -v error -i " + shell_quote(clip) + " -vf " +
                      shell_quote(vf.str()) + " -vsync 0 -f rawvideo -pix_fmt gray - 2>/dev/null",
                  &out);
  EXPECT_EQ(rc, 0) << clip;
  const size_t size = static_cast<size_t>(w) * h;
  std::vector<gray> frames;
  for (size_t at = 0; at + size <= out.size(); at += size)
    frames.push_back(gray{w, h, out.substr(at, size)});
  return cache[key] = std::move(frames);
}

/// The frame of `clip` at whole second `t`.
const gray& frame_at(const std::string& clip, int t, int w, int h) {
  const auto& frames = frames_per_second(clip, w, h);
  if (t < 0 || static_cast<size_t>(t) >= frames.size())
    throw std::runtime_error("no reference frame at " + std::to_string(t) + " s");
  return frames[t];
}

/// Mean absolute difference between the w x h region of `a` at (ax, ay) and `b`.
double diff(const gray& a, int ax, int ay, const gray& b) {
  double sum = 0;
  for (int y = 0; y < b.height; ++y)
    for (int x = 0; x < b.width; ++x)
      sum += std::abs(a.at(ax + x, ay + y) - b.at(x, y));
  return sum / (static_cast<double>(b.width) * b.height);
}

double mean(const gray& a, int ax, int ay, int w, int h) {
  double sum = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      sum += a.at(ax + x, ay + y);
  return sum / (static_cast<double>(w) * h);
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

struct cue {
  double start = 0, end = 0;
  std::string url;
  int x = -1, y = -1, w = -1, h = -1;
};

double parse_time(const std::string& s) {
  int hh = 0, mm = 0, ss = 0, ms = 0;
  if (std::sscanf(s.c_str(), "%d:%d:%d.%d", &hh, &mm, &ss, &ms) != 4)
    ADD_FAILURE() << "bad VTT time " << s;
  return hh * 3600.0 + mm * 60.0 + ss + ms / 1000.0;
}

/// Cues of a WebVTT storyboard; a failure for anything malformed.
std::vector<cue> parse_vtt(const std::string& text) {
  std::vector<cue> cues;
  EXPECT_EQ(text.rfind("WEBVTT\n\n", 0), 0u) << text;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    const auto arrow = line.find(" --> ");
    if (arrow == std::string::npos) {
      ADD_FAILURE() << "unexpected VTT line: " << line;
      continue;
    }
    cue c;
    c.start = parse_time(line.substr(0, arrow));
    c.end = parse_time(line.substr(arrow + 5));
    std::getline(in, c.url);
    const auto hash = c.url.find("#xywh=");
    EXPECT_NE(hash, std::string::npos) << c.url;
    if (hash != std::string::npos) {
      EXPECT_EQ(c.url.substr(0, hash), "sprite.jpg");
      EXPECT_EQ(std::sscanf(c.url.c_str() + hash + 6, "%d,%d,%d,%d", &c.x, &c.y, &c.w, &c.h), 4);
    }
    cues.push_back(c);
  }
  return cues;
}

bool no_part_files(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".part")
      return false;
  }
  return true;
}

// ---------------------------------------------------------------------------

TEST(Thumbnails, PosterSpriteAndStoryboardOf720pClip) {
  const std::string clip = make_clip(test::clip_720p(20));
  const std::string dir = make_temp_dir("thumbs");
  thumbnail_options opts;
  opts.interval_seconds = 2;
  opts.columns = 4;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = make_thumbnails(clip, dir, opts, nullptr);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(r) << r.err().reason;
  std::cout << "make_thumbnails(20 s 720p, interval 2): " << ms << " ms\n";
  EXPECT_EQ(r->tiles, 10);
  EXPECT_EQ(r->tile_width, 160);
  EXPECT_EQ(r->tile_height, 90);
  EXPECT_EQ(r->poster_width, 1280);
  EXPECT_EQ(r->poster_height, 720);
  EXPECT_EQ(r->poster, "poster.jpg");
  EXPECT_EQ(r->sprite, "sprite.jpg");
  EXPECT_EQ(r->storyboard, "storyboard.vtt");
  EXPECT_TRUE(no_part_files(dir));

  const image_info poster = probe_image(dir + "/poster.jpg");
  EXPECT_EQ(poster.codec, "mjpeg");
  EXPECT_EQ(poster.width, 1280);
  EXPECT_EQ(poster.height, 720);
  const image_info sprite = probe_image(dir + "/sprite.jpg");
  EXPECT_EQ(sprite.codec, "mjpeg");
  EXPECT_EQ(sprite.width, 4 * 160);
  EXPECT_EQ(sprite.height, 3 * 90); // 10 tiles in rows of 4

  const auto cues = parse_vtt(read_text(dir + "/storyboard.vtt"));
  ASSERT_EQ(cues.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE(i);
    EXPECT_NEAR(cues[i].start, 2.0 * i, 1e-9);
    if (i < 9) {
      EXPECT_NEAR(cues[i].end, 2.0 * (i + 1), 1e-9);
    }
    EXPECT_EQ(cues[i].x, i % 4 * 160);
    EXPECT_EQ(cues[i].y, i / 4 * 90);
    EXPECT_EQ(cues[i].w, 160);
    EXPECT_EQ(cues[i].h, 90);
    EXPECT_LE(cues[i].x + cues[i].w, sprite.width);
    EXPECT_LE(cues[i].y + cues[i].h, sprite.height);
  }
  EXPECT_NEAR(cues.back().end, 20.0, 0.05);

  // Each tile shows its own time: closer to the clip's frame at 2i s (a
  // keyframe) than to the frames one second either side; nothing is black.
  const gray sheet = decode_gray("-i " + shell_quote(dir + "/sprite.jpg"), 640, 270);
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE(i);
    const int x = i % 4 * 160, y = i / 4 * 90;
    EXPECT_GT(mean(sheet, x, y, 160, 90), 20);
    const double own = diff(sheet, x, y, frame_at(clip, 2 * i, 160, 90));
    const double later = diff(sheet, x, y, frame_at(clip, 2 * i + 1, 160, 90));
    EXPECT_LT(own * 2, later) << "own " << own << " later " << later;
    if (i > 0) {
      const double earlier = diff(sheet, x, y, frame_at(clip, 2 * i - 1, 160, 90));
      EXPECT_LT(own * 2, earlier) << "own " << own << " earlier " << earlier;
    }
  }

  // The poster is the keyframe at 10% of the duration: 2 s.
  const gray p = decode_gray("-i " + shell_quote(dir + "/poster.jpg"), 320, 180,
                             "scale=320:180:flags=area,format=yuvj420p");
  const double own = diff(p, 0, 0, frame_at(clip, 2, 320, 180));
  EXPECT_LT(own * 2, diff(p, 0, 0, frame_at(clip, 3, 320, 180)));
  EXPECT_LT(own * 2, diff(p, 0, 0, frame_at(clip, 1, 320, 180)));
}

TEST(Thumbnails, DefaultColumnsMakeOneRowWhenTilesAreFewer) {
  const std::string clip = make_clip(test::clip_720p(20));
  const std::string dir = make_temp_dir("thumbs");
  thumbnail_options opts;
  opts.interval_seconds = 2; // 10 tiles, 10 columns
  auto r = make_thumbnails(clip, dir, opts, nullptr);
  ASSERT_TRUE(r) << r.err().reason;
  const image_info sprite = probe_image(dir + "/sprite.jpg");
  EXPECT_EQ(sprite.width, 1600);
  EXPECT_EQ(sprite.height, 90);
}

TEST(Thumbnails, MaxTilesGrowsTheInterval) {
  const std::string clip = make_clip(test::clip_720p(20));
  const std::string dir = make_temp_dir("thumbs");
  thumbnail_options opts;
  opts.interval_seconds = 2;
  opts.max_tiles = 4; // 20 s / 4 = 5 s per tile
  auto r = make_thumbnails(clip, dir, opts, nullptr);
  ASSERT_TRUE(r) << r.err().reason;
  EXPECT_EQ(r->tiles, 4);
  const image_info sprite = probe_image(dir + "/sprite.jpg");
  EXPECT_EQ(sprite.width, 4 * 160); // fewer tiles than columns
  EXPECT_EQ(sprite.height, 90);
  const auto cues = parse_vtt(read_text(dir + "/storyboard.vtt"));
  ASSERT_EQ(cues.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(cues[i].start, 5.0 * i, 1e-9);
    EXPECT_NEAR(cues[i].end, 5.0 * (i + 1), i == 3 ? 0.05 : 1e-9);
    EXPECT_EQ(cues[i].x, i * 160);
    EXPECT_EQ(cues[i].y, 0);
  }

  // Odd caps still never exceed max_tiles.
  opts.max_tiles = 3;
  auto r3 = make_thumbnails(clip, make_temp_dir("thumbs"), opts, nullptr);
  ASSERT_TRUE(r3) << r3.err().reason;
  EXPECT_LE(r3->tiles, 3);
  EXPECT_GE(r3->tiles, 2);
}

TEST(Thumbnails, LongIntervalSeeksToTheFirstKeyframeAtOrAfterEachTile) {
  // 2 s GOPs (keyframes at 0, 2, 4, ...), a tile every 11 s: the reader seeks
  // past the keyframes in between; tile 1 (11 s) shows the keyframe at 12 s.
  const std::string mp4 = make_clip(test::clip_720p(20));
  const std::string remux_dir = make_temp_dir("remux");
  for (const char* container : {"mp4", "ts", "mkv"}) {
    SCOPED_TRACE(container);
    std::string input = mp4;
    if (std::string(container) != "mp4") {
      input = remux_dir + "/clip." + container;
      ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -i " + shell_quote(mp4) + " -c copy " +
                            shell_quote(input) + " 2>&1"),
                0);
    }
    const std::string dir = make_temp_dir("thumbs");
    thumbnail_options opts;
    opts.interval_seconds = 11;
    auto r = make_thumbnails(input, dir, opts, nullptr);
    ASSERT_TRUE(r) << r.err().reason;
    ASSERT_EQ(r->tiles, 2);
    const auto cues = parse_vtt(read_text(dir + "/storyboard.vtt"));
    ASSERT_EQ(cues.size(), 2u);
    EXPECT_NEAR(cues[1].start, 11, 1e-9);
    EXPECT_NEAR(cues[1].end, 20, 0.05);
    const gray sheet = decode_gray("-i " + shell_quote(dir + "/sprite.jpg"), 320, 90);
    const double own0 = diff(sheet, 0, 0, frame_at(mp4, 0, 160, 90));
    EXPECT_LT(own0 * 2, diff(sheet, 0, 0, frame_at(mp4, 2, 160, 90)));
    const double own1 = diff(sheet, 160, 0, frame_at(mp4, 12, 160, 90));
    for (int other : {10, 11, 14}) {
      const double d = diff(sheet, 160, 0, frame_at(mp4, other, 160, 90));
      EXPECT_LT(own1 * 2, d) << "own " << own1 << " vs " << other << " s: " << d;
    }
  }
}

TEST(Thumbnails, OtherContainers) {
  for (const char* container : {"ts", "mkv", "h264"}) {
    SCOPED_TRACE(container);
    clip_spec spec = test::clip_720p(8);
    spec.container = container;
    const std::string dir = make_temp_dir("thumbs");
    thumbnail_options opts;
    opts.interval_seconds = 2;
    auto r = make_thumbnails(make_clip(spec), dir, opts, nullptr);
    ASSERT_TRUE(r) << r.err().reason;
    const auto cues = parse_vtt(read_text(dir + "/storyboard.vtt"));
    EXPECT_EQ(static_cast<int>(cues.size()), r->tiles);
    if (std::string(container) != "h264") { // raw H.264 has no timestamps to trust
      EXPECT_EQ(r->tiles, 4);
      ASSERT_FALSE(cues.empty());
      EXPECT_NEAR(cues.back().end, 8, 0.1);
    }
    EXPECT_EQ(probe_image(dir + "/poster.jpg").width, 1280);
  }
}

TEST(Thumbnails, RotationGivesUprightImages) {
  const std::string src = make_clip(test::clip_of(clip_kind::video_only, 4));
  const std::string dir = make_temp_dir("thumbs");
  const std::string rotated = dir + "/rotated.mp4";
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -i " + shell_quote(src) +
                        " -c copy -metadata:s:v:0 rotate=90 " + shell_quote(rotated) + " 2>&1"),
            0);
  thumbnail_options opts;
  opts.interval_seconds = 2;
  auto r = make_thumbnails(rotated, dir, opts, nullptr);
  ASSERT_TRUE(r) << r.err().reason;
  EXPECT_EQ(r->poster_width, 720);
  EXPECT_EQ(r->poster_height, 1280);
  EXPECT_EQ(r->tile_width, 160);
  EXPECT_EQ(r->tile_height, 284);
  const image_info poster = probe_image(dir + "/poster.jpg");
  EXPECT_EQ(poster.width, 720);
  EXPECT_EQ(poster.height, 1280);
  // Same orientation as ffmpeg's autorotated picture (the poster is the
  // keyframe at 2 s), not turned the other way (= that picture upside down).
  const gray p = decode_gray("-i " + shell_quote(dir + "/poster.jpg"), 90, 160,
                             "scale=90:160:flags=area,format=yuvj420p");
  const gray upright = frame_at(rotated, 2, 90, 160);
  const gray flipped = decode_gray("-ss 2 -i " + shell_quote(rotated), 90, 160,
                                   "scale=90:160:flags=area,format=yuvj420p,hflip,vflip");
  const double own = diff(p, 0, 0, upright);
  EXPECT_LT(own * 2, diff(p, 0, 0, flipped));
}

TEST(Thumbnails, SampleAspectRatioIsApplied) {
  const std::string src = make_clip(test::clip_of(clip_kind::video_only, 4));
  const std::string dir = make_temp_dir("thumbs");
  const std::string anamorphic = dir + "/sar.mp4";
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -i " + shell_quote(src) +
                        " -c copy -aspect 4:3 " + shell_quote(anamorphic) + " 2>&1"),
            0);
  auto r = make_thumbnails(anamorphic, dir, thumbnail_options{}, nullptr);
  ASSERT_TRUE(r) << r.err().reason;
  EXPECT_EQ(r->poster_width, 960);
  EXPECT_EQ(r->poster_height, 720);
  EXPECT_EQ(r->tile_height, 120);
  EXPECT_EQ(probe_image(dir + "/poster.jpg").width, 960);
}

TEST(Thumbnails, PosterIsScaledDownToMaxWidth) {
  const std::string clip = make_clip(test::clip_of(clip_kind::video_only, 4));
  const std::string dir = make_temp_dir("thumbs");
  thumbnail_options opts;
  opts.poster_max_width = 641; // rounds to an even size
  opts.tile_width = 101;
  auto r = make_thumbnails(clip, dir, opts, nullptr);
  ASSERT_TRUE(r) << r.err().reason;
  EXPECT_EQ(r->poster_width % 2, 0);
  EXPECT_EQ(r->poster_height % 2, 0);
  EXPECT_NEAR(r->poster_width, 640, 2);
  EXPECT_NEAR(r->poster_height, 360, 2);
  EXPECT_EQ(r->tile_width % 2, 0);
  EXPECT_EQ(r->tile_height % 2, 0);
  const image_info poster = probe_image(dir + "/poster.jpg");
  EXPECT_EQ(poster.width, r->poster_width);
  EXPECT_EQ(poster.height, r->poster_height);
}

TEST(Thumbnails, AudioOnlyIsUnsupported) {
  const std::string dir = make_temp_dir("thumbs");
  auto r = make_thumbnails(make_clip(test::clip_audio_only(4)), dir, thumbnail_options{}, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::unsupported_media);
  EXPECT_EQ(r.err().reason, "no video");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Thumbnails, NonMediaIsInvalidInput) {
  for (clip_kind kind : {clip_kind::not_media, clip_kind::random_bytes, clip_kind::empty}) {
    SCOPED_TRACE(static_cast<int>(kind));
    const std::string dir = make_temp_dir("thumbs");
    auto r = make_thumbnails(make_clip(test::clip_of(kind)), dir, thumbnail_options{}, nullptr);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, errc::invalid_input);
    EXPECT_TRUE(fs::is_empty(dir));
  }
  auto missing = make_thumbnails(make_temp_dir("thumbs") + "/nope.mp4", make_temp_dir("thumbs"),
                                 thumbnail_options{}, nullptr);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, errc::invalid_input);
}

TEST(Thumbnails, CancelFlagStops) {
  const std::string clip = make_clip(test::clip_720p(20));
  const std::string dir = make_temp_dir("thumbs");
  std::atomic<bool> cancel{true};
  auto r = make_thumbnails(clip, dir, thumbnail_options{}, &cancel);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::cancelled);
  EXPECT_TRUE(fs::is_empty(dir));

  cancel = false; // not set: completes
  auto ok = make_thumbnails(clip, dir, thumbnail_options{}, &cancel);
  EXPECT_TRUE(ok) << ok.err().reason;
}

TEST(Thumbnails, TruncatedInputDoesNotCrash) {
  const std::string dir = make_temp_dir("thumbs");
  thumbnail_options opts;
  opts.interval_seconds = 2;
  auto r = make_thumbnails(make_clip(test::clip_of(clip_kind::truncated, 20)), dir, opts, nullptr);
  if (r) {
    // The moov still describes 20 s: the missing half repeats the last keyframe.
    EXPECT_EQ(r->tiles, 10);
    EXPECT_EQ(probe_image(dir + "/sprite.jpg").width, 1600);
    EXPECT_TRUE(no_part_files(dir));
  } else {
    EXPECT_EQ(r.err().code, errc::invalid_input);
  }
}

TEST(Thumbnails, MissingOutputDirectoryIsAnIoError) {
  const std::string clip = make_clip(test::clip_of(clip_kind::video_only, 4));
  auto r =
      make_thumbnails(clip, make_temp_dir("thumbs") + "/missing", thumbnail_options{}, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::io_error);
}

} // namespace
} // namespace hlsgate::media
