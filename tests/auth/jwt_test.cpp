#include "auth/jwt.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::auth;

namespace {

constexpr int64_t now = 1'700'000'000;

token_claims sample_claims() {
  token_claims c;
  c.sub = "AbCdEfGhIjKlMnOpQrStUv";
  c.gen = 3;
  c.jti = "t0k3n1d";
  c.iat = now;
  c.exp = now + 3600;
  c.typ = "access";
  return c;
}

std::string b64(std::string_view s) {
  return base64url_encode(s);
}

/// A token with an arbitrary header and payload, signed HS256 with `secret`.
std::string hs256(std::string_view header_json, std::string_view payload_json,
                  std::string_view secret) {
  std::string t = b64(header_json) + "." + b64(payload_json);
  const auto sig = hmac_sha256(secret).sign(t);
  return t + "." + b64(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

constexpr const char* hdr = R"({"alg":"HS256","typ":"JWT"})";
constexpr const char* good_payload =
    R"({"sub":"m1","gen":1,"iat":1700000000,"exp":1700003600,"typ":"access"})";

struct Jwt : ::testing::Test {
  jwt_codec codec{"test-secret"};

  token_error verify_error(std::string_view token) {
    token_claims out;
    token_error err{};
    EXPECT_FALSE(codec.verify(token, now, out, err)) << token;
    return err;
  }
};

} // namespace

TEST_F(Jwt, RoundTrip) {
  const auto claims = sample_claims();
  const std::string token = codec.issue(claims);
  EXPECT_EQ(token.rfind("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 0), 0u); // our exact header
  token_claims out;
  token_error err{};
  ASSERT_TRUE(codec.verify(token, now, out, err)) << to_string(err);
  EXPECT_EQ(out.sub, claims.sub);
  EXPECT_EQ(out.gen, claims.gen);
  EXPECT_EQ(out.iat, claims.iat);
  EXPECT_EQ(out.exp, claims.exp);
  EXPECT_EQ(out.typ, claims.typ);
}

TEST_F(Jwt, PayloadIsTheClaimsJson) {
  const std::string token = codec.issue(sample_claims());
  const size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::string payload;
  ASSERT_TRUE(base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload));
  EXPECT_EQ(payload, R"({"sub":"AbCdEfGhIjKlMnOpQrStUv","gen":3,"jti":"t0k3n1d","iat":1700000000,)"
                     R"("exp":1700003600,"typ":"access"})");
}

// A token minted without a lifetime of its own lives as long as its media:
// it carries no exp claim at all (the media's deadline is checked on use).
TEST_F(Jwt, TokenWithoutExpiry) {
  auto c = sample_claims();
  c.exp = 0;
  const std::string token = codec.issue(c);
  const size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::string payload;
  ASSERT_TRUE(base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload));
  EXPECT_EQ(payload.find("exp"), std::string::npos) << payload;
  token_claims out;
  out.exp = 42; // a previous value must not survive
  token_error err{};
  ASSERT_TRUE(codec.verify(token, now + 10 * 365 * 86400, out, err)) << to_string(err);
  EXPECT_EQ(out.exp, 0);
  EXPECT_EQ(out.jti, "t0k3n1d");
  // The general parser agrees with the fast path.
  ASSERT_TRUE(codec.verify(
      hs256(hdr, R"({"typ":"access","jti":"j","iat":1,"gen":1,"sub":"m1"})", "test-secret"), now,
      out, err));
  EXPECT_EQ(out.exp, 0);
  EXPECT_EQ(out.jti, "j");
}

TEST_F(Jwt, LargeValues) {
  auto c = sample_claims();
  c.gen = UINT64_MAX;
  c.exp = INT64_MAX;
  c.iat = -5;
  token_claims out;
  token_error err{};
  ASSERT_TRUE(codec.verify(codec.issue(c), now, out, err)) << to_string(err);
  EXPECT_EQ(out.gen, UINT64_MAX);
  EXPECT_EQ(out.exp, INT64_MAX);
  EXPECT_EQ(out.iat, -5);
  c.iat = INT64_MIN;
  c.gen = 0;
  c.sub = "with \"quotes\" and \\ and caf\xc3\xa9";
  ASSERT_TRUE(codec.verify(codec.issue(c), now, out, err)) << to_string(err);
  EXPECT_EQ(out.iat, INT64_MIN);
  EXPECT_EQ(out.gen, 0u);
  EXPECT_EQ(out.sub, c.sub);
}

TEST_F(Jwt, TamperedPayload) {
  const std::string token = codec.issue(sample_claims());
  const size_t d1 = token.find('.'), d2 = token.rfind('.');
  auto c = sample_claims();
  c.gen = 4;
  const std::string other = codec.issue(c);
  const std::string forged =
      token.substr(0, d1 + 1) + other.substr(d1 + 1, other.rfind('.') - d1 - 1) + token.substr(d2);
  EXPECT_EQ(verify_error(forged), token_error::bad_signature);
}

TEST_F(Jwt, TamperedSignature) {
  std::string token = codec.issue(sample_claims());
  const size_t i = token.rfind('.') + 5;
  token[i] = token[i] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_error(token), token_error::bad_signature);
  // Truncated or extended signatures do not match either.
  const std::string good = codec.issue(sample_claims());
  EXPECT_EQ(verify_error(good.substr(0, good.size() - 3)), token_error::bad_signature);
  EXPECT_EQ(verify_error(good + "AAAA"), token_error::bad_signature);
  EXPECT_EQ(verify_error(good.substr(0, good.rfind('.') + 1)), token_error::bad_signature);
}

TEST_F(Jwt, Expired) {
  auto c = sample_claims();
  c.exp = now;
  EXPECT_EQ(verify_error(codec.issue(c)), token_error::expired);
  c.exp = now - 1;
  EXPECT_EQ(verify_error(codec.issue(c)), token_error::expired);
  c.exp = now + 1;
  token_claims out;
  token_error err{};
  EXPECT_TRUE(codec.verify(codec.issue(c), now, out, err));
}

TEST_F(Jwt, AlgNoneRejected) {
  const std::string token = b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(good_payload) + ".";
  EXPECT_EQ(verify_error(token), token_error::bad_algorithm);
  // Even with a valid HS256 signature over that header.
  EXPECT_EQ(verify_error(hs256(R"({"alg":"none"})", good_payload, "test-secret")),
            token_error::bad_algorithm);
}

TEST_F(Jwt, OtherAlgorithmsRejected) {
  for (const char* h :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"hs256","typ":"JWT"})", R"({"alg":"RS256"})",
        R"({"alg":"HS256 "})", R"({"typ":"JWT"})", R"({"alg":null})", R"({"alg":256})",
        R"({"alg":["HS256"]})", R"({"x":{"alg":"HS256"}})"})
    EXPECT_EQ(verify_error(hs256(h, good_payload, "test-secret")), token_error::bad_algorithm) << h;
  // A real HS512 token (openssl dgst -sha512 -hmac interop-secret).
  EXPECT_EQ(verify_error("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."
                         "eyJ0eXAiOiJhY2Nlc3MiLCJzdWIiOiJtZWRpYS1hYmMiLCJnZW4iOjcsImlhdCI6MTcwMDAw"
                         "MDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ."
                         "W1PhBYpkwR96TRe75rzMfsWv7szmHKJ-CRIQFrZ51YsOVRNJCFRjkwJSmi9iUGD0bF9R0mUO"
                         "p0lsdzra0UCDRQ"),
            token_error::bad_algorithm);
}

TEST_F(Jwt, HeaderVariantsWithHs256Accepted) {
  token_claims out;
  token_error err{};
  EXPECT_TRUE(codec.verify(hs256(R"({"typ":"JWT","alg":"HS256"})", good_payload, "test-secret"),
                           now, out, err));
  EXPECT_TRUE(
      codec.verify(hs256(R"({"alg":"HS256"})", good_payload, "test-secret"), now, out, err));
  EXPECT_TRUE(codec.verify(
      hs256(R"( {"alg":"HS256","kid":{"a":[1,2]}} )", good_payload, "test-secret"), now, out, err));
}

TEST_F(Jwt, OtherSecret) {
  const jwt_codec other("another-secret");
  EXPECT_EQ(verify_error(other.issue(sample_claims())), token_error::bad_signature);
}

TEST_F(Jwt, Malformed) {
  const std::string good = codec.issue(sample_claims());
  for (const std::string& t : {
           std::string(""),
           std::string("abc"),
           std::string("."),
           std::string(".."),
           std::string("..."),
           std::string("a.b"),
           good.substr(0, good.rfind('.')),              // two parts
           good + ".x",                                  // four parts
           std::string("e!J.e30.AAAA"),                  // bad base64 in the header
           "!!!" + good.substr(good.find('.')),          // bad base64 header
           good.substr(0, good.rfind('.') + 1) + "A+/=", // bad base64 signature
           b64("not json") + "." + b64(good_payload) + ".",
           b64(R"(["alg","HS256"])") + "." + b64(good_payload) + ".",
           b64(R"({"alg":"HS256","alg":"HS256"})") + "." + b64(good_payload) + ".",
       })
    EXPECT_EQ(verify_error(t), token_error::malformed) << t;
}

TEST_F(Jwt, MalformedPayloads) {
  for (const char* p : {
           "not json",
           "",
           "[]",
           "42",
           R"({"sub":"m1","gen":1,"iat":1,"exp":1700003600})",                        // no typ
           R"({"gen":1,"iat":1,"exp":1700003600,"typ":"access"})",                    // no sub
           R"({"sub":"m1","iat":1,"exp":1700003600,"typ":"access"})",                 // no gen
           R"({"sub":"m1","gen":1,"exp":1700003600,"typ":"access"})",                 // no iat
           R"({"sub":"m1","gen":1,"iat":1,"exp":1700003600,"jti":5,"typ":"access"})", // jti
           R"({"sub":1,"gen":1,"iat":1,"exp":1700003600,"typ":"access"})",     // sub not string
           R"({"sub":"m1","gen":-1,"iat":1,"exp":1700003600,"typ":"access"})", // gen negative
           R"({"sub":"m1","gen":1.5,"iat":1,"exp":1700003600,"typ":"access"})",
           R"({"sub":"m1","gen":"1","iat":1,"exp":1700003600,"typ":"access"})",
           R"({"sub":"m1","gen":1,"iat":1.0,"exp":1700003600,"typ":"access"})",
           R"({"sub":"m1","gen":1,"iat":1,"exp":"1700003600","typ":"access"})",
           R"({"sub":"m1","gen":1,"iat":1,"exp":9223372036854775808,"typ":"access"})",
           R"({"sub":"m1","gen":1,"iat":1,"exp":1700003600,"typ":null})",
           R"({"sub":"m1","gen":1,"iat":1,"exp":1700003600,"typ":{"a":1}})",
           R"({"sub":"m1","gen":1,"iat":1,"exp":1,"exp":1700003600,"typ":"access"})", // duplicate
           R"({"sub":"m1","gen":1,"iat":1,"exp":1700003600,"typ":"access"} x)",
           R"({"sub":"m1","gen":1,"iat":1,"exp":1700003600,"typ":"access")",
           R"({"sub":"m1","gen":01,"iat":1,"exp":1700003600,"typ":"access"})", // leading zero
           R"({"sub":"m1","gen":1,"iat":1,"exp":01700003600,"typ":"access"})",
           R"({"sub":"m1","gen":18446744073709551616,"iat":1,"exp":1700003600,"typ":"access"})",
           R"({"sub":"m1","gen":1,"iat":1,"exp":1700003600,"typ":"access"}})",
           "{\"sub\":\"m\x01\",\"gen\":1,\"iat\":1,\"exp\":1700003600,\"typ\":\"access\"}",
           "{\"sub\":\"m\xff\",\"gen\":1,\"iat\":1,\"exp\":1700003600,\"typ\":\"access\"}",
       })
    EXPECT_EQ(verify_error(hs256(hdr, p, "test-secret")), token_error::malformed) << p;
}

// Payloads off the canonical fast path go through the general parser.
TEST_F(Jwt, NonCanonicalPayloads) {
  token_claims out;
  token_error err{};
  ASSERT_TRUE(codec.verify(hs256(hdr,
                                 R"({"sub":"caf\u00e9 \"q\"","gen":1,"iat":1,)"
                                 R"("exp":1700003600,"typ":"access"})",
                                 "test-secret"),
                           now, out, err))
      << to_string(err);
  EXPECT_EQ(out.sub, "caf\xc3\xa9 \"q\"");
  ASSERT_TRUE(codec.verify(
      hs256(hdr,
            " { \"typ\" : \"access\" , \"exp\":1700003600,\"iat\":-9223372036854775808,"
            "\"gen\":18446744073709551615,\"sub\":\"\"}\n",
            "test-secret"),
      now, out, err))
      << to_string(err);
  EXPECT_EQ(out.sub, "");
  EXPECT_EQ(out.typ, "access");
  EXPECT_EQ(out.iat, INT64_MIN);
  EXPECT_EQ(out.gen, UINT64_MAX);
}

TEST_F(Jwt, ExtraClaimsIgnored) {
  token_claims out;
  token_error err{};
  ASSERT_TRUE(
      codec.verify(hs256(hdr,
                         R"({"aud":["a","b"],"sub":"m1","x":{"sub":5,"y":[{}]},"gen":0,"iat":1,)"
                         R"("exp":1700003600,"typ":"access","n":null,"f":1.5})",
                         "test-secret"),
                   now, out, err))
      << to_string(err);
  EXPECT_EQ(out.sub, "m1");
  EXPECT_EQ(out.gen, 0u);
}

// The signature path against tokens computed independently of our code.
TEST(JwtInterop, JwtIoExample) {
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  // HMAC over "header.payload" matches jwt.io's signature...
  const auto sig = hmac_sha256("your-256-bit-secret").sign(token.substr(0, token.rfind('.')));
  EXPECT_EQ(base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), 32)),
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  // ...and verify() gets past the signature (the jwt.io payload lacks our
  // claims, so it then stops at malformed, not bad_signature).
  const jwt_codec codec("your-256-bit-secret");
  token_claims out;
  token_error err{};
  EXPECT_FALSE(codec.verify(token, now, out, err));
  EXPECT_EQ(err, token_error::malformed);
  const jwt_codec wrong("not-the-secret");
  EXPECT_FALSE(wrong.verify(token, now, out, err));
  EXPECT_EQ(err, token_error::bad_signature);
}

TEST(JwtInterop, TokensFromOpenSslCli) {
  // Built with base64/openssl dgst -sha256 -hmac interop-secret, claims in a
  // different order than issue() writes them.
  const jwt_codec codec("interop-secret");
  for (const char* token :
       {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJ0eXAiOiJhY2Nlc3MiLCJzdWIiOiJtZWRpYS1hYmMiLCJnZW4iOjcsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0"
        "MTAyNDQ0ODAwfQ.Hkusm9Zqh7QHssoaac8Z4lyKV0oUO2JYexN5XPHuSHE",
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
        "eyJ0eXAiOiJhY2Nlc3MiLCJzdWIiOiJtZWRpYS1hYmMiLCJnZW4iOjcsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0"
        "MTAyNDQ0ODAwfQ.JxNf9zW-WmySxHbOD3dOgl0xZenB6C6fB_I_a7uXr10"}) {
    token_claims out;
    token_error err{};
    ASSERT_TRUE(codec.verify(token, now, out, err)) << to_string(err);
    EXPECT_EQ(out.sub, "media-abc");
    EXPECT_EQ(out.gen, 7u);
    EXPECT_EQ(out.iat, 1700000000);
    EXPECT_EQ(out.exp, 4102444800);
    EXPECT_EQ(out.typ, "access");
  }
}

TEST(JwtErrors, Names) {
  EXPECT_STREQ(to_string(token_error::malformed), "malformed");
  EXPECT_STREQ(to_string(token_error::bad_algorithm), "bad_algorithm");
  EXPECT_STREQ(to_string(token_error::bad_signature), "bad_signature");
  EXPECT_STREQ(to_string(token_error::expired), "expired");
  EXPECT_STREQ(to_string(token_error::wrong_type), "wrong_type");
  EXPECT_STREQ(to_string(token_error::not_yet_valid), "not_yet_valid");
}

// Canonical form: a token is accepted in exactly one spelling.
TEST_F(Jwt, PaddedPartsRejected) {
  const std::string good = codec.issue(sample_claims());
  const size_t d1 = good.find('.'), d2 = good.rfind('.');
  auto pad = [](std::string part) {
    while (part.size() % 4 != 0)
      part.push_back('=');
    return part;
  };
  // Our header and signature lengths need padding (36 and 43 chars).
  const std::string header = good.substr(0, d1), payload = good.substr(d1 + 1, d2 - d1 - 1),
                    sig = good.substr(d2 + 1);
  ASSERT_NE(sig.size() % 4, 0u);
  EXPECT_EQ(verify_error(header + "." + payload + "." + pad(sig)), token_error::malformed);
  // A padded header or payload changes the signed bytes too: re-sign them so
  // only the padding is wrong.
  std::string claims = R"({"sub":"m1","gen":1,"iat":1700000000,"exp":1700003600,"typ":"access")";
  while (b64(claims + "}").size() % 4 == 0)
    claims += " ";
  const std::string payload2 = b64(claims + "}");
  std::string t = b64(hdr) + "." + pad(payload2);
  const auto mac = hmac_sha256("test-secret").sign(t);
  t += "." + b64(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  EXPECT_EQ(verify_error(t), token_error::malformed);
  // The same claims unpadded are fine, so the padding alone was refused.
  std::string u = b64(hdr) + "." + payload2;
  const auto mac2 = hmac_sha256("test-secret").sign(u);
  u += "." + b64(std::string_view(reinterpret_cast<const char*>(mac2.data()), mac2.size()));
  token_claims out;
  token_error err{};
  EXPECT_TRUE(codec.verify(u, now, out, err)) << to_string(err);
}

TEST_F(Jwt, TypeChecked) {
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","typ":"JWS"})", good_payload, "test-secret")),
            token_error::wrong_type);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","typ":7})", good_payload, "test-secret")),
            token_error::wrong_type);
  EXPECT_EQ(verify_error(hs256(hdr,
                               R"({"sub":"m1","gen":1,"iat":1700000000,"exp":1700003600,)"
                               R"("typ":"refresh"})",
                               "test-secret")),
            token_error::wrong_type);
}

TEST_F(Jwt, IssuedInTheFutureRejectedBeyondSkew) {
  auto c = sample_claims();
  c.iat = now + max_clock_skew_seconds;
  token_claims out;
  token_error err{};
  EXPECT_TRUE(codec.verify(codec.issue(c), now, out, err)) << to_string(err);
  c.iat = now + max_clock_skew_seconds + 1;
  EXPECT_EQ(verify_error(codec.issue(c)), token_error::not_yet_valid);
}
