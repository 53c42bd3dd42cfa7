// Uploads and imports never make libav open another file or URL
// (media/open_policy.hpp): every input is refused or accepted the same way
// by probe, transcode and thumbnails. The hostile files are made here.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "media/probe.hpp"
#include "media/thumbnails.hpp"
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

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

/// A 2 s 320x240 video+audio clip in `container` ("mp4", "ts", "mkv").
std::string small_clip(const std::string& container) {
  clip_spec s = test::clip_of(clip_kind::video_audio, 2);
  s.width = 320;
  s.height = 240;
  s.container = container;
  return make_clip(s);
}

/// A 2 s sine tone made by the ffmpeg CLI, in the format its extension names.
std::string tone(const std::string& ext) {
  const std::string path = make_temp_dir("tone") + "/tone." + ext;
  EXPECT_EQ(run_command("ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=440:duration=2 " +
                        shell_quote(path) + " 2>&1"),
            0);
  return path;
}

transcode_options confined(const std::string& root) {
  transcode_options o = fast_options(2);
  o.source.confine_root = root;
  return o;
}

/// `path` is refused by probe, transcode and thumbnails under `policy`:
/// unsupported_media (or invalid_input where `unreadable_ok`), a short
/// reason, and neither reason nor detail naming the path or the file.
void expect_refused_everywhere(const std::string& path, const open_policy& policy,
                               bool unreadable_ok = false) {
  SCOPED_TRACE(path);
  std::vector<std::pair<const char*, error>> errors;
  auto p = probe(path, policy);
  ASSERT_FALSE(p) << "probe accepted it: " << p->format;
  errors.emplace_back("probe", p.err());

  transcode_options opts = fast_options(2);
  opts.source = policy;
  auto t = run_transcode(path, opts);
  ASSERT_FALSE(t.out) << "transcode accepted it";
  EXPECT_TRUE(t.events.empty());
  EXPECT_TRUE(fs::is_empty(t.dir)) << "something was written";
  errors.emplace_back("transcode", t.out.err());

  thumbnail_options topts;
  topts.source = policy;
  const std::string thumbs = make_temp_dir("thumbs");
  auto th = make_thumbnails(path, thumbs, topts, nullptr);
  ASSERT_FALSE(th) << "thumbnails accepted it";
  EXPECT_TRUE(fs::is_empty(thumbs));
  errors.emplace_back("thumbnails", th.err());

  const std::string name = fs::path(path).filename().string();
  for (const auto& [who, e] : errors) {
    SCOPED_TRACE(who);
    if (unreadable_ok)
      EXPECT_TRUE(e.code == errc::unsupported_media || e.code == errc::invalid_input);
    else
      EXPECT_EQ(e.code, errc::unsupported_media) << e.reason << " / " << e.detail;
    EXPECT_FALSE(e.reason.empty());
    EXPECT_LT(e.reason.size(), 60u) << e.reason;
    EXPECT_FALSE(e.detail.empty());
    for (const std::string& text : {e.reason, e.detail}) {
      EXPECT_EQ(text.find('/'), std::string::npos) << text;
      EXPECT_EQ(text.find(name), std::string::npos) << text;
    }
  }
}

/// `path` is accepted by probe and transcoded under `policy`.
void expect_accepted(const std::string& path, const open_policy& policy, bool video) {
  SCOPED_TRACE(path);
  auto p = probe(path, policy);
  ASSERT_TRUE(p) << p.err().reason << " / " << p.err().detail;
  EXPECT_EQ(p->has_video, video);
  EXPECT_TRUE(p->has_audio);
  EXPECT_NEAR(p->duration, 2, 0.2);
  transcode_options opts = fast_options(2);
  opts.source = policy;
  auto t = run_transcode(path, opts);
  ASSERT_TRUE(t.out) << t.out.err().reason << " / " << t.out.err().detail;
  EXPECT_NEAR(total_duration(t.out->renditions.at(0)), 2, 0.2);
}

// ---------------------------------------------------------------------------
// containers that reference other resources

TEST(Source, HlsPlaylistNamedMp4IsRefused) {
  // The "video" is a playlist whose entries are a real local clip: a demuxer
  // that followed them would transcode that file and serve it.
  const std::string target = small_clip("ts");
  const std::string dir = make_temp_dir("hls");
  for (const std::string& entry : {"file://" + target, target}) {
    SCOPED_TRACE(entry);
    const std::string path = dir + "/holiday.mp4";
    write_text(path, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                     "#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n" +
                         entry + "\n#EXT-X-ENDLIST\n");
    // The ffmpeg CLI does follow it: the file is the attack it looks like.
    std::string out;
    ASSERT_EQ(run_command("ffprobe -v error -show_entries format=format_name,duration -of "
                          "default=nw=1 " +
                              shell_quote(path) + " 2>/dev/null",
                          &out),
              0);
    EXPECT_NE(out.find("format_name=hls"), std::string::npos) << out;
    EXPECT_NE(out.find("duration=2"), std::string::npos) << out;

    expect_refused_everywhere(path, open_policy{});
  }
}

TEST(Source, DashManifestIsRefused) {
  const std::string target = small_clip("mp4");
  const std::string path = make_temp_dir("dash") + "/holiday.mp4";
  write_text(path, "<?xml version=\"1.0\"?>\n"
                   "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
                   "mediaPresentationDuration=\"PT2S\" minBufferTime=\"PT2S\" "
                   "profiles=\"urn:mpeg:dash:profile:isoff-on-demand:2011\">\n"
                   " <Period><AdaptationSet mimeType=\"video/mp4\">\n"
                   "  <Representation id=\"0\" bandwidth=\"100000\" codecs=\"avc1.64000d\" "
                   "width=\"320\" height=\"240\">\n"
                   "   <BaseURL>file://" +
                       target +
                       "</BaseURL>\n"
                       "  </Representation></AdaptationSet></Period>\n</MPD>\n");
  expect_refused_everywhere(path, open_policy{});
}

TEST(Source, FfconcatListIsRefused) {
  const std::string target = small_clip("mp4");
  const std::string path = make_temp_dir("concat") + "/holiday.mp4";
  write_text(path, "ffconcat version 1.0\nfile '" + target + "'\nfile 'file://" + target + "'\n");
  expect_refused_everywhere(path, open_policy{});
}

TEST(Source, ImagesAreRefused) {
  // A JPEG named .mp4, and one named like an image2 sequence pattern.
  const std::string dir = make_temp_dir("image");
  const std::string jpeg = dir + "/img001.jpg";
  ASSERT_EQ(run_command("ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=320x240 "
                        "-frames:v 1 " +
                        shell_quote(jpeg) + " 2>&1"),
            0);
  const std::string as_mp4 = dir + "/photo.mp4";
  fs::copy_file(jpeg, as_mp4);
  const std::string pattern = dir + "/img%03d.jpg";
  fs::copy_file(jpeg, pattern);
  for (const std::string& path : {as_mp4, pattern, jpeg})
    expect_refused_everywhere(path, open_policy{});
}

// ---------------------------------------------------------------------------
// what is opened

TEST(Source, SymlinkAsTheInputIsRefused) {
  const std::string target = small_clip("mp4");
  const std::string dir = make_temp_dir("link");
  const std::string link = dir + "/holiday.mp4";
  fs::create_symlink(target, link);
  expect_refused_everywhere(link, open_policy{});
  expect_refused_everywhere(link, confined_to(dir));
  // A symlink to a directory, FIFO or not, is no better.
  fs::create_directory_symlink(dir, dir + "/loop.mp4");
  expect_refused_everywhere(dir + "/loop.mp4", open_policy{});
}

TEST(Source, PathOutsideTheConfinementRootIsRefused) {
  const std::string base = make_temp_dir("confine");
  const std::string root = base + "/sources", sibling = base + "/sources2";
  fs::create_directories(root);
  fs::create_directories(sibling);
  const std::string inside = root + "/clip.mp4", outside = sibling + "/clip.mp4";
  fs::copy_file(small_clip("mp4"), inside);
  fs::copy_file(small_clip("mp4"), outside);

  expect_accepted(inside, confined_to(root), true);
  expect_accepted(inside, confined_to(root + "/"), true);
  // "/…/sources2" starts with "/…/sources" but is not inside it.
  expect_refused_everywhere(outside, confined_to(root));
  // Nor does "..": the opened file is judged, not the spelling of its path.
  expect_refused_everywhere(root + "/../sources2/clip.mp4", confined_to(root));
  // The root itself may be reached through a link.
  fs::create_directory_symlink(root, base + "/via-link");
  expect_accepted(inside, confined_to(base + "/via-link"), true);
}

TEST(Source, SymlinkedDirectoryLeadingOutsideTheRootIsRefused) {
  const std::string base = make_temp_dir("confine");
  const std::string root = base + "/sources", elsewhere = base + "/elsewhere";
  fs::create_directories(root);
  fs::create_directories(elsewhere);
  fs::copy_file(small_clip("mp4"), elsewhere + "/clip.mp4");
  fs::create_directory_symlink(elsewhere, root + "/imported");
  const std::string path = root + "/imported/clip.mp4";
  // Links of the parents are followed; only the confinement refuses it.
  ASSERT_TRUE(probe(path, open_policy{})) << "unconfined, the parent link is fine";
  expect_refused_everywhere(path, confined_to(root));
}

TEST(Source, FileSwappedForASymlinkAfterImportIsRefused) {
  const std::string root = make_temp_dir("swap");
  const std::string path = root + "/clip.mp4";
  fs::copy_file(small_clip("mp4"), path);
  ASSERT_TRUE(probe(path, confined_to(root)));
  fs::remove(path);
  fs::create_symlink(small_clip("mp4"), path); // same content, outside the root
  expect_refused_everywhere(path, confined_to(root));
}

TEST(Source, NotAFileIsRefusedWithoutLeakingThePath) {
  const std::string dir = make_temp_dir("secret-place");
  const std::string folder = dir + "/holiday.mp4";
  fs::create_directories(folder);
  expect_refused_everywhere(folder, open_policy{});
  expect_refused_everywhere("/dev/null", open_policy{}); // a character device
  // Missing files are unreadable input, and say nothing of where they were.
  expect_refused_everywhere(dir + "/missing-holiday.mp4", open_policy{}, true);
  expect_refused_everywhere(dir + "/no-such-dir/holiday.mp4", open_policy{}, true);
}

TEST(Source, ConfinementRootMustBeUsable) {
  const std::string clip = small_clip("mp4");
  auto relative = probe(clip, confined_to("relative/dir"));
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.err().code, errc::internal);
  auto missing = probe(clip, confined_to(make_temp_dir("gone") + "/missing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, errc::io_error);
  EXPECT_EQ(missing.err().reason.find('/'), std::string::npos);
}

// ---------------------------------------------------------------------------
// what is still accepted

TEST(Source, PlainContainersAreAccepted) {
  for (const char* c : {"mp4", "mkv", "ts"})
    expect_accepted(small_clip(c), open_policy{}, true);
  for (const char* ext : {"mp3", "wav", "flac"})
    expect_accepted(tone(ext), open_policy{}, false);
  expect_accepted(make_clip(test::clip_audio_only(2)), open_policy{}, false); // .m4a
}

TEST(Source, FifoIsRead) {
  // A FIFO is not seekable: the source reads it straight through.
  std::signal(SIGPIPE, SIG_IGN); // a reader that stops early must not kill the writer
  const std::string dir = make_temp_dir("fifo");
  const std::string fifo = dir + "/upload.ts";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::ifstream in(small_clip("ts"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC); // waits for the reader
    if (fd < 0)
      return;
    for (size_t at = 0; at < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
      if (n <= 0)
        break;
      at += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  auto opts = confined(dir);
  opts.source.allow_fifo = true; // as for an upload's own original
  auto t = run_transcode(fifo, opts);
  writer.join();
  ASSERT_TRUE(t.out) << t.out.err().reason << " / " << t.out.err().detail;
  EXPECT_NEAR(total_duration(t.out->renditions.at(0)), 2, 0.2);
}

// A FIFO in a user's library (or anywhere a policy does not allow it) is
// refused at once, without waiting for a writer that may never come.
TEST(Source, FifoRefusedUnlessAllowedAndNeverBlocks) {
  const std::string dir = make_temp_dir("fifo-refused");
  const std::string fifo = dir + "/film.mp4";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto started = std::chrono::steady_clock::now();
  auto p = probe(fifo, confined_to(dir));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.err().code, errc::unsupported_media);
  auto t = run_transcode(fifo, confined(dir));
  ASSERT_FALSE(t.out);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

} // namespace
} // namespace hlsgate::media
