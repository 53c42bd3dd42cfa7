#include "metrics/build_info.hpp"

namespace hlsgate::build {

const char* version() noexcept {
  return HLSGATE_BUILD_VERSION;
}
const char* commit() noexcept {
  return HLSGATE_BUILD_COMMIT;
}
const char* build_type() noexcept {
  return HLSGATE_BUILD_TYPE;
}
const char* compiler() noexcept {
  return HLSGATE_BUILD_COMPILER;
}

std::string describe() {
  return std::string{"hlsgate "} + version() + " (commit " + commit() + ", " + build_type() + ", " +
         compiler() + ")";
}

} // namespace hlsgate::build
