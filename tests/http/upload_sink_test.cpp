// upload_sink: the media part lands in an owner-only temp file; every
// failure leaves the folder empty.
#include "http/upload_sink.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace hlsgate::http;
namespace fs = std::filesystem;

namespace {

std::string part(const std::string& name, const std::string& data,
                 const std::string& filename = "clip.mp4") {
  return "--b\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
         "\"\r\n\r\n" + data + "\r\n";
}
const std::string k_end = "--b--\r\n";

class upload_sink_test : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hlsgate-sink-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t entries() const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_))
      ++n;
    return n;
  }
  /// Feeds `body` in pieces of `step` bytes.
  static bool feed(upload_sink& s, const std::string& body, size_t step) {
    for (size_t off = 0; off < body.size(); off += step)
      if (!s.feed(std::string_view(body).substr(off, step)))
        return false;
    return true;
  }
  fs::path dir_;
};

} // namespace

TEST_F(upload_sink_test, media_part_is_stored_owner_only) {
  const std::string data = "binary\r\n--not-the-boundary\r\n\0data";
  for (size_t step : {1u, 7u, 4096u}) {
    upload_sink s(dir_.string(), "b", 1 << 20);
    ASSERT_TRUE(feed(s, part("title", "hello") + part("media", data) + k_end, step));
    ASSERT_TRUE(s.finish());
    EXPECT_EQ(s.bytes(), data.size());
    EXPECT_EQ(s.filename(), "clip.mp4");
    const std::string path = s.release();
    ASSERT_FALSE(path.empty());
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), data);
    fs::remove(path);
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(upload_sink_test, released_file_survives_the_sink) {
  std::string path;
  {
    upload_sink s(dir_.string(), "b", 1 << 20);
    ASSERT_TRUE(s.feed(part("media", "x") + k_end));
    ASSERT_TRUE(s.finish());
    path = s.release();
  }
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(upload_sink_test, failures_leave_nothing) {
  { // too large while streaming
    upload_sink s(dir_.string(), "b", 100);
    EXPECT_FALSE(s.feed(part("media", std::string(200, 'x')) + k_end));
    EXPECT_EQ(s.status(), 413u);
    EXPECT_EQ(entries(), 0u);
  }
  { // truncated
    upload_sink s(dir_.string(), "b", 1 << 20);
    ASSERT_TRUE(s.feed("--b\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\nabc"));
    EXPECT_EQ(entries(), 1u);
    EXPECT_FALSE(s.finish());
    EXPECT_EQ(s.status(), 400u);
    EXPECT_EQ(entries(), 0u);
  }
  { // no media part
    upload_sink s(dir_.string(), "b", 1 << 20);
    ASSERT_TRUE(s.feed(part("file", "abc") + k_end));
    EXPECT_FALSE(s.finish());
    EXPECT_EQ(s.status(), 422u);
    EXPECT_EQ(s.detail(), "Missing form field 'media'");
  }
  { // malformed
    upload_sink s(dir_.string(), "b", 1 << 20);
    EXPECT_FALSE(s.feed("--b\r\nno colon here\r\n\r\n"));
    EXPECT_EQ(s.status(), 400u);
  }
  { // too many parts
    upload_sink s(dir_.string(), "b", 1 << 20);
    std::string body;
    for (unsigned i = 0; i <= upload_sink::max_parts; ++i)
      body += part("f" + std::to_string(i), "v");
    EXPECT_FALSE(s.feed(body + k_end));
    EXPECT_EQ(s.status(), 400u);
  }
  { // abandoned mid-body: the destructor removes the file
    upload_sink s(dir_.string(), "b", 1 << 20);
    ASSERT_TRUE(s.feed("--b\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\nabc"));
    EXPECT_EQ(entries(), 1u);
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(upload_sink_test, unwritable_folder_is_500) {
  upload_sink s((dir_ / "missing").string(), "b", 1 << 20);
  EXPECT_FALSE(s.feed(part("media", "abc") + k_end));
  EXPECT_EQ(s.status(), 500u);
  EXPECT_EQ(s.detail(), "Cannot store upload"); // no path in the detail
}
