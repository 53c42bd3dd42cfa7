#!/bin/bash
# The container's HEALTHCHECK: GET /health on the local port answers 200.
# Plain bash (/dev/tcp), so the image needs no HTTP client.
set -eu
exec 3<>"/dev/tcp/127.0.0.1/${HLSGATE_PORT:-8000}"
printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
case "$status" in
  "HTTP/1.1 200"*) exit 0 ;;
  *) echo "unhealthy: ${status%$'\r'}" >&2; exit 1 ;;
esac
