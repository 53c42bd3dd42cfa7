#!/usr/bin/env bash
# ctest docs_browser: starts hlsgate (port 0, a temporary data directory),
# opens /docs in headless Chromium with docs_page.js, and stops the server.
# Screenshots go to $HLSGATE_ARTIFACTS (default: build/artifacts).
#   tests/players/docs_test.sh HLSGATE_BINARY
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
artifacts="${HLSGATE_ARTIFACTS:-$(dirname "$bin")/artifacts}"
mkdir -p "$artifacts"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
HLSGATE_DATA_DIR="$work/data" HLSGATE_PORT=0 HLSGATE_BIND=127.0.0.1 "$bin" >"$work/out" 2>"$work/log" &
pid=$!
# The server prints its address once it listens (bounded: 30 s).
for _ in $(seq 300); do
  grep -q '^hlsgate listening on ' "$work/out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
  sleep 0.1
done
addr="$(sed -n 's/^hlsgate listening on \([^ ]*\) .*/\1/p' "$work/out")"
[ -n "$addr" ] || { echo "hlsgate did not start" >&2; exit 1; }
node "$here/docs_page.js" "http://$addr" "$artifacts/docs.png"
