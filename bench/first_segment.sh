#!/usr/bin/env bash
# Time from the end of an upload (?async=true) to the first playable segment,
# for a 720p clip, in segment durations (target ≤ 1.0). Needs a running
# hlsgate (scripts/run.sh). Usage: bench/first_segment.sh [BASE_URL] [SECONDS_OF_CLIP]
set -euo pipefail
base=${1:-http://127.0.0.1:8000}
len=${2:-60}
seg=${HLSGATE_SEGMENT_SECONDS:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 \
  -t "$len" -pix_fmt yuv420p -c:v libx264 -preset veryfast -g 60 -c:a aac "$tmp/clip.mp4"
reply=$(curl -sf -F "media=@$tmp/clip.mp4" "$base/upload/?async=true")
t0=$(date +%s.%N)
id=$(echo "$reply" | sed -E 's/.*"media_id":"([^"]+)".*/\1/')
token=$(echo "$reply" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
key=$(echo "$reply" | sed -E 's/.*"admin_key":"([^"]+)".*/\1/')
for _ in $(seq 6000); do
  code=$(curl -s -o "$tmp/pl" -w '%{http_code}' "$base/stream/$id/v0/playlist.m3u8?token=$token")
  if [ "$code" = 200 ]; then
    first=$(grep -v '^#' "$tmp/pl" | head -n1)
    if curl -sf -o /dev/null "$base$first"; then break; fi
  fi
  sleep 0.02
done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v s="$seg" \
  'BEGIN { d = b - a; printf "first playable segment after %.2f s = %.2f segment durations (%g s)\n", d, d / s, s }'
curl -sf -X DELETE -H "X-Admin-Key: $key" "$base/media/$id" >/dev/null
