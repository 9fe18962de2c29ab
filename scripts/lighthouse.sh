#!/usr/bin/env bash
# Lighthouse (mobile emulation, its default) over a running service's two public pages: the
# staff web's sign-in (/) and the field app (/app/), with Debian's Chromium. Not part of
# `make test`: a score depends on the machine's load (docs/web-apps.md has the figures).
#   scripts/lighthouse.sh [BASE]     BASE defaults to http://127.0.0.1:8000 (`make run`)
set -euo pipefail
base="${1:-http://127.0.0.1:8000}"
cd "$(dirname "$0")/../web"
# Lighthouse is the one devDependency: `make web` and the image install without it.
if [[ ! -x node_modules/.bin/lighthouse ]]; then
  npm ci --include=dev --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
out="../build/lighthouse"
mkdir -p "$out"
for path in "" "app/"; do
  name="${path%/}"
  name="${name:-staff}"
  # --no-sandbox: Chromium refuses to start as root (containers, CI) without it.
  node_modules/.bin/lighthouse "$base/$path" --quiet \
    --chrome-flags="--headless=new --no-sandbox" \
    --only-categories=performance,accessibility,best-practices,seo \
    --output=json --output-path="$out/$name.json"
  node -e '
    const r = require(process.argv[1]);
    const s = Object.values(r.categories).map((c) => `${c.title} ${Math.round(c.score * 100)}`);
    console.log(`${r.finalDisplayedUrl}: ${s.join(", ")}`);' "$(realpath "$out/$name.json")"
done
