#!/bin/bash
# Issue 8, standing defence "faults": a daemon killed with -9 (the mount
# answers ENOTCONN, never hangs; a remount loses nothing committed), kill -9
# at random points of a large import (a remount shows all of it or none),
# a writer that forks (defect 11: nothing partial is committed, the owner's
# close() reports the result), and a full disk (defect 13: ENOSPC, never
# EIO; everything committed stays).
# Every step that touches the mount is bounded by `timeout`.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/daemon.sh"
READER=$SRC_DIR/tests/tools/stress_read.py
if [ "$SAN" = 1 ]; then
	N=4000 KILLS=3
else
	N=20000 KILLS=4
fi
mkcerts

count() { tmo ls "$MNT/$1" | wc -l; }
pem_in() { pem_count "$1" 2>&1; }
ENOTCONN="Transport endpoint is not connected"

############################################################################
# 1. kill -9: the mount answers ENOTCONN at once; a remount loses nothing.
STORE=$T/store-kill
start_fs
check "cp a root" tmo cp "$CERTS/root.pem" "$MNT/roots/Root.pem"
check "cp a pin" tmo cp "$CERTS/leaf.pem" "$MNT/pinned/server.test_443"
check "write a chain" tmo sh -c "cat '$CERTS/int.pem' '$CERTS/root.pem' > '$MNT/chains/Int.pem'"
check "move a root to distrusted/" sh -c "timeout -s KILL $STEP cp '$CERTS/other.pem' '$MNT/roots/Other.pem' &&
	timeout -s KILL $STEP mv '$MNT/roots/Other.pem' '$MNT/distrusted/'"
before=$(tmo bash -c "$(declare -f state); MNT='$MNT' state")
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=
check_fails "ls after kill -9: ENOTCONN, not a hang" "$ENOTCONN" tmo ls "$MNT/roots"
# bundle.pem is a link the kernel may still hold: a dead daemon's reader
# gets ENOTCONN or the last whole view, never a torn or empty one.
if out=$(tmo cat "$MNT/bundle.pem" 2>&1); then
	check_eq "cat bundle.pem after kill -9: the last whole view" \
		"$(printf '%s\n' "$out" | grep -c 'BEGIN CERTIFICATE')" 1
else
	check "cat bundle.pem after kill -9: ENOTCONN" sh -c "echo '$out' | grep -q '$ENOTCONN'"
fi
check_fails "cp into roots/ after kill -9" "$ENOTCONN" tmo cp "$CERTS/int.pem" "$MNT/roots/Int.pem"
check_fails "stat after kill -9" "$ENOTCONN" tmo stat "$MNT/roots/Root.pem"
check "fusermount3 -uz detaches the dead mount" tmo fusermount3 -uz "$MNT"
check "remount on the same store" try_start_fs
[ -n "$DPID" ] || die "the store does not open after kill -9"
check_eq "nothing committed is lost" "$(tmo bash -c "$(declare -f state); MNT='$MNT' state")" "$before"

############################################################################
# 2. A writer that forks (defect 11): the child's close must not commit
# what the parent has written so far.
cat >"$T/forker.py" <<'PY'
import os, sys
path, first, second = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, open(first, "rb").read())
pid = os.fork()
if pid == 0:
    os.close(fd)
    os._exit(0)
os.waitpid(pid, 0)
os.write(fd, open(second, "rb").read())
try:
    os.close(fd)
except OSError as e:
    print("close: %s" % e.strerror)
    sys.exit(1)
print("close: 0")
PY
check "fork mid-write of chains/C.pem: the parent's close returns 0" \
	tmo python3 "$T/forker.py" "$MNT/chains/C.pem" "$CERTS/int.pem" "$CERTS/root.pem"
check_eq "chains/C.pem holds both certificates" "$(tmo grep -c '^Subject:' "$MNT/chains/C.pem")" 2

"$MKCERT_BIN" --count 25 --out-bundle "$T/25.pem"
printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n' >"$T/garbage"
nroots=$(count roots)
nrefused=$(tmo grep -c 'path=import .*refused=' "$MNT/audit.log")
check_fails "fork mid-import, then garbage: the parent's close fails with EINVAL" \
	"close: Invalid argument" tmo python3 "$T/forker.py" "$MNT/import" "$T/25.pem" "$T/garbage"
check_eq "no root was added (0, not 25)" "$(count roots)" "$nroots"
check_eq "bundle.pem unchanged" "$(tmo cat "$MNT/bundle.pem" >"$T/b.pem"; pem_in "$T/b.pem")" "$nroots"
check_eq "audit.log has the refusal" "$(tmo grep -c 'path=import .*refused=' "$MNT/audit.log")" \
	"$((nrefused + 1))"
check_eq "audit.log has no addition from it" "$(tmo grep -c 'action=add path=roots/Bulk_Root' "$MNT/audit.log")" 0
stop_fs "after the fault cases"

############################################################################
# 3. kill -9 at points spread over a large import: after a remount, roots/
# holds all of it or none of it, and a later import works.
STORE=$T/store-import
"$MKCERT_BIN" --count $((N * (KILLS + 1))) --out-bundle "$T/all.pem" ||
	die "could not generate certificates"
split_bundle "$T/all.pem" "$T/imp" "$N"
# audit.log keeps 10,000 lines by default: keep them all here.
AUDIT=(--audit-max 1000000)
start_fs "${AUDIT[@]}"
s=$(date +%s%N)
check "import $N certificates" timeout -s KILL 120 cp "$T/imp/1.pem" "$MNT/import"
e=$(date +%s%N)
dur=$(( (e - s) / 1000000 ))
echo "# an uninterrupted $N-certificate import takes $dur ms"
have=$N
for k in $(seq "$KILLS"); do
	# Spread over the import: the k-th of KILLS slices of its duration,
	# at a random point within the slice.
	delay=$(( dur * (k - 1) / KILLS + RANDOM % (dur / KILLS + 1) ))
	timeout -s KILL 120 cp "$T/imp/$((k + 1)).pem" "$MNT/import" >"$T/cp.out" 2>&1 &
	cp_pid=$!
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
	if wait_pids 30 "$cp_pid"; then
		wait "$cp_pid"
		rc=$?
		ok "kill -9 after $delay ms: the writer is not left hanging"
	else
		rc=hung
		not_ok "kill -9 after $delay ms: cp still waits 30 s later"
		kill -9 "$cp_pid" 2>/dev/null
	fi
	tmo fusermount3 -uz "$MNT" || umount -l "$MNT"
	if ! try_start_fs "${AUDIT[@]}"; then
		not_ok "kill -9 after $delay ms: the store opens again ($(tail -2 "$LOG" | tr '\n' ' '))"
		break
	fi
	ok "kill -9 after $delay ms: the store opens again"
	got=$(count roots)
	if [ "$got" = "$have" ]; then
		echo "# kill -9 after $delay ms (cp exit $rc): none of the import"
		ok "kill -9 after $delay ms: roots/ shows none of the import"
	elif [ "$got" = $((have + N)) ]; then
		echo "# kill -9 after $delay ms (cp exit $rc): all of the import"
		ok "kill -9 after $delay ms: roots/ shows all of the import"
		have=$got
	else
		not_ok "kill -9 after $delay ms: roots/ shows part of the import: $got, want $have or $((have + N))"
		have=$got
	fi
	tmo cat "$MNT/bundle.pem" >"$T/b.pem"
	check_eq "kill -9 after $delay ms: bundle.pem agrees, whole" "$(pem_in "$T/b.pem")" "$got"
	check_eq "kill -9 after $delay ms: audit.log has one addition per root" \
		"$(tmo cat "$MNT/audit.log" | grep -v refused= | grep -c ' action=add ')" "$got"
done
# A store that did not reopen above: one more try, else nothing below can
# run (and must not write into the bare mount point).
[ -n "$DPID" ] || start_fs "${AUDIT[@]}"
"$MKCERT_BIN" --count 10 --out-bundle "$T/10.pem"
check "a later import works" tmo cp "$T/10.pem" "$MNT/import"
check "it added 10" tmo grep -qx "Added: 10" "$MNT/import"
check_eq "roots/ has them" "$(count roots)" "$((have + 10))"
stop_fs "after the killed imports"

############################################################################
# 4. A full disk: the store on a 2 MiB tmpfs, filled by imports.
SMALL=$T/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=2m tmpfs "$SMALL" || die "cannot mount a tmpfs"
EXTRA_MOUNTS+=("$SMALL")
STORE=$SMALL/store
"$MKCERT_BIN" --count 8000 --out-bundle "$T/fill.pem" || die "could not generate certificates"
split_bundle "$T/fill.pem" "$T/fill" 200
start_fs
committed=0
full=
for k in $(seq 40); do
	if tmo cp "$T/fill/$k.pem" "$MNT/import" >"$T/fill.out" 2>&1; then
		committed=$((committed + 200))
	else
		full=$k
		break
	fi
done
echo "# $committed certificates fit; import $full failed: $(head -1 "$T/fill.out")"
if [ -z "$full" ]; then
	not_ok "the disk never filled up"
else
	ok "the disk filled up"
	check "the failing cp says ENOSPC" grep -q "No space left on device" "$T/fill.out"
	check "and not EIO" sh -c "! grep -q 'Input/output error' '$T/fill.out'"
fi
check "the daemon is still running" kill -0 "$DPID"
check_eq "roots/ holds everything committed" "$(count roots)" "$committed"
tmo cat "$MNT/bundle.pem" >"$T/b.pem"
check_eq "bundle.pem holds everything committed, whole" "$(pem_in "$T/b.pem")" "$committed"
check "a root reads back" tmo grep -q '^Subject: CN=Bulk Root' "$MNT/roots/Bulk_Root_00000.pem"
stop_fs "on a full disk"
check "remount on the full disk" try_start_fs
[ -n "$DPID" ] || die "the store on the full disk does not open"
check_eq "after the remount: roots/ holds everything committed" "$(count roots)" "$committed"
check "after the remount: a root reads back" tmo grep -q '^Subject: CN=Bulk Root' "$MNT/roots/Bulk_Root_00000.pem"
# Make room, then a small change works.
check "rm 100 roots" tmo sh -c "ls '$MNT/roots' | head -100 | sed 's|^|$MNT/roots/|' | xargs rm"
check_eq "they are gone" "$(count roots)" "$((committed - 100))"
check "then a root can be added" tmo cp "$CERTS/root.pem" "$MNT/roots/Root.pem"
check "it reads back" tmo grep -q '^Subject: CN=Test Root CA' "$MNT/roots/Root.pem"
stop_fs "after making room"
umount "$SMALL" && EXTRA_MOUNTS=()

finish
