#!/usr/bin/env bash
# Live channel latency and CPU: starts its own hlsgate, creates a test-pattern
# channel (720p two-rung ladder, 2 s segments), watches its top media playlist
# for SECONDS and reports
#   - listing latency: from the capture of a segment's last frame (its
#     PROGRAM-DATE-TIME + EXTINF) to the moment the playlist lists it (target:
#     ≤ 0.5 s after the segment file is complete; the encoder's own delay is
#     included here, so this is an upper bound of that);
#   - live latency of a player holding back 3 target durations from the edge
#     (hls.js's default), in segment durations (target ≤ 3 + listing latency);
#   - CPU of the channel in cores, and the same ladder encoded live by the
#     ffmpeg CLI from the same lavfi source for the same time as the reference
#     measured in this run (ratio hlsgate / ffmpeg).
# Usage: bench/live.sh [HLSGATE_BINARY] [SECONDS]
set -euo pipefail
bin=${1:-build/hlsgate}
secs=${2:-60}
ladder=${LADDER:-720:2800k,360:800k}
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
token=bench-live-token-0123456789
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HLSGATE_DATA_DIR="$tmp/data" HLSGATE_PORT=$port HLSGATE_SRT_PORT=0 HLSGATE_API_TOKEN=$token HLSGATE_ACCESS_LOG=off \
  "$bin" 2>"$tmp/log" &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 300); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

reply=$(curl -sf -X POST -H "Authorization: Bearer $token" "$base/live" \
  -d "{\"name\":\"bench\",\"source\":{\"type\":\"test\"},\"segment_seconds\":2,\"dvr_window_seconds\":60,\"ladder\":\"$ladder\"}")
id=$(echo "$reply" | python3 -c 'import json,sys; print(json.load(sys.stdin)["channel_id"])')
access=$(echo "$reply" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
url="$base/live/$id/v0/playlist.m3u8?token=$access"
c0=$(cpu_ticks "$pid")
t0=$(date +%s.%N)
python3 - "$url" "$secs" >"$tmp/latency" <<'EOF'
import sys, time, urllib.request, datetime
url, secs = sys.argv[1], float(sys.argv[2])
seen, listing, live = set(), [], []
end = time.time() + secs
while time.time() < end:
    try:
        body = urllib.request.urlopen(url, timeout=5).read().decode()
    except Exception:
        time.sleep(0.05); continue
    now = time.time()
    pdt, segs, target = None, [], 2
    for line in body.splitlines():
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":")[1])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = datetime.datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
        elif line.startswith("#EXTINF:"):
            dur = float(line[8:].rstrip(","))
        elif line and not line.startswith("#"):
            segs.append((line.split("?")[0], pdt, dur))
    if segs:
        name, p, d = segs[-1]
        if name not in seen and len(seen) > 0:
            listing.append(now - (p + d))
            # a player 3 target durations behind the edge shows the frame
            # captured at (edge end - 3 * target) now
            live.append((now - (p + d) + 3 * target) / target)
        seen.add(name)
    time.sleep(0.02)
if not listing:
    print("no segment was listed"); sys.exit(1)
listing.sort(); live.sort()
pct = lambda a, q: a[min(len(a) - 1, int(q * len(a)))]
print(f"segments listed: {len(listing)}")
print(f"listing latency (capture of last frame -> listed): median {pct(listing,.5):.3f} s, p95 {pct(listing,.95):.3f} s, max {listing[-1]:.3f} s")
print(f"live latency at 3 target durations of holdback: median {pct(live,.5):.2f}, max {live[-1]:.2f} segment durations")
EOF
t1=$(date +%s.%N)
c1=$(cpu_ticks "$pid")
cat "$tmp/latency"
h_cores=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz / (t1 - t0) }')

# The reference: the ffmpeg CLI encoding the same ladder live from the same
# source (x264 veryfast with the zerolatency tuning hlsgate uses live, AAC,
# 2 s GOPs, HLS muxer) for the same time.
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
IFS=, read -r -a rungs <<<"$ladder"
top=${rungs[0]%%:*}
w=$(( (top * 16 / 9 + 1) / 2 * 2 ))
maps=() ; streams=""
i=0
for r in "${rungs[@]}"; do
  h=${r%%:*}; b=${r##*:}
  maps+=(-map 0:v -map 0:a "-s:v:$i" "$(( (h * 16 / 9 + 1) / 2 * 2 ))x$h" "-b:v:$i" "$b")
  streams+="v:$i,a:$i "
  i=$((i + 1))
done
mkdir -p "$tmp/ff"
ffmpeg -nostdin -v error -f lavfi \
  -i "testsrc2=size=${w}x${top}:rate=30,drawtext=fontfile=$font:text='%{gmtime\:%T}':fontsize=$((top / 12)):fontcolor=white:box=1:boxcolor=black@0.6,realtime[out0];sine=frequency=440:sample_rate=48000:samples_per_frame=1024,arealtime[out1]" \
  "${maps[@]}" -c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0 \
  -c:a aac -b:a 128k -f hls -hls_time 2 -hls_list_size 30 -hls_flags delete_segments \
  -var_stream_map "${streams% }" "$tmp/ff/v%v.m3u8" 2>"$tmp/fflog" &
ff=$!
sleep 2 # past the encoders' start-up, as the channel was
fc0=$(cpu_ticks "$ff")
fs0=$(date +%s.%N)
sleep "$((secs - 2))" # a benchmark's measuring interval, not synchronisation
fc1=$(cpu_ticks "$ff")
fs1=$(date +%s.%N)
kill "$ff" && wait "$ff" 2>/dev/null || true
f_cores=$(awk -v a="$fc0" -v b="$fc1" -v t0="$fs0" -v t1="$fs1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz / (t1 - t0) }')
echo "hlsgate channel CPU: $h_cores cores (${ladder}, 2 s segments, ${secs} s, whole process)"
echo "ffmpeg CLI, same ladder live: $f_cores cores"
awk -v h="$h_cores" -v f="$f_cores" 'BEGIN { printf "ratio hlsgate / ffmpeg: %.2f\n", h / f }'
