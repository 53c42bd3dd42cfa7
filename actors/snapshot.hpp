// The immutable playlist view of a media item, shared with HTTP threads that
// render it per request (no actor work on the playlist path).
#pragma once

#include <vector>

#include "actors/types.hpp"
#include "media/transcoder.hpp"

namespace hlsgate::actors {

/// Builds the playlist view of `renditions` of the item `r`: VOD when
/// `ended`, else EVENT (a running job; bandwidths measured so far, and the
/// master lists only the first rendition: a player that loaded several
/// growing variants and meets the end list on one of them would take the
/// others' stale lengths for the item's duration, as Shaka Player does).
/// Target durations are at least ceil(`segment_seconds`), so they do not
/// change while the playlists grow.
playlist_ptr make_snapshot(const media_record& r, const std::vector<rendition_record>& renditions,
                           bool ended, double segment_seconds);

/// Copies what the transcoder reports about a rendition (not its segments).
rendition_record to_record(const media::rendition_output& x);

} // namespace hlsgate::actors
