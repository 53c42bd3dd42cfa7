#!/bin/sh
# Starts nginx-rtmp (deploy/rtmp/nginx-rtmp.conf) with the container's
# resolver and hlsgate's address filled in.
#   ORIGIN  hlsgate's address, default hlsgate:8000
set -eu
origin="${ORIGIN:-hlsgate:8000}"
case "$origin" in
  *[!A-Za-z0-9.:_-]* | "") echo "hlsgate-rtmp: ORIGIN must be host:port" >&2; exit 1 ;;
esac
resolver="$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)"
case "$resolver" in
  "") echo "hlsgate-rtmp: no nameserver in /etc/resolv.conf" >&2; exit 1 ;;
  *:*) resolver="[$resolver]" ;;
esac
sed -e "s|RESOLVER|$resolver|" -e "s|ORIGIN|$origin|" /etc/nginx/hlsgate-rtmp.conf.in \
  >/etc/nginx/hlsgate-rtmp.conf
exec nginx -c /etc/nginx/hlsgate-rtmp.conf -g 'daemon off;'
