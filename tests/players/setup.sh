#!/usr/bin/env bash
# Installs what the player tests (tests/e2e/players_test.cpp) need, and only
# what is missing: Debian's Chromium, GStreamer with its HLS plugins, Node.js
# and npm, then the committed npm packages (hls.js, shaka-player,
# puppeteer-core) with `npm ci`. Idempotent; a second run takes about a second.
# puppeteer-core never downloads a browser: play.js drives /usr/bin/chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

missing=()
for p in chromium gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
  gstreamer1.0-plugins-bad gstreamer1.0-libav; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
# Node.js and npm may come from another build of nodejs that bundles npm (and
# conflicts with Debian's npm package): a working `node` and `npm` is enough.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

# npm ci only when node_modules does not match the committed lock file.
PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 \
  bash "$here/../../scripts/npm-install.sh" "$here"

# Fail here, not later in a test, when something is still not usable.
for c in /usr/bin/chromium gst-launch-1.0 gst-inspect-1.0 node ffmpeg ffprobe; do
  command -v "$c" >/dev/null 2>&1 || { echo "setup.sh: $c is missing after install" >&2; exit 1; }
done
gst-inspect-1.0 hlsdemux >/dev/null 2>&1 || { echo "setup.sh: GStreamer has no hlsdemux" >&2; exit 1; }
echo "setup.sh: players ready"
