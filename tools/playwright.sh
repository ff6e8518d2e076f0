#!/usr/bin/env bash
# tools/playwright.sh: playwright-core for the console's browser test
# (tests/api/test_console.py drives Debian's chromium with it), from the npm
# registry into tests/console/node_modules, pinned by
# tests/console/package-lock.json. tools/deps.sh test runs it. Quick when it
# is there already; says so and goes on when the host has no npm (the test
# then skips, saying why).
set -euo pipefail
cd "$(dirname "$0")/../tests/console"
if ! command -v npm >/dev/null 2>&1; then
	echo "playwright: no npm on this host: the console test will skip" >&2
	exit 0
fi
stamp=node_modules/.lambdad-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
	exit 0
fi
echo "playwright: installing playwright-core for the console test (npm ci)" >&2
if npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
	cp package-lock.json "$stamp"
else
	echo "playwright: npm ci failed: the console test will skip" >&2
fi
