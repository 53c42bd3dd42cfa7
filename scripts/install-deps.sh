#!/usr/bin/env bash
# Installs the Debian packages hlsgate needs.
#   scripts/install-deps.sh          building and running (what scripts/run.sh needs,
#                                    Node.js/npm for the front-end packages included)
#   scripts/install-deps.sh --test   also every tool the test suite drives: the
#                                    ffmpeg CLI, nginx, Prometheus, wrk, clang
#                                    (fuzzing), clang-format, Chromium, GStreamer,
#                                    systemd-analyze
#                                    (the unit in deploy/), podman and
#                                    debootstrap (the container images) —
#                                    without enabling or starting any system
#                                    service.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

BUILD=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcaf-dev libboost1.81-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libavdevice59 libsrt-gnutls-dev
  nlohmann-json3-dev prometheus-cpp-dev libssl-dev libsqlite3-dev zlib1g-dev
  fonts-dejavu-core
)
TEST=(
  libgtest-dev libgmock-dev
  curl ffmpeg nginx-light libnginx-mod-rtmp prometheus wrk clang-format clang libclang-rt-14-dev
  chromium gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-libav systemd python3
  podman buildah runc podman-compose netavark aardvark-dns iptables debootstrap uidmap
)

want=("${BUILD[@]}")
if [ "${1:-}" = "--test" ]; then
  want+=("${TEST[@]}")
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm: many machines carry their own (NodeSource's nodejs bundles
# npm, and Debian's npm package then cannot be installed next to it). Use
# whatever `node` and `npm` are on PATH; only a machine with neither gets
# Debian's.
if ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
# Packages such as nginx and prometheus would start (and on systemd hosts
# enable) their services on :80 and :9090 as a side effect of installation.
# The tests start their own instances; policy-rc.d tells Debian's maintainer
# scripts not to start anything while we install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT
$SUDO apt-get update -qq
log=$(mktemp)
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  tail -n 40 "$log"
  rm -f "$log"
  exit 1
fi
rm -f "$log"
