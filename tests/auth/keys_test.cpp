#include "auth/keys.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "auth/crypto.hpp"

using namespace hlsgate::auth;
namespace fs = std::filesystem;

namespace {

std::string hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string{h.substr(i, 2)}, nullptr, 16)));
  return out;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/hlsgate-keys-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_mode & 07777;
}

} // namespace

// RFC 5869 Appendix A.1 (basic test case with SHA-256).
TEST(Hkdf, Rfc5869TestCase1) {
  const auto okm =
      hkdf_sha256(unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                  unhex("000102030405060708090a0b0c"), unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  EXPECT_EQ(hex(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5"
                      "b887185865");
}

TEST(Keys, DistinctAndStable) {
  const std::string master(40, 'm');
  const auto a = derive_keys(master);
  const auto b = derive_keys(master);
  EXPECT_EQ(a.jwt, b.jwt);
  EXPECT_EQ(a.edge, b.edge);
  EXPECT_EQ(a.jwt.size(), 32u);
  EXPECT_EQ(a.edge.size(), 43u); // base64url of 32 bytes: printable, fits an nginx config
  EXPECT_NE(a.jwt, master);
  EXPECT_NE(a.edge, master);
  EXPECT_NE(base64url_encode(a.jwt), a.edge);
  EXPECT_EQ(
      a.edge.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  const auto other = derive_keys(std::string(40, 'n'));
  EXPECT_NE(other.jwt, a.jwt);
  EXPECT_NE(other.edge, a.edge);
  const auto overridden = derive_keys(master, "an-edge-secret-set-by-the-operator!!");
  EXPECT_EQ(overridden.jwt, a.jwt);
  EXPECT_EQ(overridden.edge, "an-edge-secret-set-by-the-operator!!");
  EXPECT_EQ(a.rtmp.size(), 32u);
  EXPECT_EQ(overridden.rtmp, a.rtmp);
  EXPECT_NE(a.rtmp, a.jwt);
  EXPECT_NE(other.rtmp, a.rtmp);
}

TEST(Keys, RtmpStreamNamesAreKeyedAndStable) {
  const auto k = derive_keys(std::string(40, 'm')).rtmp;
  const auto name = rtmp_stream_name(k, "live-abc", "h1");
  ASSERT_EQ(name.size(), std::string{"live-abc_"}.size() + 22);
  EXPECT_EQ(name.rfind("live-abc_", 0), 0u);
  EXPECT_EQ(
      name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 9),
      std::string::npos);
  EXPECT_EQ(rtmp_stream_name(k, "live-abc", "h1"), name);
  EXPECT_NE(rtmp_stream_name(k, "live-abd", "h1").substr(9), name.substr(9));
  EXPECT_NE(rtmp_stream_name(k, "live-abc", "h2"), name); // a new stream key, a new name
  EXPECT_NE(rtmp_stream_name(derive_keys(std::string(40, 'n')).rtmp, "live-abc", "h1"), name);
}

TEST(SecretFile, CreatedOwnerOnlyThenReloaded) {
  temp_dir d;
  const auto path = (d.path / "secret.key").string();
  auto first = load_or_create_secret(path);
  ASSERT_EQ(first.error, "");
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.secret.size(), 43u);
  EXPECT_EQ(mode_of(path), 0600u);
  auto again = load_or_create_secret(path);
  ASSERT_EQ(again.error, "");
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.secret, first.secret);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(SecretFile, RefusesReadableByOthers) {
  temp_dir d;
  const auto path = (d.path / "secret.key").string();
  ASSERT_EQ(load_or_create_secret(path).error, "");
  const auto before = load_or_create_secret(path).secret;
  for (mode_t m : {0640, 0604, 0660, 0602}) {
    ASSERT_EQ(::chmod(path.c_str(), m), 0);
    auto r = load_or_create_secret(path);
    EXPECT_NE(r.error.find("group or others"), std::string::npos) << std::oct << m;
    EXPECT_EQ(r.secret, "");
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(load_or_create_secret(path).secret, before) << "the secret was replaced";
}

TEST(SecretFile, RefusesMalformedInsteadOfReplacing) {
  temp_dir d;
  const auto path = (d.path / "secret.key").string();
  for (const char* content : {"", "\n", "short\n", "has spaces in it but is long enough.....\n",
                              "two\nlines-that-are-long-enough-together-xxxxxxxxxxxx\n"}) {
    {
      std::ofstream out{path, std::ios::trunc};
      out << content;
    }
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    auto r = load_or_create_secret(path);
    EXPECT_NE(r.error.find("malformed"), std::string::npos) << content;
    std::ifstream in{path};
    std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(kept, content) << "the file was rewritten";
  }
}

TEST(SecretFile, RefusesSymlink) {
  temp_dir d;
  const auto real = (d.path / "elsewhere").string();
  ASSERT_EQ(load_or_create_secret(real).error, "");
  const auto link = (d.path / "secret.key").string();
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  auto r = load_or_create_secret(link);
  EXPECT_NE(r.error, "");
  EXPECT_EQ(r.secret, "");
}

TEST(KeyFile, WrittenWithItsModeAndReplacedWhole) {
  temp_dir d;
  const auto path = (d.path / "edge.key").string();
  ASSERT_TRUE(write_key_file(path, "first-key", 0640));
  EXPECT_EQ(mode_of(path), 0640u);
  std::ifstream in{path};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  EXPECT_EQ(text, "first-key\n");
  // A stale temporary file, even a symbolic link, never redirects the write.
  const fs::path elsewhere = d.path / "elsewhere";
  fs::create_symlink(elsewhere, path + ".tmp");
  ASSERT_TRUE(write_key_file(path, "second-key", 0640));
  std::ifstream again{path};
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>{again}, {}), "second-key\n");
  EXPECT_FALSE(fs::exists(elsewhere));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_FALSE(write_key_file((d.path / "missing" / "edge.key").string(), "k", 0640));
}
