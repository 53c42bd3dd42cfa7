#!/usr/bin/env bash
# Installs the front-end packages hlsgate serves itself, with no CDN (Swagger
# UI for /docs), into web/node_modules from the committed lock file. The
# server finds them through HLSGATE_WEB_DIR (default: this checkout's web/).
# Needs node and npm (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/npm-install.sh web
