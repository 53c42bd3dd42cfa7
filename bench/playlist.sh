#!/usr/bin/env bash
# Long signed media playlists: requests per second of a 1,800-segment media
# playlist served by hlsgate, against nginx serving the very same bytes from
# a file in the same run (the reference).
#
#   bench/playlist.sh [HLSGATE_BINARY]      (default: build/hlsgate)
#
# Starts its own hlsgate (HLSGATE_SEGMENT_SECONDS=1, temporary data dir, a
# free loopback port), uploads a 30-minute audio-only clip made with the
# ffmpeg CLI (1,800 segments), fetches the playlist once as a player would
# (the response is what nginx then serves), and runs wrk against both, with
# and without `Accept-Encoding: gzip`, on the same 2 cores. Needs ffmpeg,
# nginx, wrk, curl (scripts/install-deps.sh --test).
# Env: DURATION (10s), CONNECTIONS (64), THREADS (2), SEGMENTS (1800).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/hlsgate}")
duration=${DURATION:-10s}
conns=${CONNECTIONS:-64}
threads=${THREADS:-2}
segments=${SEGMENTS:-1800}
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

# The server, on its defaults apart from one-second segments.
port=$(free_port)
mkdir -m 700 "$tmp/data"
HLSGATE_DATA_DIR="$tmp/data" HLSGATE_BIND=127.0.0.1 HLSGATE_PORT="$port" HLSGATE_SRT_PORT=0 HLSGATE_SEGMENT_SECONDS=1 \
  "$bin" >"$tmp/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$base/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$base/health" >/dev/null || { cat "$tmp/server.log"; echo "hlsgate did not start"; exit 1; }

ffmpeg -nostdin -v error -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$segments" \
  -c:a aac -b:a 64k "$tmp/long.m4a"
reply=$(curl -sf -F "media=@$tmp/long.m4a" "$base/upload/?expiry_minutes=60")
id=$(echo "$reply" | sed -E 's/.*"media_id":"([^"]+)".*/\1/')
token=$(echo "$reply" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
variant=$(curl -sf "$base/stream/$id/playlist.m3u8?token=$token" | grep -v '^#' | head -n1)
playlist="$base/stream/$id/$variant"
curl -sf "$playlist" -o "$tmp/plain.m3u8"
curl -sf -H 'Accept-Encoding: gzip' "$playlist" -o "$tmp/playlist.m3u8.gz"
n=$(grep -c '^#EXTINF' "$tmp/plain.m3u8")
echo "playlist: $n segments, $(wc -c <"$tmp/plain.m3u8") bytes, gzip $(wc -c <"$tmp/playlist.m3u8.gz") bytes"
[ "$n" -ge "$segments" ] || { echo "expected $segments segments"; exit 1; }

# The reference: nginx serving the same bytes (plain, and the gzip response
# as a file with Content-Encoding: gzip), one worker per core.
nport=$(free_port)
mkdir -p "$tmp/nginx/www"
cp "$tmp/plain.m3u8" "$tmp/nginx/www/plain.m3u8"
cp "$tmp/playlist.m3u8.gz" "$tmp/nginx/www/gzip.m3u8"
# nginx workers (user nobody when run as root) read only the nginx tree:
# the server's data dir stays private.
chmod a+x "$tmp"
chmod -R a+rX "$tmp/nginx"
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
  types { application/vnd.apple.mpegurl m3u8; }
  server {
    listen 127.0.0.1:$nport;
    root $tmp/nginx/www;
    location = /gzip.m3u8 { add_header Content-Encoding gzip; add_header Vary Accept-Encoding; }
  }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nport/plain.m3u8" -o /dev/null && break; sleep 0.1; done
cmp -s "$tmp/plain.m3u8" <(curl -sf "http://127.0.0.1:$nport/plain.m3u8") || { echo "nginx does not serve the playlist"; exit 1; }

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
run() { # name url [header]
  local name=$1 url=$2
  shift 2
  wrk -t"$threads" -c"$conns" -d"$duration" "$@" "$url" >"$tmp/$name.txt"
  grep -q 'Non-2xx' "$tmp/$name.txt" && { cat "$tmp/$name.txt"; echo "$name: errors"; exit 1; }
  echo "$name: $(rps "$tmp/$name.txt") req/s"
}
echo "== wrk: $threads threads, $conns connections, $duration each"
run hlsgate_gzip "$playlist" -H 'Accept-Encoding: gzip'
run nginx_gzip "http://127.0.0.1:$nport/gzip.m3u8" -H 'Accept-Encoding: gzip'
run hlsgate_plain "$playlist"
run nginx_plain "http://127.0.0.1:$nport/plain.m3u8"
echo
awk -v a="$(rps "$tmp/hlsgate_gzip.txt")" -v b="$(rps "$tmp/nginx_gzip.txt")" \
  'BEGIN { printf "gzip:  hlsgate %.0f req/s, nginx %.0f req/s, ratio %.2f\n", a, b, a / b }'
awk -v a="$(rps "$tmp/hlsgate_plain.txt")" -v b="$(rps "$tmp/nginx_plain.txt")" \
  'BEGIN { printf "plain: hlsgate %.0f req/s, nginx %.0f req/s, ratio %.2f\n", a, b, a / b }'
