# Shared by the mount tests: mount a real trustfs on a fresh store, drive it
# with coreutils and openssl, and report "N passed, N failed".
# A test that cannot mount fails; it never skips.
set -u

: "${TRUSTFS_BIN:?set by ctest: the trustfs daemon}"
: "${MKCERT_BIN:?set by ctest: the certificate generator}"
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TESTDATA=$SRC_DIR/tests/data
# A sanitizer build's daemon: leaks inside libfuse are not ours (the file says why).
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRC_DIR/tests/lsan.supp

T=$(mktemp -d /tmp/trustfs-test.XXXXXX)
STORE=$T/store
MNT=$T/mnt
CERTS=$T/certs
LOG=$T/daemon.log
mkdir -p "$MNT" "$CERTS"
PASS=0
FAIL=0

cleanup() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
# Each check's output lands in $T/out once it has finished, so that the
# next check can grep what the previous command printed.
check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
	local d=$1 rc=0; shift
	"$@" >"$T/cur" 2>&1 || rc=$?
	# A grep looks at the output before it: keep that for the next one.
	[ "$1" = grep ] || mv -f "$T/cur" "$T/out"
	if [ $rc -eq 0 ]; then ok "$d"; else not_ok "$d"; sed 's/^/#   /' "$T/out" | head -20; fi
}
check_fails() { # check_fails DESCRIPTION 'strerror text' COMMAND...
	local d=$1 want=$2 rc=0; shift 2
	"$@" >"$T/cur" 2>&1 || rc=$?
	mv -f "$T/cur" "$T/out"
	if [ $rc -eq 0 ]; then
		not_ok "$d (command succeeded, wanted: $want)"
	elif grep -q -- "$want" "$T/out"; then
		ok "$d"
	else
		not_ok "$d (wanted '$want')"; sed 's/^/#   /' "$T/out" | head -20
	fi
}
check_eq() { # check_eq DESCRIPTION GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}

die() { echo "Bail out! $*"; not_ok "$*"; finish; }

# mount_fs [ARGS...]: mount in the background (daemonized) and wait.
mount_fs() {
	"$TRUSTFS_BIN" --store "$STORE" "$@" "$MNT" 2>>"$LOG" ||
		die "trustfs failed to mount (exit $?): $(tail -3 "$LOG")"
	local i
	for i in $(seq 50); do
		mountpoint -q "$MNT" && return 0
		sleep 0.1
	done
	die "trustfs did not mount within 5 s"
}

umount_fs() {
	fusermount3 -u "$MNT" || die "unmount failed"
	local i
	for i in $(seq 50); do
		pgrep -f "trustfs --store $STORE" >/dev/null || return 0
		sleep 0.1
	done
	die "trustfs still running 5 s after unmount"
}

# A fingerprint of everything the store holds, through the mount.
state() {
	local d f
	for d in pinned rejected roots distrusted chains; do
		for f in "$MNT/$d"/*; do
			[ -e "$f" ] || continue
			echo "$d/$(basename "$f") $(getfattr --only-values -n user.trustfs.sha256 "$f" 2>/dev/null)"
		done
	done
	cat "$MNT/bundle.pem" | sha256sum
}

# Test certificates, generated now (no keys are committed).
mkcerts() {
	"$MKCERT_BIN" --cn "Test Root CA" --org "trustfs tests" --ca \
		--key-out "$CERTS/root.key" --out "$CERTS/root.pem" &&
	"$MKCERT_BIN" --cn "Test Intermediate CA" --ca --issuer "$CERTS/root.pem" \
		--issuer-key "$CERTS/root.key" --key-out "$CERTS/int.key" --out "$CERTS/int.pem" &&
	"$MKCERT_BIN" --cn "server.test" --san DNS:server.test --san IP:127.0.0.1 \
		--issuer "$CERTS/int.pem" --issuer-key "$CERTS/int.key" \
		--key-out "$CERTS/leaf.key" --out "$CERTS/leaf.pem" &&
	"$MKCERT_BIN" --cn "Other Root" --ca --key-out "$CERTS/other.key" \
		--out "$CERTS/other.pem" ||
		die "could not generate test certificates"
}

# wait_server: $SERVER, an openssl s_server started in the background with
# its output in $T/server.log, accepts on 127.0.0.1:$PORT (5 s at most).
wait_server() {
	local i
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	die "openssl s_server did not start: $(tail -3 "$T/server.log")"
}
stop_server() {
	if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; fi
	SERVER=
}

finish() {
	echo "$PASS passed, $FAIL failed"
	# A failure shows what the daemon said (a sanitizer's report, say).
	if [ "$FAIL" -ne 0 ] && [ -s "$LOG" ]; then
		echo "# the last lines of the daemon's log:"
		tail -n 60 "$LOG" | sed 's/^/#   /'
	fi
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
	exit $?
}
