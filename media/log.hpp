// libav's log messages, routed to the project's logger instead of stderr.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace hlsgate::media {

/// libav's log levels (AV_LOG_*): lower is more severe.
namespace log_level {
constexpr int panic = 0;
constexpr int fatal = 8;
constexpr int error = 16;
constexpr int warning = 24;
constexpr int info = 32;
constexpr int verbose = 40;
constexpr int debug = 48;
} // namespace log_level

/// Takes one complete line of libav's log (without its newline, prefixed
/// "[context @ 0x...] " as libav formats it) and its libav level. Called on
/// whichever thread libav logs from (rung workers, x264's and the decoders'
/// threads), so it must be thread-safe and quick. The text is libav's, raw:
/// it may carry control characters and bytes of the input file; whoever
/// writes it out escapes it.
using log_sink = std::function<void(int level, std::string_view line)>;

/// From now on libav's messages at `max_level` or more severe go to `sink`,
/// and none to stderr (an empty sink drops them all). Replaces an earlier
/// sink; thread-safe. Without a sink, libav prints errors to stderr.
void set_log_sink(log_sink sink, int max_level = log_level::warning);

/// `line` with the query of every URL in it ("scheme://...?QUERY" up to a
/// space, a quote, ']' or '>') replaced by "?…": the HLS demuxer names the URLs it
/// fails to open, and a pulled source's tokens live in their queries. The
/// sink receives lines already redacted. Pure.
std::string redact_url_queries(std::string_view line);

} // namespace hlsgate::media
