#!/usr/bin/env bash
# The container image and the compose stack, end to end, as an operator runs
# them (needs root, podman, podman-compose, ffmpeg, curl, python3):
#   1. deploy/build-image.sh builds the images from this checkout (the
#      hlsgate image's build stage is scripts/run.sh on a bare Debian);
#      the runtime image stays within 450 MB and `--version` answers.
#   2. podman-compose brings deploy/compose.yaml up on free loopback ports;
#      an upload through the edge becomes playable; ffmpeg -xerror plays it
#      through the edge, whose nginx serves the segments itself (a forged
#      signature gets nginx's 403) with the key from HLSGATE_EDGE_KEY_FILE.
#   3. Live channels: ffmpeg pushes MPEG-TS over SRT to the published UDP
#      port, and FLV over RTMP to the rtmp service's published port, each
#      with its channel's stream key (a wrong RTMP key is refused); ffmpeg
#      -xerror plays both through the edge.
#   4. Prometheus scrapes hlsgate (up == 1, hlsgate_build_info returned) and
#      every expression of deploy/grafana/hlsgate.json parses and returns data.
#   5. `podman healthcheck run` passes on the hlsgate container.
#   6. `podman-compose stop` (SIGTERM, 10 s) stops hlsgate after its drain
#      (exit 0); after `up` again the item plays with the same token and
#      the RTMP channel goes live again when its publisher pushes.
# It tags the images it builds as localhost/*:latest, as build-image.sh does.
# Everything it creates (containers, volumes, network) is removed at the end.
#   tests/deploy/stack_test.sh
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "SKIPPED: the container stack test runs as root (podman with runc, as in CI)"
  exit 77
fi
cd "$(dirname "$0")/../.."
src="$PWD"
export CONTAINERS_CONF="$src/deploy/containers.conf"
project="hlsgate-test-$$"
work="$(mktemp -d)"
compose=(podman-compose -p "$project" -f "$src/deploy/compose.yaml")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
edge_port="$(free_port)"
prom_port="$(free_port)"
rtmp_port="$(free_port)"
srt_port="$(python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export HLSGATE_SRT_ADDRESS="127.0.0.1:$srt_port"
export HLSGATE_SRT_PUBLIC_URL="srt://127.0.0.1:$srt_port"
export HLSGATE_RTMP_ADDRESS="127.0.0.1:$rtmp_port"
export HLSGATE_RTMP_PUBLIC_URL="rtmp://127.0.0.1:$rtmp_port/live"
export HLSGATE_EDGE_ADDRESS="127.0.0.1:$edge_port"
export HLSGATE_PROMETHEUS_ADDRESS="127.0.0.1:$prom_port"
export HLSGATE_PUBLIC_URL="http://127.0.0.1:$edge_port"
# Uploads need the API token, passed through compose's environment.
export HLSGATE_API_TOKEN="stack-test-token-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
edge="http://127.0.0.1:$edge_port"
prom="http://127.0.0.1:$prom_port"

cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    echo "--- logs (failure)"
    "${compose[@]}" logs 2>&1 | tail -n 80 || true
  fi
  "${compose[@]}" down -v >/dev/null 2>&1 || true
  podman volume rm -f "${project}_data" "${project}_media" "${project}_edge-key" \
    "${project}_prometheus" >/dev/null 2>&1 || true
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*" >&2
  exit 1
}
step() { echo "== $* ($(date +%T))"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# Polls "$@" every 0.5 s until it succeeds, at most $1 seconds.
until_ok() {
  local seconds="$1"
  shift
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

step "build images"
start=$(date +%s)
# HLSGATE_IMAGE_BINARY (set by CI through ctest): the image gets that
# binary instead of compiling one in its build stage.
image="$(bash deploy/build-image.sh ${HLSGATE_IMAGE_BINARY:+--binary "$HLSGATE_IMAGE_BINARY"} | tail -n 1)"
echo "image $image built in $(($(date +%s) - start)) s"
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image size: $((size / 1000000)) MB"
[ "$size" -le 450000000 ] || fail "the runtime image is $size bytes, over 450 MB"
podman run --rm "$image" --version | tee "$work/version"
grep -q '^hlsgate ' "$work/version" || fail "--version printed no version"
[ "$(podman image inspect --format '{{.Config.User}}' "$image")" = hlsgate ] ||
  fail "the image does not run as its own user"
podman image inspect --format '{{json .Config.Healthcheck}}' "$image" | grep -q healthcheck ||
  fail "the image has no HEALTHCHECK (built without --format docker?)"

step "compose up"
"${compose[@]}" up -d >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "compose up"; }
# podman-compose 1.0.3 exits 0 whatever happened: count what runs.
running() { [ "$(podman ps --filter "label=io.podman.compose.project=$project" -q | wc -l)" = 4 ]; }
running || { cat "$work/up.log"; fail "compose up did not start the four services"; }
until_ok 90 curl -fsS -m 5 "$edge/health" || fail "the stack did not answer through the edge"
container="$(podman ps --filter "label=io.podman.compose.project=$project" \
  --filter "label=com.docker.compose.service=hlsgate" --format '{{.Names}}' | head -n 1)"
[ -n "$container" ] || fail "no hlsgate container"

step "API docs from the image"
curl -fsS -m 10 "$edge/docs" | grep -q '/docs/swagger-ui-bundle.js' || fail "no /docs page"
curl -fsS -m 10 "$edge/docs/swagger-ui-bundle.js" | grep -q SwaggerUIBundle ||
  fail "Swagger UI is not in the image"
curl -fsS -m 10 "$edge/openapi.json" | json '["openapi"]' >/dev/null || fail "no /openapi.json"
step "web app from the image"
curl -fsS -m 10 "$edge/" | grep -q '/app/hls.min.js' || fail "no web app at /"
for f in app.js upload.js pages.js player.js api.js live.js app.css hls.min.js hls.worker.js; do
  curl -fsS -m 10 -o /dev/null "$edge/app/$f" || fail "/app/$f is not in the image"
done

step "upload and play through the edge"
ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440 \
  -t 4 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$work/clip.mp4"
[ "$(curl -s -m 30 -o /dev/null -w '%{http_code}' -F media=@"$work/clip.mp4" "$edge/upload/")" = 401 ] ||
  fail "an upload without the API token was not refused"
curl -fsS -m 120 -H "Authorization: Bearer $HLSGATE_API_TOKEN" -F media=@"$work/clip.mp4" \
  "$edge/upload/?expiry_minutes=60" >"$work/upload.json" || fail "upload through the edge"
id=$(json '["media_id"]' <"$work/upload.json")
token=$(json '["access_token"]' <"$work/upload.json")
playlist=$(json '["playlist_url"]' <"$work/upload.json")
case "$playlist" in "$edge/"*) ;; *) fail "playlist_url $playlist does not point at the edge" ;; esac
play() {
  local out
  out=$(timeout 60 ffmpeg -nostdin -v error -xerror -i "$playlist" -map 0 -f null - 2>&1) || {
    echo "$out"
    return 1
  }
  [ -z "$out" ] || { echo "$out"; return 1; }
}
play || fail "ffmpeg -xerror through the edge"
curl -fsS -m 10 "$edge/stream/$id/v0/playlist.m3u8?token=$token" >"$work/v0.m3u8"
seg=$(grep -m 1 '^/seg/' "$work/v0.m3u8") || fail "no signed segment URL in the playlist"
curl -sS -m 10 -D "$work/seg.headers" -o /dev/null "$edge$seg"
grep -q '^HTTP/1.1 200' "$work/seg.headers" || fail "the edge refused a signed segment"
# hlsgate sets X-Request-Id on every answer; nginx serving the file does not.
! grep -qi '^X-Request-Id' "$work/seg.headers" || fail "the segment was proxied, not served by nginx"
forged="$(echo "$seg" | sed 's/md5=[A-Za-z0-9_-]*/md5=AAAAAAAAAAAAAAAAAAAAAA/')"
[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$edge$forged")" = 403 ] ||
  fail "the edge served a segment with a forged signature"
for p in /metrics /metrics/; do
  [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$edge$p")" = 404 ] || fail "the edge publishes $p"
done
# The edge's access log names paths, never a query (tokens, signatures).
if podman logs "$(podman ps --filter "label=io.podman.compose.project=$project" \
  --filter "label=com.docker.compose.service=edge" --format '{{.Names}}')" 2>&1 |
  grep -qE 'token=|md5='; then
  fail "the edge's log holds a query string"
fi

# POST /live through the edge for a channel of source $1 named $2: the reply in $work/$2.json.
create_channel() {
  curl -fsS -m 30 -H "Authorization: Bearer $HLSGATE_API_TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"'"$2"'","source":{"type":"'"$1"'"},"segment_seconds":1,"dvr_window_seconds":30,"ladder":"240:300k"}' \
    "$edge/live" >"$work/$2.json" || fail "POST /live ($1) through the edge"
}
# Publishes $3 seconds of a test signal in format $1 (mpegts, flv) to $2.
publish() {
  timeout 60 ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=size=426x240:rate=25 -f lavfi \
    -i sine=frequency=440 -t "$3" -c:v libx264 -preset ultrafast -tune zerolatency -g 25 \
    -pix_fmt yuv420p -c:a aac -f "$1" "$2"
}
# Waits for channel $1's playlist and reads 3 s of it with ffmpeg -xerror;
# the publisher's log is $2.
play_live() {
  local playlist out
  playlist=$(json '["playlist_url"]' <"$work/$1.json")
  until_ok 60 curl -fsS -m 5 "$playlist" || { cat "$2"; fail "channel $1 never went live"; }
  out=$(timeout 60 ffmpeg -nostdin -v error -xerror -i "$playlist" -t 3 -f null - 2>&1) ||
    fail "ffmpeg -xerror on channel $1 through the edge: $out"
}
stop_publisher() {
  kill "$publisher" 2>/dev/null || true
  wait "$publisher" 2>/dev/null || true
}

step "a live channel pushed over SRT, played through the edge"
create_channel srt Srt
ingest=$(json '["ingest_url"]' <"$work/Srt.json")
case "$ingest" in "srt://127.0.0.1:$srt_port?streamid="*) ;; *) fail "ingest_url $ingest" ;; esac
publish mpegts "$ingest" 40 >"$work/srt.log" 2>&1 &
publisher=$!
play_live Srt "$work/srt.log"
stop_publisher

step "a live channel pushed over RTMP, played through the edge"
create_channel rtmp Rtmp
[ "$(json '["ingest_url"]' <"$work/Rtmp.json")" = "$HLSGATE_RTMP_PUBLIC_URL" ] ||
  fail "ingest_url $(json '["ingest_url"]' <"$work/Rtmp.json")"
rtmp_key=$(json '["stream_key"]' <"$work/Rtmp.json")
publish flv "$HLSGATE_RTMP_PUBLIC_URL/wrong-key" 2 >"$work/rtmp-wrong.log" 2>&1 &&
  fail "an RTMP push with a wrong key was accepted"
# The edge does not pass the publish check on (nginx-rtmp asks hlsgate itself).
[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -d "name=$rtmp_key" "$edge/ingest/rtmp/on_publish")" = 404 ] ||
  fail "the edge answers the RTMP publish check"
publish flv "$HLSGATE_RTMP_PUBLIC_URL/$rtmp_key" 40 >"$work/rtmp.log" 2>&1 &
publisher=$!
play_live Rtmp "$work/rtmp.log"
stop_publisher

step "healthcheck"
podman healthcheck run "$container" || fail "podman healthcheck run"

step "Prometheus scrapes hlsgate"
query() { curl -fsS -m 10 --get --data-urlencode "query=$1" "$prom/api/v1/query"; }
up_is_1() { query 'up{job="hlsgate"}' | json '["data"]["result"][0]["value"][1]' | grep -qx 1; }
until_ok 120 up_is_1 || fail 'up{job="hlsgate"} never became 1'
query 'hlsgate_build_info' | json '["data"]["result"][0]["metric"]["version"]' ||
  fail "hlsgate_build_info not returned"
# rate() needs two samples of a series: wait for the second scrape.
two_samples() {
  query 'count_over_time(up{job="hlsgate"}[5m])' | json '["data"]["result"][0]["value"][1]' |
    python3 -c 'import sys; sys.exit(0 if float(sys.stdin.read()) >= 2 else 1)'
}
until_ok 60 two_samples || fail "Prometheus did not scrape twice"
curl -fsS -m 10 "$prom/api/v1/rules" | json '["data"]["groups"][0]["rules"][0]["name"]' >/dev/null ||
  fail "the alert rules are not loaded"

step "every dashboard expression returns data"
python3 - "$src/deploy/grafana/hlsgate.json" "$prom" <<'EOF'
import json, sys, urllib.parse, urllib.request
dash, prom = json.load(open(sys.argv[1])), sys.argv[2]
failed = 0
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
for e in exprs:
    q = e.replace("$__rate_interval", "1m").replace("$__interval", "30s")
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        r = json.load(urllib.request.urlopen(url, timeout=10))
    except Exception as err:  # a parse error is a 400 from Prometheus
        print("ERROR", e, err); failed += 1; continue
    n = len(r["data"]["result"])
    print("%3d series  %s" % (n, e))
    if r["status"] != "success" or n == 0:
        failed += 1
print(len(exprs), "expressions,", failed, "without data")
sys.exit(1 if failed else 0)
EOF

step "SIGTERM (podman-compose stop), then up again: nothing lost"
"${compose[@]}" stop hlsgate >/dev/null 2>&1
code=$(podman inspect --format '{{.State.ExitCode}}' "$container")
[ "$code" = 0 ] || fail "hlsgate exited with $code after SIGTERM"
podman logs "$container" 2>&1 | grep -q '"msg":"stopped"' || fail "no clean stop in hlsgate's log"
"${compose[@]}" up -d >"$work/up2.log" 2>&1 || { cat "$work/up2.log"; fail "compose up again"; }
running || { cat "$work/up2.log"; fail "compose up did not start the four services again"; }
until_ok 90 curl -fsS -m 5 "$edge/health" || fail "the stack did not come back"
until_ok 60 play || fail "the item does not play after the restart"
# RTMP publishers get through again (the rtmp service's relay looks
# hlsgate up again), and the channel, kept across the restart, goes live.
rtmp_id=$(json '["channel_id"]' <"$work/Rtmp.json")
rtmp_live() {
  curl -fsS -m 5 -H "Authorization: Bearer $HLSGATE_API_TOKEN" "$edge/live/$rtmp_id" |
    json '["status"]' | grep -qx live
}
publish flv "$HLSGATE_RTMP_PUBLIC_URL/$rtmp_key" 40 >"$work/rtmp2.log" 2>&1 &
publisher=$!
until_ok 60 rtmp_live || { cat "$work/rtmp2.log"; fail "the RTMP channel did not go live after the restart"; }
stop_publisher
echo "stack test passed"
