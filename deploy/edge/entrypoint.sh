#!/bin/sh
# Starts the nginx edge: waits (at most 60 s) for the edge key that hlsgate
# writes at start (HLSGATE_EDGE_KEY_FILE, on a volume shared read-only with
# this container), fills it into deploy/nginx.conf with the origin's address
# and the media folder, and runs nginx in the foreground. Its workers run in
# group hlsmedia (GID 10001, hlsgate's group), the only way they reach media.
# When hlsgate writes another key (HLSGATE_EDGE_SECRET rotated, data volume
# recreated), the config is made again and nginx reloaded within 5 s.
#   EDGE_KEY_FILE  default /etc/hlsgate-edge/key/edge.key
#   ORIGIN         hlsgate's address, default hlsgate:8000
#   MEDIA_ROOT     the media volume, default /srv/media
set -eu
umask 077 # the generated config holds the key
key_file="${EDGE_KEY_FILE:-/etc/hlsgate-edge/key/edge.key}"
origin="${ORIGIN:-hlsgate:8000}"
media="${MEDIA_ROOT:-/srv/media}"
conf=/etc/nginx/hlsgate-edge.conf
http_conf=/etc/nginx/hlsgate-edge-http.conf

case "$origin" in
  *[!A-Za-z0-9.:_-]* | "") echo "hlsgate-edge: ORIGIN must be host:port" >&2; exit 1 ;;
esac
case "$media" in
  /*[!A-Za-z0-9._/-]* | [!/]* | "") echo "hlsgate-edge: MEDIA_ROOT must be an absolute path" >&2; exit 1 ;;
esac

waited=0
while [ ! -s "$key_file" ]; do
  if [ "$waited" -ge 120 ]; then
    echo "hlsgate-edge: no edge key at $key_file after 60 s (is HLSGATE_EDGE_KEY_FILE set on hlsgate?)" >&2
    exit 1
  fi
  sleep 0.5
  waited=$((waited + 1))
done

# Writes the config for the key in $key_file; fails (keeping the old config)
# on a key that is too short or has characters the substitution would need
# to quote (hlsgate's derived key is base64url; a configured one >= 32 bytes).
render() {
  key="$(head -n 1 "$key_file")"
  if [ "${#key}" -lt 32 ]; then
    echo "hlsgate-edge: the edge key in $key_file is shorter than 32 characters" >&2
    return 1
  fi
  case "$key" in
    *[!A-Za-z0-9._~+/=-]*) echo "hlsgate-edge: the edge key has characters this entrypoint does not quote" >&2; return 1 ;;
  esac
  # The origin's address is looked up again every 10 s through the
  # container's resolver: a restarted hlsgate container may come back on
  # another address, which an upstream block would not see until a restart.
  resolver="$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)"
  case "$resolver" in *:*) resolver="[$resolver]" ;; esac
  # The access log names the path only: query strings carry tokens, admin
  # keys and URL signatures.
  {
    printf 'log_format hlsgate_edge '\''$remote_addr [$time_local] "$request_method $uri" $status $body_bytes_sent $request_time'\'';\n'
    printf 'access_log /dev/stdout hlsgate_edge;\n'
    printf 'resolver %s valid=10s ipv6=off;\n' "$resolver"
    printf 'map "" $hlsgate_origin { default "%s"; }\n' "$origin"
  } >"$http_conf.new"
  {
    printf 'daemon off;\nuser www-data hlsmedia;\npid /run/nginx.pid;\nerror_log /dev/stderr warn;\n'
    sed -e "s|EDGE_KEY|$key|" -e "s|MEDIA_DIR|$media|" -e "s|CACHE_DIR|/var/cache/hlsgate-edge|" \
      -e "s|^  upstream hlsgate {.*|  include $http_conf;|" \
      -e "s|proxy_pass http://hlsgate|proxy_pass http://\$hlsgate_origin|" \
      /etc/hlsgate-edge/nginx.conf.in
  } >"$conf.new"
  # Every placeholder filled, the origin's upstream replaced.
  if grep -v '^ *#' "$conf.new" | grep -qE 'EDGE_KEY|MEDIA_DIR|CACHE_DIR|http://hlsgate[;/]' ||
    ! grep -q "include $http_conf;" "$conf.new"; then
    echo "hlsgate-edge: deploy/nginx.conf no longer has the lines this entrypoint replaces" >&2
    return 1
  fi
  mv "$http_conf.new" "$http_conf"
  mv "$conf.new" "$conf"
}

render
stamp="$(stat -c %Y:%i "$key_file")"
# A new key file (hlsgate replaces it atomically) means a new config.
(
  while sleep 5; do
    now="$(stat -c %Y:%i "$key_file" 2>/dev/null || echo gone)"
    if [ "$now" != "$stamp" ] && [ "$now" != gone ]; then
      stamp="$now"
      render && nginx -c "$conf" -s reload && echo "hlsgate-edge: new edge key, nginx reloaded" >&2
    fi
  done
) &
exec nginx -c "$conf"
