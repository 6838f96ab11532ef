#!/bin/bash
# The whole test suite, as CI runs it: install what is missing, build with
# -Werror, run the unit and mount tests, then do it all again under
# AddressSanitizer and UndefinedBehaviorSanitizer, then fuzz each libFuzzer
# harness for TRUSTFS_FUZZ_SECONDS (default 20) when clang is there.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
contrib/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
status=0

run() { # run NAME CMAKE_ARGS...
	local name=$1 dir=$top/build/$1; shift
	echo "== $name build =="
	cmake -S "$top" -B "$dir" -DTRUSTFS_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	echo "== $name tests =="
	(cd "$dir" && ctest --output-on-failure -j1) || status=1
}

run check -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
LSAN_OPTIONS=suppressions=$top/tests/lsan.supp \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run sanitize -DCMAKE_BUILD_TYPE=Debug -DTRUSTFS_SANITIZE=ON
# A short fuzz run of every harness (tests/fuzz/run.sh says how to run
# them for hours); it needs clang, which contrib/deps.sh installs.
if command -v clang >/dev/null; then
	echo "== fuzz =="
	tests/fuzz/run.sh "${TRUSTFS_FUZZ_SECONDS:-20}" || status=1
else
	echo "== fuzz: skipped, no clang =="
fi
exit $status
