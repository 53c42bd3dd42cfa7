#include "auth/signed_url.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::auth;

namespace {
constexpr int64_t t_now = 1'700'000'000;
}

// nginx documentation, ngx_http_secure_link_module:
//   secure_link_md5 "$secure_link_expires$uri$remote_addr secret";
//   echo -n '2147483647/s/link127.0.0.1 secret' | openssl md5 -binary |
//     openssl base64 | tr +/ -_ | tr -d =
//   -> /s/link?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647
TEST(SignedUrl, NginxDocumentationExample) {
  const url_signer signer("secret");
  EXPECT_EQ(signer.sign("/s/link127.0.0.1", 2147483647), "_e4Nc3iduzkWRm01TBBNYw");
  EXPECT_EQ(signer.verify("/s/link127.0.0.1", "_e4Nc3iduzkWRm01TBBNYw", "2147483647", t_now),
            signature_check::ok);
}

TEST(SignedUrl, AppendQuery) {
  const url_signer signer("secret");
  std::string q = "?";
  signer.append_query("/s/link127.0.0.1", 2147483647, q);
  EXPECT_EQ(q, "?md5=_e4Nc3iduzkWRm01TBBNYw&expires=2147483647");
}

TEST(SignedUrl, VerifyOkBadExpired) {
  const url_signer signer("k3y");
  const std::string prefix = "/seg/abcdefghijklmnopqrstuv/";
  const std::string sig = signer.sign(prefix, t_now + 60);
  ASSERT_EQ(sig.size(), 22u);
  EXPECT_EQ(signer.verify(prefix, sig, std::to_string(t_now + 60), t_now), signature_check::ok);

  // Bad signature.
  std::string bad = sig;
  bad[3] = bad[3] == 'x' ? 'y' : 'x';
  EXPECT_EQ(signer.verify(prefix, bad, std::to_string(t_now + 60), t_now), signature_check::bad);

  // Expired: valid signature, deadline reached.
  const std::string old_sig = signer.sign(prefix, t_now);
  EXPECT_EQ(signer.verify(prefix, old_sig, std::to_string(t_now), t_now), signature_check::expired);
  EXPECT_EQ(signer.verify(prefix, old_sig, std::to_string(t_now), t_now - 1), signature_check::ok);

  // A forged (extended) expiry is a bad signature, not an expired one.
  EXPECT_EQ(signer.verify(prefix, old_sig, std::to_string(t_now + 3600), t_now),
            signature_check::bad);
  EXPECT_EQ(signer.verify(prefix, sig, std::to_string(t_now - 60), t_now), signature_check::bad);

  // Other prefix or other secret.
  EXPECT_EQ(signer.verify("/seg/abcdefghijklmnopqrstuw/", sig, std::to_string(t_now + 60), t_now),
            signature_check::bad);
  EXPECT_EQ(url_signer("other").verify(prefix, sig, std::to_string(t_now + 60), t_now),
            signature_check::bad);
}

TEST(SignedUrl, JunkExpires) {
  const url_signer signer("k3y");
  const std::string prefix = "/seg/x/";
  const std::string sig = signer.sign(prefix, t_now + 60);
  for (const char* e : {"", "-1", "+1700000060", " 1700000060", "1700000060 ", "1700000060x",
                        "0x6553f10c", "1.7e9", "99999999999999999999", "9223372036854775808"})
    EXPECT_EQ(signer.verify(prefix, sig, e, t_now), signature_check::bad) << e;
  // The largest int64 parses (and is signed as such).
  const std::string max_sig = signer.sign(prefix, INT64_MAX);
  EXPECT_EQ(signer.verify(prefix, max_sig, "9223372036854775807", t_now), signature_check::ok);
  // Leading zeros are a different string, hence a different signature (as in nginx).
  EXPECT_EQ(signer.verify(prefix, sig, "0" + std::to_string(t_now + 60), t_now),
            signature_check::bad);
}

TEST(SignedUrl, WrongMd5Shape) {
  const url_signer signer("k3y");
  const std::string prefix = "/seg/x/";
  const std::string sig = signer.sign(prefix, t_now + 60);
  const std::string exp = std::to_string(t_now + 60);
  EXPECT_EQ(signer.verify(prefix, "", exp, t_now), signature_check::bad);
  EXPECT_EQ(signer.verify(prefix, sig.substr(0, 21), exp, t_now), signature_check::bad);
  EXPECT_EQ(signer.verify(prefix, sig + "A", exp, t_now), signature_check::bad);
  EXPECT_EQ(signer.verify(prefix, sig + "==", exp, t_now), signature_check::bad);
  std::string plus = sig;
  plus[0] = '+';
  EXPECT_EQ(signer.verify(prefix, plus, exp, t_now), signature_check::bad);
}

TEST(SignedUrl, SecretAccessor) {
  EXPECT_EQ(url_signer("abc").secret(), "abc");
}

// The revocation handle is part of what is signed: a URL signed for one
// token cannot be given another token's handle.
TEST(SignedUrl, HandleIsSigned) {
  url_signer signer{"edge-key"};
  const std::string prefix = "/seg/abcdefghijklmnopqrstuv/";
  std::string q;
  signer.append_query(prefix, t_now + 60, "3.jtiA", q);
  const auto sig = q.substr(4, 22);
  EXPECT_EQ(q, "md5=" + sig + "&expires=" + std::to_string(t_now + 60) + "&r=3.jtiA");
  EXPECT_EQ(signer.sign(prefix, t_now + 60, "3.jtiA"), sig);
  const auto exp = std::to_string(t_now + 60);
  EXPECT_EQ(signer.verify(prefix, sig, exp, "3.jtiA", t_now), signature_check::ok);
  EXPECT_EQ(signer.verify(prefix, sig, exp, "3.jtiB", t_now), signature_check::bad);
  EXPECT_EQ(signer.verify(prefix, sig, exp, "4.jtiA", t_now), signature_check::bad);
  EXPECT_EQ(signer.verify(prefix, sig, exp, "", t_now), signature_check::bad);
  // The nginx formula with the handle appended to the prefix, computed
  // independently: MD5("{expires}{prefix}{handle} {secret}").
  EXPECT_EQ(signer.sign(prefix + "3.jtiA", t_now + 60), sig);
}

TEST(SignedUrl, BucketedExpiry) {
  EXPECT_EQ(bucketed_expiry(0, 10'000, 3600), 10'800) << "no token expiry: the media's deadline";
  EXPECT_EQ(bucketed_expiry(7'300, 10'000, 3600), 10'800) << "the earlier, rounded up";
  EXPECT_EQ(bucketed_expiry(12'000, 10'000, 3600), 10'800);
  EXPECT_EQ(bucketed_expiry(0, 7'200, 3600), 7'200) << "on a boundary already";
  EXPECT_EQ(bucketed_expiry(3'599, 100'000, 3600), 3'600);
  EXPECT_EQ(bucketed_expiry(0, 10'000, 0), 10'000);
  // Every moment of one bucket gives the same expiry.
  for (int64_t d = 3'601; d <= 7'200; d += 97)
    EXPECT_EQ(bucketed_expiry(0, d, 3600), 7'200) << d;
}
