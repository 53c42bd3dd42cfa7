#include "http/docs_page.hpp"

namespace hlsgate::http {

namespace {

constexpr docs_asset assets[] = {
    {"swagger-ui.css", "node_modules/swagger-ui-dist/swagger-ui.css", "text/css; charset=utf-8"},
    {"swagger-ui-bundle.js", "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
     "text/javascript; charset=utf-8"},
    {"favicon-32x32.png", "node_modules/swagger-ui-dist/favicon-32x32.png", "image/png"},
};

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

const docs_asset* find_docs_asset(std::string_view name) noexcept {
  for (const auto& a : assets)
    if (a.name == name)
      return &a;
  return nullptr;
}

} // namespace hlsgate::http
