#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests, installing Debian's
# `chromium` package with apt-get when there is none (CI runs as root). Never
# a test tool's own browser download.
set -euo pipefail
for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo -n"; else
  echo "chromium.sh: no Chromium, and not root to install Debian's chromium package" >&2
  exit 1
fi
echo "chromium.sh: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends chromium >&2
echo /usr/bin/chromium
