// The admins' media library over real HTTP: GET /media (cursor pages, newest
// first, filters), DELETE /media (bulk, by filter only), both behind the API
// token; and the token generated at first start when none is configured.
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <set>

#include "tests/e2e/e2e_fixture.hpp"

namespace hlsgate::test {
namespace {

const std::string k_token = "library-token-0123456789abcdef";

class library : public e2e {
protected:
  header_list op{{"Authorization", "Bearer " + k_token}};

  /// Uploads the same short clip under `name` (audio only: quick).
  std::string upload_as(const std::string& name) {
    const std::string dir = make_temp_dir("lib-clip");
    const std::string path = dir + "/" + name;
    fs::copy_file(make_clip(clip_audio_only(2)), path);
    auto [type, body] = multipart_body("media", name, read_file(path));
    http_connection conn{port(), 300};
    auto r = conn.request("POST", "/upload/?async=true", {{"Content-Type", type}, op[0]}, body);
    EXPECT_EQ(r.status, 202u) << r.body;
    fs::remove_all(dir);
    return parse_json(r).value("media_id", "");
  }
  json list(const std::string& query, unsigned expect = 200) {
    auto r = http_get(port(), "/media" + query, op);
    EXPECT_EQ(r.status, expect) << query << " " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    return parse_json(r);
  }
  static std::vector<std::string> ids(const json& page) {
    std::vector<std::string> out;
    for (auto& i : page["items"])
      out.push_back(i["media_id"]);
    return out;
  }
};

TEST_F(library, pages_newest_first_filters_and_bulk_deletes_behind_the_api_token) {
  env["HLSGATE_API_TOKEN"] = k_token;
  start();
  const std::string a = upload_as("Holiday.mp4");
  const std::string b = upload_as("holiday-2.mp4");
  const std::string c = upload_as("talk.mp4");

  EXPECT_EQ(http_get(port(), "/media").status, 401u);
  EXPECT_EQ(http_get(port(), "/media", {{"Authorization", "Bearer wrong"}}).status, 403u);
  EXPECT_EQ(http_get(port(), "/media?api_token=" + k_token).status, 401u)
      << "bearer only: a query-string token would end up in logs and histories";
  // Uploads keep PyHLS's query form; a wrong one is refused before the body.
  {
    auto [type, body] = multipart_body("media", "q.mp4", read_file(make_clip(clip_audio_only(2))));
    http_connection conn{port(), 300};
    EXPECT_EQ(
        conn.request("POST", "/upload/?async=true&api_token=wrong", {{"Content-Type", type}}, body)
            .status,
        403u);
    http_connection conn2{port(), 300};
    auto r = conn2.request("POST", "/upload/?async=true&api_token=" + k_token,
                           {{"Content-Type", type}}, body);
    ASSERT_EQ(r.status, 202u) << r.body;
    EXPECT_EQ(
        http_request(port(), "DELETE", "/media/" + parse_json(r)["media_id"].get<std::string>(), op)
            .status,
        200u);
  }

  // Two pages of two: every item once, newest first.
  auto p1 = list("?limit=2");
  ASSERT_EQ(p1["items"].size(), 2u) << p1;
  ASSERT_TRUE(p1["next_cursor"].is_string()) << p1;
  auto p2 = list("?limit=2&cursor=" + p1["next_cursor"].get<std::string>());
  ASSERT_EQ(p2["items"].size(), 1u) << p2;
  EXPECT_TRUE(p2["next_cursor"].is_null());
  std::vector<std::string> seen = ids(p1);
  seen.push_back(ids(p2)[0]);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), (std::set<std::string>{a, b, c}));
  // Newest first, ties (the same second) by id, descending: the order the
  // cursor relies on.
  std::vector<std::pair<int64_t, std::string>> order;
  for (auto* p : {&p1, &p2})
    for (auto& i : (*p)["items"])
      order.emplace_back(parse_iso(i["created_at"]), i["media_id"]);
  auto expected = order;
  std::sort(expected.begin(), expected.end(), std::greater<>());
  EXPECT_EQ(order, expected);
  EXPECT_EQ(p1["items"][0].value("original_name", "").empty(), false);

  const auto holi = ids(list("?q=HOLI"));
  EXPECT_EQ(std::set<std::string>(holi.begin(), holi.end()), (std::set<std::string>{a, b}));
  EXPECT_EQ(ids(list("?q=" + c)), std::vector<std::string>{c}) << "an exact id matches too";
  EXPECT_TRUE(list("?status=failed")["items"].empty());

  // Hostile or malformed parameters: 422 with a reason, nothing else.
  for (const char* bad : {"?limit=0", "?limit=201", "?limit=x", "?status=deleted",
                          "?cursor=..%2F..%2Fetc", "?cursor=1.a%2Fb", "?q=%01", "?q=%ff"}) {
    auto r = http_get(port(), std::string{"/media"} + bad, op);
    EXPECT_EQ(r.status, 422u) << bad << " " << r.body;
    EXPECT_FALSE(parse_json(r).value("detail", "").empty()) << bad;
  }

  // Bulk delete: never without a filter, never without the token.
  EXPECT_EQ(http_request(port(), "DELETE", "/media", op).status, 422u);
  EXPECT_EQ(http_request(port(), "DELETE", "/media?q=holi").status, 401u);
  auto del = http_request(port(), "DELETE", "/media?q=holi", op);
  ASSERT_EQ(del.status, 200u) << del.body;
  EXPECT_EQ(parse_json(del)["matched"], 2);
  EXPECT_EQ(parse_json(del)["deleted"], 2);
  EXPECT_EQ(parse_json(del)["remaining"], 0);
  for (const char* bad : {"?status=deleted", "?q=%01", "?status=&q="})
    EXPECT_EQ(http_request(port(), "DELETE", std::string{"/media"} + bad, op).status, 422u) << bad;
  EXPECT_EQ(ids(list("")), std::vector<std::string>{c});
  EXPECT_EQ(http_get(port(), "/media/" + a + "/info", op).status, 404u);
  EXPECT_EQ(row_count(data), 1);

  // The listing is rebuilt from the store after a restart.
  EXPECT_EQ(srv->stop(), 0);
  start();
  EXPECT_EQ(ids(list("")), std::vector<std::string>{c});
}

TEST_F(library, an_api_token_is_generated_once_kept_private_and_logged_once) {
  const std::string log1 = data + "-1.log", log2 = data + "-2.log";
  srv = std::make_unique<server_process>(data, env);
  srv->log_to(log1);
  ASSERT_TRUE(srv->start());
  std::ifstream in{data + "/api_token"};
  std::string token;
  std::getline(in, token);
  ASSERT_GE(token.size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat((data + "/api_token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(http_get(port(), "/media").status, 401u) << "the admin surface is never open";
  EXPECT_EQ(http_get(port(), "/media", {{"Authorization", "Bearer " + token}}).status, 200u);
  // Uploads stay open (no HLSGATE_API_TOKEN configured), and the generated
  // token is the operator of every item.
  auto up = upload(make_clip(clip_audio_only(2)), "?async=true");
  ASSERT_EQ(up.status, 202u) << up.body;
  const std::string id = parse_json(up)["media_id"];
  EXPECT_EQ(
      http_get(port(), "/media/" + id + "/info", {{"Authorization", "Bearer " + token}}).status,
      200u);
  EXPECT_EQ(http_get(port(), "/media/" + id + "/info", {{"Authorization", "Bearer nope"}}).status,
            401u);
  EXPECT_EQ(srv->stop(), 0);
  EXPECT_NE(read_file(log1).find(token), std::string::npos) << "shown at first start";

  srv->log_to(log2);
  ASSERT_TRUE(srv->start());
  EXPECT_EQ(http_get(port(), "/media", {{"Authorization", "Bearer " + token}}).status, 200u)
      << "the same token after a restart";
  EXPECT_EQ(srv->stop(), 0);
  EXPECT_EQ(read_file(log2).find(token), std::string::npos) << "and never shown again";
  srv.reset();
  fs::remove(log1);
  fs::remove(log2);
}

} // namespace
} // namespace hlsgate::test
