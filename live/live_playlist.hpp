// A live rendition's media playlist: the DVR window with EXT-X-MEDIA-SEQUENCE
// and EXT-X-DISCONTINUITY-SEQUENCE, EXT-X-PROGRAM-DATE-TIME on every segment,
// EXT-X-DISCONTINUITY where the source restarted, the markers that touch the
// window as EXT-X-DATERANGE, and EXT-X-ENDLIST once the event ended.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "live/markers.hpp"
#include "live/window.hpp"

namespace hlsgate::live {

/// Appends the playlist to `out`. Each segment URI is written as
/// `uri_prefix + uri + uri_suffix` (the signed query goes in the suffix).
/// `markers` may hold markers outside the window: only those that overlap
/// it are written (an END-ON-NEXT marker counts as lasting until the next
/// marker of its class, or to the live edge).
void write_live_playlist(const dvr_window& w, const std::vector<marker>& markers,
                         std::string_view uri_prefix, std::string_view uri_suffix,
                         std::string& out);

} // namespace hlsgate::live
