#!/usr/bin/env bash
# Installs what is missing, builds hlsgate (release), and runs it on its
# embedded defaults: SQLite + local disk under ./data, http://127.0.0.1:8000.
# The front-end packages (Swagger UI at /docs) come from npm (web/).
# Extra arguments go to hlsgate (see `hlsgate --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build-web.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHLSGATE_TESTS=OFF >/dev/null
cmake --build build-release --target hlsgate
exec ./build-release/hlsgate "$@"
