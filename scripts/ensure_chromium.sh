#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium (Playwright launches it by path).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the end-to-end tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "end-to-end tests need Chromium at /usr/bin/chromium (apt-get install chromium)" >&2
  exit 1
fi
