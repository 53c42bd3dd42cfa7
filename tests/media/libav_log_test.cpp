// media::set_log_sink: libav's messages arrive as whole lines at the sink,
// raw, and none on stderr. A binary of its own: the sink is process-wide.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/log.hpp"
#include "media/probe.hpp"
#include "media/transcoder.hpp"
#include "tests/media/clip_fixture.hpp"
#include "tests/media/transcode_helpers.hpp"

namespace hlsgate::media {
namespace {

using test::clip_kind;
using test::clip_spec;
using test::make_clip;
using test::make_temp_dir;

struct line {
  int level;
  std::string text;
};

/// Collects the lines the sink gets (from any thread).
class collector {
public:
  log_sink sink() {
    return [this](int level, std::string_view text) {
      std::lock_guard<std::mutex> lk(m_);
      lines_.push_back(line{level, std::string(text)});
    };
  }
  std::vector<line> lines() {
    std::lock_guard<std::mutex> lk(m_);
    return lines_;
  }

private:
  std::mutex m_;
  std::vector<line> lines_;
};

/// Runs `fn` with stderr (fd 2) sent to a file; returns what was written there.
template <class Fn> std::string capture_stderr(Fn&& fn) {
  const std::string path = make_temp_dir("stderr") + "/stderr.txt";
  std::fflush(stderr);
  const int saved = ::dup(2);
  std::FILE* f = std::fopen(path.c_str(), "w");
  EXPECT_TRUE(f != nullptr);
  ::dup2(::fileno(f), 2);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(f);
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// A Matroska file whose EBML doctype ("matroska", 8 bytes) is replaced by
/// 8 bytes starting with an ANSI escape: libav opens it and warns "Unknown
/// EBML doctype '<those bytes>'".
std::string mkv_with_escape_in_doctype() {
  clip_spec s = test::clip_of(clip_kind::video_only, 2);
  s.width = 320;
  s.height = 240;
  s.container = "mkv";
  std::ifstream in(make_clip(s), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = bytes.find("matroska");
  EXPECT_LT(at, 64u);
  bytes.replace(at, 8, "\x1b[31mbad");
  const std::string path = make_temp_dir("escape") + "/clip.mkv";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

/// The 320x240 video-only MP4 with its media data replaced by noise: every
/// packet fails to decode (the h264 decoder logs errors).
std::string mp4_with_noise() {
  clip_spec s = test::clip_of(clip_kind::video_only, 2);
  s.width = 320;
  s.height = 240;
  std::ifstream in(make_clip(s), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937 rng(3);
  for (size_t i = bytes.find("mdat") + 4; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(rng() & 0xff);
  const std::string path = make_temp_dir("noise") + "/clip.mp4";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

/// Transcodes the noise MP4 (which fails, libav logging decode errors).
void transcode_noise(const std::string& noise) {
  transcode_options opts = fast_options(2);
  opts.allow_remux = false;
  EXPECT_FALSE(run_transcode(noise, opts).out);
}

// One test: the sink is process-wide and cannot be taken back.
TEST(LibavLog, WholeRawLinesAtTheSinkNoneOnStderr) {
  const std::string escape = mkv_with_escape_in_doctype();
  const std::string noise = mp4_with_noise();

  // Without a sink, libav writes its errors to stderr (which the capture sees).
  EXPECT_NE(capture_stderr([&] { transcode_noise(noise); }).find("[h264 @ "), std::string::npos);

  // With one, every line goes there, whole and raw, and nothing to stderr.
  collector c;
  set_log_sink(c.sink());
  EXPECT_EQ(capture_stderr([&] {
              EXPECT_TRUE(probe(escape, open_policy{}));
              transcode_noise(noise);
            }),
            "");
  const auto lines = c.lines();
  ASSERT_FALSE(lines.empty());
  bool doctype = false, decode_error = false;
  for (const line& l : lines) {
    EXPECT_EQ(l.text.find('\n'), std::string::npos) << l.text; // one line per call
    EXPECT_FALSE(l.text.empty());
    EXPECT_LE(l.level, log_level::warning) << l.text; // warnings and worse by default
    if (l.text.find("Unknown EBML doctype") != std::string::npos) {
      doctype = true;
      EXPECT_EQ(l.level, log_level::warning);
      EXPECT_EQ(l.text.rfind("[matroska,webm @ 0x", 0), 0u) << l.text; // libav's prefix
      // The raw bytes of the file, escape included: escaping is the logger's job.
      EXPECT_NE(l.text.find("'\x1b[31mbad'"), std::string::npos) << l.text;
    }
    if (l.text.rfind("[h264 @ ", 0) == 0 && l.level == log_level::error)
      decode_error = true;
  }
  EXPECT_TRUE(doctype);
  EXPECT_TRUE(decode_error);

  // A stricter level: errors only.
  collector errors;
  set_log_sink(errors.sink(), log_level::error);
  EXPECT_EQ(capture_stderr([&] {
              EXPECT_TRUE(probe(escape, open_policy{}));
              transcode_noise(noise);
            }),
            "");
  ASSERT_FALSE(errors.lines().empty());
  for (const line& l : errors.lines()) {
    EXPECT_LE(l.level, log_level::error) << l.text;
    EXPECT_EQ(l.text.find("Unknown EBML doctype"), std::string::npos);
  }

  // An empty sink drops everything; still nothing on stderr.
  set_log_sink(nullptr);
  EXPECT_EQ(capture_stderr([&] { transcode_noise(noise); }), "");
}

TEST(LibavLog, RedactsTheQueriesOfUrls) {
  EXPECT_EQ(redact_url_queries("Error when loading first segment 'http://h/s.ts?token=abc'"),
            "Error when loading first segment 'http://h/s.ts?…'");
  EXPECT_EQ(redact_url_queries("parse_playlist error [https://a/b.m3u8?t=1&u=2] x"),
            "parse_playlist error [https://a/b.m3u8?…] x");
  EXPECT_EQ(redact_url_queries("two http://a/x?1 and http://b/y?2 end"),
            "two http://a/x?… and http://b/y?… end");
  EXPECT_EQ(redact_url_queries("no query http://a/x then ?not-a-url"),
            "no query http://a/x then ?not-a-url");
  EXPECT_EQ(redact_url_queries("plain line"), "plain line");
}

} // namespace
} // namespace hlsgate::media
