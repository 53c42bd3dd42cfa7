#!/bin/sh
# Starts the nginx edge: waits (at most 60 s) for the edge key that hlsgate
# writes at start (HLSGATE_EDGE_KEY_FILE, on a volume shared read-only with
# this container), fills it into deploy/nginx.conf with the origin's address
# and the media folder, and runs nginx in the foreground. Its workers run in
# group hlsmedia (GID 10001, hlsgate's group), the only way they reach media.
#   EDGE_KEY_FILE  default /etc/hlsgate-edge/key/edge.key
#   ORIGIN         hlsgate's address, default hlsgate:8000
#   MEDIA_ROOT     the media volume, default /srv/media
set -eu
key_file="${EDGE_KEY_FILE:-/etc/hlsgate-edge/key/edge.key}"
origin="${ORIGIN:-hlsgate:8000}"
media="${MEDIA_ROOT:-/srv/media}"
waited=0
while [ ! -s "$key_file" ]; do
  if [ "$waited" -ge 120 ]; then
    echo "hlsgate-edge: no edge key at $key_file after 60 s (is HLSGATE_EDGE_KEY_FILE set on hlsgate?)" >&2
    exit 1
  fi
  sleep 0.5
  waited=$((waited + 1))
done
key="$(head -n 1 "$key_file")"
# The key goes into a sed replacement and an nginx string: only characters
# that need no quoting in either (hlsgate's derived key is base64url).
case "$key" in
  *[!A-Za-z0-9._~+/=-]*) echo "hlsgate-edge: the edge key has characters this entrypoint does not quote" >&2; exit 1 ;;
esac
case "$origin" in
  *[!A-Za-z0-9.:_-]*) echo "hlsgate-edge: ORIGIN must be host:port" >&2; exit 1 ;;
esac
# The origin's address is looked up again every 10 s through the container's
# resolver (a restarted hlsgate container may come back on another address;
# an upstream block would keep the old one until nginx restarts).
resolver="$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)"
case "$resolver" in *:*) resolver="[$resolver]" ;; esac
{
  printf 'daemon off;\nuser www-data hlsmedia;\npid /run/nginx.pid;\nerror_log /dev/stderr warn;\n'
  sed -e "s|EDGE_KEY|$key|" -e "s|MEDIA_DIR|$media|" -e "s|CACHE_DIR|/var/cache/hlsgate-edge|" \
    -e "s|^  upstream hlsgate {.*|  resolver $resolver valid=10s ipv6=off;\\n  map \"\" \$hlsgate_origin { default \"$origin\"; }|" \
    -e "s|proxy_pass http://hlsgate|proxy_pass http://\$hlsgate_origin|" \
    -e "s|^http {|http {\\n  access_log /dev/stdout;|" /etc/hlsgate-edge/nginx.conf.in
} >/etc/nginx/hlsgate-edge.conf
grep -q 'hlsgate_origin {' /etc/nginx/hlsgate-edge.conf || { echo "hlsgate-edge: nginx.conf has no upstream line to replace" >&2; exit 1; }
exec nginx -c /etc/nginx/hlsgate-edge.conf
