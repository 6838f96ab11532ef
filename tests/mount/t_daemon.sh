#!/bin/bash
# The daemon's life: daemonize when ready, -f, SIGTERM, logs, bad stores.
. "$(dirname "$0")/lib.sh"
mkcerts

check "--help" sh -c "'$TRUSTFS_BIN' --help | grep -q 'usage: '"
check "--version" sh -c "'$TRUSTFS_BIN' --version | grep -q '^trustfs '"
check_fails "no mount point" "no mount point" "$TRUSTFS_BIN" --store "$STORE"

# Daemonized: the mount is ready when the command returns.
"$TRUSTFS_BIN" --store "$STORE" "$MNT" 2>>"$LOG"
check "mounted when trustfs returns" mountpoint -q "$MNT"
check "the store is created 0700" test "$(stat -c %a "$STORE")" = 700
check "store files are 0600" test "$(stat -c %a "$STORE/data.mdb")" = 600
check_eq "nothing printed to the terminal" "$(cat "$LOG")" ""
check "a root" cp "$CERTS/root.pem" "$MNT/roots/R.pem"
umount_fs
check "the daemon exits on unmount" test -z "$(pgrep -f "trustfs --store $STORE")"

# Foreground: messages on stderr; SIGTERM unmounts cleanly.
"$TRUSTFS_BIN" --store "$STORE" -f "$MNT" 2>"$T/fg.log" &
fg=$!
for i in $(seq 50); do mountpoint -q "$MNT" && break; sleep 0.1; done
check "-f mounts" mountpoint -q "$MNT"
cp "$T/../certs/leaf.pem" "$MNT/pinned/nohost" 2>/dev/null
{ printf "junk "; head -c 100 /dev/urandom; } >"$T/junk"
cp "$T/junk" "$MNT/roots/Junk.pem" 2>/dev/null
check "-f logs refusals to stderr" grep -q "refused add /roots/Junk.pem" "$T/fg.log"
check "the log says why" grep -q "not a certificate" "$T/fg.log"
kill -TERM "$fg"
wait "$fg"
check_eq "exit status after SIGTERM" "$?" "0"
check "SIGTERM unmounts" sh -c "! mountpoint -q '$MNT'"
check "data still there" sh -c "'$TRUSTFS_BIN' --store '$STORE' '$MNT' && grep -q 'CN=Test Root CA' '$MNT/roots/R.pem'"
umount_fs

# A store from a newer schema is refused with a clear message.
if command -v mdb_load >/dev/null; then
	printf 'VERSION=3\nformat=bytevalue\ndatabase=meta\ntype=btree\nmapsize=10485760\nHEADER=END\n 736368656d61\n 393939\nDATA=END\n' >"$T/meta.dump"
	mdb_load -f "$T/meta.dump" -s meta "$STORE" 2>"$T/load.err" || cat "$T/load.err"
	check_fails "a newer schema is refused" "schema version" "$TRUSTFS_BIN" --store "$STORE" "$MNT"
	check "and nothing is mounted" sh -c "! mountpoint -q '$MNT'"
else
	not_ok "mdb_load (lmdb-utils) is needed for the schema test"
fi
mkdir -p "$T/notdir" && echo x >"$T/notdir/data.mdb"
check_fails "a store that is not LMDB" "" "$TRUSTFS_BIN" --store "$T/notdir" "$MNT"

finish
