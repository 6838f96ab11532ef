# Shared by the mount benchmarks (run.sh, bench_scale.sh): a scratch
# directory and the mounts made in it, gone at exit; mounting; medians.
# Needs TFS (the daemon).

# bench_setup NAME: $T (a fresh /tmp/trustfs-NAME.XXXXXX), $OUT (the
# table's rows), and a trap that unmounts every mount_tfs and removes $T.
bench_setup() {
	T=$(mktemp -d "/tmp/trustfs-$1.XXXXXX")
	BENCH_NAME=$1
	MOUNTS=()
	trap bench_cleanup EXIT
	OUT=$T/table
	: >"$OUT"
}
bench_cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
	done
	rm -rf "$T"
}

wait_mount() {
	local i
	for i in $(seq 100); do
		mountpoint -q "$1" && return 0
		sleep 0.1
	done
	echo "$BENCH_NAME: $1 did not mount" >&2
	exit 1
}
# mount_tfs STORE MNT [ARGS...]
mount_tfs() {
	local s=$1 m=$2
	shift 2
	mkdir -p "$m"
	"$TFS" --store "$s" "$@" "$m"
	MOUNTS+=("$m")
	wait_mount "$m"
}

# stats: read samples (one a line) on stdin, print "median lo hi n":
# p10 and p90 from ten samples up, else min and max.
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		n = NR; if (n == 0) { print "- - - 0"; exit }
		m = v[int((n + 1) / 2)]
		if (n >= 10) { lo = v[int(n * 0.1 + 0.999)]; hi = v[int(n * 0.9 + 0.999)] }
		else { lo = v[1]; hi = v[n] }
		printf "%s %s %s %d\n", m, lo, hi, n }'
}
now_ns() { date +%s%N; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
