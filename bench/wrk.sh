#!/usr/bin/env bash
# Load test of the two hot paths of a running hlsgate with wrk:
#   1. the signed segment path  GET /seg/<storage>/<rendition>/seg_00000.ts?md5=..&expires=..
#   2. the playlist path         GET /stream/<id>/<rendition>/playlist.m3u8?token=..
# Usage: bench/wrk.sh [BASE_URL] [CLIP]
#   BASE_URL defaults to http://127.0.0.1:8000 (start it with scripts/run.sh).
#   CLIP is uploaded first; by default a 60 s 720p clip made with the ffmpeg CLI.
# Env: DURATION (10s), CONNECTIONS (64), THREADS (2).
set -euo pipefail
base=${1:-http://127.0.0.1:8000}
clip=${2:-}
duration=${DURATION:-10s}
conns=${CONNECTIONS:-64}
threads=${THREADS:-2}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$clip" ]; then
  clip="$tmp/clip.mp4"
  ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 \
    -t 60 -pix_fmt yuv420p -c:v libx264 -preset veryfast -g 60 -c:a aac "$clip"
fi
reply=$(curl -sf -F "media=@$clip" "$base/upload/?expiry_minutes=60")
id=$(echo "$reply" | sed -E 's/.*"media_id":"([^"]+)".*/\1/')
token=$(echo "$reply" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
key=$(echo "$reply" | sed -E 's/.*"admin_key":"([^"]+)".*/\1/')
playlist="$base/stream/$id/v0/playlist.m3u8?token=$token"
seg=$(curl -sf "$playlist" | grep -v '^#' | head -n1)
size=$(curl -sf "$base$seg" | wc -c)
echo "media $id: first segment $size bytes"
echo "== signed segment GET ($conns connections, $duration)"
wrk -t"$threads" -c"$conns" -d"$duration" "$base$seg" | tee "$tmp/seg.txt"
echo "== playlist GET ($conns connections, $duration)"
wrk -t"$threads" -c"$conns" -d"$duration" "$playlist" | tee "$tmp/pl.txt"
echo
printf 'segment  requests/s: %s\n' "$(awk '/Requests\/sec/ {print $2}' "$tmp/seg.txt")"
printf 'playlist requests/s: %s\n' "$(awk '/Requests\/sec/ {print $2}' "$tmp/pl.txt")"
curl -sf -X DELETE -H "X-Admin-Key: $key" "$base/media/$id" >/dev/null
