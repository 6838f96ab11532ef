#!/bin/bash
# How `cat MOUNT/bundle.pem` compares with reading the same bytes from a
# regular file: the median of RUNS runs of each, warm (the kernel's cached
# link to the file in STORE/views) and right after a store change (the
# link looked up again, a new file).  A whole `cat' process is timed, so
# process start dominates; tests/bench/run.sh times the reads alone.
# Run: tests/bench/bench_bundle.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/check}
RUNS=${RUNS:-51}
T=$(mktemp -d /tmp/trustfs-bench.XXXXXX)
trap 'mountpoint -q "$T/mnt" && fusermount3 -u "$T/mnt"; rm -rf "$T"' EXIT
mkdir -p "$T/mnt"
"$build/trustfs" --store "$T/store" "$T/mnt"
cp /etc/ssl/certs/ca-certificates.crt "$T/mnt/import"
n=$(ls "$T/mnt/roots" | wc -l)
cp "$T/mnt/bundle.pem" "$T/bundle.copy"
bytes=$(stat -c %s "$T/bundle.copy")

# median_us CMD...: median wall time of RUNS runs, in microseconds.
median_us() {
	local i s e
	for i in $(seq "$RUNS"); do
		s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
	done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}
# Cold: right after a change to the store, so the bundle is rebuilt and
# the kernel's cache dropped.  Only the cat is timed.
cold_us() {
	local i s e
	for i in $(seq "$RUNS"); do
		"$build/tests/mkcert" --cn "Bench $i" --ca --out "$T/x.pem"
		cp "$T/x.pem" "$T/mnt/roots/x.pem"; rm "$T/mnt/roots/x.pem"
		s=$(date +%s%N); cat "$T/mnt/bundle.pem" >/dev/null; e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
	done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

warm_file=$(median_us cat "$T/bundle.copy")
warm_mount=$(median_us cat "$T/mnt/bundle.pem")
cold_mount=$(cold_us)
printf '%d roots, %d bytes, median of %d runs (command: cat FILE >/dev/null)\n' "$n" "$bytes" "$RUNS"
printf '%-34s %10s\n' "what" "median µs"
printf '%-34s %10d\n' "regular file (page cache)" "$warm_file"
printf '%-34s %10d\n' "MOUNT/bundle.pem, warm" "$warm_mount"
printf '%-34s %10d\n' "MOUNT/bundle.pem, after a change" "$cold_mount"
awk -v a="$warm_mount" -v b="$warm_file" 'BEGIN { printf "%-34s %10.2fx\n", "ratio warm mount / file", a / b }'
