// The yuvj420p pictures of the thumbnailer: allocation, blits, JPEG
// encoding. Internal to hlsgate_media.
#pragma once

#include <string>

#include "media/libav_util.hpp"

namespace hlsgate::media::libav {

/// A black yuvj420p picture of `w` x `h`; null when out of memory.
frame_ptr alloc_image(int w, int h);

/// Copies `src` (yuvj420p, even sizes) into `dst` at (dx, dy) (even), turned
/// clockwise by `rot` degrees (0, 90, 180, 270).
void rotate_blit(const AVFrame* src, AVFrame* dst, int dx, int dy, int rot);

/// Copies the w x h rectangle at (sx, sy) of `f` to (dx, dy); all even.
void copy_rect(AVFrame* f, int sx, int sy, int dx, int dy, int w, int h);

/// Encodes a yuvj420p picture as a baseline JPEG with a fixed qscale (2..31).
result<std::string> encode_jpeg(AVFrame* img, int qscale);

} // namespace hlsgate::media::libav
