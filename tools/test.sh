#!/usr/bin/env bash
# Runs every test tier and ends with one summary line "N passed, M failed".
#   1. unit tests of modules (tests/unit/test_*.c), ASan+UBSan, -Werror
#   2. fuzz corpus replay (tests/fuzz/fuzz_*.c over tests/fuzz/corpus/<name>/)
#   3. the include graph against docs/architecture.md's layers (tools/check_layers.py)
#   4. black-box tests (tests/api/test_*.py): the real sanitizer-built binary
#      driven by boto3 and the AWS CLI on free loopback ports
set -uo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0; fail=0
log=build/test/test.log
mkdir -p build/test
: > "$log"

if ! make -s -j"$(nproc)" build/test/lambdad unit >>"$log" 2>&1; then
	echo "build failed:"; tail -40 "$log"; echo "0 passed, 1 failed"; exit 1
fi

# 1. unit tests
for t in build/test/unit/test_*; do
	out=$("$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^unit .*: [0-9]+ passed, [0-9]+ failed$' | tail -1)
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$line")
	[ -n "$line" ] || { p=0; f=1; }
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
	pass=$((pass + p)); fail=$((fail + f))
	printf '%s\n' "$out" | grep -E '^(FAIL|  )' || true
	echo "unit $(basename "$t"): $p passed, $f failed"
done

# 2. fuzz corpus replay
for h in tests/fuzz/fuzz_*.c; do
	n=$(basename "$h" .c); corpus=tests/fuzz/corpus/${n#fuzz_}
	if make -s "build/test/replay/$n" >>"$log" 2>&1 && out=$("build/test/replay/$n" "$corpus" 2>&1); then
		pass=$((pass + 1)); echo "fuzz replay $n: $(tail -1 <<<"$out")"
	else
		fail=$((fail + 1)); echo "fuzz replay $n: FAILED"; tail -20 <<<"$out"
	fi
done

# the java runtime client (runtimes/java/build.sh: javac against Debian's Jackson), which the java
# black-box tests need; a failure here shows up there
runtimes/java/build.sh >>"$log" 2>&1 || echo "runtimes/java/build.sh failed (see $log)"

# 3. the layering: no include cycle, no room includes one above it (docs/architecture.md)
if out=$(python3 tools/check_layers.py 2>&1); then
	pass=$((pass + 1)); echo "$out"
else
	fail=$((fail + 1)); echo "layers: FAILED"; printf '%s\n' "$out" | head -20
fi

# 4. black-box tests
out=$(cd tests/api && python3 -m unittest discover -p 'test_*.py' -v 2>&1); rc=$?
printf '%s\n' "$out" | grep -E '(ERROR|FAIL)(:| \()' | head -50
ran=$(grep -oE '^Ran [0-9]+ test' <<<"$out" | grep -oE '[0-9]+' || echo 0)
nf=$(grep -oE 'failures=[0-9]+' <<<"$out" | tail -1 | grep -oE '[0-9]+' || true)
ne=$(grep -oE 'errors=[0-9]+' <<<"$out" | tail -1 | grep -oE '[0-9]+' || true)
bad=$(( ${nf:-0} + ${ne:-0} ))
if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
[ "$ran" -gt 0 ] || { bad=$((bad + 1)); echo "black-box: no tests ran"; printf '%s\n' "$out" | tail -30; }
echo "black-box: $((ran - bad < 0 ? 0 : ran - bad)) passed, $bad failed"
pass=$((pass + ran - bad)); fail=$((fail + bad))
[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -B2 -A25 -E '^(ERROR|FAIL):' | head -150

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
