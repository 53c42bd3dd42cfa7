// The subtitle streams of real containers made by the ffmpeg CLI: SubRip
// and ASS in Matroska, mov_text in MP4, a DVD (picture) stream that is only
// listed; cue times, texts, tags, origin shifting, limits and hostile files.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/source.hpp"
#include "media/subtitle_extract.hpp"
#include "tests/media/clip_fixture.hpp"

namespace hlsgate::media {
namespace {

namespace fs = std::filesystem;
using test::clip_kind;
using test::make_clip;
using test::make_temp_dir;
using test::run_command;
using test::shell_quote;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Runs ffmpeg with `args` (inputs and outputs already quoted).
void ffmpeg(const std::string& args) {
  const std::string cmd = "ffmpeg -nostdin -hide_banner -v error -y " + args + " 2>&1";
  std::string out;
  ASSERT_EQ(run_command(cmd, &out), 0) << cmd << "\n" << out;
}

constexpr const char* kVideo = "-f lavfi -i testsrc2=size=160x120:rate=10:duration=5 ";
constexpr const char* kEngSrt = "1\n00:00:01,000 --> 00:00:02,500\nHello <i>world</i>\n\n"
                                "2\n00:00:03,000 --> 00:00:04,000\nSecond line\ntwo & more\n";
constexpr const char* kFraSrt = "1\n00:00:00,500 --> 00:00:01,500\nBonjour\n\n"
                                "2\n00:00:02,000 --> 00:00:03,200\n<b>Au revoir</b>\n";

/// Video, two FLAC audio streams (no encoder delay: timestamps start at 0)
/// and two SubRip streams: eng (default), fra (titled).
std::string two_srt_mkv() {
  const std::string dir = make_temp_dir("srt");
  write_bytes(dir + "/eng.srt", kEngSrt);
  write_bytes(dir + "/fra.srt", kFraSrt);
  const std::string out = dir + "/two.mkv";
  ffmpeg(std::string(kVideo) +
         "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=5 "
         "-f lavfi -i sine=frequency=660:sample_rate=44100:duration=5 -i " +
         shell_quote(dir + "/eng.srt") + " -i " + shell_quote(dir + "/fra.srt") +
         " -map 0:v -map 1:a -map 2:a -map 3 -map 4 -c:v libx264 -preset ultrafast -c:a flac"
         " -ac:a:0 2 -ac:a:1 1 -c:s srt -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra"
         " -metadata:s:a:1 title=Commentary -disposition:a:0 default -disposition:a:1 0"
         " -metadata:s:s:0 language=eng -metadata:s:s:1 language=fra"
         " -metadata:s:s:1 title=Français -disposition:s:0 default -disposition:s:1 0 " +
         shell_quote(out));
  return out;
}

void expect_cue(const subtitle_cue& c, int64_t start, int64_t end, const std::string& text) {
  EXPECT_EQ(c.start_ms, start) << text;
  EXPECT_EQ(c.end_ms, end) << text;
  EXPECT_EQ(c.text, text);
}

subtitle_extraction extract_ok(const std::string& path, int64_t origin_ms = 0,
                               size_t max_tracks = 16) {
  auto r = extract_subtitles(path, open_policy{}, origin_ms, max_tracks);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().detail);
  return r.ok() ? std::move(r).value() : subtitle_extraction{};
}

// ---------------------------------------------------------------------------
// streams, cues and texts

TEST(SubtitleExtract, TwoSubRipStreamsInMatroska) {
  const subtitle_extraction x = extract_ok(two_srt_mkv());
  EXPECT_TRUE(x.skipped.empty());
  ASSERT_EQ(x.tracks.size(), 2u);

  const subtitle_track& eng = x.tracks[0];
  EXPECT_EQ(eng.info.index, 3);
  EXPECT_EQ(eng.info.codec, "subrip");
  EXPECT_EQ(eng.info.language, "eng");
  EXPECT_EQ(eng.info.title, "");
  EXPECT_TRUE(eng.info.is_default);
  EXPECT_FALSE(eng.info.forced);
  EXPECT_TRUE(eng.info.text_based);
  ASSERT_EQ(eng.cues.size(), 2u);
  // libav's SubRip decoder turns <i> into {\i1}, which cleaning removes.
  expect_cue(eng.cues[0], 1000, 2500, "Hello world");
  expect_cue(eng.cues[1], 3000, 4000, "Second line\ntwo &amp; more");

  const subtitle_track& fra = x.tracks[1];
  EXPECT_EQ(fra.info.index, 4);
  EXPECT_EQ(fra.info.language, "fra");
  EXPECT_EQ(fra.info.title, "Français");
  EXPECT_FALSE(fra.info.is_default);
  ASSERT_EQ(fra.cues.size(), 2u);
  expect_cue(fra.cues[0], 500, 1500, "Bonjour");
  expect_cue(fra.cues[1], 2000, 3200, "Au revoir");
}

TEST(SubtitleExtract, OriginShiftsClampsAndDrops) {
  const std::string path = two_srt_mkv();
  {
    const subtitle_extraction x = extract_ok(path, 1200);
    ASSERT_EQ(x.tracks.size(), 2u);
    ASSERT_EQ(x.tracks[0].cues.size(), 2u);
    expect_cue(x.tracks[0].cues[0], 0, 1300, "Hello world"); // started before 0: clamped
    expect_cue(x.tracks[0].cues[1], 1800, 2800, "Second line\ntwo &amp; more");
    ASSERT_EQ(x.tracks[1].cues.size(), 2u);
    expect_cue(x.tracks[1].cues[0], 0, 300, "Bonjour");
    expect_cue(x.tracks[1].cues[1], 800, 2000, "Au revoir");
  }
  {
    const subtitle_extraction x = extract_ok(path, 1500); // "Bonjour" ends exactly at 0
    ASSERT_EQ(x.tracks.size(), 2u);
    ASSERT_EQ(x.tracks[1].cues.size(), 1u);
    expect_cue(x.tracks[1].cues[0], 500, 1700, "Au revoir");
  }
  {
    const subtitle_extraction x = extract_ok(path, -1000); // the output starts before the source
    ASSERT_EQ(x.tracks.size(), 2u);
    ASSERT_EQ(x.tracks[1].cues.size(), 2u);
    expect_cue(x.tracks[1].cues[0], 1500, 2500, "Bonjour");
  }
}

TEST(SubtitleExtract, TextStreamsBeyondMaxTracksAreSkipped) {
  const subtitle_extraction x = extract_ok(two_srt_mkv(), 0, 1);
  ASSERT_EQ(x.tracks.size(), 1u);
  EXPECT_EQ(x.tracks[0].info.language, "eng");
  EXPECT_EQ(x.tracks[0].cues.size(), 2u);
  ASSERT_EQ(x.skipped.size(), 1u);
  EXPECT_EQ(x.skipped[0].index, 4);
  EXPECT_EQ(x.skipped[0].title, "Français");
  EXPECT_TRUE(x.skipped[0].text_based);

  const subtitle_extraction none = extract_ok(two_srt_mkv(), 0, 0);
  EXPECT_TRUE(none.tracks.empty());
  EXPECT_EQ(none.skipped.size(), 2u);
}

TEST(SubtitleExtract, AssEventTextWithOverridesAndCommas) {
  const std::string dir = make_temp_dir("ass");
  write_bytes(dir + "/in.ass",
              "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n"
              "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
              "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, "
              "Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, "
              "MarginV, Encoding\nStyle: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,"
              "100,100,0,0,1,1,0,2,10,10,10,0\n\n"
              "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
              "Effect, Text\n"
              "Dialogue: 0,0:00:01.00,0:00:02.20,Default,,0,0,0,,{\\an8}Top, with a comma\\N"
              "next line\n"
              "Dialogue: 1,0:00:02.50,0:00:04.00,Default,Narrator,5,5,5,fade,{\\b1}Bold{\\b0} "
              "and {\\i1}italic{\\i0}\n"
              "Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,{\\pos(10,10)}\n");
  const std::string out = dir + "/ass.mkv";
  ffmpeg(std::string(kVideo) + "-i " + shell_quote(dir + "/in.ass") +
         " -map 0:v -map 1 -c:v libx264 -preset ultrafast -c:s copy"
         " -metadata:s:s:0 language=jpn " +
         shell_quote(out));
  const subtitle_extraction x = extract_ok(out);
  ASSERT_EQ(x.tracks.size(), 1u);
  EXPECT_EQ(x.tracks[0].info.codec, "ass");
  EXPECT_EQ(x.tracks[0].info.language, "jpn");
  ASSERT_EQ(x.tracks[0].cues.size(), 2u); // the third has no text
  expect_cue(x.tracks[0].cues[0], 1000, 2200, "Top, with a comma\nnext line");
  expect_cue(x.tracks[0].cues[1], 2500, 4000, "Bold and italic");
}

TEST(SubtitleExtract, MovTextInMp4) {
  const std::string dir = make_temp_dir("movtext");
  write_bytes(dir + "/eng.srt", kEngSrt);
  const std::string out = dir + "/movtext.mp4";
  ffmpeg(std::string(kVideo) + "-i " + shell_quote(dir + "/eng.srt") +
         " -map 0:v -map 1 -c:v libx264 -preset ultrafast -c:s mov_text"
         " -metadata:s:s:0 language=ger " +
         shell_quote(out));
  const subtitle_extraction x = extract_ok(out);
  ASSERT_EQ(x.tracks.size(), 1u);
  EXPECT_EQ(x.tracks[0].info.codec, "mov_text");
  EXPECT_EQ(x.tracks[0].info.language, "ger");
  // The empty samples that fill the gaps (0-1 s, 2.5-3 s) give no cue.
  ASSERT_EQ(x.tracks[0].cues.size(), 2u);
  expect_cue(x.tracks[0].cues[0], 1000, 2500, "Hello world");
  expect_cue(x.tracks[0].cues[1], 3000, 4000, "Second line\ntwo &amp; more");
}

/// An MPEG program stream holding one DVD subtitle (a 4x2 picture) at each
/// of `seconds`: ffmpeg cannot encode text to DVD subtitles, so the packets
/// are made here and then remuxed (stream copy).
std::string dvd_subtitle_ps(const std::vector<int>& seconds) {
  // SPU: size, control offset, two RLE lines ("fill the line with colour 1"),
  // a control sequence (palette, alpha, area, line offsets, start display)
  // and one 2 s later (176 * 1024 / 90000 s) that stops the display.
  const std::string spu("\x00\x26\x00\x08"
                        "\x00\x01\x00\x01"
                        "\x00\x00\x00\x20\x03\x01\x23\x04\xff\xf0\x05\x00\x00\x03\x00\x00\x01"
                        "\x06\x00\x04\x00\x06\x01\xff"
                        "\x00\xb0\x00\x20\x02\xff",
                        38);
  const std::string pack("\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01\x01\x89\xc3\xf8", 14);
  std::string ps;
  for (int s : seconds) {
    const uint64_t pts = uint64_t(s) * 90000;
    std::string pes("\x81\x80\x05", 3);
    pes += char(0x21 | ((pts >> 29) & 0x0e));
    pes += char((pts >> 22) & 0xff);
    pes += char(0x01 | ((pts >> 14) & 0xfe));
    pes += char((pts >> 7) & 0xff);
    pes += char(0x01 | ((pts << 1) & 0xfe));
    pes += '\x20'; // private stream 1, sub-stream 0x20: DVD subtitle 0
    pes += spu;
    ps += pack + std::string("\x00\x00\x01\xbd", 4);
    ps += char(pes.size() >> 8);
    ps += char(pes.size() & 0xff);
    ps += pes;
  }
  return ps + std::string("\x00\x00\x01\xb9", 4);
}

TEST(SubtitleExtract, DvdSubtitleIsListedNotDecoded) {
  const std::string dir = make_temp_dir("dvdsub");
  write_bytes(dir + "/dvd.ps", dvd_subtitle_ps({1, 3}));
  write_bytes(dir + "/fra.srt", kFraSrt);
  const std::string out = dir + "/dvd.mkv";
  ffmpeg(std::string(kVideo) + "-f mpeg -i " + shell_quote(dir + "/dvd.ps") + " -i " +
         shell_quote(dir + "/fra.srt") +
         " -map 0:v -map 1:s -map 2 -c:v libx264 -preset ultrafast -c:s:0 copy -c:s:1 srt"
         " -metadata:s:s:0 language=eng -disposition:s:0 forced -metadata:s:s:1 language=fra " +
         shell_quote(out));
  const subtitle_extraction x = extract_ok(out);
  ASSERT_EQ(x.skipped.size(), 1u);
  EXPECT_EQ(x.skipped[0].index, 1);
  EXPECT_EQ(x.skipped[0].codec, "dvd_subtitle");
  EXPECT_EQ(x.skipped[0].language, "eng");
  EXPECT_TRUE(x.skipped[0].forced);
  EXPECT_FALSE(x.skipped[0].text_based);
  ASSERT_EQ(x.tracks.size(), 1u);
  EXPECT_EQ(x.tracks[0].info.index, 2);
  EXPECT_EQ(x.tracks[0].cues.size(), 2u);
}

TEST(SubtitleExtract, CuesWithoutDurationEndAtTheNextEvent) {
  const std::string dir = make_temp_dir("nodur");
  write_bytes(dir + "/in.srt", "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n"
                               "2\n00:00:01,000 --> 00:00:02,000\nUno\n\n"
                               "3\n00:00:02,500 --> 00:00:03,500\nTwo\n\n"
                               "4\n00:00:20,000 --> 00:00:21,000\nThree\n");
  const std::string out = dir + "/nodur.mkv";
  ffmpeg("-i " + shell_quote(dir + "/in.srt") + " -c:s srt " + shell_quote(out));
  // Every BlockDuration (1000 ms, right after each block's text) becomes 0:
  // the packets then have no duration.
  std::string bytes = read_bytes(out);
  for (const std::string text : {"One", "Uno", "Two", "Three"}) {
    const std::string from = text + std::string("\x9b\x82\x03\xe8", 4);
    const size_t at = bytes.find(from);
    ASSERT_NE(at, std::string::npos) << text;
    bytes.replace(at, from.size(), text + std::string("\x9b\x82\x00\x00", 4));
  }
  write_bytes(out, bytes);
  const subtitle_extraction x = extract_ok(out);
  ASSERT_EQ(x.tracks.size(), 1u);
  ASSERT_EQ(x.tracks[0].cues.size(), 4u);
  expect_cue(x.tracks[0].cues[0], 1000, 2500, "One");     // the next later cue's start,
  expect_cue(x.tracks[0].cues[1], 1000, 2500, "Uno");     // not one at the same time
  expect_cue(x.tracks[0].cues[2], 2500, 12500, "Two");    // at most 10 s
  expect_cue(x.tracks[0].cues[3], 20000, 30000, "Three"); // the last: 10 s
}

// ---------------------------------------------------------------------------
// limits

std::string srt_time(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld,%03lld", (long long)(ms / 3600000),
                (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60), (long long)(ms % 1000));
  return buf;
}

TEST(SubtitleExtract, AtMost20000CuesPerTrack) {
  const std::string dir = make_temp_dir("many");
  std::string srt;
  for (int i = 0; i < 20005; ++i)
    srt += std::to_string(i + 1) + "\n" + srt_time(i * 100) + " --> " + srt_time(i * 100 + 50) +
           "\nc" + std::to_string(i) + "\n\n";
  write_bytes(dir + "/many.srt", srt);
  ffmpeg("-i " + shell_quote(dir + "/many.srt") + " -c:s srt " + shell_quote(dir + "/many.mkv"));
  const subtitle_extraction x = extract_ok(dir + "/many.mkv");
  ASSERT_EQ(x.tracks.size(), 1u);
  ASSERT_EQ(x.tracks[0].cues.size(), kMaxCuesPerTrack);
  expect_cue(x.tracks[0].cues.back(), 1999900, 1999950, "c19999");
}

TEST(SubtitleExtract, NothingFrom48Hours) {
  const std::string dir = make_temp_dir("long");
  const int64_t h48 = kMaxSubtitleMs;
  write_bytes(dir + "/long.srt", "1\n" + srt_time(h48 - 1000) + " --> " + srt_time(h48 + 5000) +
                                     "\nnearly\n\n2\n" + srt_time(h48 + 1000) + " --> " +
                                     srt_time(h48 + 2000) + "\nlate\n");
  ffmpeg("-i " + shell_quote(dir + "/long.srt") + " -c:s srt " + shell_quote(dir + "/long.mkv"));
  const subtitle_extraction x = extract_ok(dir + "/long.mkv");
  ASSERT_EQ(x.tracks.size(), 1u);
  ASSERT_EQ(x.tracks[0].cues.size(), 1u);
  expect_cue(x.tracks[0].cues[0], h48 - 1000, h48, "nearly");
}

// ---------------------------------------------------------------------------
// audio streams

TEST(AudioStreams, ListsEveryAudioStream) {
  auto in = libav::open_source(two_srt_mkv(), open_policy{});
  ASSERT_TRUE(in.ok());
  const std::vector<audio_stream_info> a = list_audio_streams(in->get());
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].index, 1);
  EXPECT_EQ(a[0].codec, "flac");
  EXPECT_EQ(a[0].language, "eng");
  EXPECT_EQ(a[0].title, "");
  EXPECT_TRUE(a[0].is_default);
  EXPECT_EQ(a[0].channels, 2);
  EXPECT_EQ(a[0].sample_rate, 48000);
  EXPECT_EQ(a[1].index, 2);
  EXPECT_EQ(a[1].language, "fra");
  EXPECT_EQ(a[1].title, "Commentary");
  EXPECT_FALSE(a[1].is_default);
  EXPECT_EQ(a[1].channels, 1);
  EXPECT_EQ(a[1].sample_rate, 44100);
  EXPECT_TRUE(list_audio_streams(nullptr).empty());
}

// ---------------------------------------------------------------------------
// hostile and plain inputs

TEST(SubtitleExtract, NoSubtitleStreams) {
  const subtitle_extraction x = extract_ok(make_clip(test::clip_of(clip_kind::video_audio, 2)));
  EXPECT_TRUE(x.tracks.empty());
  EXPECT_TRUE(x.skipped.empty());
}

TEST(SubtitleExtract, NotMediaIsAnError) {
  for (clip_kind k : {clip_kind::not_media, clip_kind::random_bytes, clip_kind::empty}) {
    auto r = extract_subtitles(make_clip(test::clip_of(k)), open_policy{}, 0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, errc::invalid_input);
    EXPECT_FALSE(r.err().reason.empty());
  }
  auto missing = extract_subtitles(make_temp_dir("missing") + "/nothing.mkv", open_policy{}, 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().code, errc::invalid_input);
}

TEST(SubtitleExtract, TheOpenPolicyApplies) {
  // A bare subtitle file: the srt demuxer is not an allowed container.
  const std::string dir = make_temp_dir("policy");
  write_bytes(dir + "/bare.srt", kEngSrt);
  auto bare = extract_subtitles(dir + "/bare.srt", open_policy{}, 0);
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.err().code, errc::unsupported_media);

  // Outside the confinement root, and through a symbolic link.
  const std::string mkv = two_srt_mkv();
  open_policy confined;
  confined.confine_root = dir;
  auto outside = extract_subtitles(mkv, confined, 0);
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.err().code, errc::unsupported_media);
  fs::create_symlink(mkv, dir + "/link.mkv");
  auto link = extract_subtitles(dir + "/link.mkv", open_policy{}, 0);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.err().code, errc::unsupported_media);
}

TEST(SubtitleExtract, DamagedFilesDoNotCrash) {
  const std::string good = read_bytes(two_srt_mkv());
  ASSERT_GT(good.size(), 1000u);
  const std::string dir = make_temp_dir("damaged");
  std::mt19937 rng(99);
  int opened = 0;
  for (int i = 0; i < 40; ++i) {
    std::string bytes = good;
    if (i % 4 == 0) {
      bytes.resize(rng() % bytes.size()); // truncated
    } else {
      for (int n = 0; n < 1 + i; ++n) // a few bytes anywhere after the EBML header
        bytes[64 + rng() % (bytes.size() - 64)] = static_cast<char>(rng() & 0xff);
    }
    const std::string path = dir + "/d" + std::to_string(i) + ".mkv";
    write_bytes(path, bytes);
    auto r = extract_subtitles(path, open_policy{}, 0);
    if (!r.ok())
      continue;
    ++opened;
    for (const subtitle_track& t : r->tracks) {
      for (const subtitle_cue& c : t.cues) {
        EXPECT_GE(c.start_ms, 0);
        EXPECT_GT(c.end_ms, c.start_ms);
        EXPECT_FALSE(c.text.empty());
      }
    }
  }
  EXPECT_GT(opened, 10) << "most damaged files still open: their cues were checked";
}

} // namespace
} // namespace hlsgate::media
