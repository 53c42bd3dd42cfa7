// proxy::rewrite_playlist: every URL of an upstream playlist replaced by
// what the mapper returns, the rest kept, anything unsafe refused whole.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "proxy/rewrite.hpp"

namespace hlsgate::proxy {
namespace {

net::url base_url() {
  std::string why;
  return *net::parse_url("https://up.example:8443/live/ch1/index.m3u8?tok=1", why);
}

/// Records every call and writes "/p/<kind>/<n>" in the URL's place.
struct recorder {
  std::vector<std::pair<std::string, ref_kind>> calls;
  std::vector<std::pair<int64_t, int64_t>> ranges; ///< per call: first, last (-1, -1: whole)
  url_mapper mapper() {
    return [this](const net::url& u, ref_kind k, const byte_range& r) {
      calls.emplace_back(u.text(), k);
      ranges.emplace_back(r.first, r.last);
      return "/p/" + std::string{to_string(k)} + "/" + std::to_string(calls.size());
    };
  }
};

rewrite_result rw(std::string_view body, recorder& r, const rewrite_options& o = {}) {
  return rewrite_playlist(body, base_url(), r.mapper(), o);
}

TEST(proxy_rewrite, kind_names) {
  EXPECT_EQ(to_string(ref_kind::playlist), "playlist");
  EXPECT_EQ(to_string(ref_kind::segment), "segment");
  EXPECT_EQ(to_string(ref_kind::key), "key");
  EXPECT_EQ(to_string(ref_kind::map), "map");
}

TEST(proxy_rewrite, master_playlist_variants_media_and_iframes) {
  const std::string body =
      "#EXTM3U\n"
      "#EXT-X-VERSION:6\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English, main\",URI=\"audio/en.m3u8\"\n"
      "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC\",INSTREAM-ID=\"CC1\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS=\"avc1.4d401f,mp4a.40.2\",AUDIO=\"aud\"\n"
      "low/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1280x720\n"
      "https://other.example/hi/index.m3u8\n"
      "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI=\"//cdn.example/iframe.m3u8\"\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"com.example.title\",URI=\"/meta/title.json\"\n";
  recorder r;
  const auto res = rw(body, r);
  ASSERT_EQ(res.error, "");
  EXPECT_TRUE(res.facts.master);
  EXPECT_EQ(res.facts.segments, 0u);
  EXPECT_EQ(
      res.text,
      "#EXTM3U\n"
      "#EXT-X-VERSION:6\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English, main\",URI=\"/p/playlist/1\"\n"
      "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC\",INSTREAM-ID=\"CC1\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS=\"avc1.4d401f,mp4a.40.2\",AUDIO=\"aud\"\n"
      "/p/playlist/2\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1280x720\n"
      "/p/playlist/3\n"
      "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI=\"/p/playlist/4\"\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"com.example.title\",URI=\"/p/segment/5\"\n");
  const std::vector<std::pair<std::string, ref_kind>> want = {
      {"https://up.example:8443/live/ch1/audio/en.m3u8", ref_kind::playlist},
      {"https://up.example:8443/live/ch1/low/index.m3u8", ref_kind::playlist},
      {"https://other.example/hi/index.m3u8", ref_kind::playlist},
      {"https://cdn.example/iframe.m3u8", ref_kind::playlist},
      {"https://up.example:8443/meta/title.json", ref_kind::segment},
  };
  EXPECT_EQ(r.calls, want);
}

TEST(proxy_rewrite, media_playlist_keys_maps_byteranges_parts_and_hints) {
  const std::string body =
      "#EXTM3U\n"
      "#EXT-X-VERSION:9\n"
      "#EXT-X-TARGETDURATION:4\n"
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.0\n"
      "#EXT-X-PART-INF:PART-TARGET=1.0\n"
      "#EXT-X-MEDIA-SEQUENCE:100\n"
      "#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
      "# a comment naming http://secret.upstream/ is left out\n"
      "#EXT-X-KEY:METHOD=AES-128,URI=\"keys/k1.bin\",IV=0x0123456789abcdef0123456789abcdef\n"
      "#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\n"
      "#EXTINF:4.000,title, with comma\n"
      "#EXT-X-BYTERANGE:1000@720\n"
      "main.mp4\n"
      "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:04Z\n"
      "#EXT-X-PART:DURATION=1.0,URI=\"part101.0.mp4\",INDEPENDENT=YES\n"
      "#EXTINF:3.5,\n"
      "seg101.mp4?x=1\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part102.0.mp4\"\n"
      "#EXT-X-PRELOAD-HINT:URI=\"init2.mp4\",TYPE=MAP\n"
      "#EXT-X-RENDITION-REPORT:URI=\"../ch2/index.m3u8\",LAST-MSN=101\n";
  recorder r;
  const auto res = rw(body, r);
  ASSERT_EQ(res.error, "");
  EXPECT_FALSE(res.facts.master);
  EXPECT_FALSE(res.facts.endlist);
  EXPECT_EQ(res.facts.target_duration, 4);
  EXPECT_EQ(res.facts.media_sequence, 100);
  EXPECT_EQ(res.facts.discontinuity_sequence, 3);
  EXPECT_EQ(res.facts.segments, 2u);
  EXPECT_EQ(res.facts.last_segment_duration, 3.5);
  EXPECT_EQ(res.text,
            "#EXTM3U\n"
            "#EXT-X-VERSION:9\n"
            "#EXT-X-TARGETDURATION:4\n"
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.0\n"
            "#EXT-X-PART-INF:PART-TARGET=1.0\n"
            "#EXT-X-MEDIA-SEQUENCE:100\n"
            "#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
            "#EXT-X-KEY:METHOD=AES-128,URI=\"/p/key/1\",IV=0x0123456789abcdef0123456789abcdef\n"
            "#EXT-X-MAP:URI=\"/p/map/2\"\n"
            "#EXTINF:4.000,title, with comma\n"
            "/p/segment/3\n"
            "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:04Z\n"
            "#EXT-X-PART:DURATION=1.0,URI=\"/p/segment/4\",INDEPENDENT=YES\n"
            "#EXTINF:3.5,\n"
            "/p/segment/5\n"
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"/p/segment/6\"\n"
            "#EXT-X-PRELOAD-HINT:URI=\"/p/map/7\",TYPE=MAP\n"
            "#EXT-X-RENDITION-REPORT:URI=\"/p/playlist/8\",LAST-MSN=101\n");
  ASSERT_EQ(r.calls.size(), 8u);
  EXPECT_EQ(r.calls[0].first, "https://up.example:8443/live/ch1/keys/k1.bin");
  EXPECT_EQ(r.calls[4].first, "https://up.example:8443/live/ch1/seg101.mp4?x=1");
  EXPECT_EQ(r.calls[7].first, "https://up.example:8443/live/ch1/../ch2/index.m3u8");
  // The byte ranges went into the references: the map's and the segment's.
  EXPECT_EQ(r.ranges[1], (std::pair<int64_t, int64_t>{0, 719}));
  EXPECT_EQ(r.ranges[2], (std::pair<int64_t, int64_t>{720, 1719}));
  EXPECT_EQ(r.ranges[0], (std::pair<int64_t, int64_t>{-1, -1}));
  EXPECT_EQ(r.ranges[4], (std::pair<int64_t, int64_t>{-1, -1}));
}

TEST(proxy_rewrite, byte_ranges_follow_each_other_within_one_resource) {
  // ffmpeg's single-file HLS: ranges without offsets after the first.
  const std::string body = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
                           "#EXTINF:2,\n#EXT-X-BYTERANGE:100@0\nall.ts\n"
                           "#EXTINF:2,\n#EXT-X-BYTERANGE:50\nall.ts\n"
                           "#EXTINF:2,\n#EXT-X-BYTERANGE:25\nall.ts\n"
                           "#EXT-X-PART:DURATION=1,URI=\"all.ts\",BYTERANGE=\"10@175\"\n"
                           "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"all.ts\",BYTERANGE-START=185\n";
  recorder r;
  auto res = rw(body, r);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text.find("BYTERANGE"), std::string::npos) << res.text;
  ASSERT_EQ(r.ranges.size(), 3u); // the part and the hint with ranges are left out
  EXPECT_EQ(r.ranges[0], (std::pair<int64_t, int64_t>{0, 99}));
  EXPECT_EQ(r.ranges[1], (std::pair<int64_t, int64_t>{100, 149}));
  EXPECT_EQ(r.ranges[2], (std::pair<int64_t, int64_t>{150, 174}));
  EXPECT_EQ(res.facts.segments, 3u);

  for (const char* bad :
       {"#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:50\nall.ts\n", // no offset, no previous range
        "#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:10@0\na.ts\n#EXTINF:2,\n"
        "#EXT-X-BYTERANGE:10\nb.ts\n",                        // no offset after another resource
        "#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:0@0\na.ts\n",  // empty
        "#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:-5@0\na.ts\n", // negative
        "#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:10@x\na.ts\n", // not a number
        "#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:2@9223372036854775807\na.ts\n", // overflows
        "#EXTM3U\n#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"x\"\n#EXTINF:2,\na.ts\n",
        "#EXTM3U\n#EXT-X-MAP:URI=i.mp4,BYTERANGE=\"5@0\"\n#EXTINF:2,\na.ts\n"}) {
    recorder rb;
    EXPECT_NE(rw(bad, rb).error, "") << bad;
  }
}

TEST(proxy_rewrite, every_reference_form_resolves_against_the_base) {
  const std::string body = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-ENDLIST\n"
                           "#EXTINF:2,\nrel.ts\n"
                           "#EXTINF:2,\n/abs/path.ts\n"
                           "#EXTINF:2,\n//host2.example:81/x.ts\n"
                           "#EXTINF:2,\nhttp://plain.example/y.ts\n"
                           "#EXTINF:2,\n   spaced.ts \t\n"
                           "#EXTINF:2,\n?only=query\n";
  recorder r;
  const auto res = rw(body, r);
  ASSERT_EQ(res.error, "");
  EXPECT_TRUE(res.facts.endlist);
  EXPECT_EQ(res.facts.segments, 6u);
  const std::vector<std::string> want = {"https://up.example:8443/live/ch1/rel.ts",
                                         "https://up.example:8443/abs/path.ts",
                                         "https://host2.example:81/x.ts",
                                         "http://plain.example/y.ts",
                                         "https://up.example:8443/live/ch1/spaced.ts",
                                         "https://up.example:8443/live/ch1/index.m3u8?only=query"};
  ASSERT_EQ(r.calls.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.calls[i].first, want[i]);
    EXPECT_EQ(r.calls[i].second, ref_kind::segment);
  }
}

TEST(proxy_rewrite, crlf_and_bom_give_lf_output) {
  recorder a, b;
  const auto lf = rw("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\ns.ts\n", a);
  const auto crlf =
      rw("\xEF\xBB\xBF#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXTINF:2,\r\ns.ts\r\n", b);
  ASSERT_EQ(lf.error, "");
  ASSERT_EQ(crlf.error, "");
  EXPECT_EQ(crlf.text, lf.text);
  EXPECT_EQ(lf.text, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n/p/segment/1\n");
  EXPECT_EQ(b.calls, a.calls);
  recorder c;
  EXPECT_EQ(rw("#EXTM3U", c).text, "#EXTM3U\n") << "no final newline";
}

TEST(proxy_rewrite, quoted_values_are_respected) {
  // URI= inside another quoted value, commas in quotes, a look-alike name.
  const std::string body =
      "#EXTM3U\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"a,URI=\\\"x\",GROUP-ID=\"g\",XURI=\"no\",URI=\"real.m3u8\"\n"
      "#EXT-X-MEDIA:TYPE=SUBTITLES,NAME=\"URI=\"\"\n";
  recorder r;
  auto res = rw(body, r);
  EXPECT_NE(res.error, "") << "a quote right after a quoted string is malformed";
  EXPECT_EQ(res.text, "");

  const std::string ok =
      "#EXTM3U\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"a, URI=\",GROUP-ID=\"g\",XURI=\"no\",URI=\"real.m3u8\","
      "CHARACTERISTICS=\"x,URI=y\"\n";
  recorder r2;
  res = rw(ok, r2);
  ASSERT_EQ(res.error, "");
  ASSERT_EQ(r2.calls.size(), 1u);
  EXPECT_EQ(r2.calls[0].first, "https://up.example:8443/live/ch1/real.m3u8");
  EXPECT_EQ(res.text, "#EXTM3U\n"
                      "#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"a, URI=\",GROUP-ID=\"g\",XURI=\"no\","
                      "URI=\"/p/playlist/1\",CHARACTERISTICS=\"x,URI=y\"\n");

  for (const char* bad : {"#EXTM3U\n#EXT-X-MAP:URI=init.mp4\n",           // unquoted URI
                          "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\n",         // unterminated
                          "#EXTM3U\n#EXT-X-MAP:URI=\"a\"x,BYTERANGE=1\n", // junk after quotes
                          "#EXTM3U\n#EXT-X-MAP:BYTERANGE=1@0,URI\n"}) {   // no '='
    recorder r3;
    const auto b = rw(bad, r3);
    EXPECT_NE(b.error, "") << bad;
    EXPECT_EQ(b.text, "") << bad;
  }
}

TEST(proxy_rewrite, keys_skd_and_data_kept_other_schemes_refused) {
  const std::string body =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
      "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://"
      "key-id-1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
      "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,AAAA\",KEYFORMAT=\"urn:uuid:x\"\n"
      "#EXT-X-KEY:METHOD=NONE\n"
      "#EXTINF:6,\ns.ts\n";
  recorder r;
  const auto res = rw(body, r);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(r.calls.size(), 1u) << "only the segment is mapped";
  EXPECT_NE(res.text.find("URI=\"skd://key-id-1\""), std::string::npos);
  EXPECT_NE(res.text.find("URI=\"data:text/plain;base64,AAAA\""), std::string::npos);
  EXPECT_NE(res.text.find("#EXT-X-KEY:METHOD=NONE\n"), std::string::npos);

  recorder r2;
  const auto sk = rw("#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"SKD://k\"\n"
                     "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
                     r2);
  ASSERT_EQ(sk.error, "");
  EXPECT_NE(sk.text.find("URI=\"SKD://k\""), std::string::npos);

  for (const char* bad : {
           "#EXTM3U\n#EXTINF:2,\nfile:///etc/passwd\n",
           "#EXTM3U\n#EXTINF:2,\njavascript:alert(1)\n",
           "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"file:///etc/key\"\n#EXTINF:2,\ns.ts\n",
           "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"javascript:alert(1)\"\n",
           "#EXTM3U\n#EXT-X-MAP:URI=\"data:video/mp4;base64,AAAA\"\n", // data: only for keys
           "#EXTM3U\n#EXT-X-MAP:URI=\"skd://x\"\n",
           "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nftp://up.example/v.m3u8\n",
           "#EXTM3U\n#EXTINF:2,\nhttp://user@up.example/s.ts\n",
           "#EXTM3U\n#EXTINF:2,\nhttp://up.example/s .ts\n",
       }) {
    recorder r3;
    const auto b = rw(bad, r3);
    EXPECT_NE(b.error, "") << bad;
    EXPECT_EQ(b.text, "") << bad;
    EXPECT_EQ(b.error.find("passwd"), std::string::npos) << "no upstream bytes in the error";
  }
}

TEST(proxy_rewrite, refuses_bodies_that_are_not_bounded_playlists) {
  recorder r;
  EXPECT_NE(rw("", r).error, "");
  EXPECT_NE(rw("<html>", r).error, "");
  EXPECT_NE(rw("#EXTM3UX\n", r).error, "");
  EXPECT_NE(rw("\n#EXTM3U\n", r).error, "");
  EXPECT_NE(rw(std::string_view("#EXTM3U\n#EXTINF:2,\na\0b.ts\n", 26), r).error, "");
  EXPECT_NE(rw("#EXTM3U\n#EXTINF:2,\na\x01.ts\n", r).error, "");
  EXPECT_NE(rw("#EXTM3U\n#EXTINF:2,\na\x7f.ts\n", r).error, "");
  EXPECT_NE(rw("#EXTM3U\r#EXTINF:2,\ra.ts\r", r).error, "") << "lone CR";
  EXPECT_EQ(rw("#EXTM3U\n#EXTINF:2,\ttitle\n\ta.ts\n", r).error, "") << "tabs are fine";

  std::string big = "#EXTM3U\n";
  while (big.size() <= (1u << 20))
    big += "#EXTINF:2,\nseg.ts\n";
  EXPECT_EQ(rw(big, r).error, "playlist larger than 1 MiB");

  std::string many = "#EXTM3U\n";
  for (int i = 0; i < 20001; ++i)
    many += "\n";
  EXPECT_EQ(rw(many, r).error, "line 20001: playlist of more than 20000 lines");

  std::string variants = "#EXTM3U\n";
  for (int i = 0; i < 33; ++i)
    variants += "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n";
  EXPECT_NE(rw(variants, r).error.find("more than 32 variants"), std::string::npos);

  const std::string long_line = "#EXTM3U\n#EXTINF:2,\n" + std::string(8193, 'a') + "\n";
  EXPECT_NE(rw(long_line, r).error.find("longer than 8 KiB"), std::string::npos);
  const std::string edge_line = "#EXTM3U\n#EXTINF:2," + std::string(8182, 'a') + "\ns.ts\n";
  EXPECT_EQ(rw(edge_line, r).error, "") << "8 KiB exactly is fine";

  // Master and media tags in one playlist (RFC 8216 §4.1).
  EXPECT_NE(
      rw("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", r).error, "");
  EXPECT_NE(rw("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\nstray.ts\n", r).error, "");
}

TEST(proxy_rewrite, numbers_are_checked) {
  recorder r;
  for (const char* bad : {
           "#EXTM3U\n#EXT-X-TARGETDURATION:abc\n",
           "#EXTM3U\n#EXT-X-TARGETDURATION:-1\n",
           "#EXTM3U\n#EXT-X-TARGETDURATION:86401\n",
           "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-TARGETDURATION:2\n",
           "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:9223372036854775808\n",
           "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-5\n",
           "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1e3\n",
           "#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:x\n",
           "#EXTM3U\n#EXTINF:nan,\na.ts\n",
           "#EXTM3U\n#EXTINF:inf,\na.ts\n",
           "#EXTM3U\n#EXTINF:1e9,\na.ts\n",
           "#EXTM3U\n#EXTINF:,\na.ts\n",
           "#EXTM3U\n#EXTINF:2,\na.ts\n#EXT-X-MEDIA-SEQUENCE:1\n",
           "#EXTM3U\n#EXT-X-SKIP:SKIPPED-SEGMENTS=x\n",
       }) {
    const auto b = rw(bad, r);
    EXPECT_NE(b.error, "") << bad;
  }
  const auto ok = rw("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:9223372036854775807\n#EXT-X-TARGETDURATION:"
                     "86400\n#EXTINF:0.5,\na.ts\n",
                     r);
  ASSERT_EQ(ok.error, "");
  EXPECT_EQ(ok.facts.media_sequence, INT64_MAX);
  EXPECT_EQ(ok.facts.target_duration, 86400);
  EXPECT_EQ(ok.facts.last_segment_duration, 0.5);
}

TEST(proxy_rewrite, mapper_output_is_checked) {
  const std::string body = "#EXTM3U\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:2,\ns.ts\n";
  const std::vector<std::string> bads = {"a\"b", "a\nb", std::string("a\0b", 3),
                                         "a\rb", "",     "a\x1f"};
  for (const std::string& bad : bads) {
    const auto res = rewrite_playlist(
        body, base_url(), [&](const net::url&, ref_kind, const byte_range&) { return bad; });
    EXPECT_NE(res.error, "");
    EXPECT_EQ(res.text, "");
  }
  const auto hash = rewrite_playlist(
      "#EXTM3U\n#EXTINF:2,\ns.ts\n", base_url(),
      [](const net::url&, ref_kind, const byte_range&) { return "#EXT-X-ENDLIST"; });
  EXPECT_NE(hash.error, "") << "a URI line that would read as a tag";
  const auto throws = rewrite_playlist(
      body, base_url(), [](const net::url&, ref_kind, const byte_range&) -> std::string {
        throw std::runtime_error("boom");
      });
  EXPECT_NE(throws.error, "");
  EXPECT_EQ(throws.error.find("boom"), std::string::npos);
}

TEST(proxy_rewrite, content_steering_is_left_out) {
  recorder r;
  const auto res = rw("#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI=\"https://steer.example/s\"\n"
                      "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
                      r);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/p/playlist/1\n");
}

// -- rewrite_options ----------------------------------------------------------

const char* live_body = "#EXTM3U\n"
                        "#EXT-X-VERSION:3\n"
                        "#EXT-X-TARGETDURATION:2\n"
                        "#EXT-X-MEDIA-SEQUENCE:10\n"
                        "#EXTINF:2,\na10.ts\n"
                        "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:02Z\n"
                        "#EXTINF:2,\na11.ts\n"
                        "#EXTINF:2,\na12.ts\n";

TEST(proxy_rewrite, options_default_changes_nothing) {
  recorder r;
  const auto res = rw(live_body, r);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:2,\n/p/segment/1\n"
                      "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:02Z\n#EXTINF:2,\n/p/segment/2\n"
                      "#EXTINF:2,\n/p/segment/3\n");
}

TEST(proxy_rewrite, options_shift_the_media_sequence) {
  recorder r;
  rewrite_options o;
  o.media_sequence_offset = 1000;
  const auto res = rw(live_body, r, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.facts.media_sequence, 10) << "facts are upstream's";
  EXPECT_NE(res.text.find("#EXT-X-MEDIA-SEQUENCE:1010\n"), std::string::npos);
  EXPECT_EQ(res.text.find("#EXT-X-DISCONTINUITY"), std::string::npos);

  // Absent: inserted after the header, before the first segment's tags.
  recorder r2;
  const auto ins =
      rw("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n", r2, o);
  ASSERT_EQ(ins.error, "");
  EXPECT_EQ(ins.text, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-MEDIA-SEQUENCE:1000\n#EXTINF:2,\n/p/segment/1\n");

  o.media_sequence_offset = -11;
  EXPECT_NE(rw(live_body, r, o).error, "") << "below 0";
  o.media_sequence_offset = INT64_MAX;
  EXPECT_NE(rw(live_body, r, o).error, "") << "overflow";

  // Master playlists are left alone.
  rewrite_options all;
  all.media_sequence_offset = 5;
  all.discontinuity_sequence_offset = 2;
  all.discontinuity_before = 0;
  recorder r3;
  const auto m = rw("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", r3, all);
  ASSERT_EQ(m.error, "");
  EXPECT_EQ(m.text, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/p/playlist/1\n");
}

TEST(proxy_rewrite, options_shift_the_discontinuity_sequence) {
  rewrite_options o;
  o.discontinuity_sequence_offset = 4;
  recorder r;
  auto res = rw(live_body, r, o);
  ASSERT_EQ(res.error, "");
  EXPECT_NE(res.text.find("#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:4\n#EXTINF"),
            std::string::npos)
      << res.text;

  // Present upstream (even before EXT-X-MEDIA-SEQUENCE): its value is shifted in place.
  recorder r2;
  res = rw("#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:7\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2,\na.ts\n",
           r2, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.facts.discontinuity_sequence, 7);
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:11\n#EXT-X-MEDIA-SEQUENCE:3\n"
                      "#EXTINF:2,\n/p/segment/1\n");

  // Neither tag: both inserted, media sequence first.
  o.media_sequence_offset = 20;
  recorder r3;
  res = rw("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n", r3, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:20\n"
                      "#EXT-X-DISCONTINUITY-SEQUENCE:4\n#EXTINF:2,\n/p/segment/1\n");

  // Zero result: nothing inserted.
  rewrite_options zero;
  zero.discontinuity_sequence_offset = 0;
  recorder r4;
  res = rw("#EXTM3U\n#EXTINF:2,\na.ts\n", r4, zero);
  EXPECT_EQ(res.text, "#EXTM3U\n#EXTINF:2,\n/p/segment/1\n");
}

TEST(proxy_rewrite, options_insert_a_discontinuity_before_the_failover_segment) {
  rewrite_options o;
  o.media_sequence_offset = 100; // upstream 10..12 -> 110..112
  o.discontinuity_before = 111;
  recorder r;
  auto res = rw(live_body, r, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-MEDIA-SEQUENCE:110\n#EXTINF:2,\n/p/segment/1\n"
                      "#EXT-X-DISCONTINUITY\n"
                      "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:02Z\n#EXTINF:2,\n/p/segment/2\n"
                      "#EXTINF:2,\n/p/segment/3\n");

  // The first segment: right after the header.
  o.discontinuity_before = 110;
  recorder r2;
  res = rw(live_body, r2, o);
  ASSERT_EQ(res.error, "");
  EXPECT_NE(res.text.find("#EXT-X-MEDIA-SEQUENCE:110\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\n"),
            std::string::npos)
      << res.text;
  EXPECT_EQ(res.text.find("DISCONTINUITY-SEQUENCE"), std::string::npos);

  // Not yet in the playlist: nothing.
  o.discontinuity_before = 113;
  recorder r3;
  res = rw(live_body + std::string("#EXT-X-ENDLIST\n"), r3, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text.find("#EXT-X-DISCONTINUITY"), std::string::npos) << res.text;

  // Upstream already has one there: not doubled.
  o.discontinuity_before = 111;
  recorder r4;
  res = rw("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\n"
           "b.ts\n",
           r4, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:110\n#EXTINF:2,\n/p/segment/1\n"
                      "#EXT-X-DISCONTINUITY\n#EXTINF:2,\n/p/segment/2\n");

  // EXT-X-SKIP (a delta update) counts the skipped segments.
  o.discontinuity_before = 113;
  recorder r5;
  res = rw("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:2,\nd.ts\n",
           r5, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:110\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n"
                      "#EXT-X-DISCONTINUITY\n#EXTINF:2,\n/p/segment/1\n");
}

TEST(proxy_rewrite, facts_give_the_last_segments_discontinuity_number) {
  // Upstream: sequence 3, one discontinuity of its own; ours inserted too.
  const std::string body = "#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n#EXT-X-MEDIA-SEQUENCE:10\n"
                           "#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n"
                           "#EXTINF:2,\nc.ts\n";
  rewrite_options o;
  o.media_sequence_offset = 100;
  o.discontinuity_sequence_offset = 5;
  o.discontinuity_before = 112;
  recorder r;
  auto res = rw(body, r, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.facts.discontinuity_sequence_out, 7);
  EXPECT_EQ(res.facts.discontinuities_out, 2); // upstream's, and ours before 112
  // Ours on the same segment as upstream's: one tag, counted once.
  o.discontinuity_before = 111;
  recorder r2;
  res = rw(body, r2, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.facts.discontinuities_out, 1);
  // Slid out of the window: the sequence counts it instead.
  o.discontinuity_before = 105;
  recorder r3;
  res = rw(body, r3, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.facts.discontinuity_sequence_out, 8);
  EXPECT_EQ(res.facts.discontinuities_out, 1);
}

TEST(proxy_rewrite, discontinuities_count_with_their_segments_and_once) {
  // A tag after the last URI line belongs to a segment not listed yet.
  recorder r;
  auto res = rw("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n", r);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.facts.discontinuities_out, 0);
  EXPECT_FALSE(res.facts.first_segment_discontinuity);
  // The first segment's own tag is reported (a switch there shares it).
  recorder r2;
  res = rw("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\na.ts\n", r2);
  ASSERT_EQ(res.error, "");
  EXPECT_TRUE(res.facts.first_segment_discontinuity);
  EXPECT_EQ(res.facts.discontinuities_out, 1);
  // Shared with the upstream's and slid out: the upstream's sequence counts
  // it (here 5 after its own +1), so ours adds nothing.
  rewrite_options o;
  o.discontinuity_before = 1;
  o.discontinuity_shared = true;
  recorder r3;
  res = rw("#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:5\n#EXT-X-MEDIA-SEQUENCE:2\n#EXTINF:2,\nb.ts\n",
           r3, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.facts.discontinuity_sequence_out, 5);
  o.discontinuity_shared = false;
  recorder r4;
  res = rw("#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:5\n#EXT-X-MEDIA-SEQUENCE:2\n#EXTINF:2,\nb.ts\n",
           r4, o);
  EXPECT_EQ(res.facts.discontinuity_sequence_out, 6);
}

TEST(proxy_rewrite, options_count_a_discontinuity_that_slid_out) {
  rewrite_options o;
  o.media_sequence_offset = 100; // first shifted: 110
  o.discontinuity_before = 109;
  o.discontinuity_sequence_offset = 2;
  recorder r;
  auto res = rw(live_body, r, o);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-MEDIA-SEQUENCE:110\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
                      "#EXTINF:2,\n/p/segment/1\n"
                      "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:02Z\n#EXTINF:2,\n/p/segment/2\n"
                      "#EXTINF:2,\n/p/segment/3\n");

  // Upstream's own discontinuity sequence is the base.
  o.discontinuity_sequence_offset = 0;
  recorder r2;
  res = rw("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:5\n#EXTINF:2,\na.ts\n",
           r2, o);
  ASSERT_EQ(res.error, "");
  EXPECT_NE(res.text.find("#EXT-X-DISCONTINUITY-SEQUENCE:6\n"), std::string::npos);
  EXPECT_EQ(res.text.find("#EXT-X-DISCONTINUITY\n"), std::string::npos);
}

TEST(proxy_rewrite, tags_naming_an_upstream_url_without_rewriting_it_are_left_out) {
  const std::string body = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
                           "#EXT-X-DATERANGE:ID=\"ad\",START-DATE=\"2026-01-01T00:00:00Z\","
                           "X-ASSET-URI=\"https://ads.example/a.m3u8\"\n"
                           "#EXT-X-DATERANGE:ID=\"m\",START-DATE=\"2026-01-01T00:00:00Z\"\n"
                           "#EXT-X-IMAGE-STREAM-INF:URI=\"thumbs/index.m3u8\"\n"
                           "#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST\n";
  recorder r;
  auto out = rw(body, r);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.text.find("ads.example"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("thumbs"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("#EXT-X-DATERANGE:ID=\"m\""), std::string::npos) << out.text;
  EXPECT_EQ(r.calls.size(), 1u);
}

} // namespace
} // namespace hlsgate::proxy
