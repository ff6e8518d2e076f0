#!/usr/bin/env bash
# tools/sdk.sh: the AWS SDKs the managed runtimes ship.
#  - python: boto3 is the host's (pip's or Debian's; lambdad binds it
#    read-only into python sandboxes, where no bytecode can be written), so
#    it is compiled here once for every python3.X interpreter of the host,
#    beside its sources (__pycache__/*.cpython-3XY.pyc): without it, every
#    cold start of a python3.12 function that imports boto3 compiles it anew.
#  - nodejs: the @aws-sdk v3 clients (runtimes/nodejs-sdk/package.json,
#    versions pinned by its package-lock.json) from the npm registry into
#    runtimes/nodejs-sdk/node_modules, where lambdad finds them at start-up.
# Quick when all is there already; says so and goes on when the host has no
# boto3 or no npm (those runtimes then run without their SDK).
set -euo pipefail
cd "$(dirname "$0")/.."

sdk=$(python3 -c 'import os, boto3; print(os.path.dirname(os.path.dirname(boto3.__file__)))' 2>/dev/null || true)
if [ -n "$sdk" ] && [ -w "$sdk" ]; then
	for py in /usr/bin/python3.[0-9]* /usr/local/bin/python3.[0-9]* "$HOME"/.pyenv/versions/*/bin/python3.[0-9]*; do
		case "$py" in *-config|*m) continue ;; esac
		[ -x "$py" ] || continue
		tag=$("$py" -c 'import sys; assert sys.version_info >= (3, 8); print(sys.implementation.cache_tag)' 2>/dev/null) || continue
		[ -f "$sdk/boto3/__pycache__/__init__.$tag.pyc" ] && [ -f "$sdk/botocore/__pycache__/client.$tag.pyc" ] && continue
		echo "sdk: compiling boto3 for $py ($tag)" >&2
		"$py" -m compileall -q -j 0 "$sdk"/{boto3,botocore,s3transfer,jmespath,dateutil,urllib3} "$sdk/six.py" \
			>/dev/null 2>&1 || echo "sdk: $py could not compile boto3 (too old for it?)" >&2
	done
fi

cd runtimes/nodejs-sdk
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
