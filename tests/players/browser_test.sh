#!/usr/bin/env bash
# ctest docs_browser, app_browser and live_browser: starts hlsgate (port 0, a
# temporary data directory, an API token it is given, a small two-rung
# ladder), runs one of the page scripts (docs_page.js: Swagger UI at /docs;
# app_page.js: the web app at / and /embed; live_page.js: the live page and
# the admin page's live channels) in headless Chromium against it, and stops
# the server. Screenshots go to $HLSGATE_ARTIFACTS (default: build/artifacts).
#   tests/players/browser_test.sh HLSGATE_BINARY docs_page.js|app_page.js|live_page.js SHOT_NAME
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
script="$2"
name="$3"
artifacts="${HLSGATE_ARTIFACTS:-$(dirname "$bin")/artifacts}"
mkdir -p "$artifacts"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
api_token="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
HLSGATE_DATA_DIR="$work/data" HLSGATE_PORT=0 HLSGATE_SRT_PORT=0 HLSGATE_BIND=127.0.0.1 HLSGATE_ALLOW_PRIVATE_UPSTREAMS=1 \
  HLSGATE_API_TOKEN="$api_token" HLSGATE_LADDER="360:700k,240:300k" HLSGATE_THUMBNAIL_SECONDS=2 \
  HLSGATE_SEGMENT_SECONDS=2 "$bin" >"$work/out" 2>"$work/log" &
pid=$!
# The server prints its address once it listens (bounded: 30 s).
for _ in $(seq 300); do
  grep -q '^hlsgate listening on ' "$work/out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
  sleep 0.1
done
addr="$(sed -n 's/^hlsgate listening on \([^ ]*\) .*/\1/p' "$work/out")"
[ -n "$addr" ] || { echo "hlsgate did not start" >&2; exit 1; }
status=0
HLSGATE_TEST_API_TOKEN="$api_token" HLSGATE_TEST_WORK="$work" \
  node "$here/$script" "http://$addr" "$artifacts/$name.png" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)" >&2
  grep -E 'status=(4|5)[0-9][0-9]|level=(warn|error)' "$work/log" | tail -n 40 >&2 || true
fi
exit "$status"
