// query, errors, routes and wire: the small pure units of http/.
#include "http/errors.hpp"
#include "http/query.hpp"
#include "http/request_id.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "http/wire.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::http;
using hlsgate::metrics::route;

TEST(query, percent_decode) {
  std::string out;
  EXPECT_TRUE(query::percent_decode("a%20b+c%2F", out, false));
  EXPECT_EQ(out, "a b+c/");
  out.clear();
  EXPECT_TRUE(query::percent_decode("a+b", out, true));
  EXPECT_EQ(out, "a b");
  for (std::string_view bad : {"%", "%2", "%zz", "%00", "a%0", "%%41"}) {
    out.clear();
    EXPECT_FALSE(query::percent_decode(bad, out, false)) << bad;
  }
  out.clear();
  EXPECT_FALSE(query::percent_decode(std::string_view("a\0b", 3), out, false)); // raw NUL
  out.clear();
  EXPECT_TRUE(query::percent_decode("%252e", out, false)); // decoded once only
  EXPECT_EQ(out, "%2e");
}

TEST(query, percent_encode_round_trips) {
  EXPECT_EQ(query::percent_encode("720:2800k,360 a/b?c&d=e~_.-Z9"),
            "720%3A2800k%2C360%20a%2Fb%3Fc%26d%3De~_.-Z9");
  EXPECT_EQ(query::percent_encode(std::string_view("\xff\x00", 2)), "%FF%00");
  std::string all;
  for (int c = 1; c < 256; ++c)
    all.push_back(static_cast<char>(c));
  std::string back;
  ASSERT_TRUE(query::percent_decode(query::percent_encode(all), back, false));
  EXPECT_EQ(back, all);
}

TEST(query, params) {
  const std::string q = "a=1&expiry_minutes=30&name=x%20y+z&flag&enc%5Fkey=v&bad=%zz&a=2";
  std::string v;
  EXPECT_TRUE(query::param(q, "a", v));
  EXPECT_EQ(v, "1"); // first wins
  EXPECT_TRUE(query::param(q, "name", v));
  EXPECT_EQ(v, "x y z");
  EXPECT_TRUE(query::param(q, "flag", v));
  EXPECT_EQ(v, "");
  EXPECT_TRUE(query::param(q, "enc_key", v));
  EXPECT_TRUE(query::param(q, "bad", v));
  EXPECT_EQ(v, "%zz");
  EXPECT_FALSE(query::param(q, "missing", v));
  std::string_view raw;
  EXPECT_TRUE(query::raw_value("md5=abc&expires=12", "expires", raw));
  EXPECT_EQ(raw, "12");
  EXPECT_FALSE(query::raw_value("md5=abc", "md", raw));
}

TEST(errors, every_api_error_has_one_status_and_its_headers) {
  using hlsgate::actors::api_errc;
  EXPECT_EQ(to_status(api_errc::unauthorized), 401u);
  EXPECT_EQ(to_status(api_errc::queue_full), 429u);
  EXPECT_EQ(to_status(api_errc::unavailable), 503u);
  EXPECT_EQ(to_status(api_errc::internal), 500u);
  auto header = [](const response& r, const std::string& n) {
    for (auto& [k, v] : r.headers)
      if (k == n)
        return v;
    return std::string{};
  };
  auto r = error_response({api_errc::unauthorized, "API token required"});
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(r.body, "{\"detail\":\"API token required\"}");
  EXPECT_EQ(header(error_response({api_errc::queue_full, "x"}), "Retry-After"), "30");
  EXPECT_EQ(header(error_response({api_errc::try_later, "x"}), "Retry-After"), "5");
  EXPECT_EQ(header(error_response({api_errc::unavailable, "x"}), "Retry-After"), "30");
  EXPECT_EQ(header(error_response(405, "no", "GET, HEAD"), "Allow"), "GET, HEAD");
  EXPECT_EQ(error_response(400, "a\"b\\\n\x01\x7f").body,
            "{\"detail\":\"a\\\"b\\\\\\n\\u0001\\u007f\"}");
}

TEST(routes, patterns) {
  route_params p;
  EXPECT_TRUE(match_pattern("/media/{id}/info", "/media/abc_-1/info", p));
  EXPECT_EQ(p.id, "abc_-1");
  EXPECT_TRUE(match_pattern("/upload", "/upload/", p));
  EXPECT_TRUE(match_pattern("/upload", "//upload", p));
  EXPECT_FALSE(match_pattern("/upload", "/upload/x", p));
  EXPECT_FALSE(match_pattern("/media/{id}/info", "/media/a.b/info", p));
  EXPECT_FALSE(match_pattern("/media/{id}/info", "/media/../info", p));
  EXPECT_FALSE(match_pattern("/media/{id}", "/media/" + std::string(65, 'a'), p));
  EXPECT_TRUE(match_pattern("/stream/{id}/{playlist}", "/stream/x/playlist.m3u8", p));
  EXPECT_EQ(p.name, "playlist.m3u8");
  EXPECT_FALSE(match_pattern("/stream/{id}/{playlist}", "/stream/x/seg.ts", p));
  EXPECT_FALSE(match_pattern("/stream/{id}/{name}", "/stream/x/..", p));
  EXPECT_FALSE(match_pattern("/stream/{id}/{name}", "/stream/x/.hidden", p));
  EXPECT_FALSE(match_pattern("/stream/{id}/{name}", "/stream/x/a..b", p));
  EXPECT_FALSE(match_pattern("/stream/{id}/{name}", "/stream/x/a\\b", p));
  EXPECT_FALSE(match_pattern("/stream/{id}/{rendition}/{name}", "/stream/x/V0/a.ts", p));
}

TEST(routes, one_table_gives_handler_label_and_405) {
  std::vector<route_entry<int>> t = {
      {m_post, "/upload", route::upload, route_wait::upload, 1},
      {m_get_head, "/media/{id}/info", route::info, route_wait::none, 2},
      {m_delete, "/media/{id}", route::delete_media, route_wait::none, 3},
      {m_get_head, "/stream/{id}/{playlist}", route::stream_playlist, route_wait::ondemand, 4},
      {m_get_head, "/stream/{id}/{name}", route::stream_file, route_wait::ondemand, 5},
  };
  auto m = match_route(t, "POST", "/upload/");
  EXPECT_EQ(m.index, 0);
  EXPECT_EQ(m.label, route::upload);
  EXPECT_EQ(m.wait, route_wait::upload);
  m = match_route(t, "GET", "/upload");
  EXPECT_EQ(m.index, -1);
  EXPECT_EQ(m.allowed, unsigned{m_post});
  EXPECT_EQ(m.label, route::upload);
  EXPECT_EQ(allow_value(m.allowed), "POST");
  m = match_route(t, "HEAD", "/media/abc/info");
  EXPECT_EQ(m.index, 1);
  EXPECT_EQ(m.params.id, "abc");
  m = match_route(t, "POST", "/media/abc");
  EXPECT_EQ(m.allowed, unsigned{m_delete});
  EXPECT_EQ(m.label, route::delete_media);
  m = match_route(t, "GET", "/stream/abc/v0.m3u8");
  EXPECT_EQ(m.index, 3);
  EXPECT_EQ(m.label, route::stream_playlist);
  m = match_route(t, "GET", "/stream/abc/seg_00001.ts");
  EXPECT_EQ(m.index, 4);
  EXPECT_EQ(m.label, route::stream_file);
  m = match_route(t, "GET", "/nothing");
  EXPECT_EQ(m.index, -1);
  EXPECT_EQ(m.allowed, 0u);
  EXPECT_EQ(m.label, route::other);
  EXPECT_EQ(match_route(t, "get", "/media/abc/info").index, -1); // methods are case-sensitive
  EXPECT_EQ(allow_value(m_get_head | m_delete), "GET, HEAD, DELETE");
}

TEST(wire, heads) {
  std::string out;
  wire::begin_head(out, 404);
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\nServer: hlsgate\r\nDate: ", 0), 0u);
  out.clear();
  std::vector<std::string> origins{"https://a"};
  wire::end_head(out, {false, &origins}, "https://a", 5, true, false);
  EXPECT_EQ(out, "Access-Control-Allow-Origin: https://a\r\nVary: Origin\r\n"
                 "Access-Control-Expose-Headers: Content-Length, Content-Range\r\n"
                 "Content-Length: 5\r\nConnection: close\r\n\r\n");
  out.clear();
  wire::end_head(out, {}, "https://a", std::nullopt, false, true);
  EXPECT_EQ(out, "Connection: keep-alive\r\n\r\n");
  const std::string over = wire::over_capacity_response();
  EXPECT_EQ(over.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
  EXPECT_NE(over.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(over.find("Retry-After: 30\r\n"), std::string::npos);
  EXPECT_NE(over.find("\r\n\r\n{\"detail\":"), std::string::npos);
}

TEST(http_helpers, query_param_and_header) {
  request req;
  req.query = "a=1&expiry_minutes=30&name=x%20y+z&flag&enc%5Fkey=v";
  req.headers = {{"x-admin-key", "k"}};
  std::string v;
  EXPECT_TRUE(req.query_param("expiry_minutes", v));
  EXPECT_EQ(v, "30");
  EXPECT_TRUE(req.query_param("name", v));
  EXPECT_EQ(v, "x y z");
  EXPECT_TRUE(req.query_param("flag", v));
  EXPECT_EQ(v, "");
  EXPECT_TRUE(req.query_param("enc_key", v));
  EXPECT_EQ(v, "v");
  EXPECT_FALSE(req.query_param("missing", v));
  EXPECT_EQ(req.header("x-admin-key"), "k");
  EXPECT_EQ(req.header("X-Admin-Key"), "k");
  EXPECT_EQ(req.header("authorization"), "");
}

TEST(http_helpers, json_error_escapes) {
  auto r = json_error(422, "bad \"x\"\n\\ \x01");
  EXPECT_EQ(r.status, 422u);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "{\"detail\":\"bad \\\"x\\\"\\n\\\\ \\u0001\"}");
}

TEST(request_id, a_short_token_is_kept_anything_else_replaced) {
  using hlsgate::http::valid_request_id;
  EXPECT_TRUE(valid_request_id("abc-123"));
  EXPECT_TRUE(valid_request_id("7f1c.9a:b_c"));
  EXPECT_TRUE(valid_request_id(std::string(64, 'a')));
  EXPECT_FALSE(valid_request_id(std::string(65, 'a')));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id("a b"));
  EXPECT_FALSE(valid_request_id("a\r\nX-Injected: 1"));
  EXPECT_FALSE(valid_request_id("caf\xc3\xa9"));
}

TEST(request_id, made_ones_are_unique_and_valid) {
  std::string a, b;
  hlsgate::http::next_request_id(a);
  hlsgate::http::next_request_id(b);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 29u) << a;
  EXPECT_EQ(a.substr(0, 17), b.substr(0, 17)) << "one process prefix";
  EXPECT_TRUE(hlsgate::http::valid_request_id(a));
}
