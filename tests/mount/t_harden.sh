#!/bin/bash
# Issue 8, the daemon's side: never hang under a large import while
# listing (5), commit a forked writer's file once, for its owner (11), say
# which entry already holds a certificate (12), ENOSPC on a full disk (13),
# audit every refused change with one errno per kind (14), xattrs never cut
# short (15), and stop with status 0 (16).
. "$(dirname "$0")/lib.sh"
mkcerts

# The sanitizer build is several times slower: smaller loads there.
if nm -D "$TRUSTFS_BIN" 2>/dev/null | grep -q __asan_init; then
	BIG=15000
else
	BIG=30000
fi

# Another user must reach the mount (allow_other) and read the inputs.
chmod 755 "$T"
chmod 644 "$CERTS"/*.pem
NOBODY=65534
# A python another user may run (not a shim under /root).
SYSPY=/usr/bin/python3
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@"; }

# The state of a process: Z once it has exited (kill -0 cannot tell a
# zombie from a running process).
gone() {
	local st
	st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}
# wait_exit PID SECONDS: PID's exit status; 124 if it is still running
# after SECONDS.  A bound on a hang, not a measurement.  A process stuck in
# a request to a hung daemon cannot be killed, so the daemon (DPID) goes
# first, with SIGKILL, which aborts its requests.
DPID=
wait_exit() {
	local i
	for i in $(seq $(($2 * 10))); do
		if gone "$1"; then
			wait "$1"
			return $?
		fi
		sleep 0.1
	done
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 124
}
# mount_fg [ARGS...]: the daemon in the foreground, in the background of
# this shell, so that its exit status can be waited for; sets DPID.
mount_fg() {
	"$TRUSTFS_BIN" --store "$STORE" -f "$@" "$MNT" 2>>"$LOG" &
	DPID=$!
	local i
	for i in $(seq 100); do
		mountpoint -q "$MNT" && return 0
		sleep 0.1
	done
	die "trustfs -f did not mount within 10 s"
}
# stop_fg: SIGTERM, and the exit status of the daemon.
stop_fg() {
	local rc=0
	kill -TERM "$DPID" 2>/dev/null
	wait_exit "$DPID" 60 || rc=$?
	# A daemon that was killed leaves its mount behind.
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	DPID=
	return $rc
}
# audited ACTION PATH REASON [UID]: audit.log has such a refusal.
audited() {
	local uid=${4:-}
	grep -E "${uid:+uid=$uid }.* action=$1 path=$2 .*refused=$3" "$MNT/audit.log" >/dev/null
}
sha() { getfattr --only-values -n user.trustfs.sha256 "$1" 2>/dev/null; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

#
# 5: a large import while another process lists roots/ in a loop.  The
# map grows several times during the import; it must finish, and SIGTERM
# must still stop the daemon.
#
"$MKCERT_BIN" --count "$BIG" --out-bundle "$T/big.pem" || die "mkcert --count"
mount_fg
rm -f "$T/stop"
(while [ ! -e "$T/stop" ]; do ls "$MNT/roots" >/dev/null 2>&1; done) &
lister=$!
cp "$T/big.pem" "$MNT/import" &
importer=$!
rc=0
wait_exit "$importer" 240 || rc=$?
touch "$T/stop"
check_eq "5: a $BIG-certificate import while ls roots/ loops finishes" "$rc" 0
if wait_exit "$lister" 30; then ok "5: the listing loop ends"; else not_ok "5: the listing loop hangs"; fi
check_eq "5: every certificate is in roots/" "$(ls "$MNT/roots" 2>/dev/null | wc -l)" "$BIG"
rc=0
stop_fg || rc=$?
check_eq "5: SIGTERM stops the daemon with status 0" "$rc" 0
rm -rf "$STORE"

#
# 11: a writer that forks.  The child's exit closes its copy of the
# descriptor (a flush from another process); only the opener's close
# commits, and that close reports the result.
#
mount_fs -o allow_other
cat >"$T/forkw.py" <<'PY'
import os, sys
path, first, second, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, open(first, "rb").read())
pid = os.fork()
if pid == 0:
    if mode == "child-writes-late":
        import time
        while os.path.exists(sys.argv[5]):
            time.sleep(0.05)
        os.write(fd, open(second, "rb").read())
    os._exit(0)
if mode == "child-writes-late":
    # The opener closes first; the child writes afterwards and exits.
    try:
        os.close(fd)
    finally:
        os.unlink(sys.argv[5])
    os.waitpid(pid, 0)
    print("close: ok")
    sys.exit(0)
os.waitpid(pid, 0)
os.write(fd, open(second, "rb").read())
try:
    os.close(fd)
except OSError as e:
    print("close:", e.strerror)
    sys.exit(1)
print("close: ok")
PY
check "11: a chain written across a fork: the opener's close succeeds" \
	python3 "$T/forkw.py" "$MNT/chains/C.pem" "$CERTS/int.pem" "$CERTS/root.pem" plain
check_eq "11: the chain holds both certificates" \
	"$(grep -c '^-----BEGIN CERTIFICATE' "$MNT/chains/C.pem" 2>/dev/null)" "2"
"$MKCERT_BIN" --count 25 --out-bundle "$T/b25.pem" || die "mkcert --count 25"
printf -- '-----BEGIN CERTIFICATE-----\nMIIBzzCCAXWgAwIBAgIUQ\n' >"$T/cut.pem"
check_fails "11: import, fork, then a cut block: the opener's close says EINVAL" "Invalid argument" \
	python3 "$T/forkw.py" "$MNT/import" "$T/b25.pem" "$T/cut.pem" plain
check_eq "11: nothing of that import is stored" "$(ls "$MNT/roots" | wc -l)" "0"
# The opener closes (and commits what it wrote); what a child writes after
# that is not stored, and audit.log says it was discarded.
touch "$T/hold"
check "11: the opener closes before its child writes" \
	python3 "$T/forkw.py" "$MNT/chains/D.pem" "$CERTS/int.pem" "$CERTS/root.pem" child-writes-late "$T/hold"
check_eq "11: the chain is what the opener wrote" \
	"$(grep -c '^-----BEGIN CERTIFICATE' "$MNT/chains/D.pem" 2>/dev/null)" "1"
# The release that discards it comes after the child's close returns
# (FUSE sends it asynchronously): wait for it, boundedly.
for i in $(seq 100); do
	grep -Eq "action=discard path=chains/D.pem " "$MNT/audit.log" && break
	sleep 0.1
done
check "11: the child's late write is audited as discarded" \
	grep -Eq "action=discard path=chains/D.pem " "$MNT/audit.log"
# Threads: the opener's thread id is not its process id.
check "11: a file opened in one thread and closed in another is stored" python3 - "$MNT/roots/Threaded.pem" "$CERTS/root.pem" <<'PY'
import os, sys, threading
fds = []
def opener():
    fds.append(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
t = threading.Thread(target=opener); t.start(); t.join()
os.write(fds[0], open(sys.argv[2], "rb").read())
err = []
def closer():
    try:
        os.close(fds[0])
    except OSError as e:
        err.append(e)
t = threading.Thread(target=closer); t.start(); t.join()
sys.exit(1 if err else 0)
PY
check "11: stored" grep -q 'Subject: CN=Test Root CA' "$MNT/roots/Threaded.pem"
check "11: shell redirections still work" sh -c "cat '$CERTS/other.pem' > '$MNT/roots/Redirect.pem'"
check "11: a group's redirection (children write, the shell closes)" \
	sh -c "{ cat '$CERTS/int.pem'; cat '$CERTS/root.pem'; } > '$MNT/chains/Group.pem'"
check_eq "11: that chain holds both certificates" \
	"$(grep -c '^-----BEGIN CERTIFICATE' "$MNT/chains/Group.pem" 2>/dev/null)" "2"
check_fails "11: touch still says EINVAL" "Invalid argument" touch "$MNT/roots/Touch.pem"
umount_fs
rm -rf "$STORE"

#
# 12: a certificate stored under another name.
#
mount_fs
cp "$CERTS/root.pem" "$MNT/roots/X.pem" || die "setup X.pem"
cp "$CERTS/other.pem" "$MNT/roots/Y.pem" || die "setup Y.pem"
A=$(fp "$CERTS/root.pem")
check_fails "12: cp B over X.pem (B is Y.pem)" "File exists" cp "$CERTS/other.pem" "$MNT/roots/X.pem"
check_fails "12: the temporary file + rename way" "File exists" python3 - "$MNT/roots" "$CERTS/other.pem" <<'PY'
import os, sys, tempfile
d, src = sys.argv[1], sys.argv[2]
fd, tmp = tempfile.mkstemp(prefix=".tmp", dir=d, suffix="X.pem")
with os.fdopen(fd, "wb") as f:
    f.write(open(src, "rb").read())
try:
    os.rename(tmp, os.path.join(d, "X.pem"))
except OSError as e:
    os.unlink(tmp)
    sys.exit("rename: " + e.strerror)
PY
check_eq "12: X.pem still holds A" "$(sha "$MNT/roots/X.pem")" "$A"
check "12: the refusal is audited and names Y.pem" \
	grep -Eq "action=[a-z]+ path=roots/X.pem .*refused=.*Y\.pem" "$MNT/audit.log"
check_fails "12: cp A to a new name (A is X.pem)" "File exists" cp "$CERTS/root.pem" "$MNT/roots/Z.pem"
check "12: Z.pem was not created" test ! -e "$MNT/roots/Z.pem"
check "12: that refusal names X.pem" \
	grep -Eq "path=roots/Z.pem .*refused=.*X\.pem" "$MNT/audit.log"
check "12: cp A over X.pem again is a silent success" cp "$CERTS/root.pem" "$MNT/roots/X.pem"
umount_fs
rm -rf "$STORE"

#
# 13: a full disk is ENOSPC, never EIO.  A store on a small tmpfs with a
# little room left: the commit's write comes up short.
#
small=$T/small
mkdir -p "$small"
if mount -t tmpfs -o size=600k tmpfs "$small"; then
	STORE=$small/store
	mount_fs
	check "13: a root fits" cp "$CERTS/root.pem" "$MNT/roots/First.pem"
	"$MKCERT_BIN" --count 400 --out-bundle "$T/many.pem"
	full_before=$(state)
	# Full: not a block left.
	dd if=/dev/zero of="$small/filler" bs=4k 2>/dev/null
	check_fails "13: a root on a full disk: ENOSPC" "No space left on device" \
		cp "$CERTS/other.pem" "$MNT/roots/Second.pem"
	check_fails "13: a temporary file renamed on a full disk: ENOSPC" "No space left on device" \
		python3 - "$MNT/roots" "$CERTS/other.pem" <<'PY'
import os, sys, tempfile
d, src = sys.argv[1], sys.argv[2]
fd, tmp = tempfile.mkstemp(prefix=".tmp", dir=d)
with os.fdopen(fd, "wb") as f:
    f.write(open(src, "rb").read())
try:
    os.rename(tmp, os.path.join(d, "Second.pem"))
except OSError as e:
    os.unlink(tmp)
    sys.exit("rename: " + e.strerror)
PY
	check_eq "13: full disk: store unchanged" "$(state)" "$full_before"
	# Nearly full: a large commit's write comes up short, which LMDB
	# reports as EIO.
	rm -f "$small/filler"
	avail=$(df -k --output=avail "$small" | tail -1)
	dd if=/dev/zero of="$small/filler" bs=1k count=$((avail - 40)) 2>/dev/null
	check_fails "13: import with 40 KiB left: ENOSPC" "No space left on device" \
		cp "$T/many.pem" "$MNT/import"
	check_eq "13: nearly full: store unchanged" "$(state)" "$full_before"
	rm -f "$small/filler"
	check "13: with space again, writes work" cp "$CERTS/other.pem" "$MNT/roots/Second.pem"
	check "13: the refusals are in audit.log or the log" \
		sh -c "grep -q 'No%20space%20left' '$MNT/audit.log' || grep -q 'No space left' '$LOG'"
	umount_fs
	umount "$small"
	STORE=$T/store
else
	not_ok "13: could not mount a tmpfs for the full-disk test (needs root)"
fi

#
# 14: refusals.  -o ro: EROFS for every change, each audited; reads work.
#
mount_fs
cp "$CERTS/root.pem" "$MNT/roots/X.pem" || die "setup"
umount_fs
mount_fs -o ro,allow_other
X=$MNT/roots/X.pem
check "14 ro: reads work" grep -q 'Subject: CN=Test Root CA' "$X"
check "14 ro: ls works" test -n "$(ls "$MNT/roots")"
ro() { # ro ACTION PATH DESCRIPTION COMMAND...
	local act=$1 p=$2 d=$3; shift 3
	check_fails "14 ro: $d" "Read-only file system" "$@"
	if audited "$act" "$p" "Read-only%20file%20system"; then ok "14 ro: $d is audited"
	else not_ok "14 ro: $d is audited (action=$act path=$p)"; fi
}
ro create roots/N.pem "cp a new root" cp "$CERTS/other.pem" "$MNT/roots/N.pem"
ro write roots/X.pem "overwrite a root" sh -c "cat '$CERTS/other.pem' > '$X'"
ro truncate roots/X.pem "truncate(2)" python3 -c "import os,sys; os.truncate(sys.argv[1], 0)" "$X"
ro remove roots/X.pem "rm" rm -f "$X"
ro rename roots/X.pem "mv" mv "$X" "$MNT/roots/Y.pem"
ro chmod roots/X.pem "chmod" chmod 644 "$X"
ro chown roots/X.pem "chown" chown 0:0 "$X"
ro utime roots/X.pem "touch" touch "$X"
ro setxattr roots/X.pem "setfattr" setfattr -n user.note -v x "$X"
ro removexattr roots/X.pem "setfattr -x" setfattr -x user.trustfs.subject "$X"
ro link roots/L.pem "ln" ln "$X" "$MNT/roots/L.pem"
ro symlink roots/S.pem "ln -s" ln -s X.pem "$MNT/roots/S.pem"
ro mknod roots/F "mkfifo" mkfifo "$MNT/roots/F"
ro mkdir roots/D "mkdir" mkdir "$MNT/roots/D"
ro rmdir chains "rmdir" rmdir "$MNT/chains"
ro write policy "a new policy" sh -c "echo '* tofu' > '$MNT/policy'"
ro write import "an import" cp "$CERTS/other.pem" "$MNT/import"
check_fails "14 ro: a user without rights is told EROFS too" "Read-only file system" \
	as_nobody rm -f "$X"
check "14 ro: X.pem is still there" test -f "$X"
umount_fs

# A caller without rights (not root, not the daemon's uid, not in --group):
# EACCES for every change, checked before anything else.
mount_fs -o allow_other
na() { # na ACTION PATH DESCRIPTION COMMAND...
	local act=$1 p=$2 d=$3; shift 3
	check_fails "14 no rights: $d" "Permission denied" as_nobody "$@"
	if audited "$act" "$p" "Permission%20denied" $NOBODY; then ok "14 no rights: $d is audited"
	else not_ok "14 no rights: $d is audited (action=$act path=$p)"; fi
}
na create roots/N.pem "cp a new root" cp "$CERTS/other.pem" "$MNT/roots/N.pem"
na write roots/X.pem "overwrite a root" sh -c "cat '$CERTS/other.pem' > '$X'"
na write roots/X.pem "truncate -s 2M" truncate -s 2M "$X"
na truncate roots/X.pem "truncate(2) to 2 MiB" \
	"$SYSPY" -c "import os,sys; os.truncate(sys.argv[1], 2 << 20)" "$X"
na remove roots/X.pem "rm" rm -f "$X"
na rename roots/X.pem "mv" mv "$X" "$MNT/roots/Y.pem"
na chmod roots/X.pem "chmod to the mode shown" chmod 644 "$X"
na chown roots/X.pem "chown" chown $NOBODY "$X"
na utime roots/X.pem "touch -d" touch -d 2020-01-01 "$X"
na setxattr roots/X.pem "setfattr" setfattr -n user.note -v x "$X"
na removexattr roots/X.pem "setfattr -x" setfattr -x user.trustfs.subject "$X"
na link roots/L.pem "ln" ln "$X" "$MNT/roots/L.pem"
na symlink roots/S.pem "ln -s" ln -s X.pem "$MNT/roots/S.pem"
na mknod roots/F "mkfifo" mkfifo "$MNT/roots/F"
na mkdir roots/D "mkdir" mkdir "$MNT/roots/D"
na rmdir chains "rmdir" rmdir "$MNT/chains"
na write policy "a new policy" sh -c "echo '* tofu' > '$MNT/policy'"
check "14 no rights: reads work" as_nobody grep -q 'Subject: CN=Test Root CA' "$X"
check_eq "14 no rights: X.pem unchanged" "$(sha "$X")" "$(fp "$CERTS/root.pem")"

# A caller with rights: modes and owners are fixed (EPERM), except that
# setting the values already shown succeeds; touch succeeds and changes
# nothing; xattrs are read-only (ENOTSUP); no links, nodes or directories.
mode=$(stat -c %a "$X")
m1=$(stat -c %Y "$X")
check_eq "14 root: a root is shown 0644" "$mode" "644"
sleep 1.1
check "14 root: chmod to the mode shown" chmod 644 "$X"
check "14 root: chown to the owner shown" chown "$(stat -c %u:%g "$X")" "$X"
check "14 root: touch succeeds" touch "$X"
check_eq "14 root: touch changes nothing" "$(stat -c %Y "$X")" "$m1"
check "14 root: chmod of a directory to the mode shown" chmod "$(stat -c %a "$MNT/roots")" "$MNT/roots"
wr() { # wr ACTION PATH ERRNO-TEXT AUDIT-TEXT DESCRIPTION COMMAND...
	local act=$1 p=$2 want=$3 aud=$4 d=$5; shift 5
	check_fails "14 root: $d" "$want" "$@"
	if audited "$act" "$p" "$aud" 0; then ok "14 root: $d is audited"
	else not_ok "14 root: $d is audited (action=$act path=$p)"; fi
}
EPERM_A="Operation%20not%20permitted"
wr chmod roots/X.pem "Operation not permitted" "$EPERM_A" "chmod 600" chmod 600 "$X"
wr chown roots/X.pem "Operation not permitted" "$EPERM_A" "chown to another user" chown $NOBODY "$X"
wr chmod roots "Operation not permitted" "$EPERM_A" "chmod of a directory" chmod 700 "$MNT/roots"
wr setxattr roots/X.pem "Operation not supported" "Operation%20not%20supported" "setfattr" \
	setfattr -n user.note -v x "$X"
wr removexattr roots/X.pem "Operation not supported" "Operation%20not%20supported" "setfattr -x" \
	setfattr -x user.trustfs.subject "$X"
wr link roots/L.pem "Operation not permitted" "$EPERM_A" "ln" ln "$X" "$MNT/roots/L.pem"
wr symlink roots/S.pem "Operation not permitted" "$EPERM_A" "ln -s" ln -s X.pem "$MNT/roots/S.pem"
wr mknod roots/F "Operation not permitted" "$EPERM_A" "mkfifo" mkfifo "$MNT/roots/F"
wr mkdir roots/D "Operation not permitted" "$EPERM_A" "mkdir" mkdir "$MNT/roots/D"
wr rmdir chains "Operation not permitted" "$EPERM_A" "rmdir" rmdir "$MNT/chains"
check_eq "14 root: the mode is still 0644" "$(stat -c %a "$X")" "644"
check "14 root: sed -i still works (temporary file, fchmod/fchown to the shown values)" \
	sed -i '1i # edited' "$X"
check "14 root: install -m 0644 still works" install -m 0644 "$CERTS/int.pem" "$MNT/roots/Int.pem"
umount_fs
rm -rf "$STORE"

#
# 15: xattrs carry the inspect values whole: a negative serial, a 41-byte
# serial, a subject longer than 1 KiB.
#
key=$T/x.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null
mk() { openssl req -x509 -key "$key" -days 30 -subj "$1" -set_serial "$2" -out "$3" 2>/dev/null ||
	die "openssl req for $3"; }
mk "/CN=Negative Serial" -5 "$T/neg.pem"
mk "/CN=Long Serial" "0x7f$(printf 'AB%.0s' $(seq 40))" "$T/s41.pem"
subj="/CN=Long Subject"
for i in $(seq 30); do subj="$subj/OU=Organisational unit $i padded out to about sixty chars"; done
mk "$subj" 1 "$T/long.pem"
mount_fs
cp "$T/neg.pem" "$MNT/roots/Neg.pem" || die "storing neg.pem"
cp "$T/s41.pem" "$MNT/roots/S41.pem" || die "storing s41.pem"
cp "$T/long.pem" "$MNT/roots/Long.pem" || die "storing long.pem"
inspect() { sed -n "s/^$2: //p" "$1" | head -1; }
xa() { getfattr --only-values -n "user.trustfs.$2" "$1" 2>/dev/null; }
s=$(xa "$MNT/roots/S41.pem" serial)
check_eq "15: a 41-byte serial's xattr is the inspect text's" "$s" "$(inspect "$MNT/roots/S41.pem" 'Serial Number')"
check_eq "15: it has 41 bytes" "$(echo "$s" | tr -d ':' | tr -d '\n' | wc -c)" "82"
s=$(xa "$MNT/roots/Neg.pem" serial)
check_eq "15: a negative serial's xattr is the inspect text's" "$s" "$(inspect "$MNT/roots/Neg.pem" 'Serial Number')"
check "15: and it says it is negative" sh -c "echo '$s' | grep -qi -e '-' -e neg"
s=$(xa "$MNT/roots/Long.pem" subject)
check_eq "15: a long subject's xattr is the inspect text's" "$s" "$(inspect "$MNT/roots/Long.pem" Subject)"
check "15: it is longer than 1023 bytes" test "${#s}" -gt 1023
check "15: the issuer too" test "$(xa "$MNT/roots/Long.pem" issuer)" = "$s"
check "15: size 0 gives the full length; a small buffer gets ERANGE" \
	python3 - "$MNT/roots/Long.pem" "${#s}" <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.getxattr.restype = ctypes.c_ssize_t
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
p, n = sys.argv[1].encode(), b"user.trustfs.subject"
full = libc.getxattr(p, n, None, 0)
if full != int(sys.argv[2]):
    sys.exit("size 0 gave %d, want %s" % (full, sys.argv[2]))
buf = ctypes.create_string_buffer(full - 1)
r = libc.getxattr(p, n, buf, full - 1)
e = ctypes.get_errno()
if r != -1 or e != errno.ERANGE:
    sys.exit("one byte short gave %d (%s), want ERANGE" % (r, errno.errorcode.get(e)))
buf = ctypes.create_string_buffer(full)
if libc.getxattr(p, n, buf, full) != full:
    sys.exit("the exact size failed")
PY
umount_fs
rm -rf "$STORE"

#
# 16: a clean stop is status 0: SIGTERM under load with files open, and a
# lazy unmount.
#
mount_fg
cp "$CERTS/root.pem" "$MNT/roots/R.pem"
rm -f "$T/stop"
(while [ ! -e "$T/stop" ]; do cat "$MNT/roots/R.pem" "$MNT/bundle.pem" >/dev/null 2>&1; ls "$MNT/roots" >/dev/null 2>&1; done) &
l1=$!
(while [ ! -e "$T/stop" ]; do cp "$CERTS/other.pem" "$MNT/roots/O.pem" 2>/dev/null; rm -f "$MNT/roots/O.pem" 2>/dev/null; done) &
l2=$!
# Descriptors still open when the daemon stops: a writer and a reader.
(exec 3>"$MNT/roots/Held.pem" 4<"$MNT/roots/R.pem"; echo x >&3; while [ ! -e "$T/stop" ]; do sleep 0.1; done) 2>/dev/null &
l3=$!
sleep 1
rc=0
stop_fg || rc=$?
touch "$T/stop"
wait $l1 $l2 $l3 2>/dev/null
check_eq "16: SIGTERM under load, files open: exit status 0" "$rc" 0
mount_fg
(exec 4<"$MNT/roots/R.pem"; sleep 1) &
l3=$!
sleep 0.2
umount -l "$MNT"
wait $l3 2>/dev/null
rc=0
wait_exit "$DPID" 60 || rc=$?
check_eq "16: umount -l: exit status 0" "$rc" 0
mount_fs
check "16: the store is whole after both stops" grep -q 'Subject: CN=Test Root CA' "$MNT/roots/R.pem"
check "16: the write that was open at SIGTERM is not stored" test ! -e "$MNT/roots/Held.pem"
umount_fs

finish
