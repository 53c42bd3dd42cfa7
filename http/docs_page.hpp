// GET /docs: Swagger UI over /openapi.json, served by hlsgate itself (no
// CDN). The page and its start-up script are compiled in; Swagger UI's own
// files come from the npm package that scripts/build-web.sh installs under
// HLSGATE_WEB_DIR, and only the few named here are ever served.
#pragma once

#include <string_view>

namespace hlsgate::http {

/// The /docs page.
std::string_view docs_html() noexcept;
/// /docs/docs.js: starts Swagger UI on /openapi.json, with the online
/// validator (an outside service) turned off.
std::string_view docs_js() noexcept;

struct docs_asset {
  std::string_view name;         ///< under /docs/
  std::string_view package_path; ///< under HLSGATE_WEB_DIR
  std::string_view content_type;
};

/// The Swagger UI file served as /docs/`name`, or nullptr: no other name
/// reaches the disk.
const docs_asset* find_docs_asset(std::string_view name) noexcept;

} // namespace hlsgate::http
