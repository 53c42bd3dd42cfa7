#include "media/ladder.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace hlsgate::media {

source_geometry make_geometry(int width, int height, int rotation, int sar_num, int sar_den) {
  source_geometry g;
  g.width = width;
  g.height = height;
  g.rotation = rotation == 90 || rotation == 180 || rotation == 270 ? rotation : 0;
  double aspect = 1;
  if (sar_num > 0 && sar_den > 0) {
    aspect = static_cast<double>(sar_num) / sar_den;
    if (aspect < 0.25 || aspect > 4)
      aspect = 1;
  }
  g.square_pixels = aspect == 1;
  g.display_w = width * aspect;
  g.display_h = height;
  if (g.rotation == 90 || g.rotation == 270)
    std::swap(g.display_w, g.display_h);
  return g;
}

int upright_rotation(double matrix_degrees) {
  double theta = -std::round(matrix_degrees);
  if (!std::isfinite(theta))
    return 0;
  // Into [-0.9, 359.1): -0 and 360 both become 0.
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  const long r = std::lround(theta);
  return r == 90 || r == 180 || r == 270 ? static_cast<int>(r) : 0;
}

int even_floor(double v) {
  if (!(v >= 2)) // also NaN
    return 2;
  return static_cast<int>(std::floor(v / 2)) * 2;
}

int even_round(double v) {
  if (!(v >= 2))
    return 2;
  return static_cast<int>(std::llround(v / 2)) * 2;
}

int64_t source_size_bitrate(int width, int height) {
  constexpr double kBitsPerPixel = 0.08, kFrameRate = 30;
  const double bits = static_cast<double>(width) * height * kFrameRate * kBitsPerPixel;
  return std::clamp<int64_t>(std::llround(bits), 100000, 50000000);
}

std::vector<rung_plan> plan_ladder(const source_geometry& g, const std::vector<rung>& ladder,
                                   int max_height, int single_bitrate, unsigned cores) {
  const bool portrait = g.display_h > g.display_w;
  const double short_side = std::min(g.display_w, g.display_h);
  const double long_side = std::max(g.display_w, g.display_h);
  if (!(short_side > 0)) // no picture
    return {};
  int cap = static_cast<int>(std::floor(short_side + 1e-6));
  if (max_height > 0)
    cap = std::min(cap, std::max(max_height, 2));

  std::vector<rung> sorted = ladder;
  std::sort(sorted.begin(), sorted.end(),
            [](const rung& a, const rung& b) { return a.height > b.height; });
  std::vector<rung> kept;
  for (const rung& r : sorted) {
    if (r.height <= cap && r.height >= 2 && r.video_bitrate > 0 &&
        (kept.empty() || (kept.back().height & ~1) != (r.height & ~1)))
      kept.push_back(r);
  }
  if (sorted.empty()) {
    kept.push_back(rung{cap, std::max(single_bitrate, 0)}); // 0: from its size, below
  } else if (kept.empty()) {
    const rung& low = sorted.back();
    const double ratio = std::min(1.0, static_cast<double>(cap) * cap /
                                           (static_cast<double>(low.height) * low.height));
    const int64_t bitrate = std::max<int64_t>(std::min<int64_t>(low.video_bitrate, 100000),
                                              std::llround(low.video_bitrate * ratio));
    kept.push_back(rung{cap, static_cast<int>(bitrate)});
  }

  std::vector<rung_plan> plan;
  const int max_long = even_floor(long_side);
  for (const rung& r : kept) {
    rung_plan p;
    p.label = r.height;
    const int s = even_floor(r.height);
    const int l = std::min(max_long, even_round(long_side * r.height / short_side));
    p.width = portrait ? s : l;
    p.height = portrait ? l : s;
    p.bitrate = r.video_bitrate > 0 ? r.video_bitrate : source_size_bitrate(p.width, p.height);
    plan.push_back(p);
  }

  // The rungs run in parallel already, so small rungs need no frame threads
  // of their own (less memory and synchronisation); the top rung keeps
  // enough not to become the bottleneck.
  double pixels = 0;
  for (const rung_plan& p : plan)
    pixels += static_cast<double>(p.width) * p.height;
  const unsigned n = std::max(1u, cores);
  for (rung_plan& p : plan) {
    const double share = static_cast<double>(p.width) * p.height / pixels;
    p.threads = std::clamp(static_cast<int>(std::lround(1.5 * n * share)), 1, 16);
  }
  return plan;
}

source_geometry fit_to_ladder(const source_geometry& g, const std::vector<rung>& ladder) {
  const double short_side = std::min(g.display_w, g.display_h);
  int top = 0;
  for (const rung& r : ladder)
    top = std::max(top, r.height);
  if (!(short_side > 0) || short_side >= top)
    return g;
  source_geometry out = g;
  // The long side stays within what every encoder and player takes: a
  // 8192x64 source must not become a 138240x1080 picture (the rungs then
  // keep the aspect of the capped size, and plan_ladder never exceeds it).
  constexpr double max_long_side = 4096;
  const double long_side = std::max(g.display_w, g.display_h);
  const double k = std::max(1.0, std::min(top / short_side, max_long_side / long_side));
  out.display_w = g.display_w * k;
  out.display_h = g.display_h * k;
  return out;
}

std::vector<int> cascade_parents(const std::vector<rung_plan>& plan, double source_pixels) {
  std::vector<int> parent(plan.size(), -1);
  for (size_t i = 1; i < plan.size(); ++i) {
    if (plan[i].remux)
      continue;
    for (size_t j = i; j-- > 0;) {
      const rung_plan& p = plan[j];
      if (p.remux || parent[j] >= 0 || static_cast<double>(p.width) * p.height >= source_pixels)
        continue;
      if (2 * p.label >= 3 * plan[i].label) {
        parent[i] = static_cast<int>(j);
        break;
      }
    }
  }
  return parent;
}

bool keyframes_fit_segments(const std::vector<double>& keys, double origin, double end,
                            double segment_seconds) {
  if (keys.empty() || !(end > origin) || !(segment_seconds > 0))
    return false;
  const double seg = segment_seconds, tolerance = std::min(0.5, seg / 2);
  auto key = keys.begin();
  for (double b = origin + seg; b < end; b += seg) {
    key = std::lower_bound(key, keys.end(), b - 1e-3);
    if (key == keys.end() || *key - b > tolerance)
      return end - b <= tolerance;
  }
  return true;
}

bool copy_fits_rung(int64_t source_bitrate, int level, int64_t rung_bitrate) {
  if (source_bitrate <= 0 || rung_bitrate <= 0 || level <= 0 || level > 42)
    return false;
  return source_bitrate <= rung_bitrate + rung_bitrate / 2;
}

} // namespace hlsgate::media
