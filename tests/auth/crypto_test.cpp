#include "auth/crypto.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

using namespace hlsgate::auth;

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

template <size_t N> std::string hex(const std::array<unsigned char, N>& a) {
  return hex(a.data(), a.size());
}

} // namespace

// RFC 4648 §10 vectors; the url alphabet only differs in '+/' -> '-_', and
// encoding drops the padding.
TEST(Base64Url, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, enc] : vectors) {
    EXPECT_EQ(base64url_encode(plain), enc) << plain;
    std::string out;
    ASSERT_TRUE(base64url_decode(enc, out)) << enc;
    EXPECT_EQ(out, plain);
  }
}

// JWS (RFC 7515 §2) uses base64url without padding: a padded form is a
// second spelling of the same bytes, so it is refused.
TEST(Base64Url, RejectsPadding) {
  std::string out;
  EXPECT_FALSE(base64url_decode("Zg==", out));
  EXPECT_FALSE(base64url_decode("Zm8=", out));
  EXPECT_FALSE(base64url_decode("Zm9vYmE=", out));
  EXPECT_TRUE(out.empty());
}

TEST(Base64Url, UrlAlphabet) {
  const std::string bytes("\xfb\xff\xbf\xfe", 4);
  EXPECT_EQ(base64url_encode(bytes), "-_-__g");
  std::string out;
  ASSERT_TRUE(base64url_decode("-_-__g", out));
  EXPECT_EQ(out, bytes);
  // The standard alphabet's '+' and '/' are not url-safe characters.
  EXPECT_FALSE(base64url_decode("+/+//g", out));
}

TEST(Base64Url, RejectsInvalid) {
  std::string out;
  EXPECT_FALSE(base64url_decode("Zm9v!", out));
  EXPECT_FALSE(base64url_decode("Zm 9v", out));
  EXPECT_FALSE(base64url_decode("Z", out));     // impossible length
  EXPECT_FALSE(base64url_decode("Zg=", out));   // bad padding
  EXPECT_FALSE(base64url_decode("Zg===", out)); // too much padding
  EXPECT_FALSE(base64url_decode("Zm9v=", out)); // padding not needed
  EXPECT_FALSE(base64url_decode("Z=g=", out));  // padding in the middle
  EXPECT_FALSE(base64url_decode("Zh", out));    // non-zero trailing bits
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4), out));
}

TEST(Base64Url, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    const std::string enc = base64url_encode(bytes);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    std::string dec;
    ASSERT_TRUE(base64url_decode(enc, dec)) << i;
    EXPECT_EQ(dec, bytes);
    bytes.push_back(static_cast<char>(i * 37 + 11));
  }
}

TEST(Base64Url, AppendingEncoder) {
  std::string out = "x=";
  base64url_encode("foobar", out);
  EXPECT_EQ(out, "x=Zm9vYmFy");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex(md5("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(hex(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex(md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(hex(md5("abcdefghijklmnopqrstuvwxyz")), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(hex(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(hex(md5("1234567890123456789012345678901234567890123456789012345678901234567890123456"
                    "7890")),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(ConstantTimeEqual, Cases) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "xbc"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(Random, IdLengthCharsetUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = random_id();
    ASSERT_EQ(id.size(), 22u);
    ASSERT_EQ(
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << id;
    std::string raw;
    ASSERT_TRUE(base64url_decode(id, raw));
    EXPECT_EQ(raw.size(), 16u);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Random, Bytes) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

// RFC 4231 §4.3, test case 2.
TEST(HmacSha256, Rfc4231Case2) {
  const hmac_sha256 mac("Jefe");
  EXPECT_EQ(hex(mac.sign("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // The keyed context is reusable: same answer again.
  EXPECT_EQ(hex(mac.sign("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231 §4.7, test case 6: a key longer than the block size.
TEST(HmacSha256, Rfc4231Case6LongKey) {
  const hmac_sha256 mac(std::string(131, '\xaa'));
  EXPECT_EQ(hex(mac.sign("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, EmptyKey) {
  // HMAC-SHA256("", "") — a well-known value.
  const hmac_sha256 mac("");
  EXPECT_EQ(hex(mac.sign("")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256, ConcurrentSign) {
  const hmac_sha256 mac("Jefe");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (hex(mac.sign("what do ya want for nothing?")) !=
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
          ++wrong;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
}
