// The routes that serve browsers rather than API clients: the web app (`/`,
// /app/{name}), the embeddable player (/embed/{id}), Swagger UI (/docs,
// /docs/{name}) and the API description (/openapi.json). Every file comes from
// the tables of web_pages.hpp under HLSGATE_WEB_DIR; a page whose npm package
// is missing answers 503 with the command that installs it.
#pragma once

#include <string>

#include "http/routes.hpp"
#include "http/server.hpp"

namespace hlsgate::http::web_routes {

/// GET / : the web app (upload, library, player, admin view).
void app_page(const std::string& web_dir, reply_fn& reply);
/// GET /embed/{id}?token= : the player alone, for an iframe on any site (the
/// page reads the id and the token from its own URL).
void embed_page(const std::string& web_dir, reply_fn& reply);
/// GET /app/{name}.
void app_file(const std::string& web_dir, const route_params& p, reply_fn& reply);
/// GET /docs.
void docs_page(const std::string& web_dir, reply_fn& reply);
/// GET /docs/{name}.
void docs_file(const std::string& web_dir, const route_params& p, reply_fn& reply);
/// GET /openapi.json (compiled in; one shared body, no copy per request).
void openapi(reply_fn& reply);

} // namespace hlsgate::http::web_routes
