// Source geometry and the ladder plan: which video renditions a source gets
// and at what size. Pure arithmetic (no libav), unit-tested on its own in
// tests/media/ladder_test.cpp; the transcoder and the thumbnailer feed it what
// libav says about the stream.
#pragma once

#include <cstdint>
#include <vector>

namespace hlsgate::media {

/// One video rung of a requested ladder.
struct rung {
  int height = 0;        ///< short side of the output picture (the "720" of 720p), pixels
  int video_bitrate = 0; ///< bits/s (average); maxrate/bufsize derived from it
};

/// The picture of a video stream.
struct source_geometry {
  int width = 0, height = 0; ///< coded size, pixels
  int rotation = 0;          ///< clockwise degrees (0, 90, 180, 270) that make it upright
  bool square_pixels = true; ///< sample aspect ratio 1:1 (or unknown, or ignored as nonsense)
  double display_w = 0, display_h = 0; ///< upright size in square pixels
};

/// The geometry of a `width` x `height` picture with sample aspect ratio
/// `sar_num`:`sar_den` (0 in either = unknown: square) and `rotation`
/// (clockwise degrees, as upright_rotation returns). A ratio outside
/// [1/4, 4] is treated as square: no real camera or format writes one.
source_geometry make_geometry(int width, int height, int rotation, int sar_num, int sar_den);

/// The clockwise rotation (0, 90, 180 or 270) that turns a picture upright,
/// from the counterclockwise angle of its display matrix in degrees (what
/// libavutil's av_display_rotation_get returns, as the ffmpeg CLI's
/// autorotate reads it). 0 for NaN or an angle that is not a multiple of 90
/// once rounded to whole degrees.
int upright_rotation(double matrix_degrees);

/// `v` rounded down / to nearest to an even integer, at least 2: 4:2:0
/// chroma needs even sizes.
int even_floor(double v);
int even_round(double v);

/// One rung as it will be produced.
struct rung_plan {
  int label = 0;             ///< the requested rung height: the short side of the output
  int width = 0, height = 0; ///< output size, even, upright
  int64_t bitrate = 0;       ///< bits/s
  bool remux = false;        ///< copied from the source (decided by the transcoder, not here)
  int threads = 0;           ///< x264 threads when the options leave it to us
};

/// The bitrate of a rung of `width` x `height` when the caller gave none:
/// 0.08 bits per pixel at 30 frames/s (5 Mb/s at 1920x1080, 2.2 Mb/s at
/// 1280x720), within [100 kb/s, 50 Mb/s].
int64_t source_size_bitrate(int width, int height);

/// The rungs to produce for a source of geometry `g`, top first.
///  - `ladder` (any order) is filtered: rungs above the source's short side
///    or above `max_height` (0 = no cap) are dropped (never upscale), as are
///    rungs with height < 2 or bitrate <= 0, and a rung of the same even
///    height as a kept one.
///  - Heights apply to the short side of the upright picture, so a portrait
///    1080x1920 source has a "1080" rung of 1080x1920; the long side follows
///    the display aspect; both sides are even.
///  - A source smaller than every rung gets one rung at its own size, with
///    the lowest rung's bitrate scaled down by the pixel count (at least
///    min(that bitrate, 100 kb/s)).
///  - An empty `ladder` gives one rung at the source size (capped by
///    `max_height`) at `single_bitrate`, or source_size_bitrate() when that is 0.
///  - Each rung gets x264 threads in proportion to its share of the pixels of
///    all rungs, of 1.5 x `cores` threads in total, each within [1, 16].
/// Empty for a geometry without a picture (a side <= 0).
std::vector<rung_plan> plan_ladder(const source_geometry& g, const std::vector<rung>& ladder,
                                   int max_height, int single_bitrate, unsigned cores);

/// A live channel's geometry for plan_ladder: `g` with its upright size
/// scaled up (aspect kept) until the short side reaches the tallest rung of
/// `ladder`, so that every rung is kept and a channel offers the same
/// renditions whatever size its source sends after a reconnect (a smaller
/// source is upscaled). The long side is never scaled past 4096 pixels (a
/// very wide source keeps fewer rungs rather than a huge picture). `g`
/// itself when it is large enough or has no picture.
source_geometry fit_to_ladder(const source_geometry& g, const std::vector<rung>& ladder);

/// The cascade: for each rung of `plan`, the index of the rung whose output it
/// is scaled from, or -1 for the source. A rung is scaled from the nearest
/// rung above it that is encoded (not remuxed), smaller than the source
/// (`source_pixels`, coded), fed from the source itself, and at least 1.5x
/// its label: e.g. 480p and 360p from 720p rather than from 1080p, which
/// halves the scaling work. Remuxed rungs are never scaled.
std::vector<int> cascade_parents(const std::vector<rung_plan>& plan, double source_pixels);

/// Whether a source can be segmented on its own keyframes (as a remuxed rung
/// is: cut at the first keyframe at or after each boundary k x
/// `segment_seconds` after `origin`) with every cut within min(0.5 s, half a
/// segment) after its boundary. `keys` are the keyframes' presentation times
/// in ascending order, `origin` the start and `end` the end of the input, all
/// in seconds of the same clock. A boundary without such a keyframe is fine
/// only in the short tail before `end` (within that tolerance).
bool keyframes_fit_segments(const std::vector<double>& keys, double origin, double end,
                            double segment_seconds);

/// Whether a source's H.264 stream may be copied into a rung advertised at
/// `rung_bitrate` bits/s rather than encoded: its measured bitrate
/// (`source_bitrate`, 0 when unknown) is known and at most 1.5x the rung's,
/// and its level (`level`, as in the SPS: 31 for 3.1; 0 or less when
/// unknown) is known and at most 4.2 (what every HLS player decodes).
bool copy_fits_rung(int64_t source_bitrate, int level, int64_t rung_bitrate);

} // namespace hlsgate::media
