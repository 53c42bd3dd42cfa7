// Tokens over real HTTP: minted with or without a lifetime of their own,
// listed, revoked one by one or all at once, and revocation reaching the
// segment path at once; segment links last as long as the right to watch.
#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

class tokens : public e2e {
protected:
  std::string id, key, token;

  void upload_one(const std::string& query = "?expiry_minutes=180") {
    start();
    auto r = upload(make_clip(clip_720p(4)), query);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = parse_json(r);
    id = j["media_id"];
    key = j["admin_key"];
    token = j["access_token"];
  }
  http_reply tokens_call(const std::string& method, const std::string& suffix = "",
                         const std::string& body = "", const header_list& auth = {}) {
    header_list h = auth.empty() ? header_list{{"X-Admin-Key", key}} : auth;
    if (!body.empty())
      h.emplace_back("Content-Type", "application/json");
    return http_request(port(), method, "/media/" + id + "/tokens" + suffix, h, body);
  }
  /// The first segment URL of rendition v0 as the holder of `t` gets it.
  std::string segment_url(const std::string& t) {
    auto pl = http_get(port(), "/stream/" + id + "/v0/playlist.m3u8?token=" + t);
    EXPECT_EQ(pl.status, 200u) << pl.body;
    auto uris = playlist_uris(pl.body);
    return uris.empty() ? std::string{} : uris[0];
  }
  static int64_t query_int(const std::string& url, const std::string& key) {
    auto i = url.find(key + "=");
    return i == std::string::npos ? -1 : std::atoll(url.c_str() + i + key.size() + 1);
  }
};

TEST_F(tokens, minted_listed_and_revoked_one_by_one) {
  upload_one();
  auto a = tokens_call("POST", "", R"({"label":"living room"})");
  ASSERT_EQ(a.status, 201u) << a.body;
  auto ja = parse_json(a);
  EXPECT_TRUE(ja["expires_at"].is_null()) << "no lifetime of its own: as long as the media";
  EXPECT_EQ(ja["label"], "living room");
  EXPECT_FALSE(ja["jti"].get<std::string>().empty());
  EXPECT_NE(ja["playlist_url"].get<std::string>().find(ja["access_token"].get<std::string>()),
            std::string::npos);
  auto b = tokens_call("POST", "", R"({"expires_in_minutes":30,"label":"phone"})");
  ASSERT_EQ(b.status, 201u) << b.body;
  auto jb = parse_json(b);
  EXPECT_NEAR(parse_iso(jb["expires_at"]), unix_now() + 30 * 60, 5);

  auto list = tokens_call("GET");
  ASSERT_EQ(list.status, 200u);
  auto jl = parse_json(list);
  ASSERT_TRUE(jl.is_array());
  ASSERT_EQ(jl.size(), 3u) << "the upload's token and the two new ones: " << list.body;
  EXPECT_EQ(jl[1]["label"], "living room");
  for (auto& t : jl) {
    EXPECT_FALSE(t["revoked"].get<bool>());
    EXPECT_FALSE(t.contains("access_token")) << "tokens themselves are never listed";
  }

  const auto seg_a = segment_url(ja["access_token"]);
  const auto seg_b = segment_url(jb["access_token"]);
  ASSERT_FALSE(seg_a.empty());
  EXPECT_EQ(http_get(port(), seg_a).status, 200u);
  EXPECT_EQ(http_get(port(), seg_b).status, 200u);
  EXPECT_EQ(tokens_call("DELETE", "/" + jb["jti"].get<std::string>()).status, 200u);
  EXPECT_EQ(http_get(port(), seg_b).status, 403u) << "revocation reaches segments at once";
  EXPECT_EQ(http_get(port(), "/stream/" + id +
                                 "/playlist.m3u8?token=" + jb["access_token"].get<std::string>())
                .status,
            403u);
  EXPECT_EQ(http_get(port(), seg_a).status, 200u) << "other tokens are untouched";
  jl = parse_json(tokens_call("GET"));
  EXPECT_TRUE(jl[2]["revoked"].get<bool>());
  EXPECT_EQ(tokens_call("DELETE", "/NoSuchTokenId00000000").status, 404u);

  // A refresh revokes every token, labelled ones included; segments too.
  auto r = http_request(port(), "POST", "/refresh-token/" + id, {{"X-Admin-Key", key}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(http_get(port(), seg_a).status, 403u);
  EXPECT_EQ(http_get(port(), "/stream/" + id + "/playlist.m3u8?token=" + token).status, 403u);
  auto fresh = parse_json(r)["access_token"].get<std::string>();
  EXPECT_EQ(http_get(port(), segment_url(fresh)).status, 200u);
}

TEST_F(tokens, requests_are_checked) {
  upload_one();
  EXPECT_EQ(tokens_call("POST", "", "{}", {{"X-Other", "x"}}).status, 401u);
  EXPECT_EQ(tokens_call("POST", "", "{}", {{"X-Admin-Key", "wrong"}}).status, 403u);
  for (const char* body :
       {R"({"expires_in_minutes":0})", R"({"expires_in_minutes":10081})",
        R"({"expires_in_minutes":"5"})", R"({"label":5})", R"([])", R"({"bogus":1})", "not json"}) {
    auto r = tokens_call("POST", "", body);
    EXPECT_EQ(r.status, 422u) << body << ": " << r.body;
    EXPECT_NE(parse_json(r).value("detail", ""), "") << body;
  }
  auto long_label = std::string(R"({"label":")") + std::string(201, 'x') + "\"}";
  EXPECT_EQ(tokens_call("POST", "", long_label).status, 422u);
  EXPECT_EQ(tokens_call("POST").status, 201u) << "an empty body is a token without label";
}

// A viewer holding a token without its own lifetime can pause for hours:
// the segment links carry the media's deadline (rounded up to the signing
// bucket), not an hour from the playlist request; extending the media
// extends every token's use.
TEST_F(tokens, links_last_as_long_as_the_right_to_watch) {
  upload_one("?expiry_minutes=300");
  const auto deadline = parse_iso(info(id, key)["expires_at"]);
  auto seg = segment_url(token);
  const auto expires = query_int(seg, "expires");
  EXPECT_GE(expires, deadline);
  EXPECT_LT(expires, deadline + 3600);
  EXPECT_EQ(expires % 3600, 0) << "rounded up to the signing bucket";
  EXPECT_EQ(segment_url(token), seg) << "the same URLs all bucket long";
  auto t = parse_json(tokens_call("POST", "", R"({"expires_in_minutes":10})"));
  auto short_seg = segment_url(t["access_token"]);
  EXPECT_LE(query_int(short_seg, "expires"), unix_now() + 10 * 60 + 3600);
  auto x = http_request(port(), "POST", "/media/" + id + "/extend-expiry?additional_minutes=600",
                        {{"X-Admin-Key", key}});
  ASSERT_EQ(x.status, 200u) << x.body;
  EXPECT_GE(query_int(segment_url(token), "expires"), deadline + 600 * 60)
      << "the old token now covers the extended media";
}

TEST_F(tokens, api_token_acts_as_admin) {
  env["HLSGATE_API_TOKEN"] = "operator-token-0123456789abcdef";
  start();
  auto content = read_file(make_clip(clip_720p(4)));
  auto [type, body] = multipart_body("media", "clip.mp4", content);
  auto r = http_request(
      port(), "POST", "/upload/",
      {{"Content-Type", type}, {"Authorization", "Bearer operator-token-0123456789abcdef"}}, body);
  ASSERT_EQ(r.status, 200u) << r.body;
  id = parse_json(r)["media_id"];
  auto op = header_list{{"Authorization", "Bearer operator-token-0123456789abcdef"}};
  EXPECT_EQ(tokens_call("POST", "", "{}", op).status, 201u);
  EXPECT_EQ(tokens_call("GET", "", "", op).status, 200u);
  EXPECT_EQ(http_get(port(), "/media/" + id + "/info", op).status, 200u);
  EXPECT_EQ(tokens_call("GET", "", "", {{"Authorization", "Bearer wrong"}}).status, 401u);
}

} // namespace
} // namespace hlsgate::test
