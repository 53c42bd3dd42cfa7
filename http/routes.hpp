// The route table: one list of {methods, path pattern, metric label, time
// budget, handler}. Dispatch and the `route` label of the request metrics
// both come from match(), so they cannot disagree. Pure (no Beast).
//
// Patterns are '/'-separated parts of the decoded path; empty parts are
// skipped ("/upload/" matches "/upload"). A part is a literal or one of:
//   {id}        [A-Za-z0-9_-]{1,64}           media id
//   {rendition} [a-z0-9]{1,8}                  rendition folder (media/names.hpp)
//   {playlist}  a {name} ending in ".m3u8"
//   {name}      [A-Za-z0-9_.-]{1,64}, not starting with '.', no ".."
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metrics.hpp"

namespace hlsgate::http {

struct request;

/// Method sets as bit masks.
enum method_bits : unsigned {
  m_get = 1,
  m_head = 2,
  m_post = 4,
  m_delete = 8,
  m_options = 16,
  m_get_head = m_get | m_head,
};
/// The bit of a method name (case-sensitive, RFC 9110 §9.1); 0 when unknown.
unsigned method_bit(std::string_view method) noexcept;
/// "GET, HEAD" for an Allow header (RFC 9110 §10.2.1).
std::string allow_value(unsigned methods);

/// How long a route may take to answer, beyond the server-wide
/// HLSGATE_REQUEST_TIMEOUT_SECONDS.
enum class route_wait : uint8_t {
  none,     ///< answered from memory or the store
  upload,   ///< + HLSGATE_UPLOAD_WAIT_SECONDS (synchronous uploads wait for the media)
  ondemand, ///< + HLSGATE_ONDEMAND_WAIT_SECONDS (an imported item transcodes first)
  import,   ///< + HLSGATE_UPLOAD_WAIT_SECONDS (probing up to 1,000 library files; joining a
            ///< live archive)
};

/// What a pattern captured (views into the decoded path).
struct route_params {
  std::string_view id, rendition, name;
};

template <class Handler> struct route_entry {
  unsigned methods = 0;
  std::string_view pattern;
  metrics::route label = metrics::route::other;
  route_wait wait = route_wait::none;
  Handler handler{};
};

/// The result of matching a request against a table.
struct route_match {
  /// Index of the matching entry; -1 when none matched path and method.
  int index = -1;
  route_params params;
  /// When the path matched some entries but not with this method: their
  /// methods (405 with Allow); 0 otherwise (404).
  unsigned allowed = 0;
  /// The metric label: the matched entry's, else that of the first entry
  /// whose path matched, else `other`.
  metrics::route label = metrics::route::other;
  route_wait wait = route_wait::none;
};

/// What an `{id}` part may be: [A-Za-z0-9_-]{1,64} (media ids, token ids,
/// webhook ids). Clients check ids with it before they put one in a path.
bool valid_id(std::string_view s);

/// True when `path` matches `pattern`; fills `params`.
bool match_pattern(std::string_view pattern, std::string_view path, route_params& params);

/// Matches method and path against entries [0, n) (first match wins).
template <class Handler>
route_match match_route(const std::vector<route_entry<Handler>>& table, std::string_view method,
                        std::string_view path) {
  route_match m;
  const unsigned bit = method_bit(method);
  bool labelled = false;
  for (size_t i = 0; i < table.size(); ++i) {
    route_params p;
    if (!match_pattern(table[i].pattern, path, p))
      continue;
    if (!labelled) {
      m.label = table[i].label;
      m.wait = table[i].wait;
      labelled = true;
    }
    if ((table[i].methods & bit) == 0) {
      m.allowed |= table[i].methods;
      continue;
    }
    m.index = static_cast<int>(i);
    m.params = p;
    m.label = table[i].label;
    m.wait = table[i].wait;
    m.allowed = 0;
    return m;
  }
  return m;
}

} // namespace hlsgate::http
