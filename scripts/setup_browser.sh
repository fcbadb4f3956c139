#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the browser tests (tests/browser), once.
# Needs root and apt; elsewhere it says what to install and leaves the rest of the set-up be.
set -uo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "tunelab: browser tests need Chromium: apt-get install -y chromium chromium-driver" >&2
  exit 0
fi
echo "tunelab: installing chromium and chromium-driver for the browser tests (first run only)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ||
  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } ||
  echo "tunelab: could not install chromium; browser tests will fail until it is" >&2
