// GET/HEAD /seg/{storage_id}/{rendition}/{file}: the signed, stateless
// segment route (the same pattern nginx's edge location matches, see
// deploy/nginx.conf), and opening files without following symlinks.
#pragma once

#include <string>
#include <string_view>

#include "media/names.hpp"

namespace hlsgate::http {

/// The parts of a /seg/ path, viewing the raw target.
struct segment_target {
  std::string_view storage_id; ///< [A-Za-z0-9_-]{16,64}
  std::string_view rendition;  ///< [a-z0-9]{1,8} (media/names.hpp)
  std::string_view file;       ///< seg_[0-9]{5,9}.(ts|vtt) (media/names.hpp)
  media::segment_kind kind = media::segment_kind::ts;
};

/// Splits the raw (undecoded) path "/seg/{storage_id}/{rendition}/{file}"
/// and checks each part against its pattern. Percent-escapes, dots,
/// backslashes and empty parts never match, so nothing but these three
/// plain names can reach the filesystem.
bool parse_segment_path(std::string_view raw_path, segment_target& out);

/// "/seg/{storage_id}/": the prefix one URL signature covers.
std::string segment_prefix(std::string_view storage_id);

/// Opens `root`/storage_id/rendition/file read-only, refusing a symlink or a
/// non-directory in any of the three components (O_NOFOLLOW on each step,
/// RFC-independent: a symlink planted under the media root must not make us
/// serve another file). Returns the fd of a regular file, or -1.
int open_segment(const std::string& root, const segment_target& t);

/// Opens `path` read-only when its last component is a regular file and not
/// a symlink (O_NOFOLLOW; O_NONBLOCK so a FIFO cannot block the I/O thread).
/// Returns the fd, or -1.
int open_regular_nofollow(const char* path);

} // namespace hlsgate::http
