#!/usr/bin/env bash
# Checks the operator files in deploy/ with the tools that consume them:
# promtool (Prometheus config, alert rules and their unit tests in
# tests/deploy/alerts_test.yml), python3's JSON parser (the Grafana
# dashboard) and systemd-analyze (the unit, pointed at the built binary).
#   tests/deploy/check.sh HLSGATE_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "$1")
fail=0
run() {
  echo "== $*"
  if ! "$@"; then
    echo "FAILED: $*"
    fail=1
  fi
}
run promtool check config deploy/prometheus/prometheus.yml
run promtool check rules deploy/prometheus/alerts.yml
run bash -c 'cd tests/deploy && promtool test rules alerts_test.yml'
run python3 -c 'import json,sys; d=json.load(open("deploy/grafana/hlsgate.json")); n=sum(len(p["targets"]) for p in d["panels"]); assert n>0; print(len(d["panels"]),"panels,",n,"queries")'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=.*|ExecStart=$bin|" deploy/systemd/hlsgate.service >"$tmp/hlsgate.service"
# systemd-analyze prints problems and still exits 0 for some of them: any output fails.
out=$(systemd-analyze verify "$tmp/hlsgate.service" 2>&1 || echo "exit status $?")
echo "== systemd-analyze verify deploy/systemd/hlsgate.service"
if [ -n "$out" ]; then
  echo "$out"
  echo "FAILED: systemd-analyze verify"
  fail=1
fi
exit $fail
