// What GET /stream/{id}/... answers once the media actor granted the
// request: the master playlist, a rendition's signed media playlist (cached
// per thread, gzip when accepted), the thumbnails and storyboard, or a
// segment file (PyHLS's flat names).
#pragma once

#include <string>

#include "actors/types.hpp"
#include "http/server.hpp"

namespace hlsgate::actors {
class service;
}

namespace hlsgate::http::vod_files {

/// The answer to `name` (in `rendition`, "" for the item's own folder)
/// for a request `g` granted with viewer token `token`.
response render(actors::service& svc, const actors::playlist_grant& g, const std::string& token,
                const std::string& rendition, const std::string& name, bool gzip);

} // namespace hlsgate::http::vod_files
