#!/usr/bin/env bash
# Headless Chromium for the real-browser test (internal/browser), from Debian's packages.
#
#   bash scripts/chromium.sh       (.ci/run calls it before `make test`)
#
# Idempotent: nothing happens when /usr/bin/chromium (or $CHROMIUM) is already there. Installing
# needs root and apt-get; elsewhere it only says how, and exits 0: the test then skips itself
# (outside CI) with the same hint.
set -euo pipefail

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "chromium.sh: $chromium is missing; install it with: sudo apt-get update && sudo apt-get install -y chromium" >&2
	exit 0
fi
echo "chromium.sh: installing chromium (apt-get)" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
"$chromium" --version
