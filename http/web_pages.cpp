#include "http/web_pages.hpp"

namespace hlsgate::http {

namespace {

constexpr std::string_view js = "text/javascript; charset=utf-8";

constexpr web_asset docs_assets[] = {
    {"swagger-ui.css", "node_modules/swagger-ui-dist/swagger-ui.css", "text/css; charset=utf-8",
     true},
    {"swagger-ui-bundle.js", "node_modules/swagger-ui-dist/swagger-ui-bundle.js", js, true},
    {"favicon-32x32.png", "node_modules/swagger-ui-dist/favicon-32x32.png", "image/png", true},
};

constexpr web_asset app_assets[] = {
    {"app.css", "app/app.css", "text/css; charset=utf-8"},
    {"api.js", "app/api.js", js},
    {"player.js", "app/player.js", js},
    {"app.js", "app/app.js", js},
    {"upload.js", "app/upload.js", js},
    {"pages.js", "app/pages.js", js},
    {"live.js", "app/live.js", js},
    {"embed.js", "app/embed.js", js},
    {"icon.svg", "app/icon.svg", "image/svg+xml"},
    {"hls.min.js", "node_modules/hls.js/dist/hls.min.js", js, true},
    {"hls.worker.js", "node_modules/hls.js/dist/hls.worker.js", js, true},
};

template <size_t N>
const web_asset* find_in(const web_asset (&table)[N], std::string_view name) noexcept {
  for (const auto& a : table)
    if (a.name == name)
      return &a;
  return nullptr;
}

} // namespace

std::string_view docs_html() noexcept {
  return R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hlsgate API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<main id="swagger-ui"></main>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
)";
}

std::string_view docs_js() noexcept {
  return R"(window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null
  });
});
)";
}

const web_asset* find_docs_asset(std::string_view name) noexcept {
  return find_in(docs_assets, name);
}

const web_asset* find_app_asset(std::string_view name) noexcept {
  return find_in(app_assets, name);
}

std::string_view app_page_policy(bool embeddable) noexcept {
#define HLSGATE_APP_POLICY                                                                         \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "          \
  "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "           \
  "base-uri 'none'; form-action 'none'; "
  return embeddable ? HLSGATE_APP_POLICY "frame-ancestors *"
                    : HLSGATE_APP_POLICY "frame-ancestors 'none'";
#undef HLSGATE_APP_POLICY
}

std::string_view docs_page_policy() noexcept {
  return "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
         "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; "
         "form-action 'none'; frame-ancestors 'none'";
}

} // namespace hlsgate::http
