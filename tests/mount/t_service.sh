#!/bin/bash
# Run as a system service: the mount helper, permissions for other users
# and for a group, read-only mounts, audit.log, metrics, backup/restore.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
mkcerts
export PATH="$(dirname "$TRUSTFS_BIN"):$PATH"
HELPER=$SRC_DIR/mount-helpers/mount.trustfs
# Other users must reach the mount point and the test certificates.
chmod 755 "$T"
chmod -R a+rX "$CERTS"
wait_mount() { for i in $(seq 50); do mountpoint -q "$MNT" && return 0; sleep 0.1; done; die "not mounted"; }
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

# The mount helper, as fstab would call it.
check "mount.trustfs STORE MNT -o allow_other,nofail" "$HELPER" "$STORE" "$MNT" -o allow_other,nofail
wait_mount
check "allow_other is in effect" sh -c "grep ' $MNT ' /proc/mounts | grep -q allow_other"
check "the mount is fuse.trustfs" sh -c "grep ' $MNT ' /proc/mounts | grep -q 'fuse.trustfs'"
check "root adds a root" cp "$CERTS/root.pem" "$MNT/roots/Root.pem"
check "root pins a host" cp "$CERTS/leaf.pem" "$MNT/pinned/h.test_443"

# mount(8) itself: type fuse.trustfs goes through mount.fuse3, which runs
# "trustfs STORE MOUNTPOINT -o OPTIONS" from the standard PATH.
umount_fs
link=
if [ ! -e /usr/local/bin/trustfs ]; then
	ln -s "$TRUSTFS_BIN" /usr/local/bin/trustfs && link=/usr/local/bin/trustfs
fi
check "mount -t fuse.trustfs STORE MNT -o allow_other" mount -t fuse.trustfs "$STORE" "$MNT" -o allow_other,nofail
[ -n "$link" ] && rm -f "$link"
wait_mount
check "the store is there" test -f "$MNT/roots/Root.pem"

# Another user reads everything and changes nothing.
check "another uid reads bundle.pem" $NOBODY cat "$MNT/bundle.pem"
check "another uid lists pins" $NOBODY ls "$MNT/pinned"
check "another uid inspects a pin" $NOBODY cat "$MNT/pinned/h.test_443"
check "another uid uses certs/" $NOBODY openssl verify -CApath "$MNT/certs" "$CERTS/root.pem"
check_fails "another uid cannot add a root" "Permission denied" $NOBODY cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
check_fails "another uid cannot remove a pin" "Permission denied" $NOBODY rm "$MNT/pinned/h.test_443"
check_fails "another uid cannot rename" "Permission denied" $NOBODY mv "$MNT/roots/Root.pem" "$MNT/roots/Moved.pem"
printf '* chain\n' >"$T/policy"
check_fails "another uid cannot edit the policy" "Permission denied" $NOBODY cp "$T/policy" "$MNT/policy"
check_fails "another uid cannot import" "Permission denied" $NOBODY cp "$CERTS/other.pem" "$MNT/import"
check "nothing changed" test -f "$MNT/roots/Root.pem" -a -f "$MNT/pinned/h.test_443" -a ! -e "$MNT/roots/Other.pem"
check_eq "each refusal is in audit.log" "$(grep -c 'uid=65534 .*refused=Permission%20denied' "$MNT/audit.log")" "5"

# audit.log: every change, in order, with time, uid, pid, command, action,
# path and SHA-256.
check "rm a pin" rm "$MNT/pinned/h.test_443"
check "relabel" mv "$MNT/roots/Root.pem" "$MNT/roots/Renamed.pem"
grep -v 'refused=' "$MNT/audit.log" | awk '{print $5, $6}' >"$T/changes"
printf '%s\n' "action=add path=roots/Root.pem" "action=add path=pinned/h.test_443" \
	"action=remove path=pinned/h.test_443" \
	"action=rename path=roots/Root.pem->roots/Renamed.pem" >"$T/want"
check_eq "audit.log has every change in order" "$(cat "$T/changes")" "$(cat "$T/want")"
sha=$(openssl x509 -in "$CERTS/root.pem" -outform DER | sha256sum | cut -d' ' -f1)
check "an audit line has time, uid, pid, command and SHA-256" \
	grep -Eq "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z uid=0 pid=[0-9]+ comm=cp action=add path=roots/Root.pem sha256=$sha$" "$MNT/audit.log"
check_fails "audit.log is read-only" "" sh -c "echo x > '$MNT/audit.log'"

# metrics, in the Prometheus text format.
check "metrics parse as Prometheus text" python3 - "$MNT/metrics" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n")
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? -?[0-9.eE+]+$')
typed, seen = {}, set()
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3)
        assert kind in ("gauge", "counter"), line
        typed[name] = kind
    elif line.startswith("# HELP "):
        pass
    else:
        assert sample.match(line), line
        seen.add(re.split(r"[{ ]", line)[0])
for name in seen:
    assert name in typed, name
for want in ("trustfs_entries", "trustfs_expiry_seconds", "trustfs_tofu_first_use_total",
             "trustfs_tofu_mismatch_total", "trustfs_last_change_timestamp_seconds"):
    assert want in seen, want
assert 'trustfs_entries{dir="roots"} 1' in text
assert 'trustfs_expiry_seconds{path="roots/Renamed.pem"}' in text
PY
umount_fs

# --group: its members may write; others still may not.
groupadd -f trustfs-test
gid=$(getent group trustfs-test | cut -d: -f3)
check "mount with group=trustfs-test" "$HELPER" "$STORE" "$MNT" -o allow_other,group=trustfs-test
wait_mount
check "a group member can add a root" setpriv --reuid=65534 --regid=65534 --groups="$gid" cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
check "and remove it" setpriv --reuid=65534 --regid=65534 --groups="$gid" rm "$MNT/roots/Other.pem"
check_fails "a non-member still cannot" "Permission denied" $NOBODY cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
check "directories are group-writable" test "$(stat -c %a "$MNT/roots")" = 775
umount_fs

# -o ro refuses every change.
check "mount -o ro" "$HELPER" "$STORE" "$MNT" -o ro
wait_mount
check "ro: reads work" grep -q 'CN=Test Root CA' "$MNT/roots/Renamed.pem"
check_fails "ro: no add" "Read-only file system" cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
check_fails "ro: no rm" "Read-only file system" rm "$MNT/roots/Renamed.pem"
check_fails "ro: no policy" "Read-only file system" cp "$T/policy" "$MNT/policy"
umount_fs

# audit.log is bounded: --audit-max keeps the newest N lines.
check "mount with -o audit_max=3" "$HELPER" "$STORE" "$MNT" -o audit_max=3
wait_mount
check "a change" cp "$CERTS/other.pem" "$MNT/roots/Bounded.pem"
check_eq "audit.log keeps 3 lines" "$(wc -l <"$MNT/audit.log")" "3"
check "the newest is the last change" sh -c "tail -1 '$MNT/audit.log' | grep -q 'action=add path=roots/Bounded.pem'"
check "rm it" rm "$MNT/roots/Bounded.pem"
umount_fs

# A backup taken while pins are being written restores to an equal store.
mount_fs
( for i in $(seq 1 60); do cp "$CERTS/leaf.pem" "$MNT/pinned/w$i.test_443"; done ) &
writer=$!
sleep 0.2
check "trustctl backup while writes go on" "$TRUSTCTL_BIN" --store "$STORE" backup "$T/backup.mdb"
wait $writer
check "trustctl backup again, quiet" "$TRUSTCTL_BIN" --store "$STORE" backup "$T/backup2.mdb"
live=$(state)
umount_fs
check_fails "restore refuses a store in use" "in use" sh -c "'$TRUSTFS_BIN' --store '$STORE' '$MNT' && '$TRUSTCTL_BIN' --store '$STORE' restore --force '$T/backup2.mdb'"
umount_fs
STORE=$T/restored
check "restore into an empty store" "$TRUSTCTL_BIN" --store "$STORE" restore "$T/backup2.mdb"
check_fails "restore refuses a non-empty store" "not empty" "$TRUSTCTL_BIN" --store "$STORE" restore "$T/backup.mdb"
mount_fs
check_eq "the restored store equals the live one" "$(state)" "$live"
umount_fs
STORE=$T/partial
check "the mid-write backup restores" "$TRUSTCTL_BIN" --store "$STORE" restore "$T/backup.mdb"
mount_fs
n=$(ls "$MNT/pinned" | grep -c '^w')
check "it holds a whole prefix of the writes" sh -c "for i in \$(seq 1 $n); do test -f '$MNT/pinned/w'\$i'.test_443' || exit 1; done"
check "every restored pin is whole" sh -c "for f in '$MNT'/pinned/*; do openssl x509 -in \"\$f\" -noout || exit 1; done"
umount_fs

finish
