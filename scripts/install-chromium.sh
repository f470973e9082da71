#!/usr/bin/env bash
# Install Debian's chromium for the Playwright browser tests when it is missing.
# `playwright install` cannot download browsers here, so the tests drive /usr/bin/chromium.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# fonts-liberation / fonts-dejavu-core give pages real glyphs in screenshots.
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-dejavu-core
"$CHROMIUM" --version
