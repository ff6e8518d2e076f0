#!/usr/bin/env bash
# tools/fuzz_run.sh: runs every libFuzzer harness (build/fuzz/fuzz_*, built by
# `make fuzzers`) for a while and says what each found. `make fuzz-run` builds
# the harnesses and calls it; not part of `make test` (which only replays the
# corpora). Settings, from the environment:
#   FUZZ_SECONDS  time per harness (default 60)
#   FUZZ_JOBS     harnesses run at the same time (default 1)
#   FUZZ_ONLY     names to run, e.g. "zip rapi" (default: all)
#   FUZZ_TIMEOUT  seconds one input may take (default 10)
#   FUZZ_RSS_MB   memory limit of a harness (default 1024)
#   FUZZ_ARGS     more libFuzzer flags, e.g. "-print_coverage=1"
# Each harness reads tests/fuzz/corpus/<name>/ (never written) and
# build/fuzz/new/<name>/, where libFuzzer keeps the new inputs it finds
# (copy the interesting ones into the corpus by hand); crash, leak, timeout
# and out-of-memory inputs go to build/fuzz/crashes/<name>/ and stay there;
# the whole output is build/fuzz/logs/<name>.log. One summary line per
# harness; the exit status is 1 when any harness found something.
set -u
cd "$(dirname "$0")/.."
# (the body is one function, read whole before it runs: editing this file
# during a run cannot change the run)
main() {

secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
per_input=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-1024}
for v in "$secs" "$jobs" "$per_input" "$rss"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "fuzz_run: FUZZ_SECONDS, FUZZ_JOBS, FUZZ_TIMEOUT and FUZZ_RSS_MB are positive integers" >&2; exit 2; }
done

names=()
if [ -n "${FUZZ_ONLY:-}" ]; then
	for n in $FUZZ_ONLY; do names+=("${n#fuzz_}"); done
else
	for h in tests/fuzz/fuzz_*.c; do n=$(basename "$h" .c); names+=("${n#fuzz_}"); done
fi
for n in "${names[@]}"; do
	[ -x "build/fuzz/fuzz_$n" ] || { echo "fuzz_run: build/fuzz/fuzz_$n is missing (make fuzzers)" >&2; exit 2; }
done

stamp=build/fuzz/run.stamp
mkdir -p build/fuzz/logs && touch "$stamp"

# one harness; writes build/fuzz/logs/<name>.sum
run_one() {
	local n=$1 new=build/fuzz/new/$1 crashes=build/fuzz/crashes/$1 log=build/fuzz/logs/$1.log
	local tmp=build/fuzz/tmp/$1 rc
	mkdir -p "$new" "$crashes" "$tmp"
	# the outer timeout only catches a harness libFuzzer itself cannot stop
	# shellcheck disable=SC2086
	TMPDIR=$PWD/$tmp timeout -k 10 $((secs + per_input + 60)) "build/fuzz/fuzz_$n" \
		-max_total_time="$secs" -timeout="$per_input" -rss_limit_mb="$rss" \
		-artifact_prefix="$crashes/" -print_final_stats=1 ${FUZZ_ARGS:-} \
		"$new" "tests/fuzz/corpus/$n" >"$log" 2>&1
	rc=$?
	rm -rf "$tmp"
	local execs cov ft found
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# no final stats after a crash: the last status line's count
	[ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	ft=${cov##* }; cov=${cov#cov: }; cov=${cov%% *}
	found=$(find "$crashes" -type f -newer "$stamp" | wc -l)
	[ $rc -ne 0 ] && [ "$found" -eq 0 ] && found=1 # died without an artefact
	printf '%s %s %s %s %s %s\n' "$n" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$found" "$rc" >"build/fuzz/logs/$n.sum"
}

for n in "${names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	echo "fuzz $n: running for ${secs}s"
	run_one "$n" &
done
wait

bad=0
for n in "${names[@]}"; do
	read -r _ execs cov ft found rc <"build/fuzz/logs/$n.sum"
	if [ "$found" -gt 0 ]; then
		bad=1
		echo "fuzz $n: $execs execs, cov $cov, ft $ft, FOUND $found (exit $rc): build/fuzz/crashes/$n/, build/fuzz/logs/$n.log"
		grep -m3 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "build/fuzz/logs/$n.log" | sed 's/^/    /'
	else
		echo "fuzz $n: $execs execs, cov $cov, ft $ft, 0 crashes"
	fi
done
exit $bad
}
main "$@"; exit
