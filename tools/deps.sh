#!/usr/bin/env bash
# tools/deps.sh [run|test|bench|fuzz|all]: installs, when missing, the Debian
# packages (bookworm) that one make target needs; quiet and quick when they
# are all there. Each set includes `run`:
#   run    building and serving (make run): compiler, pkg-config, the -dev
#          libraries (librdkafka-dev brings librdkafka1, which Kafka event
#          source mappings run with; librabbitmq-dev brings librabbitmq4, the RabbitMQ
#          event sources' AMQP client; libqpid-proton11-dev brings qpid-proton's
#          engine, the ActiveMQ event sources' AMQP 1.0 client;
#          libcbor-dev: CloudWatch's rpc-v2-cbor protocol; libpq-dev: the
#          PostgreSQL store (--store postgresql://...); slirp4netns: egress of
#          functions in their own network namespaces, --function-network isolated), python3 (the python runtimes) with boto3 (the SDK the
#          python runtimes ship) and zip (the README's quick start zips a
#          function); and the @aws-sdk v3 clients the nodejs runtimes ship
#          (tools/sdk.sh, from the npm registry)
#   test   make test: boto3 for the black-box tests (moto, which some of them
#          start, has no Debian package: pip install moto), Debian's awscli
#          (CLI v2, /usr/bin/aws) and python3-boto3 (the old SDK a test gives
#          the python runtimes with --python-sdk), OpenJDK 17 and Debian's Jackson
#          (the java runtime client, runtimes/java) beside an AWS CLI v1 (the quick-start test
#          runs the README with both; when none is on PATH, one is installed
#          from PyPI into build/cli-v1), curl and file; chromium for the
#          browser tests (they skip, saying why, when chromium cannot be had)
#          and playwright-core for the console's (tools/playwright.sh, npm);
#          Debian's rabbitmq-server (the Amazon MQ tests start a broker of
#          their own on free loopback ports, beside the package's service if
#          the system runs it) and python3-pika (the tests publish and count
#          messages with it); python3-qpid-proton (the Amazon MQ for ActiveMQ
#          tests publish and count over AMQP 1.0, the protocol the poller speaks); Debian's prometheus (test_metrics
#          scrapes /metrics with a server of its own on a free loopback port);
#          Debian's postgresql (test_pg_store runs initdb and pg_ctl into a
#          temporary directory on a free loopback port)
#   bench  make bench: wrk and boto3 (and moto, from pip)
#   fuzz   make fuzz: clang (libFuzzer)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
run_pkgs=(gcc make pkg-config libmicrohttpd-dev libjansson-dev libyajl-dev libsqlite3-dev libssl-dev
          libarchive-dev libcurl4-openssl-dev libpcre2-dev librdkafka-dev librabbitmq-dev libqpid-proton11-dev libcbor-dev libpq-dev python3 zip slirp4netns)
case "$what" in
run) pkgs=("${run_pkgs[@]}") ;;
test) pkgs=("${run_pkgs[@]}" awscli curl file python3-venv python3-boto3 openjdk-17-jdk-headless libjackson2-databind-java docker-registry busybox-static rabbitmq-server python3-pika python3-qpid-proton prometheus postgresql) ;;
bench) pkgs=("${run_pkgs[@]}" wrk curl docker-registry) ;;
fuzz) pkgs=("${run_pkgs[@]}" clang) ;;
all) pkgs=("${run_pkgs[@]}" awscli curl file python3-venv python3-boto3 openjdk-17-jdk-headless libjackson2-databind-java docker-registry busybox-static rabbitmq-server python3-pika python3-qpid-proton prometheus postgresql wrk clang) ;;
*) echo "usage: tools/deps.sh [run|test|bench|fuzz|all]" >&2; exit 2 ;;
esac

sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
updated=0
apt_install() {
	[ "$updated" = 1 ] || { $sudo_cmd apt-get update -qq && updated=1; }
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
# boto3: the python runtimes give it to functions (lambdad takes the newest
# the host has, pip's or Debian's), and the tests and the benchmark drive the
# server with it, from the python3 on PATH (Debian's packages serve Debian's
# python3)
if [ "$what" != fuzz ] && ! python3 -c 'import boto3, botocore' 2>/dev/null; then
	missing+=(python3-boto3)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	apt_install "${missing[@]}"
fi

if [ "$what" = test ] || [ "$what" = all ]; then
	# an AWS CLI v1 for the quick-start test: Debian ships only v2
	have_v1=0
	IFS=: read -ra path_dirs <<<"$PATH"
	for d in "${path_dirs[@]}"; do
		if [ -x "$d/aws" ] && "$d/aws" --version 2>&1 | grep -q '^aws-cli/1\.'; then
			have_v1=1
			break
		fi
	done
	if [ "$have_v1" = 0 ] && [ ! -x build/cli-v1/bin/aws ]; then
		echo "deps: installing the AWS CLI v1 into build/cli-v1 (pip)" >&2
		python3 -m venv build/cli-v1 && build/cli-v1/bin/pip install -q 'awscli<2' ||
			echo "deps: could not install the AWS CLI v1; the quick-start test will fail on it" >&2
	fi
	# the browser test (tests/api/test_url_clients.py) runs Debian's chromium
	# headless; a failure here does not stop the tests
	if ! installed chromium; then
		echo "deps: installing chromium" >&2
		apt_install chromium || echo "deps: could not install chromium; the browser test will skip" >&2
	fi
	tools/playwright.sh
fi

# the @aws-sdk v3 clients of the nodejs runtimes, from the npm registry
if [ "$what" != fuzz ]; then
	tools/sdk.sh
fi
