#!/usr/bin/env bash
# Installs the Debian packages lambdad needs to build and test, when missing.
# Idempotent and quiet when everything is there already.
set -euo pipefail
pkgs=(gcc make pkg-config clang libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev
      libarchive-dev libcurl4-openssl-dev libpcre2-dev zip wrk python3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# the black-box tests drive the server with boto3 and the AWS CLI
py_missing=0
python3 -c 'import boto3, botocore' 2>/dev/null || py_missing=1
command -v aws >/dev/null 2>&1 || py_missing=1
if [ "$py_missing" = 1 ]; then
	missing+=(python3-boto3 awscli)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	sudo_cmd=""
	[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# the browser test (tests/api/test_url_clients.py) runs Debian's chromium headless; it skips,
# saying why, when chromium cannot be installed, so a failure here does not stop the build
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
	echo "deps: installing chromium" >&2
	sudo_cmd=""
	[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
	{ $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null; } ||
		echo "deps: could not install chromium; the browser test will skip" >&2
fi
