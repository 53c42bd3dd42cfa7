#include "http/web_routes.hpp"

#include <filesystem>
#include <memory>
#include <system_error>

#include "http/errors.hpp"
#include "http/openapi.hpp"
#include "http/web_pages.hpp"

namespace fs = std::filesystem;

namespace hlsgate::http::web_routes {

namespace {

constexpr const char* install_hint = "run scripts/build-web.sh";

bool installed(const std::string& web_dir, const web_asset* a) {
  std::error_code ec;
  return a && fs::is_regular_file(fs::path{web_dir} / a->package_path, ec);
}

void add_browser_headers(response& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Page URLs carry viewer tokens: never hand them to another site.
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

/// One of the app's two pages, sent from disk with its policy headers.
void page(const std::string& web_dir, std::string_view path, bool embeddable, reply_fn& reply) {
  if (!installed(web_dir, find_app_asset(app_player_asset)))
    return reply(
        error_response(503, std::string{"The web app is not installed ("} + install_hint + ")"));
  response r;
  r.content_type = "text/html; charset=utf-8";
  r.file_path = (fs::path{web_dir} / path).string();
  r.headers.emplace_back("Content-Security-Policy", std::string{app_page_policy(embeddable)});
  if (!embeddable)
    r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cache-Control", "no-cache");
  add_browser_headers(r);
  reply(std::move(r));
}

void asset(const std::string& web_dir, const web_asset* a, reply_fn& reply) {
  if (!a)
    return reply(error_response(404, "Not found"));
  response r;
  r.content_type.assign(a->content_type);
  r.file_path = (fs::path{web_dir} / a->package_path).string();
  // Package files change only with the lock file; the app's own on any edit.
  r.headers.emplace_back("Cache-Control", a->from_package ? "public, max-age=3600" : "no-cache");
  add_browser_headers(r);
  reply(std::move(r));
}

} // namespace

void app_page(const std::string& web_dir, reply_fn& reply) {
  page(web_dir, app_page_path, false, reply);
}

void embed_page(const std::string& web_dir, reply_fn& reply) {
  page(web_dir, embed_page_path, true, reply);
}

void app_file(const std::string& web_dir, const route_params& p, reply_fn& reply) {
  asset(web_dir, find_app_asset(p.name), reply);
}

void docs_page(const std::string& web_dir, reply_fn& reply) {
  // The page is useless without the bundle: say how to install it.
  if (!installed(web_dir, find_docs_asset("swagger-ui-bundle.js")))
    return reply(
        error_response(503, std::string{"Swagger UI is not installed ("} + install_hint + ")"));
  response r;
  r.content_type = "text/html; charset=utf-8";
  r.body.assign(docs_html());
  // The same origin keeps the app's keys in the browser's storage: the docs
  // page gets the same protections as the app's pages.
  r.headers.emplace_back("Content-Security-Policy", std::string{docs_page_policy()});
  r.headers.emplace_back("X-Frame-Options", "DENY");
  add_browser_headers(r);
  reply(std::move(r));
}

void docs_file(const std::string& web_dir, const route_params& p, reply_fn& reply) {
  if (p.name == "docs.js") {
    response r;
    r.content_type = "text/javascript; charset=utf-8";
    r.body.assign(docs_js());
    add_browser_headers(r);
    return reply(std::move(r));
  }
  asset(web_dir, find_docs_asset(p.name), reply);
}

void openapi(reply_fn& reply) {
  static const auto text = std::make_shared<const std::string>(openapi_json());
  response r;
  r.content_type = "application/json";
  r.shared_body = text;
  reply(std::move(r));
}

} // namespace hlsgate::http::web_routes
