#!/bin/bash
# Fuzzing (issue 8, standing defences): libFuzzer harnesses for the
# certificate parser and inspect renderer (fuzz_cert), the policy parser
# (fuzz_policy), the name rules (fuzz_names) and the sources file parser
# (fuzz_sources), built with clang and
# -fsanitize=fuzzer,address,undefined, leak detection on.
#
#   tests/fuzz/run.sh SECONDS [HARNESS...]
#
# builds every harness (or the ones named: cert, policy, names, sources),
# runs each
# for SECONDS on a scratch copy of its seed corpus (tests/fuzz/corpus/NAME;
# the tree is not modified), prints per harness the executions done and
# the result, ends with "N passed, N failed", and exits 1 on any crash,
# leak, undefined behaviour, failed property, timeout (-timeout=10) or
# out-of-memory (-rss_limit_mb=2048).  The test command (tests/run.sh)
# runs it for ${TRUSTFS_FUZZ_SECONDS:-20} seconds when clang is present.
#
# For hours (the goal over time is 10^8 executions with 0 crashes):
#
#   tests/fuzz/run.sh 3600                  # an hour per harness
#   tests/fuzz/run.sh 14400 cert            # four hours of certificates
#
# or, to use every core, build once and run one harness with libFuzzer's
# own parallelism (each worker logs to fuzz-N.log in the current dir):
#
#   tests/fuzz/run.sh 0 cert                # build only
#   cd build/fuzz/run/cert && ../../fuzz_cert -jobs=8 -workers=8 \
#       -max_total_time=14400 -timeout=10 -rss_limit_mb=2048 -max_len=32768 \
#       -dict=../../../../tests/fuzz/cert.dict -artifact_prefix=./ corpus
#
# Where things go: build/fuzz/ (TRUSTFS_FUZZ_DIR overrides; build/ is
# git-ignored): the harnesses, run/NAME/corpus (the working corpus,
# grown by the run), run/NAME/log (libFuzzer's output) and run/NAME/ for
# artifacts: crash-*, leak-*, timeout-*, oom-* are the inputs that failed.
# Reproduce one with `build/fuzz/fuzz_NAME FILE`.  A failing input goes to
# the corpus only once the bug is fixed, as a regression seed; to keep new
# coverage, merge: `build/fuzz/fuzz_cert -merge=1 tests/fuzz/corpus/cert
# build/fuzz/run/cert/corpus` (keep the corpus small: a few hundred KB).
#
# The certificate seeds come from tests/fuzz/gen_corpus.c (see its top);
# the policy, name and sources seeds are written by hand.  Environment: CLANG
# (default clang), TRUSTFS_FUZZ_DIR.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fuzz=$top/tests/fuzz
secs=${1:-}
shift || true
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 SECONDS [cert|policy|names|sources ...]" >&2
	exit 2
	;;
esac
all="cert policy names sources"
harnesses=${*:-$all}
for h in $harnesses; do
	case " $all " in
	*" $h "*) ;;
	*)
		echo "$0: unknown harness '$h' (cert, policy, names, sources)" >&2
		exit 2
		;;
	esac
done
# -max_len per harness: the largest seed fits (a 10,000-character subject
# is 20 KB of DER); names are at most 255 bytes, a few per input.
declare -A max_len=([cert]=32768 [policy]=8192 [names]=1024 [sources]=8192)

CLANG=${CLANG:-clang}
out=${TRUSTFS_FUZZ_DIR:-$top/build/fuzz}
if ! command -v "$CLANG" >/dev/null; then
	echo "$0: $CLANG not found (contrib/deps.sh installs it)" >&2
	exit 1
fi
for p in openssl lmdb libcurl; do
	if ! pkg-config --exists $p; then
		echo "$0: pkg-config does not know $p" >&2
		exit 1
	fi
done

# The library's sources are compiled as CMake compiles them, plus
# coverage for libFuzzer; the harnesses link the archive, so each pulls
# only the modules it uses.
warn="-Wall -Wextra -Wshadow -Wmissing-declarations -Wwrite-strings
-Wno-unused-parameter -Werror"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer $san $warn
-D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE -I$top/src/include -I$top/src/lib
-I$top/src/net $(pkg-config --cflags openssl lmdb libcurl)"
libs="$(pkg-config --libs openssl lmdb libcurl) -lpthread"

echo "== fuzz build ($($CLANG --version | head -n1)) =="
rm -rf "$out/obj"
mkdir -p "$out/obj" || exit 1
pids=
for src in "$top"/src/lib/*.c "$top"/src/net/*.c; do
	# shellcheck disable=SC2086
	$CLANG $cflags -fsanitize=fuzzer-no-link -c "$src" \
		-o "$out/obj/$(basename "$src" .c).o" &
	pids="$pids $!"
done
failed_build=0
for p in $pids; do
	wait "$p" || failed_build=1
done
if [ $failed_build -ne 0 ]; then
	echo "fuzz build: compiling src/lib and src/net failed"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f "$out/libtrustfs-fuzz.a"
ar rcs "$out/libtrustfs-fuzz.a" "$out"/obj/*.o || exit 1
for h in $harnesses; do
	# shellcheck disable=SC2086
	if ! $CLANG $cflags -fsanitize=fuzzer "$fuzz/fuzz_$h.c" \
	    "$out/libtrustfs-fuzz.a" $libs -o "$out/fuzz_$h"; then
		echo "fuzz build: fuzz_$h failed"
		failed_build=1
	fi
done
# The seed generator is not run here, only kept compiling.
# shellcheck disable=SC2086,SC2046
$CLANG -std=gnu11 $warn "$fuzz/gen_corpus.c" $(pkg-config --cflags \
    --libs openssl) -o "$out/gen_corpus" || failed_build=1
if [ $failed_build -ne 0 ]; then
	echo "0 passed, 1 failed"
	exit 1
fi
[ "$secs" -eq 0 ] && exit 0

passed=0
failed=0
total=0
export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for h in $harnesses; do
	run=$out/run/$h
	rm -rf "$run"
	mkdir -p "$run/corpus" || exit 1
	cp "$fuzz/corpus/$h"/* "$run/corpus/"
	echo "== fuzz_$h: $secs s =="
	(cd "$run" && exec "$out/fuzz_$h" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len="${max_len[$h]}" \
		-dict="$fuzz/$h.dict" -artifact_prefix="$run/" \
		-print_final_stats=1 corpus) >"$run/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log")
	# After a crash libFuzzer prints no final stats: take the last status
	# line ("#12345 ... exec/s: 678").
	if [ -z "$execs" ]; then
		execs=$(grep -o '^#[0-9]*' "$run/log" | tail -n1 | tr -d '#')
		rate=$(grep -o 'exec/s: [0-9]*' "$run/log" | tail -n1 |
			sed 's/exec.s: //')
	fi
	execs=${execs:-0}
	total=$((total + execs))
	artifacts=
	for a in "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-*; do
		[ -e "$a" ] && artifacts="$artifacts${artifacts:+ }${a##*/}"
	done
	if [ $rc -eq 0 ] && [ -z "$artifacts" ]; then
		echo "fuzz_$h: ok, $execs executions (${rate:-0}/s)"
		passed=$((passed + 1))
	else
		why=$(grep -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:|property failed' \
			"$run/log")
		echo "fuzz_$h: FAILED (exit $rc) after $execs executions: ${why:-see the log}"
		echo "  input: ${artifacts:-none saved} in $run/"
		echo "  log: $run/log; reproduce: $out/fuzz_$h $run/${artifacts%% *}"
		grep -A25 -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:|property failed' \
			"$run/log" | sed 's/^/  | /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: $total executions in all"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
