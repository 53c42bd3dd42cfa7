#include "media/planes.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace hlsgate::media {

void rotate_plane(const uint8_t* src, int src_stride, int w, int h, uint8_t* dst, int dst_stride,
                  int rotation) {
  const ptrdiff_t sls = src_stride, dls = dst_stride;
  if (rotation == 180) {
    for (int y = 0; y < h; ++y) {
      const uint8_t* s = src + (h - 1 - y) * sls;
      uint8_t* d = dst + y * dls;
      for (int x = 0; x < w; ++x)
        d[x] = s[w - 1 - x];
    }
    return;
  }
  if (rotation != 90 && rotation != 270) {
    for (int y = 0; y < h; ++y)
      std::memcpy(dst + y * dls, src + y * sls, static_cast<size_t>(w));
    return;
  }
  // The destination is h wide and w high; walked in tiles so that the
  // column-wise reads of the source stay in cache.
  constexpr int kTile = 32;
  const int dw = h, dh = w;
  for (int ty = 0; ty < dh; ty += kTile) {
    for (int tx = 0; tx < dw; tx += kTile) {
      const int ey = std::min(dh, ty + kTile), ex = std::min(dw, tx + kTile);
      for (int y = ty; y < ey; ++y) {
        uint8_t* d = dst + y * dls;
        if (rotation == 90) { // dst(x, y) = src(y, h - 1 - x)
          for (int x = tx; x < ex; ++x)
            d[x] = src[(h - 1 - x) * sls + y];
        } else { // 270: dst(x, y) = src(w - 1 - y, x)
          for (int x = tx; x < ex; ++x)
            d[x] = src[x * sls + (w - 1 - y)];
        }
      }
    }
  }
}

} // namespace hlsgate::media
