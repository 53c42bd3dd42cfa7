#!/usr/bin/env bash
# Installs every Debian package hlsgate needs to build, run and test.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ca-certificates curl
  libcaf-dev libboost1.81-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
  nlohmann-json3-dev prometheus-cpp-dev libgtest-dev libgmock-dev libssl-dev libsqlite3-dev
  ffmpeg wrk clang-format prometheus nginx-light
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
