#!/bin/bash
# The benchmarks of issue 9, each beside its alternative in the same run,
# printed as one table: median of the runs and their spread (p10..p90, or
# min..max when there are fewer than ten runs).
#
#   tests/bench/run.sh [BUILD_DIR]       (default: build/check)
#
# Sizes and repetitions (environment):
#   TRUSTFS_BENCH_N=10000      roots (and pins) of the large store
#   TRUSTFS_BENCH_FULL=1       also 100,000 roots and pins (long; the large
#                              store then holds 100,000)
#   RUNS=21                    runs of the fast reads
#   SLOW_BUDGET=30             seconds each slow row (ls -l, status) may take
#                              before it stops at fewer runs (at least 3)
#   IMPORT_RUNS=3              imports into fresh stores
#   SKIP_VERIFY=1              leave out bench_verify
#   BENCH_ONLY=a               only the reads of bundle.pem and certs/ (a)
#   TRUSTFS_BIN=...            another trustfs daemon than BUILD_DIR's (to
#                              compare two builds with the same tools)
# Needs root or fusermount3, /dev/fuse, python3.  Nothing here is a test:
# it asserts nothing about time.  The machine's load is printed with it.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build/check}" && pwd)
N=${TRUSTFS_BENCH_N:-10000}
[ "${TRUSTFS_BENCH_FULL:-0}" = 1 ] && N=100000
RUNS=${RUNS:-21}
SLOW_BUDGET=${SLOW_BUDGET:-30}
IMPORT_RUNS=${IMPORT_RUNS:-3}

cmake --build "$build" -j2 --target trustfsd trustctl mkcert bench_read \
	bench_hello bench_fill >/dev/null
cmake --build "$build" -j2 --target bench_verify >/dev/null 2>&1 || SKIP_VERIFY=1
TFS=${TRUSTFS_BIN:-$build/trustfs}
CTL=$build/trustctl
BT=$build/tests

. "$(dirname "$0")/lib.sh"
bench_setup bench
umount_one() { fusermount3 -u "$1"; }
daemon_pid() { pgrep -f -- "--store $1 .*$2\$" | head -1; }

# row GOAL WHAT MEDIAN LO HI N UNIT [NOTE]
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT"; }

# elapsed START_NS END_NS DIVISOR: the difference in ms (1000000) or s.
elapsed() { awk -v s="$1" -v e="$2" -v d="$3" 'BEGIN { printf "%.3f\n", (e - s) / d }'; }
# slow_pair LABEL_A CMD_A -- LABEL_B CMD_B: interleaved runs of two commands
# (output discarded), until RUNS or SLOW_BUDGET; prints ms samples to
# $T/a.ms and $T/b.ms.
slow_pair() {
	local la=$1 lb a=() b=() s e start i=0
	shift
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	lb=$1
	shift
	b=("$@")
	: >"$T/a.ms"
	: >"$T/b.ms"
	start=$(now_ns)
	while :; do
		s=$(now_ns); "${a[@]}" >/dev/null; e=$(now_ns)
		elapsed "$s" "$e" 1000000 >>"$T/a.ms"
		s=$(now_ns); "${b[@]}" >/dev/null; e=$(now_ns)
		elapsed "$s" "$e" 1000000 >>"$T/b.ms"
		i=$((i + 1))
		[ "$i" -ge "$RUNS" ] && break
		[ "$i" -ge 3 ] && [ $(( ($(now_ns) - start) / 1000000000 )) -ge "$SLOW_BUDGET" ] && break
	done
	: "$la" "$lb"
}

# Test data: the system's roots, and N generated roots.
SMALL=/etc/ssl/certs/ca-certificates.crt
"$BT/mkcert" --count "$N" --out-bundle "$T/big.pem"
nsmall=$(grep -c 'BEGIN CERTIFICATE' "$SMALL")
fstype=$(df --output=fstype "$T" | tail -1)

# read_rows TITLE FILE: a row per line of bench_read's output, the title
# with the file's size.
read_rows() {
	local l med lo hi b r w bytes
	bytes=$(awk '$1 == "file" { print $5 }' "$2")
	while read -r l med lo hi b r; do
		case $l in
		file) w="regular file on $fstype" ;;
		hello) w="FUSE floor (bench_hello, 1 s timeouts)" ;;
		hellok) w="FUSE floor, page cache kept" ;;
		hellol) w="FUSE floor, cached link to a regular file" ;;
		tfs) w="trustfs (cached link to STORE/views)" ;;
		tfss) w="trustfs -s (from memory, through FUSE)" ;;
		esac
		row "$1 ($bytes B)" "$w" "$med" "$lo" "$hi" "$r" "µs"
	done <"$2"
	: "$b"
}

# (a) warm open+read+close of bundle.pem and of one certs/HASH.N, in one
# process.
# read_set NAME BUNDLE OPS: one store with BUNDLE imported, served by
# trustfs (links to files in STORE/views), trustfs -s (from memory through
# FUSE), the FUSE floor (bench_hello: a file with 1 s timeouts, with its
# page cache kept, and a cached link to a regular file -- libfuse's
# passthrough_hp example is not packaged in Debian), and the same bytes in
# a regular file on $T's file system.
read_set() {
	local name=$1 bundle=$2 ops=$3 d=$T/$1 n
	mkdir -p "$d"
	mount_tfs "$d/store" "$d/mnt"
	cp "$bundle" "$d/mnt/import"
	n=$(find "$d/mnt/roots" -mindepth 1 -maxdepth 1 -printf . | wc -c)
	cp "$d/mnt/bundle.pem" "$d/bundle.copy"
	umount_one "$d/mnt"
	# The data alone: the daemon may still be removing its views/.
	mkdir -p "$d/store-s"
	cp -a "$d/store/data.mdb" "$d/store-s/"
	mount_tfs "$d/store" "$d/mnt"
	mount_tfs "$d/store-s" "$d/mnt-s" -s
	mkdir -p "$d/hello" "$d/hello-k"
	"$BT/bench_hello" "$d/bundle.copy" "$d/hello"; MOUNTS+=("$d/hello"); wait_mount "$d/hello"
	"$BT/bench_hello" "$d/bundle.copy" --keep-cache "$d/hello-k"; MOUNTS+=("$d/hello-k"); wait_mount "$d/hello-k"
	mkdir -p "$d/hello-l"
	"$BT/bench_hello" "$d/bundle.copy" --link "$d/hello-l"; MOUNTS+=("$d/hello-l"); wait_mount "$d/hello-l"
	"$BT/bench_read" -n "$ops" -r "$RUNS" -w 3 \
		"file=$d/bundle.copy" "hello=$d/hello/bundle.pem" \
		"hellok=$d/hello-k/bundle.pem" "hellol=$d/hello-l/bundle.pem" \
		"tfs=$d/mnt/bundle.pem" "tfss=$d/mnt-s/bundle.pem" >"$d/read.out"
	read_rows "a: open+read+close bundle.pem, $n roots" "$d/read.out"
	# One certs/HASH.N file, against the same bytes in a regular file.
	local c
	c=$(ls "$d/mnt/certs" | head -1)
	cp "$d/mnt/certs/$c" "$d/cert.copy"
	"$BT/bench_read" -n 200 -r "$RUNS" -w 3 "file=$d/cert.copy" \
		"tfs=$d/mnt/certs/$c" "tfss=$d/mnt-s/certs/$c" >"$d/cert.out"
	read_rows "a: open+read+close certs/$c, $n roots" "$d/cert.out"
	umount_one "$d/hello"; umount_one "$d/hello-k"; umount_one "$d/hello-l"; umount_one "$d/mnt-s"
	rm -rf "$d/store-s"
	# The trustfs mount stays for the large set's other rows.
	if [ "$name" = small ]; then umount_one "$d/mnt"; fi
}
echo "# (a) bundle.pem reads, $nsmall roots" >&2
read_set small "$SMALL" 50
echo "# (a) bundle.pem reads, $N roots" >&2
read_set big "$T/big.pem" 3

# The table.
print_table() {
	echo
	echo "trustfs benchmarks (issue 9), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "daemon: $TFS; files on $T ($fstype)"
	awk -F'\t' '
		{ if ($1 != last) { printf "\n%s\n", $1; last = $1 }
		  spread = ($4 == "-") ? "" : sprintf("%s .. %s", $4, $5)
		  printf "  %-42s %12s %-4s %-24s n=%s\n", $2, $3, $7, spread, $6 }' "$OUT"
}
if [ "${BENCH_ONLY:-}" = a ]; then
	print_table
	exit 0
fi

# The large store: N roots (above) and N pins.
B=$T/big
umount_one "$B/mnt"
echo "# filling $N pins" >&2
"$BT/bench_fill" "$B/store" "$N"
mount_tfs "$B/store" "$B/mnt"
pid=$(daemon_pid "$B/store" "$B/mnt")
rss_idle=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")

# (b) ls -l of roots/ and pinned/ against regular directories of files of
# the same names and sizes.
echo "# (b) ls -l" >&2
for dir in roots pinned; do
	mkdir -p "$T/plain/$dir"
	ls -l "$B/mnt/$dir" >"$T/ls.$dir"
	awk 'NF >= 9 { print $5, $9 }' "$T/ls.$dir" | python3 -c '
import os, sys
d = sys.argv[1]
for line in sys.stdin:
    size, name = line.split(None, 1)
    with open(os.path.join(d, name.rstrip("\n")), "wb") as f:
        f.write(b"x" * int(size))
' "$T/plain/$dir"
	cnt=$(find "$T/plain/$dir" -mindepth 1 -maxdepth 1 -printf . | wc -c)
	slow_pair tfs ls -l "$B/mnt/$dir" -- plain ls -l "$T/plain/$dir"
	read -r m lo hi r < <(stats <"$T/a.ms")
	row "b: ls -l $dir/, $cnt entries" "trustfs" "$m" "$lo" "$hi" "$r" ms
	read -r m lo hi r < <(stats <"$T/b.ms")
	row "b: ls -l $dir/, $cnt entries" "regular directory on $fstype" "$m" "$lo" "$hi" "$r" ms
done

# (c) cat status and cat metrics against cat of a regular file of the
# same bytes.
echo "# (c) status, metrics" >&2
for f in status metrics; do
	cat "$B/mnt/$f" >"$T/plain/$f"
	slow_pair tfs cat "$B/mnt/$f" -- plain cat "$T/plain/$f"
	read -r m lo hi r < <(stats <"$T/a.ms")
	row "c: cat $f, $N roots + $N pins ($(stat -c %s "$T/plain/$f") B)" "trustfs" "$m" "$lo" "$hi" "$r" ms
	read -r m lo hi r < <(stats <"$T/b.ms")
	row "c: cat $f, $N roots + $N pins ($(stat -c %s "$T/plain/$f") B)" "regular file on $fstype" "$m" "$lo" "$hi" "$r" ms
done

# (d) the daemon's memory, after everything above was read.
cat "$B/mnt/bundle.pem" >/dev/null
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
bsize=$(stat -c %s "$B/bundle.copy")
msize=$(du -k "$B/store" | awk 'END { print $1 }')
row "d: daemon memory, $N roots + $N pins" "RSS after mount" "$(mb "$rss_idle")" - - 1 MB
row "d: daemon memory, $N roots + $N pins" "RSS after b, c and a bundle.pem read" "$(mb "$rss")" - - 1 MB
row "d: daemon memory, $N roots + $N pins" "peak RSS (VmHWM)" "$(mb "$hwm")" - - 1 MB
row "d: daemon memory, $N roots + $N pins" "bundle.pem / store on disk" "$(mb $((bsize / 1024))) / $(mb "$msize")" - - 1 MB
umount_one "$B/mnt"

# (e) import of N roots into a fresh store: through the mount, through
# trustctl (the library, no FUSE), and openssl crl2pkcs7 reading and
# re-encoding the same bundle (the cost of parsing it at all).
echo "# (e) import" >&2
: >"$T/e.mnt"; : >"$T/e.ctl"; : >"$T/e.ssl"
for i in $(seq "$IMPORT_RUNS"); do
	d=$T/imp$i
	mount_tfs "$d/store" "$d/mnt"
	s=$(now_ns); cp "$T/big.pem" "$d/mnt/import"; e=$(now_ns)
	elapsed "$s" "$e" 1000000000 >>"$T/e.mnt"
	umount_one "$d/mnt"
	mkdir -p "$d/ctl"
	s=$(now_ns); "$CTL" --store "$d/ctl" import --quiet "$T/big.pem" >/dev/null; e=$(now_ns)
	elapsed "$s" "$e" 1000000000 >>"$T/e.ctl"
	s=$(now_ns); openssl crl2pkcs7 -nocrl -certfile "$T/big.pem" -outform DER -out /dev/null; e=$(now_ns)
	elapsed "$s" "$e" 1000000000 >>"$T/e.ssl"
	rm -rf "$d"
done
read -r m lo hi r < <(stats <"$T/e.mnt")
row "e: import of $N roots, fresh store" "cp bundle MOUNT/import" "$m" "$lo" "$hi" "$r" s
read -r m lo hi r < <(stats <"$T/e.ctl")
row "e: import of $N roots, fresh store" "trustctl import (no FUSE)" "$m" "$lo" "$hi" "$r" s
read -r m lo hi r < <(stats <"$T/e.ssl")
row "e: import of $N roots, fresh store" "openssl crl2pkcs7 (parse only)" "$m" "$lo" "$hi" "$r" s

print_table

# (f) the library: first open + verify against OpenSSL with the store in
# memory (bench_verify prints its own table).
if [ "${SKIP_VERIFY:-0}" != 1 ]; then
	echo
	"$BT/bench_verify" --verify-only
fi
