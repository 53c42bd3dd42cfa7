#!/usr/bin/env bash
# Builds hlsgate's container images from this checkout with podman, on a
# machine without registry access:
#   localhost/hlsgate:VERSION           the server (deploy/Containerfile)
#   localhost/hlsgate-edge:VERSION      nginx verifying signed segment URLs
#   localhost/hlsgate-prometheus:VERSION Prometheus with deploy/prometheus/
#   localhost/hlsgate-rtmp:VERSION      nginx-rtmp for RTMP channels
# The Debian base (localhost/debian:bookworm) is made with debootstrap from
# this machine's Debian mirror when it does not exist yet or is older than a
# week (a minute here, with the first image), and reused otherwise. Prints
# the server's image name as its last line. The front-end packages (Swagger
# UI) are fetched from npm on this host first (scripts/build-web.sh).
#   deploy/build-image.sh [--only hlsgate|edge|prometheus|rtmp] [--binary FILE]
# --binary: the hlsgate image gets FILE (a hlsgate built on this machine,
# which runs the same Debian release) instead of compiling it in a build
# stage; CI's container test uses the binary of its release pass.
# Needs root and podman, buildah, runc, debootstrap (scripts/install-deps.sh
# --test installs them). Uses deploy/containers.conf (runc, ulimits that
# work on hosts with hybrid cgroups) unless CONTAINERS_CONF is set.
set -euo pipefail
only=""
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="${2:?--only needs a name}"; shift 2 ;;
    --binary) binary="$(realpath -e "${2:?--binary needs a file}")"; shift 2 ;;
    *) echo "usage: deploy/build-image.sh [--only hlsgate|edge|prometheus|rtmp] [--binary FILE]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
# A binary from this host runs in the image only if both are Debian bookworm.
if [ -n "$binary" ] && ! grep -qx 'VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "--binary needs a Debian bookworm host (the image's release)" >&2
  exit 2
fi
base=localhost/debian:bookworm
version="$(sed -n 's/^project(hlsgate VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/deploy/containers.conf}"

# Every library folder the build adds must be copied into the build stage
# (a new folder missing there fails only deep inside the image build).
for d in $(sed -n 's/^add_subdirectory(\([a-z_]*\)).*/\1/p' CMakeLists.txt); do
  grep -q "^COPY $d/ $d/" deploy/Containerfile ||
    { echo "deploy/Containerfile does not copy $d/ (CMakeLists.txt builds it)" >&2; exit 1; }
done

# A base older than a week is made again, so images get Debian's updates.
if podman image exists "$base"; then
  made="$(podman image inspect --format '{{.Created.Unix}}' "$base")"
  if [ $(($(date +%s) - made)) -gt $((7 * 86400)) ]; then
    echo "$base is older than a week: making it again" >&2
    podman rmi -f "$base" >/dev/null
  fi
fi
if ! podman image exists "$base"; then
  mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  echo "making $base with debootstrap from $mirror" >&2
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
    { tail -n 20 "$root.log" >&2; exit 1; }
  rm -f "$root.log"
  # The image's apt sees the packages this machine sees: its sources (with
  # security updates), and a snapshot mirror's missing Valid-Until when this
  # machine accepts it. Nothing else of the host's is copied (a proxy comes
  # from the build's environment, never baked in).
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
  fi
  if apt-config dump 2>/dev/null | grep -c '^Acquire::Check-Valid-Until "false"' >/dev/null; then
    echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99snapshot-mirror"
  fi
  rm -f "$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  # No package installed in a build starts a service (as in Debian's
  # official images).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import -q - "$base" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

build() { # name containerfile [podman build arguments]
  local name="$1" file="$2"
  shift 2
  echo "building localhost/$name:$version" >&2
  podman build -q --format docker --network host --build-arg "BASE=$base" \
    --build-arg "VERSION=$version" --build-arg "COMMIT=$commit" "$@" -f "$file" \
    -t "localhost/$name:$version" -t "localhost/$name:latest" . >&2
}
if [ -z "$only" ] || [ "$only" = edge ]; then build hlsgate-edge deploy/edge/Containerfile; fi
if [ -z "$only" ] || [ "$only" = prometheus ]; then build hlsgate-prometheus deploy/prometheus/Containerfile; fi
if [ -z "$only" ] || [ "$only" = rtmp ]; then build hlsgate-rtmp deploy/rtmp/Containerfile; fi
if [ -z "$only" ] || [ "$only" = hlsgate ]; then
  # The front-end packages come from npm on this host, which trusts what its
  # network needs (a bare base image may not: TLS interception), and enter
  # the build context in web/node_modules; run.sh's npm step inside then
  # finds them matching the lock and fetches nothing.
  bash scripts/build-web.sh >&2
  if [ -n "$binary" ]; then
    # The layout the build stage would make, made here (.image-out/, in the
    # build context, removed afterwards).
    rm -rf .image-out
    trap 'rm -rf "$PWD/.image-out"' EXIT
    bash deploy/stage-out.sh "$binary" .image-out
    build hlsgate deploy/Containerfile --build-arg OUT=prebuilt
    rm -rf .image-out
  else
    build hlsgate deploy/Containerfile --build-arg OUT=build
  fi
fi
echo "localhost/hlsgate:$version"
