# Sourced by the stress and fault tests after tests/mount/lib.sh: the daemon
# in the foreground (-f) as a child of the test, so that its exit status can
# be checked and it can be killed by its id; every wait is bounded, so that a
# hung mount is a failure, never a hung test.

# Sanitized build: ctest sets TRUSTFS_SANITIZED; by hand, look at the binary.
SAN=${TRUSTFS_SANITIZED:-0}
if [ "$SAN" != 1 ] && nm -D "$TRUSTFS_BIN" 2>/dev/null | grep -q __asan_init; then
	SAN=1
fi
STEP=30	# seconds one command on the mount may take before it counts as hung

DPID=
BG=()
EXTRA_MOUNTS=()
daemon_cleanup() {
	local p
	for p in "${BG[@]}"; do kill -9 "$p" 2>/dev/null; done
	if [ -n "$DPID" ]; then kill -9 "$DPID" 2>/dev/null; fi
	umount -l "$MNT" 2>/dev/null
	for p in "${EXTRA_MOUNTS[@]}"; do umount -l "$p" 2>/dev/null; done
	cleanup
}
trap daemon_cleanup EXIT

tmo() { timeout -s KILL "$STEP" "$@"; }

# mounted: MNT is in the mount table (mountpoint(1) says no for a mount
# whose daemon died, because stat fails with ENOTCONN).
mounted() { awk -v m="$MNT" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }

# try_start_fs [ARGS...]: starts the daemon; 0 once mounted, 1 otherwise.
try_start_fs() {
	"$TRUSTFS_BIN" --store "$STORE" -f "$@" "$MNT" 2>>"$LOG" &
	DPID=$!
	local i
	for i in $(seq 100); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
	umount -l "$MNT" 2>/dev/null
	return 1
}
start_fs() { try_start_fs "$@" || die "trustfs did not mount: $(tail -3 "$LOG")"; }

# wait_pids SECONDS PID...: waits for the PIDs, at most SECONDS; returns 1
# if one is still running then (hung).
wait_pids() {
	local limit=$1 p alive; shift
	local end=$((SECONDS + limit))
	while [ $SECONDS -lt $end ]; do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive -eq 0 ] && return 0
		sleep 0.2
	done
	return 1
}

# abandon_fs: kill -9 the daemon and detach the mount, so that the rest of
# the test fails quickly instead of hanging.
abandon_fs() {
	if [ -n "$DPID" ]; then
		kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	DPID=
	umount -l "$MNT" 2>/dev/null
}

# stop_fs WHAT: SIGTERM; the daemon must exit with status 0 and take the
# mount with it.  One that ignores SIGTERM fails and is killed.
stop_fs() {
	local what=$1 rc i
	kill -TERM "$DPID" 2>/dev/null
	if ! wait_pids 20 "$DPID"; then
		not_ok "$what: the daemon still runs 20 s after SIGTERM (hung)"
		abandon_fs
		return
	fi
	wait "$DPID"
	rc=$?
	DPID=
	check_eq "$what: SIGTERM stops the daemon with status 0" "$rc" 0
	for i in $(seq 50); do mounted || break; sleep 0.1; done
	if mounted; then
		not_ok "$what: the mount is still there after the daemon exited"
		umount -l "$MNT" 2>/dev/null
	else
		ok "$what: the mount is gone"
	fi
}

# split_bundle FILE DIR [N]: DIR/1.pem, DIR/2.pem... holding N certificates
# each (default 1).
split_bundle() {
	mkdir -p "$2"
	awk -v d="$2" -v n="${3:-1}" '/-----BEGIN CERTIFICATE-----/ { c++ }
		c { print > (d "/" int((c - 1) / n) + 1 ".pem") }' "$1"
}

# pem_count FILE: certificates in FILE once it is whole, else the reason.
pem_count() { python3 "$SRC_DIR/tests/tools/stress_read.py" count "$1"; }
