#!/usr/bin/env bash
# Transcoding benchmark (README.md "Benchmarks"), all numbers from one run:
#   (a) hlsgate's transcode_bench: the default ladder (1080/720/480/360),
#       every rung encoded (--no-remux), one pass;
#   (b) the ffmpeg CLI doing the same ladder: split + scale filter graph, the
#       same x264 preset/profile, GOP, forced keyframes, bitrates, maxrate,
#       bufsize, AAC 128k, HLS/TS 6 s segments (the CLI encodes the audio once
#       per variant stream, hlsgate once in all);
#       ratio (a)/(b) — target <= 1.0;
#   (c) remux of the same file (single 1080 rung, allow_remux): realtime
#       factor — target >= 200x.
# Also shows, for information, the default options (top rung remuxed, the
# three lower rungs encoded).
#
# Usage: bench/transcode.sh [BUILD_DIR]
#   BUILD_DIR defaults to $BUILD_DIR, else build-release/ or build/ with transcode_bench built.
#   BENCH_SECONDS=60 (clip length), BENCH_PRESET=veryfast, BENCH_SEGMENT=6.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD_DIR:-}}
if [[ -z "$build" ]]; then
  for d in "$root/build-release" "$root/build"; do
    if [[ -x "$d/bench/transcode_bench" ]]; then build=$d; break; fi
  done
fi
bench=${build:-$root/build}/bench/transcode_bench
if [[ ! -x "$bench" ]]; then
  echo "transcode_bench not found; build it: ninja -C <build dir> transcode_bench" >&2
  exit 1
fi

seconds=${BENCH_SECONDS:-60}
preset=${BENCH_PRESET:-veryfast}
seg=${BENCH_SEGMENT:-6}
fps=30
gop=$((seg * fps))

work=$(mktemp -d "${TMPDIR:-/tmp}/transcode-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/src1080.mp4

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
field() { sed -n "s/^$1=//p" "$2" | head -1; }

echo "== generating a ${seconds} s 1080p${fps} H.264/AAC clip (2 s GOP)"
ffmpeg -nostdin -hide_banner -v error -y \
  -f lavfi -i "testsrc2=size=1920x1080:rate=$fps" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$seconds" \
  -pix_fmt yuv420p -c:v libx264 -preset veryfast -profile:v high -g $((2 * fps)) -b:v 6M \
  -c:a aac -b:a 128k -ac 2 -movflags +faststart "$src"
ls -l "$src" | awk '{ printf "   %.1f MB\n", $5 / 1e6 }'

echo "== (a) hlsgate: default ladder, every rung encoded"
"$bench" "$src" --no-remux --preset "$preset" --segment "$seg" | tee "$work/a.txt"
a_wall=$(field wall_seconds "$work/a.txt")

echo "== (b) ffmpeg CLI: the same ladder"
mkdir -p "$work/cli"
t0=$(now)
ffmpeg -nostdin -hide_banner -v error -y -i "$src" \
  -filter_complex "[0:v]split=4[a][b][c][d];[b]scale=-2:720[b2];[c]scale=-2:480[c2];[d]scale=-2:360[d2]" \
  -map "[a]" -map "[b2]" -map "[c2]" -map "[d2]" -map 0:a -map 0:a -map 0:a -map 0:a \
  -c:v libx264 -preset "$preset" -profile:v high -pix_fmt yuv420p \
  -g "$gop" -keyint_min 25 -sc_threshold 0 -forced-idr 1 \
  -force_key_frames "expr:gte(t,n_forced*$seg)" \
  -b:v:0 5000k -maxrate:v:0 7500k -bufsize:v:0 10000k \
  -b:v:1 2800k -maxrate:v:1 4200k -bufsize:v:1 5600k \
  -b:v:2 1400k -maxrate:v:2 2100k -bufsize:v:2 2800k \
  -b:v:3 800k -maxrate:v:3 1200k -bufsize:v:3 1600k \
  -c:a aac -b:a 128k \
  -f hls -hls_time "$seg" -hls_playlist_type vod \
  -hls_segment_filename "$work/cli/v%v/seg_%05d.ts" \
  -var_stream_map "v:0,a:0 v:1,a:1 v:2,a:2 v:3,a:3" "$work/cli/v%v/index.m3u8"
t1=$(now)
b_wall=$(calc "$t1 - $t0")
echo "wall_seconds=$b_wall"
for v in 0 1 2 3; do
  size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height \
    -of csv=p=0:s=x "$work/cli/v$v/seg_00000.ts" | grep -m1 .)
  echo "rendition=v$v $size segments=$(ls "$work/cli/v$v" | grep -c '\.ts$')"
done
rm -rf "$work/cli"

echo "== (c) hlsgate: remux (single 1080 rung, allow_remux)"
"$bench" "$src" --ladder 1080:5000k --segment "$seg" | tee "$work/c.txt"
c_factor=$(field realtime_factor "$work/c.txt")
c_wall=$(field wall_seconds "$work/c.txt")

echo "== (info) hlsgate: default options (top rung remuxed, lower rungs encoded)"
"$bench" "$src" --preset "$preset" --segment "$seg" | tee "$work/d.txt"
d_wall=$(field wall_seconds "$work/d.txt")

echo
echo "== summary (${seconds} s 1080p30 H.264/AAC, preset $preset, $(nproc) cores)"
echo "ladder transcode: hlsgate ${a_wall} s, ffmpeg CLI ${b_wall} s," \
  "ratio hlsgate/ffmpeg $(calc "$a_wall / $b_wall") (target <= 1.0)"
echo "remux: ${c_wall} s wall, ${c_factor}x realtime (target >= 200x)"
echo "default options (remux top + encode 3 rungs): ${d_wall} s"
