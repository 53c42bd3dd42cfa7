// The API's OpenAPI 3.1 description (docs/openapi.json, compiled in at build
// time), served at GET /openapi.json.
#pragma once

#include <string_view>

namespace hlsgate::http {

std::string_view openapi_json() noexcept;

} // namespace hlsgate::http
