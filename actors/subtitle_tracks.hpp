// Subtitle renditions, whoever brings the cues: a file posted to
// /media/{id}/subtitles (media_subtitles.cpp) or the source's own text
// streams, read by the transcode worker (transcoder_pool.cpp). One place
// decides the folder names, the segment grid, the size bound and the record.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "actors/types.hpp"
#include "media/result.hpp"
#include "media/subtitles.hpp"

namespace hlsgate::actors {

constexpr size_t max_subtitle_tracks = 16;

/// A subtitle rendition ready to be written: its record and its files.
struct subtitle_rendition {
  rendition_record record;
  std::vector<std::pair<std::string, std::string>> files; ///< segment file name, WebVTT text
};

/// The segment grid subtitles follow: the first variant's EXTINFs (every
/// variant cuts at the same times); empty when there is none.
std::vector<double> subtitle_grid(const std::vector<rendition_record>& renditions);

/// Segments `cues` on `grid` as the next free subtitle folder of an item
/// whose renditions are `taken`. `label` is cleaned (UTF-8 without control
/// characters, quotes or line separators, at most 64 bytes); "" = the
/// language, else the folder name; made unique among the item's subtitle
/// tracks ("English 2"). Fails (invalid_input) when all 16 folders are
/// taken, or when the files would weigh more than 16 MiB (a cue goes into
/// every segment it overlaps; checked before anything is made).
media::result<subtitle_rendition>
make_subtitle_rendition(const std::vector<rendition_record>& taken,
                        const std::vector<media::subtitle_cue>& cues,
                        const std::vector<double>& grid, const std::string& language,
                        const std::string& label, bool is_default, bool forced);

} // namespace hlsgate::actors
