// config::parse with a generated environment and config file, and
// config::parse_ladder. Field 0 is "KEY=VALUE" lines for the environment
// (keys are picked from the real variable names by their first byte), field 1
// the config file text, field 2 a ladder. Invariant: a parsed ladder
// formats and re-parses to itself.
#include "config/config.hpp"
#include "config/ladder.hpp"
#include "tests/fuzz/fuzz_input.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

using namespace hlsgate::config;

namespace {

const char* const k_keys[] = {"HLSGATE_BIND",
                              "HLSGATE_PORT",
                              "HLSGATE_PUBLIC_URL",
                              "HLSGATE_HTTP_THREADS",
                              "HLSGATE_MAX_CONNECTIONS",
                              "HLSGATE_HEADER_TIMEOUT_SECONDS",
                              "HLSGATE_IDLE_TIMEOUT_SECONDS",
                              "HLSGATE_MIN_BODY_RATE",
                              "HLSGATE_BODY_RATE_WINDOW_SECONDS",
                              "HLSGATE_REQUEST_TIMEOUT_SECONDS",
                              "HLSGATE_SHUTDOWN_SECONDS",
                              "HLSGATE_CORS_ORIGINS",
                              "HLSGATE_DATA_DIR",
                              "HLSGATE_MEDIA_DIR",
                              "HLSGATE_MEDIA_GROUP",
                              "HLSGATE_IMPORT_ROOT",
                              "SECRET_KEY",
                              "ALGORITHM",
                              "HLSGATE_EDGE_SECRET",
                              "HLSGATE_API_TOKEN",
                              "HLSGATE_WORKERS",
                              "HLSGATE_SEGMENT_SECONDS",
                              "HLSGATE_MAX_UPLOAD_BYTES",
                              "HLSGATE_SIGNED_URL_SECONDS",
                              "HLSGATE_TOKEN_MINUTES",
                              "HLSGATE_DEFAULT_EXPIRY_MINUTES",
                              "HLSGATE_QUEUE_LIMIT",
                              "HLSGATE_WATCHDOG_SECONDS",
                              "HLSGATE_LADDER",
                              "HLSGATE_THUMBNAIL_SECONDS",
                              "HLSGATE_ONDEMAND_WAIT_SECONDS",
                              "HLSGATE_UPLOAD_WAIT_SECONDS",
                              "HLSGATE_X264_PRESET",
                              "HLSGATE_MAX_SOURCE_SECONDS",
                              "HLSGATE_MAX_PIXEL_RATE",
                              "HLSGATE_LOG_LEVEL"};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = hlsgate::fuzz::fields(data, size, 3);
  std::map<std::string, std::string> env;
  std::string_view lines = f[0];
  while (!lines.empty()) {
    const size_t nl = lines.find('\n');
    std::string_view line = lines.substr(0, nl);
    lines = nl == std::string_view::npos ? std::string_view{} : lines.substr(nl + 1);
    if (line.empty())
      continue;
    const size_t nkeys = sizeof k_keys / sizeof k_keys[0];
    env[k_keys[static_cast<unsigned char>(line[0]) % nkeys]] = std::string(line.substr(1));
  }
  static const std::string file = "/tmp/hlsgate-config-fuzz-" + std::to_string(::getpid());
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(f[1].data(), static_cast<std::streamsize>(f[1].size()));
  }
  const char* argv[] = {"hlsgate", "--config", file.c_str()};
  (void)parse(f[1].empty() ? 1 : 3, argv, env);

  std::vector<rung> rungs;
  if (parse_ladder(f[2], rungs).empty()) {
    std::vector<rung> again;
    if (!parse_ladder(format_ladder(rungs), again).empty() || again != rungs)
      __builtin_trap();
  }
  return 0;
}
