// hlsgate's client commands (`hlsgate upload FILE --wait`, `hlsgate ls`, ...):
// a small HTTP client of the server's own API, in the same binary.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace hlsgate::cli {

/// Runs one client command; `args` = argv without the program name. Returns
/// the process exit code (see exit_code in cli/options.hpp).
int run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);

} // namespace hlsgate::cli
