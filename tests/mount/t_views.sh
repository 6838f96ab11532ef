#!/bin/bash
# bundle.pem and certs/: read-only views that openssl and curl use as they
# are, regenerated when the store changes.  They are links to files the
# daemon writes into STORE/views/ (trustfs(8), VIEWS); every reader must
# see a whole, current file, whoever changed the store.
. "$(dirname "$0")/lib.sh"
mkcerts
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
ncerts() { grep -c 'BEGIN CERTIFICATE' "$1"; }
fp() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
# until_eq DESCRIPTION WANT COMMAND...: a change made by another process
# reaches the views within moments (inotify); wait up to 10 s for it.
until_eq() {
	local d=$1 want=$2 got i
	shift 2
	for i in $(seq 100); do
		got=$("$@" 2>&1)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	check_eq "$d" "$got" "$want"
}
views_dir() { ls -d "$STORE"/views/m.* 2>/dev/null; }
mount_fs

check "bundle.pem is a link" test -L "$MNT/bundle.pem"
check "into the store's views directory" sh -c "readlink '$MNT/bundle.pem' | grep -q '^$STORE/views/m\.'"
check "empty bundle.pem" test ! -s "$MNT/bundle.pem"
check "add the test root" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "add the IdenTrust root" cp "$TESTDATA/identrust-commercial-root-ca-1.pem" "$MNT/roots/"
check_eq "bundle.pem holds both roots" "$(ncerts "$MNT/bundle.pem")" "2"
check_eq "stat -L size is true" "$(stat -L -c %s "$MNT/bundle.pem")" "$(wc -c <"$MNT/bundle.pem")"
check_eq "the link's size is its target's length" "$(stat -c %s "$MNT/bundle.pem")" \
	"$(readlink "$MNT/bundle.pem" | tr -d '\n' | wc -c)"

hash=$(openssl x509 -in "$CERTS/root.pem" -noout -hash)
check "certs/ has HASH.0 for the root" test -f "$MNT/certs/$hash.0"
check "certs/HASH.0 is a link, as c_rehash makes them" test -L "$MNT/certs/$hash.0"
check "ls -l certs/ shows links" sh -c "ls -l '$MNT/certs' | grep -q '^l.* $hash.0 -> '"
check_eq "certs/HASH.0 is the root" "$(openssl x509 -in "$MNT/certs/$hash.0" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$CERTS/root.pem" -noout -fingerprint -sha256)"

# A three-level chain verifies against the views; the intermediate comes
# from the peer (-untrusted) as a TLS client would get it.
check "openssl verify -CApath MOUNT/certs" \
	openssl verify -CApath "$MNT/certs" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"
check "openssl verify -CAfile MOUNT/bundle.pem" \
	openssl verify -CAfile "$MNT/bundle.pem" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"
check_fails "without the root it does not verify" "unable to get local issuer certificate" \
	openssl verify -CAfile "$CERTS/other.pem" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"

# Same subject, different key: HASH.0 and HASH.1, and the names stay put.
"$MKCERT_BIN" --cn "Test Root CA" --org "trustfs tests" --ca --out "$CERTS/root2.pem" --key-out "$CERTS/root2.key"
check "a second root with the same subject" cp "$CERTS/root2.pem" "$MNT/roots/TestRoot2.pem"
check "HASH.1 appears" test -f "$MNT/certs/$hash.1"
check_eq "HASH.0 still names the first root" \
	"$(openssl x509 -in "$MNT/certs/$hash.0" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$CERTS/root.pem" -noout -fingerprint -sha256)"
check "remove the first" rm "$MNT/roots/TestRoot.pem"
check "HASH.0 is gone" test ! -e "$MNT/certs/$hash.0"
check_fails "cat HASH.0 fails" "No such file" cat "$MNT/certs/$hash.0"
check_eq "HASH.1 still names the second root" \
	"$(openssl x509 -in "$MNT/certs/$hash.1" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$CERTS/root2.pem" -noout -fingerprint -sha256)"
check "re-adding takes the free HASH.0" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "HASH.0 back" test -f "$MNT/certs/$hash.0"
check "the chain verifies again" \
	openssl verify -CApath "$MNT/certs" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"

# The views follow every change through the mount before it returns.
check "rm the root" rm "$MNT/roots/TestRoot.pem"
check_fails "bundle.pem follows at once" "unable to get local issuer certificate" \
	openssl verify -CAfile "$MNT/bundle.pem" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"
check "cp it back" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "bundle.pem has it at once" \
	openssl verify -CAfile "$MNT/bundle.pem" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"
check "mv it to distrusted/" mv "$MNT/roots/TestRoot.pem" "$MNT/distrusted/TestRoot.pem"
check_eq "distrusted: out of bundle.pem at once" "$(ncerts "$MNT/bundle.pem")" "2"
check "distrusted: out of certs/ at once" test ! -e "$MNT/certs/$hash.0"
check "rm it from distrusted/" rm "$MNT/distrusted/TestRoot.pem"
check "cp over the same name in roots/ again" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check_eq "three roots" "$(ncerts "$MNT/bundle.pem")" "3"
check "cp the same certificate into distrusted/ (it leaves roots/)" cp "$CERTS/root.pem" "$MNT/distrusted/T.pem"
check_eq "bundle.pem follows" "$(ncerts "$MNT/bundle.pem")" "2"
check "the name it had in roots/ is gone" test ! -e "$MNT/roots/TestRoot.pem"
check "rm distrusted/T.pem" rm "$MNT/distrusted/T.pem"
check "the same name can be created again in roots/" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "import through the mount" cp "$CERTS/other.pem" "$MNT/import"
check_eq "bundle.pem follows the import at once" "$(ncerts "$MNT/bundle.pem")" "4"
check "rm roots/Other_Root.pem" sh -c "rm '$MNT'/roots/Other*"

# Names are cached for long: a refused file leaves no name behind that
# would turn the next cp of the same name into an open of a missing file.
printf 'not a certificate\n' >"$T/junk.pem"
check_fails "a refused cp" "Invalid argument" cp "$T/junk.pem" "$MNT/roots/Same.pem"
check "the same name, a good certificate" cp "$CERTS/other.pem" "$MNT/roots/Same.pem"
check "rm it" rm "$MNT/roots/Same.pem"

# Changes by other processes (trustctl, the library): bundle.pem and
# certs/ follow without a reader asking.
cat "$MNT/bundle.pem" >/dev/null	# the kernel caches the link now
check "trustctl import from another process" TC import --quiet "$CERTS/other.pem"
until_eq "bundle.pem follows trustctl import" 4 ncerts "$MNT/bundle.pem"
ohash=$(openssl x509 -in "$CERTS/other.pem" -noout -hash)
check "certs/ has the imported root" test -f "$MNT/certs/$ohash.0"
name=$(cd "$MNT/roots" && ls | grep -i other | head -1)
check "the imported root is in roots/" test -n "$name"
# Another daemon on the same store removes it while this mount's kernel
# holds its name: the name must not stay behind (a cp to the same name
# creates it again).
mkdir -p "$T/mnt2"
trap 'mountpoint -q "$T/mnt2" && fusermount3 -u "$T/mnt2"; cleanup' EXIT
"$TRUSTFS_BIN" --store "$STORE" "$T/mnt2" 2>>"$LOG" || die "a second mount failed"
for i in $(seq 50); do mountpoint -q "$T/mnt2" && break; sleep 0.1; done
check "cat it (its name is cached now)" cat "$MNT/roots/$name"
check "the other mount removes it" rm "$T/mnt2/roots/$name"
until_eq "bundle.pem follows the other mount" 3 ncerts "$MNT/bundle.pem"
until_eq "this mount forgets the name" no sh -c "test -e '$MNT/roots/$name' && echo yes || echo no"
check "cp to the same name creates it again" cp "$CERTS/other.pem" "$MNT/roots/$name"
check "the other mount sees it" test -f "$T/mnt2/roots/$name"
check "and removes it again" rm "$T/mnt2/roots/$name"
fusermount3 -u "$T/mnt2"
until_eq "gone here too" 3 ncerts "$MNT/bundle.pem"

# A reader holds a whole version even while the store changes under it,
# and even after the old files are removed (an open file stays readable).
check "a reader sees one whole version" python3 - "$MNT" "$CERTS/root2.pem" <<'PY'
import os, shutil, sys, time
mnt, new = sys.argv[1], sys.argv[2]
f = open(mnt + "/bundle.pem", "rb")
n0 = open(mnt + "/bundle.pem", "rb").read().count(b"BEGIN CERTIFICATE")
first = f.read(100)
os.unlink(mnt + "/roots/TestRoot2.pem")       # the store changes mid-read
shutil.copy(new, mnt + "/roots/TestRoot2b.pem")
os.unlink(mnt + "/roots/TestRoot2b.pem")
time.sleep(3)                                  # past the old files' removal
rest = f.read()
data = first + rest
assert data.count(b"BEGIN CERTIFICATE") == n0, (data.count(b"BEGIN CERTIFICATE"), n0)
assert data.rstrip().endswith(b"-----END CERTIFICATE-----")
now = open(mnt + "/bundle.pem", "rb").read().count(b"BEGIN CERTIFICATE")
assert now == n0 - 1, (now, n0)
PY

# No stale page cache: a root replaced by one of the same length (the
# bundle keeps its size), with a certs/ file read in between.
der_len() { openssl x509 -in "$1" -outform DER | wc -c; }
a=$T/same-a.pem b=
"$MKCERT_BIN" --cn "Same Length A" --ca --out "$a" --key-out "$T/a.key"
for i in $(seq 30); do
	"$MKCERT_BIN" --cn "Same Length B" --ca --out "$T/same-b.pem" --key-out "$T/b.key"
	if [ "$(der_len "$T/same-b.pem")" = "$(der_len "$a")" ]; then b=$T/same-b.pem; break; fi
done
[ -n "$b" ] || die "no two certificates of the same length"
check "cp root A" cp "$a" "$MNT/roots/A.pem"
size_a=$(stat -L -c %s "$MNT/bundle.pem")
subjects() { openssl crl2pkcs7 -nocrl -certfile "$MNT/bundle.pem" | openssl pkcs7 -print_certs | grep '^subject=.*Same Length'; }
check_eq "bundle.pem holds A" "$(subjects | grep -c 'Same Length A')" 1
check "rm A, cp B of A's length" sh -c "rm '$MNT/roots/A.pem' && cp '$b' '$MNT/roots/B.pem'"
check "read certs/" sh -c "cat '$MNT'/certs/* >/dev/null"
check_eq "bundle.pem kept its size" "$(stat -L -c %s "$MNT/bundle.pem")" "$size_a"
check_eq "bundle.pem holds B, not A (no stale page cache)" "$(subjects)" "$(subjects | grep 'Same Length B')"
check_eq "one of them" "$(subjects | wc -l)" 1
bhash=$(openssl x509 -in "$b" -noout -hash)
check_eq "certs/ B's file is B" "$(fp <"$MNT/certs/$bhash.0")" "$(fp <"$b")"
check "rm B" rm "$MNT/roots/B.pem"

# A pin (and its sightings) is not a change of the views: bundle.pem keeps
# its file.
before=$(readlink "$MNT/bundle.pem")
check "pin a host through the mount" cp "$CERTS/leaf.pem" "$MNT/pinned/pin.test_443"
check "replace the pin" cp "$CERTS/other.pem" "$MNT/pinned/pin.test_443"
check "rm the pin" rm "$MNT/pinned/pin.test_443"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$CERTS/leaf.pem" -key "$CERTS/leaf.key" \
	-quiet -naccept 10 </dev/null >>"$T/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; cleanup' EXIT
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
check "the library pins a TLS server (trustctl connect)" TC connect "127.0.0.1:$PORT"
check "and sees it again (a sighting)" TC connect "127.0.0.1:$PORT"
sleep 1.5	# the daemon has looked at the store since
check_eq "bundle.pem is the same file after pins and sightings" "$(readlink "$MNT/bundle.pem")" "$before"
kill $SERVER 2>/dev/null

# Old files go once no link names them (a grace period for a reader between
# the link and the open); the current ones stay.
sleep 3
vd=$(views_dir)
check_eq "one bundle file left" "$(ls "$vd" | grep -c '^bundle\.')" 1
check "read every certs/ file" sh -c "cat '$MNT'/certs/* >/dev/null"
check_eq "one certificate file per certs/ name (written when first read)" "$(ls "$vd/c" | wc -l)" "$(ls "$MNT/certs" | wc -l)"
check_eq "no temporaries left" "$(ls -A "$vd" "$vd/c" | grep -c '^\.tmp')" 0

# Written behind the daemon's back (root can write a 0444 file through the
# link): the daemon writes the views again.
n=$(ncerts "$MNT/bundle.pem")
check "root writes through the link" sh -c "echo garbage > '$MNT/bundle.pem'"
until_eq "bundle.pem is whole again" "$n" ncerts "$MNT/bundle.pem"
c1=$(ls "$MNT/certs" | head -1)
want1=$(fp <"$MNT/certs/$c1")
check "root writes through a certs/ link" sh -c "echo garbage > '$MNT/certs/$c1'"
until_eq "certs/$c1 is whole again" "$want1" sh -c "openssl x509 -noout -fingerprint -sha256 -in '$MNT/certs/$c1' | cut -d= -f2"

# The views are read-only in the mount.
check_fails "create in certs/" "Read-only file system" cp "$CERTS/root.pem" "$MNT/certs/new.0"
any=$(ls "$MNT/certs" | head -1)
check_fails "rm in certs/" "Read-only file system" rm "$MNT/certs/$any"
check_fails "rm bundle.pem" "Read-only file system" rm "$MNT/bundle.pem"
check_fails "mv bundle.pem" "Read-only file system" mv "$MNT/bundle.pem" "$MNT/roots/x.pem"
umount_fs
check_eq "the daemon removes its views at unmount" "$(views_dir)" ""

# Killed: its files stay, and a later mount neither serves them nor keeps
# them.
mount_fs
old=$(views_dir)
pid=$(pgrep -f "trustfs --store $STORE" | head -1)
kill -KILL "$pid"
fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
# Its lock goes with the process (a later mount keeps a running daemon's).
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "a killed daemon leaves its views" test -d "$old"
TC import --quiet "$CERTS/root2.pem" >/dev/null
want=$(ncerts <(TC export 2>/dev/null))
mount_fs
check "a new mount removes them" test ! -e "$old"
check_eq "and serves the store as it is now" "$(ncerts "$MNT/bundle.pem")" "$want"
umount_fs

# -o allow_other: another user reads the views through the links.  The
# store directory gets the search bit for others (its files stay 0600).
chmod 755 "$T"
mount_fs -o allow_other
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
check "nobody reads bundle.pem" as_nobody sh -c "grep -c 'BEGIN CERTIFICATE' '$MNT/bundle.pem'"
check_eq "the whole of it" "$(cat "$T/out")" "$want"
h2=$(openssl x509 -in "$CERTS/root2.pem" -noout -hash)
check "nobody reads certs/HASH.N" as_nobody openssl x509 -noout -in "$MNT/certs/$h2.0"
check_eq "the store gets o+x (0700 becomes 0701)" "$(stat -c %a "$STORE")" 701
check_eq "its data stays 0600" "$(stat -c %a "$STORE/data.mdb")" 600
check_fails "nobody cannot list the store" "Permission denied" as_nobody ls "$STORE"
check_fails "nobody cannot write through the link" "Permission denied" \
	as_nobody sh -c "echo x > '$MNT/bundle.pem'"
umount_fs

# --views memory: regular files served by the daemon, EROFS for root too.
mount_fs -o views=memory
check "-o views=memory: bundle.pem is a regular file" sh -c "test -f '$MNT/bundle.pem' && test ! -L '$MNT/bundle.pem'"
check_eq "with every root" "$(ncerts "$MNT/bundle.pem")" "$want"
check_fails "root cannot write it" "Read-only file system" cp "$CERTS/other.pem" "$MNT/bundle.pem"
check_eq "no views directory" "$(views_dir)" ""
umount_fs
check_fails "--views takes files or memory" "files or memory" "$TRUSTFS_BIN" --store "$STORE" --views bogus "$MNT"

# A store under a directory others cannot search: the views are served by
# the daemon (regular files), still readable by everyone the mount admits.
mkdir -m 700 "$T/private"
STORE=$T/private/store
mount_fs -o allow_other
check "bundle.pem is a regular file then" sh -c "test -f '$MNT/bundle.pem' && test ! -L '$MNT/bundle.pem'"
check "cp a root" cp "$CERTS/root.pem" "$MNT/roots/R.pem"
check "nobody reads bundle.pem" as_nobody grep -q 'BEGIN CERTIFICATE' "$MNT/bundle.pem"
check "nobody reads certs/HASH.0" as_nobody openssl x509 -noout -in "$MNT/certs/$hash.0"
umount_fs

finish
