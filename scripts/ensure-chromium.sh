#!/usr/bin/env bash
# Make a headless Chromium and its WebDriver available for the console's browser tests.
# Installs Debian's `chromium` and `chromium-driver` packages when missing (never downloads a
# browser build of its own). Prints the driver's path.
set -euo pipefail
have() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }
if ! have; then
  echo "Chromium or chromedriver not found: installing Debian's chromium and chromium-driver" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
have || { echo "chromium or chromedriver still missing" >&2; exit 1; }
echo /usr/bin/chromedriver
