#!/usr/bin/env bash
# Debian's Chromium, the headless browser the report check (tests/test_report_browser.py)
# renders the HTML report with. Idempotent: does nothing when chromium is installed.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-browser: chromium is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
echo "[install-browser] installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
timeout 600 apt-get update -qq >/dev/null
timeout 1200 apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null 2>&1 || {
  echo "install-browser: apt-get installed chromium but it is not on PATH" >&2
  exit 1
}
