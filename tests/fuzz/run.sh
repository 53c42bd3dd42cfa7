#!/usr/bin/env bash
# Builds every libFuzzer target with clang + ASan + UBSan in its own build
# folder and runs each for SECONDS (default 60) from its committed seed
# corpus. Prints the executions per target; exits non-zero on any crash.
# Needs Debian's clang and libclang-rt-14-dev.
set -euo pipefail
# --build-only: builds the targets and exits (CI builds them beside its
# release pass). Builds of one folder take turns (a lock), so a run that
# starts while such a build is under way waits for it instead of racing it.
build_only=0
if [ "${1:-}" = "--build-only" ]; then
  build_only=1
  shift
fi
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${HLSGATE_FUZZ_BUILD:-$src/build-fuzz}"
targets=(multipart_fuzz jwt_fuzz signed_url_fuzz query_fuzz range_fuzz segment_route_fuzz
         framing_fuzz config_fuzz annexb_fuzz subtitles_fuzz library_query_fuzz url_fuzz
         webhook_body_fuzz live_marker_fuzz playlist_rewrite_fuzz stream_request_fuzz)

mkdir -p "$build"
exec 9>"$build/.build-lock"
flock 9
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHLSGATE_SANITIZE=ON -DHLSGATE_FUZZ=ON \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
ninja -C "$build" "${targets[@]}"
flock -u 9
[ "$build_only" = 1 ] && exit 0

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
jobs="${HLSGATE_FUZZ_JOBS:-$(nproc)}"

run_one() {
  local t="$1" seeds="$here/corpus/${1%_fuzz}" log="$work/$1.log" rc runs
  mkdir -p "$work/$t"
  set +e
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$t-" \
    "$work/$t" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  runs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
  if [ "$rc" -ne 0 ]; then
    echo "$t: FAILED (exit $rc) after ${runs:-?} executions"
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20
    cp "$work/$t-"* "$build/" 2>/dev/null || true
    return 1
  fi
  echo "$t: ${runs:-?} executions in ${seconds}s, no crash"
}

# Targets run $jobs at a time (each is single-threaded).
status=0
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" > "$work/$t.result" &
  pids+=($!)
  names+=("$t")
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    cat "$work/${names[0]}.result"
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  cat "$work/${names[$i]}.result"
done
exit "$status"
