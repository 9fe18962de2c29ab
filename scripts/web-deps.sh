#!/usr/bin/env bash
# Installs the web apps' pinned third-party browser code (web/package-lock.json) with npm ci,
# installing Node.js from the distribution first when it is missing. No CDN is ever used:
# the service serves these files itself.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    echo "safewalk needs Node.js with npm (no apt-get here: install nodejs and npm)" >&2; exit 1
  fi
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "safewalk needs Node.js; run: apt-get install nodejs npm (as root)" >&2; exit 1
    fi
  fi
  echo "installing nodejs npm ..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
# Without the devDependencies (Lighthouse, for scripts/lighthouse.sh only).
npm ci --omit=dev --no-audit --no-fund --loglevel=error
touch node_modules/.installed
