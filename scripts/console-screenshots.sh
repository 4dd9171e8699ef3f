#!/usr/bin/env bash
# Regenerates the console screenshots in docs/console/ from the browser tests
# (a real embedded actorlog with the demo's traffic, Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
export CHROMIUM_PATH
CHROMIUM_PATH=$(bash scripts/chromium.sh)
CONSOLE_SCREENSHOTS=$PWD/docs/console timeout 10m \
  node --test --test-force-exit --test-timeout=600000 dist/test/integration/console-browser.test.js
