#!/usr/bin/env bash
# Builds every libFuzzer target with clang + ASan + UBSan in its own build
# folder and runs each for SECONDS (default 60) from its committed seed
# corpus. Prints the executions per target; exits non-zero on any crash.
# Needs Debian's clang and libclang-rt-14-dev.
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${HLSGATE_FUZZ_BUILD:-$src/build-fuzz}"
targets=(multipart_fuzz jwt_fuzz signed_url_fuzz query_fuzz range_fuzz segment_route_fuzz
         framing_fuzz config_fuzz)

mkdir -p "$build"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHLSGATE_SANITIZE=ON -DHLSGATE_FUZZ=ON \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
ninja -C "$build" "${targets[@]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
  seeds="$here/corpus/${t%_fuzz}"
  mkdir -p "$work/$t"
  log="$work/$t.log"
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
    status=1
  else
    echo "$t: ${runs:-?} executions in ${seconds}s, no crash"
  fi
done
exit "$status"
