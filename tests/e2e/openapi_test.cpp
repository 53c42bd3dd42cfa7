// docs/openapi.json against the server: every route of the route table is
// documented with each of its methods, /openapi.json serves exactly that
// file, and real responses of a running server fit their documented schemas.
#include "http/api.hpp"
#include "http/routes.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/json_schema.hpp"

namespace hlsgate::test {
namespace {

const std::string k_token = "openapi-token-0123456789abcdef";

json spec_file() {
  return json::parse(read_file(std::string{HLSGATE_SOURCE_DIR} + "/docs/openapi.json"));
}

TEST(openapi_schema_check, catches_what_it_should) {
  const json root = {{"components",
                      {{"schemas",
                        {{"Item",
                          {{"type", "object"},
                           {"required", {"id", "status"}},
                           {"properties",
                            {{"id", {{"type", "string"}}},
                             {"status", {{"enum", {"ready", "failed"}}}},
                             {"next", {{"type", {"string", "null"}}}},
                             {"n", {{"type", "integer"}}}}}}}}}}}};
  const json ref = {{"$ref", "#/components/schemas/Item"}};
  EXPECT_TRUE(
      schema_errors({{"id", "a"}, {"status", "ready"}, {"next", nullptr}}, ref, root).empty());
  EXPECT_EQ(schema_errors({{"status", "ready"}}, ref, root).size(), 1u) << "missing required";
  EXPECT_EQ(schema_errors({{"id", 1}, {"status", "ready"}}, ref, root).size(), 1u) << "type";
  EXPECT_EQ(schema_errors({{"id", "a"}, {"status", "gone"}}, ref, root).size(), 1u) << "enum";
  EXPECT_EQ(schema_errors({{"id", "a"}, {"status", "ready"}, {"n", 1.5}}, ref, root).size(), 1u);
  EXPECT_EQ(schema_errors(json::array({1}), {{"type", "array"}, {"items", ref}}, root).size(), 1u);
  EXPECT_EQ(schema_errors(1, {{"$ref", "#/nowhere"}}, root).size(), 1u);
}

TEST(openapi_spec, documents_every_route_and_method) {
  const json spec = spec_file();
  EXPECT_EQ(spec.value("openapi", ""), "3.1.0");
  const json& paths = spec.at("paths");
  for (const auto& r : http::api::routes()) {
    ASSERT_TRUE(paths.contains(r.pattern)) << r.pattern << " is not documented";
    const json& ops = paths.at(r.pattern);
    for (auto [bit, name] : {std::pair{http::m_get, "get"}, std::pair{http::m_head, "head"},
                             std::pair{http::m_post, "post"}, std::pair{http::m_delete, "delete"}})
      if (r.methods & bit) {
        EXPECT_TRUE(ops.contains(name)) << name << " " << r.pattern << " is not documented";
      }
  }
  std::set<std::string> ids;
  for (auto& [path, ops] : paths.items())
    for (auto& [method, op] : ops.items())
      if (op.is_object() && op.contains("operationId")) {
        EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second)
            << "duplicate operationId " << op["operationId"];
      }
}

class openapi : public e2e {
protected:
  json spec;
  header_list op{{"Authorization", "Bearer " + k_token}};

  /// The reply fits the schema documented for (pattern, method, status).
  void fits(const std::string& pattern, const std::string& method, const http_reply& r) {
    SCOPED_TRACE(method + " " + pattern + " " + std::to_string(r.status));
    const json::json_pointer where{"/paths/" + json_escape(pattern) + "/" + method + "/responses/" +
                                   std::to_string(r.status)};
    ASSERT_TRUE(spec.contains(where)) << "status not documented; body: " << r.body;
    json resp = spec.at(where);
    if (resp.contains("$ref"))
      resp = spec.at(json::json_pointer{resp["$ref"].get<std::string>().substr(1)});
    const json::json_pointer schema_at{"/content/application~1json/schema"};
    ASSERT_TRUE(resp.contains(schema_at)) << "no JSON schema documented";
    const auto errs = schema_errors(json::parse(r.body), resp.at(schema_at), spec);
    for (auto& e : errs)
      ADD_FAILURE() << e << "\nbody: " << r.body;
  }
  static std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s)
      out += c == '~' ? std::string{"~0"} : c == '/' ? std::string{"~1"} : std::string(1, c);
    return out;
  }
};

TEST_F(openapi, served_spec_is_the_file_and_real_responses_fit_it) {
  env["HLSGATE_API_TOKEN"] = k_token;
  env["HLSGATE_WEBHOOK_ALLOW_PRIVATE"] = "1";
  start();
  spec = spec_file();
  auto served = http_get(port(), "/openapi.json");
  ASSERT_EQ(served.status, 200u);
  EXPECT_EQ(served.header("content-type"), "application/json");
  EXPECT_TRUE(json::parse(served.body) == spec)
      << "the served description is not docs/openapi.json";

  fits("/health", "get", http_get(port(), "/health"));
  fits("/ready", "get", http_get(port(), "/ready"));
  fits("/media", "get", http_get(port(), "/media"));             // 401
  fits("/media", "get", http_get(port(), "/media?limit=0", op)); // 422

  const std::string clip = make_clip(clip_720p(2));
  auto [type, body] = multipart_body("media", "clip.mp4", read_file(clip));
  http_connection conn{port(), 300};
  auto up = conn.request("POST", "/upload/", {{"Content-Type", type}, op[0]}, body);
  ASSERT_EQ(up.status, 200u) << up.body;
  fits("/upload", "post", up);
  const json u = parse_json(up);
  const std::string id = u["media_id"], key = u["admin_key"], token = u["access_token"];
  const header_list admin{{"X-Admin-Key", key}};

  fits("/media", "get", http_get(port(), "/media", op));
  fits("/media/{id}/info", "get", http_get(port(), "/media/" + id + "/info", admin));
  fits("/media/{id}/info", "get", http_get(port(), "/media/" + id + "/info")); // 401
  fits("/media/{id}/stream-info", "get",
       http_get(port(), "/media/" + id + "/stream-info?token=" + token));
  auto minted = http_request(port(), "POST", "/media/" + id + "/tokens",
                             {admin[0], {"Content-Type", "application/json"}}, R"({"label":"x"})");
  fits("/media/{id}/tokens", "post", minted);
  fits("/media/{id}/tokens", "get", http_get(port(), "/media/" + id + "/tokens", admin));
  fits("/media/{id}/tokens/{name}", "delete",
       http_request(port(), "DELETE",
                    "/media/" + id + "/tokens/" + parse_json(minted)["jti"].get<std::string>(),
                    admin));
  fits("/media/{id}/extend-expiry", "post",
       http_request(port(), "POST", "/media/" + id + "/extend-expiry?additional_minutes=5", admin));
  fits("/refresh-token/{id}", "post",
       http_request(port(), "POST", "/refresh-token/" + id + "?expiry_minutes=5", admin));
  fits("/media", "delete", http_request(port(), "DELETE", "/media?q=nomatch", op));
  fits("/media/{id}", "delete", http_request(port(), "DELETE", "/media/" + id, admin));
  fits("/media/{id}", "delete", http_request(port(), "DELETE", "/media/" + id, admin)); // 404

  // Webhooks (the target, a closed port on 127.0.0.1, refuses the delivery).
  auto hook = http_request(port(), "POST", "/webhooks", op,
                           R"({"url":"http://127.0.0.1:9/x","events":["webhook.test"],)"
                           R"("headers":{"X-Key":"v"}})");
  fits("/webhooks", "post", hook);
  fits("/webhooks", "post", http_request(port(), "POST", "/webhooks", op, R"({"url":"ftp://x"})"));
  fits("/webhooks", "get", http_get(port(), "/webhooks", op));
  const std::string hook_id = parse_json(hook)["id"];
  fits("/webhooks/test", "post",
       http_request(port(), "POST", "/webhooks/test?webhook_id=" + hook_id, op));
  fits("/webhooks/{id}/deliveries", "get",
       http_get(port(), "/webhooks/" + hook_id + "/deliveries", op));
  fits("/webhooks/{id}", "delete", http_request(port(), "DELETE", "/webhooks/" + hook_id, op));
  fits("/webhooks", "delete",
       http_request(port(), "DELETE", "/webhooks?webhook_url=https://nope.example/", op)); // 404
}

TEST_F(openapi, proxy_responses_fit_the_spec) {
  env["HLSGATE_API_TOKEN"] = k_token;
  env["HLSGATE_ALLOW_PRIVATE_UPSTREAMS"] = "1";
  start();
  spec = spec_file();

  // Registration fetches nothing: a closed port on 127.0.0.1 is upstream enough.
  auto made = http_request(port(), "POST", "/streams", op,
                           R"({"url":"http://127.0.0.1:1/x.m3u8","metadata":{"a":"b","n":1}})");
  ASSERT_EQ(made.status, 200u) << made.body;
  fits("/streams", "post", made);
  fits("/streams", "post",
       http_request(port(), "POST", "/streams", op, R"({"url":"file:///etc/hostname"})")); // 422
  const std::string id = parse_json(made)["stream_id"];

  fits("/streams", "get", http_get(port(), "/streams", op));
  fits("/streams/{id}", "get", http_get(port(), "/streams/" + id, op));
  fits("/streams/by-metadata", "get",
       http_get(port(), "/streams/by-metadata?field=a&value=b&active_only=false", op));
  fits("/streams/by-metadata", "get", http_get(port(), "/streams/by-metadata?field=a&value=b", op));
  fits("/stats", "get", http_get(port(), "/stats", op));
  fits("/stats/streams", "get", http_get(port(), "/stats/streams", op));
  fits("/stats/clients", "get", http_get(port(), "/stats/clients", op));
  fits("/clients", "get", http_get(port(), "/clients", op));
  fits("/clients/{id}", "get", http_get(port(), "/clients/nope", op)); // 404
  auto failover = http_request(port(), "POST", "/streams/" + id + "/failover", op);
  EXPECT_EQ(failover.status, 422u) << "no failover URL";
  fits("/streams/{id}/failover", "post", failover);
  auto viewer = http_get(port(), "/hls/" + id + "/playlist.m3u8");
  EXPECT_EQ(viewer.status, 401u) << "no viewer token";
  fits("/hls/{id}/{name}", "get", viewer);
  fits("/hls/{id}/clients/{name}", "delete",
       http_request(port(), "DELETE", "/hls/" + id + "/clients/nope", op)); // 404

  // The metadata filter does not match the stream ("n" is 1): nothing deleted.
  auto none = http_request(port(), "DELETE", "/streams/by-metadata?field=n&value=2", op);
  fits("/streams/by-metadata", "delete", none);
  EXPECT_EQ(parse_json(none).value("deleted_count", -1), 0);
  auto removed = http_request(port(), "DELETE", "/streams/by-metadata?field=a&value=b", op);
  fits("/streams/by-metadata", "delete", removed);
  EXPECT_EQ(parse_json(removed).value("deleted_count", -1), 1) << removed.body;

  // Another registration (X-API-Token), deleted by id (?api_token=).
  const header_list x_token{{"X-API-Token", k_token}};
  auto again = http_request(port(), "POST", "/streams", x_token,
                            R"({"url":"http://127.0.0.1:1/live.ts","public":true})");
  ASSERT_EQ(again.status, 200u) << again.body;
  fits("/streams", "post", again);
  const std::string id2 = parse_json(again)["stream_id"];
  auto gone = http_request(port(), "DELETE", "/streams/" + id2 + "?api_token=" + k_token);
  EXPECT_EQ(gone.status, 200u) << gone.body;
  fits("/streams/{id}", "delete", gone);
  auto missing = http_get(port(), "/streams/" + id2, op);
  EXPECT_EQ(missing.status, 404u);
  fits("/streams/{id}", "get", missing);
  fits("/streams", "get", http_get(port(), "/streams"));                             // 401
  fits("/streams", "get", http_get(port(), "/streams", {{"X-API-Token", "wrong"}})); // 403
}

TEST_F(openapi, docs_page_and_only_its_named_files_are_served) {
  start();
  auto page = http_get(port(), "/docs");
  ASSERT_EQ(page.status, 200u) << page.body << " (scripts/build-web.sh installs Swagger UI)";
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.header("content-security-policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(page.header("x-frame-options"), "DENY");
  EXPECT_EQ(page.header("referrer-policy"), "no-referrer");
  for (const char* ref : {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/docs.js"})
    EXPECT_NE(page.body.find(ref), std::string::npos) << ref;
  EXPECT_EQ(page.body.find("http"), std::string::npos) << "no outside URL: no CDN";
  auto js = http_get(port(), "/docs/docs.js");
  ASSERT_EQ(js.status, 200u);
  EXPECT_NE(js.body.find("validatorUrl: null"), std::string::npos) << "no outside validator";
  EXPECT_NE(js.body.find("\"/openapi.json\""), std::string::npos);
  auto bundle = http_get(port(), "/docs/swagger-ui-bundle.js");
  ASSERT_EQ(bundle.status, 200u);
  EXPECT_EQ(bundle.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_GT(bundle.body.size(), 100'000u);
  EXPECT_NE(bundle.body.find("SwaggerUIBundle"), std::string::npos);
  auto css = http_get(port(), "/docs/swagger-ui.css");
  EXPECT_EQ(css.status, 200u);
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(http_get(port(), "/docs/favicon-32x32.png").status, 200u);
  // Anything else of the package (or beyond it) stays unreachable.
  for (const char* bad :
       {"/docs/index.html", "/docs/package.json", "/docs/swagger-ui-bundle.js.map",
        "/docs/..%2f..%2fpackage.json", "/docs/%2e%2e", "/docs/../openapi.json"}) {
    auto r = http_get(port(), bad);
    EXPECT_EQ(r.status, 404u) << bad << " " << r.body.substr(0, 80);
  }
}

TEST_F(openapi, web_app_pages_and_only_their_named_files_are_served) {
  start();
  auto app = http_get(port(), "/");
  ASSERT_EQ(app.status, 200u) << app.body << " (scripts/build-web.sh installs hls.js)";
  EXPECT_EQ(app.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(app.header("content-security-policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_NE(app.header("content-security-policy").find("script-src 'self';"), std::string::npos);
  EXPECT_EQ(app.header("x-frame-options"), "DENY");
  EXPECT_EQ(app.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(app.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(app.body.find("http"), std::string::npos) << "no outside URL: no CDN";
  auto embed = http_get(port(), "/embed/AbC-_09");
  ASSERT_EQ(embed.status, 200u);
  EXPECT_NE(embed.header("content-security-policy").find("frame-ancestors *"), std::string::npos);
  EXPECT_EQ(embed.header("x-frame-options"), "") << "the embed page may be framed";
  // Every file the two pages load is served, with its type.
  size_t refs = 0;
  for (const std::string& page : {app.body, embed.body}) {
    for (size_t at = page.find("\"/app/"); at != std::string::npos;
         at = page.find("\"/app/", at + 1)) {
      const std::string ref = page.substr(at + 1, page.find('"', at + 1) - at - 1);
      auto r = http_get(port(), ref);
      EXPECT_EQ(r.status, 200u) << ref;
      const bool js = ref.size() > 3 && ref.substr(ref.size() - 3) == ".js";
      if (js) {
        EXPECT_EQ(r.header("content-type"), "text/javascript; charset=utf-8") << ref;
      }
      EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << ref;
      ++refs;
    }
  }
  EXPECT_GE(refs, 10u);
  EXPECT_EQ(http_get(port(), "/app/hls.worker.js").status, 200u) << "hls.js's worker (workerPath)";
  EXPECT_EQ(http_request(port(), "HEAD", "/").status, 200u);
  for (const char* bad :
       {"/app/index.html", "/app/embed.html", "/app/hls.min.js.map", "/app/..%2fpackage.json",
        "/app/%2e%2e", "/embed/a.b", "/embed/", "/embed/x/y", "/app/../package.json"}) {
    auto r = http_get(port(), bad);
    EXPECT_EQ(r.status, 404u) << bad << " " << r.body.substr(0, 80);
  }
}

TEST_F(openapi, docs_without_swagger_ui_installed_says_how_to_get_it) {
  env["HLSGATE_WEB_DIR"] = data + "-no-web";
  start();
  auto page = http_get(port(), "/docs");
  EXPECT_EQ(page.status, 503u);
  EXPECT_NE(parse_json(page).value("detail", "").find("scripts/build-web.sh"), std::string::npos);
  EXPECT_EQ(http_get(port(), "/docs/swagger-ui-bundle.js").status, 404u);
  EXPECT_EQ(parse_json(http_get(port(), "/docs/swagger-ui-bundle.js")).value("detail", ""),
            "Not found")
      << "no path in the reply";
  auto app = http_get(port(), "/");
  EXPECT_EQ(app.status, 503u);
  EXPECT_NE(parse_json(app).value("detail", "").find("scripts/build-web.sh"), std::string::npos);
  EXPECT_EQ(http_get(port(), "/embed/abc").status, 503u);
}

} // namespace
} // namespace hlsgate::test
