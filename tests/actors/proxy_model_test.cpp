// The stream proxy's pure rules: registrations (POST /streams), the
// failover resolver's question and answer, and the bitrate meter.
#include <gtest/gtest.h>

#include "actors/proxy_model.hpp"

namespace hlsgate::actors {
namespace {

TEST(ProxyModel, MinBitrateIsABoundedIntegerAndSurvivesTheDurableForm) {
  proxy_config c;
  EXPECT_EQ(parse_stream_request(R"({"url":"http://a.example/x.ts","min_bitrate_kbps":500})", c),
            "");
  EXPECT_EQ(c.min_bitrate_kbps, 500u);
  c.id = "abc";
  proxy_config back;
  ASSERT_TRUE(from_json(to_json(c), back));
  EXPECT_EQ(back.min_bitrate_kbps, 500u);
  for (const char* bad : {R"({"url":"http://a/x.ts","min_bitrate_kbps":-1})",
                          R"({"url":"http://a/x.ts","min_bitrate_kbps":1.5})",
                          R"({"url":"http://a/x.ts","min_bitrate_kbps":"9"})",
                          R"({"url":"http://a/x.ts","min_bitrate_kbps":1000001})"})
    EXPECT_NE(parse_stream_request(bad, c), "") << bad;
  EXPECT_EQ(parse_stream_request(R"({"url":"http://a/x.ts"})", c), "");
  EXPECT_EQ(c.min_bitrate_kbps, 0u);
}

TEST(ProxyModel, OlderRecordsWithoutMinBitrateStillLoad) {
  proxy_config c, back;
  c.id = "abc";
  c.url = "http://a.example/x.m3u8";
  c.min_bitrate_kbps = 7;
  auto text = to_json(c);
  const auto at = text.find(",\"min_bitrate_kbps\":7");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, std::string{",\"min_bitrate_kbps\":7"}.size());
  ASSERT_TRUE(from_json(text, back));
  EXPECT_EQ(back.min_bitrate_kbps, 0u);
}

TEST(ProxyModel, ResolverQuestionCarriesTheStreamAndEncodesTheCurrentUrl) {
  proxy_config c;
  c.id = "s1";
  c.failover_resolver_url = "http://r.example/resolve";
  EXPECT_EQ(resolver_request_url(c, "http://u.example/a b?x=1&y=2", 2, "playlist_error"),
            "http://r.example/resolve?stream_id=s1&current_url=http%3A%2F%2Fu.example%2Fa%20b%"
            "3Fx%3D1%26y%3D2&current_index=2&reason=playlist_error");
  c.failover_resolver_url = "http://r.example/resolve?key=k";
  EXPECT_EQ(resolver_request_url(c, "http://u/", 0, "manual")
                .rfind("http://r.example/resolve?key=k&stream_id=s1&", 0),
            0u);
}

TEST(ProxyModel, ResolverAnswerIsOneHttpUrl) {
  std::string url;
  EXPECT_EQ(parse_resolver_answer(R"({"url":"http://b.example/live.m3u8"})", url), "");
  EXPECT_EQ(url, "http://b.example/live.m3u8");
  EXPECT_EQ(parse_resolver_answer("https://c.example/s.ts\r\n", url), "");
  EXPECT_EQ(url, "https://c.example/s.ts");
  for (std::string bad :
       {std::string{""}, std::string{"{}"}, std::string{R"({"url":5})"},
        std::string{R"({"url":"file:///etc/passwd"})"}, std::string{"file:///etc/passwd"},
        std::string{"http://a/\nhttp://b/"}, std::string{"javascript:alert(1)"},
        std::string{"{not json"}, std::string(20000, 'h')}) {
    url = "unchanged";
    const auto why = parse_resolver_answer(bad, url);
    EXPECT_NE(why, "") << bad.substr(0, 40);
    EXPECT_EQ(why.find("passwd"), std::string::npos); // the answer's bytes are not echoed
  }
}

TEST(ProxyModel, RateMeterNeedsAWholeWindowAndMeasuresKbps) {
  rate_meter m;
  EXPECT_EQ(m.kbps(10000), -1);
  m.sample(0, 0);
  m.sample(4000, 50000);
  EXPECT_EQ(m.kbps(10000), -1); // 4 s sampled
  m.sample(10000, 125000);
  EXPECT_EQ(m.kbps(10000), 100); // 125,000 bytes in 10 s = 100 kbit/s
  m.sample(12000, 125000);       // nothing for 2 s: over the shortest span of at least 10 s (12 s)
  EXPECT_EQ(m.kbps(10000), 125000 * 8 / 12000);
  for (int i = 0; i < 100; ++i) // the ring keeps its newest samples
    m.sample(14000 + i * 2000, 125000);
  EXPECT_EQ(m.kbps(10000), 0);
  m.reset();
  EXPECT_EQ(m.kbps(10000), -1);
}

} // namespace
} // namespace hlsgate::actors
