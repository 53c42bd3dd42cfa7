#!/usr/bin/env bash
# The stream proxy's hot paths: requests per second of a proxied media
# playlist and a proxied segment, against nginx serving the very same
# upstream files directly, in the same run (the reference).
#
#   bench/proxy.sh [HLSGATE_BINARY]      (default: build/hlsgate)
#
# Makes a 2-second-segment HLS ladder with the ffmpeg CLI, serves it with
# nginx (the upstream and the reference), starts its own hlsgate on a
# temporary data dir and a free loopback port (HLSGATE_ALLOW_PRIVATE_UPSTREAMS=1),
# registers the upstream as a public stream and runs wrk against:
#   - the proxied media playlist (fetched from upstream at most once a
#     second, rewritten with sealed references for each request);
#   - one proxied segment (shared fetch, then the stream's short cache);
#   - nginx serving the playlist and the segment itself.
# Needs ffmpeg, nginx, wrk, curl (scripts/install-deps.sh --test).
# Env: DURATION (10s), CONNECTIONS (64), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/hlsgate}")
duration=${DURATION:-10s}
conns=${CONNECTIONS:-64}
threads=${THREADS:-2}
for t in ffmpeg nginx wrk curl; do
  command -v "$t" >/dev/null || { echo "$t is not installed (scripts/install-deps.sh --test)"; exit 1; }
done
tmp=$(mktemp -d)
server_pid=""
nginx_pid=""
cleanup() { # runs on every exit: nothing in it may stop it early
  set +e
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$tmp"
  return 0
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The upstream: a 720p VOD rendition in 2 s segments.
mkdir -p "$tmp/nginx/www/up"
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 \
  -t 20 -pix_fmt yuv420p -c:v libx264 -preset veryfast -g 60 -c:a aac -f hls -hls_time 2 \
  -hls_playlist_type vod -hls_segment_filename "$tmp/nginx/www/up/v_%03d.ts" "$tmp/nginx/www/up/v.m3u8"
chmod a+x "$tmp"
chmod -R a+rX "$tmp/nginx"
nport=$(free_port)
cat >"$tmp/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen 127.0.0.1:$nport; root $tmp/nginx/www; }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
up="http://127.0.0.1:$nport/up"
for _ in $(seq 1 50); do curl -sf "$up/v.m3u8" -o /dev/null && break; sleep 0.1; done

port=$(free_port)
mkdir -m 700 "$tmp/data"
HLSGATE_DATA_DIR="$tmp/data" HLSGATE_BIND=127.0.0.1 HLSGATE_PORT="$port" HLSGATE_SRT_PORT=0 \
  HLSGATE_ALLOW_PRIVATE_UPSTREAMS=1 HLSGATE_API_TOKEN=bench-token-0123456789abcdef \
  "$bin" >"$tmp/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$base/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$base/health" >/dev/null || { cat "$tmp/server.log"; echo "hlsgate did not start"; exit 1; }
reply=$(curl -sf -H 'X-API-Token: bench-token-0123456789abcdef' -d "{\"url\":\"$up/v.m3u8\",\"public\":true}" "$base/streams")
id=$(echo "$reply" | sed -E 's/.*"stream_id":"([^"]+)".*/\1/')
playlist="$base/hls/$id/playlist.m3u8"
seg=$(curl -sf "$playlist" | grep -v '^#' | head -n1)
cmp -s "$tmp/nginx/www/up/v_000.ts" <(curl -sf "$base/hls/$id/$seg") || { echo "the proxied segment differs"; exit 1; }
echo "upstream segment: $(wc -c <"$tmp/nginx/www/up/v_000.ts") bytes; playlist $(wc -c <"$tmp/nginx/www/up/v.m3u8") bytes upstream, $(curl -sf "$playlist" | wc -c) proxied"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
run() { # name url
  wrk -t"$threads" -c"$conns" -d"$duration" "$2" >"$tmp/$1.txt"
  grep -q 'Non-2xx' "$tmp/$1.txt" && { cat "$tmp/$1.txt"; echo "$1: errors"; exit 1; }
  echo "$1: $(rps "$tmp/$1.txt") req/s"
}
echo "== wrk: $threads threads, $conns connections, $duration each"
run proxy_segment "$base/hls/$id/$seg"
run nginx_segment "$up/v_000.ts"
run proxy_playlist "$playlist"
run nginx_playlist "$up/v.m3u8"
echo
awk -v a="$(rps "$tmp/proxy_segment.txt")" -v b="$(rps "$tmp/nginx_segment.txt")" \
  'BEGIN { printf "segment:  proxied %.0f req/s, direct nginx %.0f req/s, ratio %.2f\n", a, b, a / b }'
awk -v a="$(rps "$tmp/proxy_playlist.txt")" -v b="$(rps "$tmp/nginx_playlist.txt")" \
  'BEGIN { printf "playlist: proxied %.0f req/s, direct nginx %.0f req/s, ratio %.2f\n", a, b, a / b }'
