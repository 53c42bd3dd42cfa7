#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
#   scripts/test.sh            release build (RelWithDebInfo) in build/
#   scripts/test.sh --asan     AddressSanitizer + UBSan build in build-asan/
# HLSGATE_WERROR=ON turns warnings into errors (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

dir=build
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--asan" ]; then
  dir=build-asan
  opts=(-DCMAKE_BUILD_TYPE=Debug -DHLSGATE_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
cmake -S . -B "$dir" -G Ninja "${opts[@]}" -DHLSGATE_WERROR="${HLSGATE_WERROR:-OFF}" >/dev/null
cmake --build "$dir"
ctest --test-dir "$dir" --output-on-failure --timeout 900 -j 2
