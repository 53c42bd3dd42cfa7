#!/usr/bin/env bash
# npm ci in DIR from its committed package-lock.json, only when DIR's
# node_modules does not hold exactly what the lock lists (every package
# present, at its locked version): a second run takes about a second.
#   scripts/npm-install.sh DIR
set -euo pipefail
dir="$(cd "$1" && pwd)"
if ! node -e '
  const fs = require("fs"), path = require("path");
  const lock = require(path.join(process.argv[1], "package-lock.json"));
  for (const [k, v] of Object.entries(lock.packages || {})) {
    if (!k) continue;
    const f = path.join(process.argv[1], k, "package.json");
    if (!fs.existsSync(f) || JSON.parse(fs.readFileSync(f, "utf8")).version !== v.version) process.exit(1);
  }' "$dir" 2>/dev/null; then
  echo "npm-install.sh: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
