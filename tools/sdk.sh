#!/usr/bin/env bash
# tools/sdk.sh: installs the AWS SDK for JavaScript v3 clients that the nodejs
# runtimes ship (runtimes/nodejs-sdk/package.json, versions pinned by its
# package-lock.json) from the npm registry into runtimes/nodejs-sdk/node_modules,
# where lambdad finds them at start-up. Quick when they are there already;
# says so and does nothing when the host has no npm (nodejs runtimes then run
# without the SDK, as python ones do without boto3).
set -euo pipefail
cd "$(dirname "$0")/../runtimes/nodejs-sdk"
if ! command -v npm >/dev/null 2>&1; then
	echo "sdk: no npm on this host: nodejs functions get no @aws-sdk clients" >&2
	exit 0
fi
stamp=node_modules/.lambdad-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
	exit 0
fi
echo "sdk: installing the @aws-sdk v3 clients of the nodejs runtimes (npm ci)" >&2
npm ci --no-audit --no-fund --omit=dev --loglevel=error >/dev/null
cp package-lock.json "$stamp"
