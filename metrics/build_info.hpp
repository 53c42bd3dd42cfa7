// What this binary is: printed by `hlsgate --version` and exported as the
// hlsgate_build_info metric (value 1, the facts as labels).
#pragma once

#include <string>

namespace hlsgate::build {

const char* version() noexcept;    ///< the project's version, e.g. "0.1.0"
const char* commit() noexcept;     ///< git commit at configure time ("unknown" outside git)
const char* build_type() noexcept; ///< CMake build type, e.g. "RelWithDebInfo"
const char* compiler() noexcept;   ///< e.g. "GNU 12.2.0"

/// "hlsgate 0.1.0 (commit 60292cf, RelWithDebInfo, GNU 12.2.0)"
std::string describe();

} // namespace hlsgate::build
