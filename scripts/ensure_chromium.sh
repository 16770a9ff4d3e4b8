#!/usr/bin/env bash
# The browser tests (tests/e2e) drive Debian's Chromium at /usr/bin/chromium.
# Install it with apt-get when it is missing and we are root; otherwise say so
# (those tests then skip and name the reason). Never `playwright install`.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "hookboard: Chromium is missing and cannot be installed here (needs root and apt-get);" \
       "the browser tests will be skipped" >&2
  exit 0
fi
echo "hookboard: installing Chromium for the browser tests (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium; then
  apt-get update
  apt-get install -y --no-install-recommends chromium
fi
