// Turning 8-bit picture planes by quarter turns. Pure (no libav): the
// transcoder turns rotated sources upright with it, the thumbnailer its tiles.
#pragma once

#include <cstdint>

namespace hlsgate::media {

/// Writes the `w` x `h` plane `src` (rows `src_stride` bytes apart) into
/// `dst` (rows `dst_stride` bytes apart) turned clockwise by `rotation`
/// degrees: 90 or 270 make it h wide and w high, 180 keeps its size, any
/// other value copies it as is.
void rotate_plane(const uint8_t* src, int src_stride, int w, int h, uint8_t* dst, int dst_stride,
                  int rotation);

} // namespace hlsgate::media
