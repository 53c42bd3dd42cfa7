// proxy::reference_codec: opaque references that open only for the stream
// they were sealed for, untampered and before they expire.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "auth/crypto.hpp"
#include "proxy/reference.hpp"

namespace hlsgate::proxy {
namespace {

const std::string key(32, 'k');
constexpr int64_t now = 1'700'000'000;

ref_payload sample() {
  ref_payload p;
  p.kind = ref_kind::key;
  p.expires = now + 600;
  p.client = "client-0123456789";
  p.url = "https://up.example:8443/live/ch1/keys/k1.bin?token=secret";
  return p;
}

void expect_same(const ref_payload& a, const ref_payload& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.expires, b.expires);
  EXPECT_EQ(a.client, b.client);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.range_first, b.range_first);
  EXPECT_EQ(a.range_last, b.range_last);
}

TEST(proxy_reference, a_byte_range_is_sealed_with_its_url) {
  const reference_codec codec{key};
  ref_payload p = sample();
  p.range_first = 720;
  p.range_last = 1719;
  ref_payload out;
  ASSERT_TRUE(codec.open("stream-1", codec.seal("stream-1", p), now, out));
  expect_same(out, p);
  // The whole resource: no range comes back, even into a reused payload.
  ASSERT_TRUE(codec.open("stream-1", codec.seal("stream-1", sample()), now, out));
  EXPECT_EQ(out.range_first, -1);
  EXPECT_EQ(out.range_last, -1);
  p.range_last = 10; // ends before it starts
  EXPECT_THROW(codec.seal("s", p), std::invalid_argument);
}

TEST(proxy_reference, round_trip_opaque_and_url_safe) {
  const reference_codec codec{key};
  const auto ref = codec.seal("stream-1", sample());
  for (char c : ref)
    EXPECT_TRUE(auth::is_base64url_char(c)) << c;
  EXPECT_EQ(ref.find("up.example"), std::string::npos);
  std::string raw;
  ASSERT_TRUE(auth::base64url_decode(ref, raw));
  EXPECT_EQ(raw.find("up.example"), std::string::npos) << "the URL is encrypted";
  EXPECT_EQ(raw.size(), 12 + 13 + sample().client.size() + sample().url.size() + 16);

  ref_payload out;
  ASSERT_TRUE(codec.open("stream-1", ref, now, out));
  expect_same(out, sample());

  for (ref_kind k : {ref_kind::playlist, ref_kind::segment, ref_kind::key, ref_kind::map}) {
    ref_payload p = sample();
    p.kind = k;
    ASSERT_TRUE(codec.open("s", codec.seal("s", p), now, out));
    EXPECT_EQ(out.kind, k);
  }
}

TEST(proxy_reference, bounds_of_the_payload) {
  const reference_codec codec{key};
  ref_payload p = sample();
  p.client.clear();
  p.url = "https://u.example" + std::string(4096 - 17, 'a');
  p.client = std::string(64, 'c');
  p.expires = INT64_MAX;
  const auto ref = codec.seal("", p);
  EXPECT_LE(ref.size(), reference_codec::max_ref);
  ref_payload out;
  ASSERT_TRUE(codec.open("", ref, now, out)) << "empty stream id, biggest payload";
  expect_same(out, p);

  p.expires = -5;
  ASSERT_TRUE(codec.open("x", codec.seal("x", p), -6, out));
  EXPECT_EQ(out.expires, -5);

  ref_payload big = sample();
  big.url += std::string(4097, 'a');
  EXPECT_THROW(codec.seal("s", big), std::invalid_argument);
  ref_payload long_client = sample();
  long_client.client.assign(65, 'c');
  EXPECT_THROW(codec.seal("s", long_client), std::invalid_argument);
  ref_payload bad_kind = sample();
  bad_kind.kind = static_cast<ref_kind>(4);
  EXPECT_THROW(codec.seal("s", bad_kind), std::invalid_argument);
  EXPECT_THROW(codec.seal(std::string_view("a\0b", 3), sample()), std::invalid_argument);
}

TEST(proxy_reference, keys_must_be_32_bytes) {
  EXPECT_THROW(reference_codec{std::string(31, 'k')}, std::invalid_argument);
  EXPECT_THROW(reference_codec{std::string(33, 'k')}, std::invalid_argument);
  EXPECT_THROW(reference_codec{""}, std::invalid_argument);
  const reference_codec a{key}, b{std::string(31, 'k') + "j"};
  ref_payload out;
  EXPECT_FALSE(b.open("s", a.seal("s", sample()), now, out)) << "another key";
}

TEST(proxy_reference, deterministic_per_payload) {
  const reference_codec codec{key};
  const auto a = codec.seal("s", sample());
  EXPECT_EQ(codec.seal("s", sample()), a) << "same payload, same reference";
  EXPECT_EQ(reference_codec{key}.seal("s", sample()), a) << "and across instances";
  ref_payload p = sample();
  p.expires += 1;
  const auto b = codec.seal("s", p);
  EXPECT_NE(b, a);
  EXPECT_NE(b.substr(0, 16), a.substr(0, 16)) << "a different nonce";
  EXPECT_NE(codec.seal("t", sample()).substr(0, 16), a.substr(0, 16)) << "per stream too";
  p = sample();
  p.client = "other";
  EXPECT_NE(codec.seal("s", p), a);
}

TEST(proxy_reference, tampering_anywhere_is_refused) {
  const reference_codec codec{key};
  const auto ref = codec.seal("stream-1", sample());
  ref_payload out;
  for (size_t i = 0; i < ref.size(); ++i) {
    std::string t = ref;
    // Another alphabet character at position i.
    const char* c = std::char_traits<char>::find(auth::base64url_alphabet, 64, t[i]);
    ASSERT_NE(c, nullptr);
    t[i] = auth::base64url_alphabet[(c - auth::base64url_alphabet + 1 + i % 63) % 64];
    EXPECT_FALSE(codec.open("stream-1", t, now, out)) << "position " << i;
  }
  // Bit flips in the decoded bytes, every byte.
  std::string raw;
  ASSERT_TRUE(auth::base64url_decode(ref, raw));
  for (size_t i = 0; i < raw.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string t = raw;
      t[i] = static_cast<char>(t[i] ^ (1 << bit));
      EXPECT_FALSE(codec.open("stream-1", auth::base64url_encode(t), now, out)) << i;
    }
  }
  // Truncated and extended.
  for (size_t n = 0; n < ref.size(); n += 3)
    EXPECT_FALSE(codec.open("stream-1", ref.substr(0, n), now, out)) << n;
  EXPECT_FALSE(codec.open("stream-1", ref + "A", now, out));
  EXPECT_FALSE(codec.open("stream-1", ref + "AAAA", now, out));
  EXPECT_FALSE(codec.open("stream-1", ref + "=", now, out));
  EXPECT_FALSE(codec.open("stream-1", "", now, out));
  EXPECT_FALSE(codec.open("stream-1", std::string(9000, 'A'), now, out));
  ASSERT_TRUE(codec.open("stream-1", ref, now, out)) << "the original still opens";
}

TEST(proxy_reference, another_stream_is_refused) {
  const reference_codec codec{key};
  const auto ref = codec.seal("stream-1", sample());
  ref_payload out;
  out.url = "untouched";
  EXPECT_FALSE(codec.open("stream-2", ref, now, out));
  EXPECT_FALSE(codec.open("stream-", ref, now, out));
  EXPECT_FALSE(codec.open("stream-1 ", ref, now, out));
  EXPECT_FALSE(codec.open("", ref, now, out));
  EXPECT_FALSE(codec.open(std::string_view("stream-1\0", 9), ref, now, out));
  EXPECT_EQ(out.url, "untouched") << "out is written only on success";
}

TEST(proxy_reference, expired_is_refused) {
  const reference_codec codec{key};
  const auto ref = codec.seal("s", sample());
  ref_payload out;
  EXPECT_TRUE(codec.open("s", ref, sample().expires - 1, out));
  EXPECT_FALSE(codec.open("s", ref, sample().expires, out));
  EXPECT_FALSE(codec.open("s", ref, sample().expires + 3600, out));
}

} // namespace
} // namespace hlsgate::proxy
