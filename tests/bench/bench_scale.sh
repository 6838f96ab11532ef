#!/bin/bash
# The scale benchmarks of issue 9, each beside its alternative in the same
# run: a store of N roots and P pins; cat status and metrics; ls -l of
# roots/ and pinned/ against regular directories of files of the same
# names and sizes; the daemon's memory; the import of N roots; P pins
# through trustfs_pin_bulk().  Median of the runs and their spread (p10..p90
# from ten runs up, else min..max).
#
#   tests/bench/bench_scale.sh [BUILD_DIR]     (default: build/check)
#
# Sizes and repetitions (environment):
#   TRUSTFS_BENCH_FULL=1   100,000 roots and 1,000,000 pins (default 20,000
#                          and 200,000); the bulk row then pins 1,000,000
#                          (default 20,000: making certificates is slow)
#   RUNS=11                runs of status, metrics and ls -l
#   SLOW_BUDGET=60         seconds a row may take before it stops at fewer
#                          runs (at least 3)
#   IMPORT_RUNS=3          imports into fresh stores
# Needs root or fusermount3, /dev/fuse, python3.  Nothing here is a test: it
# asserts nothing about time (tests/mount/t_scale.sh checks the bounds).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build/check}" && pwd)
NROOTS=20000
NPINS=200000
NBULK=20000
if [ "${TRUSTFS_BENCH_FULL:-0}" = 1 ]; then
	NROOTS=100000
	NPINS=1000000
	NBULK=1000000
fi
RUNS=${RUNS:-11}
SLOW_BUDGET=${SLOW_BUDGET:-60}
IMPORT_RUNS=${IMPORT_RUNS:-3}

cmake --build "$build" -j2 --target trustfsd trustctl mkcert bench_fill >/dev/null
TFS=$build/trustfs
CTL=$build/trustctl
BT=$build/tests

. "$(dirname "$0")/lib.sh"
bench_setup scale
# row GROUP WHAT MEDIAN LO HI N UNIT
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT"; }
ms_since() { awk -v s="$1" -v e="$(now_ns)" 'BEGIN { printf "%.3f\n", (e - s) / 1e6 }'; }
# pair GROUP LABEL_A LABEL_B CMD_A -- CMD_B: interleaved runs, one row each.
pair() {
	local g=$1 la=$2 lb=$3 a=() b=() s i=0 start
	shift 3
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	: >"$T/a.ms"; : >"$T/b.ms"
	start=$(now_ns)
	while :; do
		s=$(now_ns); "${a[@]}" >/dev/null; ms_since "$s" >>"$T/a.ms"
		s=$(now_ns); "${b[@]}" >/dev/null; ms_since "$s" >>"$T/b.ms"
		i=$((i + 1))
		[ "$i" -ge "$RUNS" ] && break
		[ "$i" -ge 3 ] && [ $(( ($(now_ns) - start) / 1000000000 )) -ge "$SLOW_BUDGET" ] && break
	done
	read -r m lo hi n < <(stats <"$T/a.ms"); row "$g" "$la" "$m" "$lo" "$hi" "$n" ms
	read -r m lo hi n < <(stats <"$T/b.ms"); row "$g" "$lb" "$m" "$lo" "$hi" "$n" ms
}
fstype=$(df --output=fstype "$T" | tail -1)
mem() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }

# (1) P pins through trustfs_pin_bulk (certificates made outside the timing).
echo "# bulk: $NBULK pins" >&2
read -r _ _ _ bulk_s _ per_pin < <("$BT/bench_fill" "$T/bulk" "$NBULK")
row "pins through trustfs_pin_bulk" "$NBULK pins, one call" "$bulk_s" - - 1 s
row "pins through trustfs_pin_bulk" "per pin" "$per_pin" - - 1 µs
rm -rf "$T/bulk"

# (2) the large store: P pins (the --raw fixture) and N roots added in one
# transaction through entry_add.
echo "# filling $NROOTS roots and $NPINS pins" >&2
S=$T/store
"$BT/bench_fill" --raw "$S" "$NPINS" >/dev/null
read -r _ _ _ add_s _ per_root < <("$BT/bench_fill" --roots "$S" "$NROOTS")
row "import of $NROOTS roots" "entry_add, one transaction (bench_fill --roots)" "$add_s" - - 1 s

# (3) import of N roots into a fresh store: trustctl import of a bundle,
# and openssl reading it (the cost of parsing it at all).
echo "# import" >&2
"$BT/mkcert" --count "$NROOTS" --out-bundle "$T/big.pem"
: >"$T/e.ctl"; : >"$T/e.ssl"
for i in $(seq "$IMPORT_RUNS"); do
	mkdir -p "$T/imp"
	s=$(now_ns); "$CTL" --store "$T/imp" import --quiet "$T/big.pem" >/dev/null; ms_since "$s" >>"$T/e.ctl"
	s=$(now_ns); openssl crl2pkcs7 -nocrl -certfile "$T/big.pem" -outform DER -out /dev/null; ms_since "$s" >>"$T/e.ssl"
	rm -rf "$T/imp"
done
read -r m lo hi n < <(stats <"$T/e.ctl"); row "import of $NROOTS roots" "trustctl import (fresh store)" "$m" "$lo" "$hi" "$n" ms
read -r m lo hi n < <(stats <"$T/e.ssl"); row "import of $NROOTS roots" "openssl crl2pkcs7 (parse only)" "$m" "$lo" "$hi" "$n" ms

# (4) the mount: status, metrics, ls -l, memory.
M=$T/mnt
mount_tfs "$S" "$M"
pid=$(pgrep -f -- "--store $S $M\$" | head -1)
rss0=$(mem VmRSS)
s=$(now_ns); cat "$M/status" >/dev/null; first=$(ms_since "$s")
row "cat status / metrics, $NROOTS roots + $NPINS pins" "first status after mount (strict rules on every root)" "$first" - - 1 ms
mkdir -p "$T/plain"
cat "$M/status" >"$T/plain/status"
cat "$M/metrics" >"$T/plain/metrics"
echo "# status, metrics" >&2
for f in status metrics; do
	pair "cat status / metrics, $NROOTS roots + $NPINS pins" "trustfs: cat $f ($(stat -c %s "$T/plain/$f") B)" \
		"cat of a regular file of the same bytes" cat "$M/$f" -- cat "$T/plain/$f"
done
rss1=$(mem VmRSS)
series=$(grep -c '^trustfs_expiry_seconds{' "$T/plain/metrics" || true)
lines=$(grep -vc '^#' "$T/plain/metrics" || true)
row "what Prometheus receives" "samples in metrics (of them expiry series)" "$lines ($series)" - - 1 lines

echo "# ls -l" >&2
for dir in roots pinned; do
	mkdir -p "$T/plain/$dir"
	ls -l "$M/$dir" | awk 'NF >= 9 { print $5, $9 }' | python3 -c '
import os, sys
d = sys.argv[1]
for line in sys.stdin:
    size, name = line.split(None, 1)
    with open(os.path.join(d, name.rstrip("\n")), "wb") as f:
        f.write(b"x" * int(size))
' "$T/plain/$dir"
	cnt=$(find "$T/plain/$dir" -mindepth 1 -maxdepth 1 -printf . | wc -c)
	pair "ls -l $dir/, $cnt entries" "trustfs" "regular directory on $fstype" \
		ls -l "$M/$dir" -- ls -l "$T/plain/$dir"
done
rss2=$(mem VmRSS)
anon=$(mem RssAnon)
hwm=$(mem VmHWM)
row "daemon memory, $NROOTS roots + $NPINS pins" "RSS after mount" "$(mb "$rss0")" - - 1 MB
row "daemon memory, $NROOTS roots + $NPINS pins" "RSS after status and metrics" "$(mb "$rss1")" - - 1 MB
row "daemon memory, $NROOTS roots + $NPINS pins" "RSS after ls -l (of it anonymous)" "$(mb "$rss2") ($(mb "$anon"))" - - 1 MB
row "daemon memory, $NROOTS roots + $NPINS pins" "peak RSS (VmHWM)" "$(mb "$hwm")" - - 1 MB
row "daemon memory, $NROOTS roots + $NPINS pins" "store on disk" "$(mb "$(du -k "$S" | awk 'END { print $1 }')")" - - 1 MB

echo
echo "trustfs scale benchmarks (issue 9), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "daemon: $TFS; files on $T ($fstype)"
awk -F'\t' '
	{ if ($1 != last) { printf "\n%s\n", $1; last = $1 }
	  spread = ($4 == "-") ? "" : sprintf("%s .. %s", $4, $5)
	  printf "  %-56s %14s %-5s %-24s n=%s\n", $2, $3, $7, spread, $6 }' "$OUT"
