#!/usr/bin/env bash
# Lays out under OUT what hlsgate's runtime image holds: the server binary
# (stripped), the web app with the front-end files it serves (Swagger UI,
# hls.js from web/node_modules), and OUT/packages, the Debian packages of
# the shared libraries the binary links (readelf + dpkg -S: nothing hlsgate
# never calls is installed). One script for both ways deploy/build-image.sh
# builds the image: inside deploy/Containerfile's build stage, and on the
# host with --binary (a binary built here, on the same Debian release).
#   deploy/stage-out.sh BINARY OUT
set -euo pipefail
umask 022 # the image's user reads what is laid out here, whatever the caller's umask
bin="$(realpath -e "$1")"
out="$(realpath -m "$2")"
cd "$(dirname "$0")/.."
install -D -m 0755 -s "$bin" "$out/usr/local/bin/hlsgate"
for f in swagger-ui-dist/swagger-ui.css swagger-ui-dist/swagger-ui-bundle.js \
  swagger-ui-dist/favicon-32x32.png hls.js/dist/hls.min.js hls.js/dist/hls.worker.js; do
  install -D -m 0644 "web/node_modules/$f" "$out/usr/share/hlsgate/web/node_modules/$f"
done
install -d "$out/usr/share/hlsgate/web/app"
install -m 0644 web/app/* "$out/usr/share/hlsgate/web/app/"
for lib in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  pkg="$(dpkg -S "*/$lib" | head -n 1 | cut -d: -f1)"
  [ -n "$pkg" ] || { echo "no Debian package holds $lib" >&2; exit 1; }
  echo "$pkg"
done | sort -u >"$out/packages"
