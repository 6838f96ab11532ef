#!/bin/bash
# Bad input gets a clear error and changes nothing (DESIGN section 2).
. "$(dirname "$0")/lib.sh"
mkcerts
mount_fs
cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem" || die "setup"
cp "$CERTS/leaf.pem" "$MNT/pinned/server.test_443" || die "setup"
before=$(state)
unchanged() { check_eq "$1: store unchanged" "$(state)" "$before"; }

head -c 3000 /dev/urandom >"$T/garbage"
check_fails "garbage" "Invalid argument" cp "$T/garbage" "$MNT/roots/G.pem"
unchanged garbage
head -n 6 "$CERTS/other.pem" >"$T/truncated.pem"
check_fails "truncated PEM" "Invalid argument" cp "$T/truncated.pem" "$MNT/roots/T.pem"
unchanged "truncated PEM"
sed '3s/./*/' "$CERTS/other.pem" >"$T/badb64.pem"
check_fails "bad base64" "Invalid argument" cp "$T/badb64.pem" "$MNT/roots/B.pem"
unchanged "bad base64"
openssl x509 -in "$CERTS/other.pem" -outform DER -out "$T/other.der"
head -c 200 "$T/other.der" >"$T/short.der"
check_fails "truncated DER" "Invalid argument" cp "$T/short.der" "$MNT/roots/D.pem"
unchanged "truncated DER"
check "whole DER is accepted" cp "$T/other.der" "$MNT/roots/Der.pem"
check "remove it again" rm "$MNT/roots/Der.pem"
: >"$T/empty"
check_fails "empty file" "Invalid argument" cp "$T/empty" "$MNT/roots/E.pem"
check_fails "touch makes an empty file" "Invalid argument" touch "$MNT/roots/Touch.pem"
unchanged "empty file"
{ cat "$CERTS/other.pem"; head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'x'; } >"$T/huge.pem"
check_fails "oversize file" "File too large" cp "$T/huge.pem" "$MNT/roots/H.pem"
unchanged "oversize file"
cat "$CERTS/other.pem" "$CERTS/int.pem" >"$T/bundle.pem"
check_fails "a bundle written into roots/" "Invalid argument" cp "$T/bundle.pem" "$MNT/roots/Bundle.pem"
unchanged "bundle into roots/"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/key.pem" 2>/dev/null
check_fails "a private key" "Invalid argument" cp "$T/key.pem" "$MNT/roots/Key.pem"
unchanged "private key"
# cp over an entry replaces it, but bad data never does: the old pin stays.
check_fails "garbage over a pin" "Invalid argument" cp "$T/garbage" "$MNT/pinned/server.test_443"
unchanged "garbage over a pin"
check_fails "a truncated PEM over a pin" "Invalid argument" \
	sh -c 'cat "$1" > "$2"' - "$T/truncated.pem" "$MNT/pinned/server.test_443"
unchanged "truncated PEM over a pin"
# A root lives under one name.
check_fails "a root under a second name" "File exists" cp -f "$CERTS/root.pem" "$MNT/roots/Elsewhere.pem"
unchanged "a root under a second name"

# Hostile names.
check_fails "'..' as a name" "" cp "$CERTS/other.pem" "$MNT/roots/.."
long=$(printf 'a%.0s' $(seq 300))
check_fails "a name over 255 bytes" "File name too long" cp "$CERTS/other.pem" "$MNT/roots/$long.pem"
check_fails "a non-UTF-8 name" "Invalid argument" cp "$CERTS/other.pem" "$MNT/roots/$(printf 'bad\xff\xfe').pem"
check_fails "a control character in a name" "Invalid argument" cp "$CERTS/other.pem" "$MNT/roots/$(printf 'a\tb').pem"
check_fails "a name in roots/ must end in .pem" "Invalid argument" cp "$CERTS/other.pem" "$MNT/roots/x.crt"
check_fails "a directory" "" mkdir "$MNT/roots/sub"
check_fails "a new top-level file" "Permission denied" cp "$CERTS/other.pem" "$MNT/newfile"
check_fails "writing into rejected/" "Permission denied" cp "$CERTS/other.pem" "$MNT/rejected/h_443"
check_fails "a path through a file" "" cp "$CERTS/other.pem" "$MNT/roots/TestRoot.pem/x"
unchanged "hostile names"

# The read-only views.
# bundle.pem is a link to the daemon's own 0444 file (trustfs(8), The
# views): another user cannot write it, and root's write through the link
# is undone by the daemon, which writes its file again.
want_bundle=$(cat "$MNT/bundle.pem")
cp "$CERTS/other.pem" "$MNT/bundle.pem" 2>/dev/null
for i in $(seq 100); do
	[ "$(cat "$MNT/bundle.pem" 2>/dev/null)" = "$want_bundle" ] && break
	sleep 0.1
done
check_eq "root writing through bundle.pem: the daemon puts the view back" \
	"$(cat "$MNT/bundle.pem")" "$want_bundle"
check_fails "writing bundle.pem as another user" "Permission denied" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "cat '$CERTS/other.pem' > '$(readlink -f "$MNT/bundle.pem")'"
check_fails "writing certs/" "Read-only file system" cp "$CERTS/other.pem" "$MNT/certs/x.0"
unchanged "read-only views"

# A killed daemon loses nothing that was stored.
pid=$(pgrep -f "trustfs --store $STORE" | head -1)
check "the daemon is running" test -n "$pid"
kill -9 "$pid"
sleep 0.3
check_fails "a killed daemon's mount reports an error" "Transport endpoint is not connected" ls "$MNT/roots"
fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
mount_fs
unchanged "killed daemon"

# A full disk: the store on a tiny file system.  The write fails with
# ENOSPC and what was stored stays readable.
umount_fs
small=$T/small
mkdir -p "$small"
if mount -t tmpfs -o size=600k tmpfs "$small"; then
	STORE=$small/store
	mount_fs
	check "a root fits" cp "$CERTS/root.pem" "$MNT/roots/First.pem"
	full_before=$(state)
	dd if=/dev/zero of="$small/filler" bs=4k 2>/dev/null || true
	"$MKCERT_BIN" --count 400 --out-bundle "$T/many.pem"
	check_fails "import on a full disk" "No space left on device" cp "$T/many.pem" "$MNT/import"
	check_eq "full disk: store unchanged" "$(state)" "$full_before"
	rm -f "$small/filler"
	check "after space is freed, writes work again" cp "$CERTS/other.pem" "$MNT/roots/Second.pem"
	umount_fs
	umount "$small"
else
	not_ok "could not mount a tmpfs for the full-disk test (needs root)"
fi

finish
