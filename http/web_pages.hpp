// The pages hlsgate serves to browsers, with no CDN: the web app at `/`, the
// embeddable player at /embed/{id}, and Swagger UI at /docs. Their files live
// under HLSGATE_WEB_DIR (web/app/ in the repository; the npm packages that
// scripts/build-web.sh installs under web/node_modules), and only the files
// named in the tables here are ever served: a URL never names a path.
#pragma once

#include <string_view>

namespace hlsgate::http {

struct web_asset {
  std::string_view name;         ///< the last URL component (/docs/`name`, /app/`name`)
  std::string_view package_path; ///< under HLSGATE_WEB_DIR
  std::string_view content_type;
  bool from_package = false; ///< an npm package's file (versioned by the lock file)
};

/// The /docs page.
std::string_view docs_html() noexcept;
/// /docs/docs.js: starts Swagger UI on /openapi.json, with the online
/// validator (an outside service) turned off.
std::string_view docs_js() noexcept;

/// The Swagger UI file served as /docs/`name`, or nullptr.
const web_asset* find_docs_asset(std::string_view name) noexcept;
/// The web app's file served as /app/`name`, or nullptr.
const web_asset* find_app_asset(std::string_view name) noexcept;

/// The web app's pages under HLSGATE_WEB_DIR.
inline constexpr std::string_view app_page_path = "app/index.html";
inline constexpr std::string_view embed_page_path = "app/embed.html";
/// The file without which the app's pages cannot play (hls.js from npm).
inline constexpr std::string_view app_player_asset = "hls.min.js";

/// Content-Security-Policy of the app's pages: only this origin's scripts,
/// styles, images and requests; media from MediaSource blobs. `embeddable`:
/// any site may frame the page (the /embed player); otherwise none may.
std::string_view app_page_policy(bool embeddable) noexcept;
/// Content-Security-Policy of /docs: as the app's, but Swagger UI sets
/// inline styles and shows data: images; never framed.
std::string_view docs_page_policy() noexcept;

} // namespace hlsgate::http
