// Checks a JSON value against the part of JSON Schema (2020-12) that
// docs/openapi.json uses: type (a name or a list of names), enum, required,
// properties, items, allOf/anyOf/oneOf, and $ref to "#/…" inside `root`.
// Test support: strict where it checks, silent about keywords it does not
// know (format, description, minimum…), which are documentation here.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hlsgate::test {

/// Every mismatch, as "<json pointer>: <what>"; empty when `value` fits.
std::vector<std::string> schema_errors(const nlohmann::json& value, const nlohmann::json& schema,
                                       const nlohmann::json& root);

} // namespace hlsgate::test
