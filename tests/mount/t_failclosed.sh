#!/bin/bash
# Fail closed (issue 8, defects 1, 4, 7 and 12), end to end with the mount
# running: a policy pattern with capitals governs its hosts, an empty host
# is a usage error and never a skipped name check, a certificate with an
# empty subject shows like any other, and a root lives under one name.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
mkcerts
mount_fs
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
cat "$CERTS/leaf.pem" "$CERTS/int.pem" >"$CERTS/chain.pem"

# --- defect 4: an empty host is a usage error --------------------------
check "the test root goes to roots/" cp "$CERTS/root.pem" "$MNT/roots/Test_Root.pem"
check "verify --host server.test: trusted" TC verify --host server.test "$CERTS/chain.pem"
rc=0; TC verify --host "" "$CERTS/chain.pem" >"$T/out" 2>&1 || rc=$?
check_eq "verify --host '': exit status 2" "$rc" 2
check "verify --host '' says why" grep -q "trustctl: .*empty" "$T/out"
check "verify --host '' prints no verdict" sh -c "! grep -q '^trusted' '$T/out'"
rc=0; TC verify --host wrong.test "$CERTS/chain.pem" >"$T/out" 2>&1 || rc=$?
check_eq "verify --host wrong.test: not trusted (exit 1)" "$rc" 1
check "the name was checked" grep -qx 'reason: name-mismatch' "$T/out"

# --- defect 1: patterns match whatever the case -------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVER=
stop_server() {
	if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; fi
	SERVER=
}
trap 'stop_server; cleanup' EXIT
# Self-signed, for a host under lab.example: chain mode must refuse it,
# tofu would pin it.
"$MKCERT_BIN" --cn host.lab.example --san DNS:host.lab.example \
	--key-out "$CERTS/lab.key" --out "$CERTS/lab.pem" || die "mkcert failed"
openssl s_server -accept "127.0.0.1:$PORT" -cert "$CERTS/lab.pem" \
	-key "$CERTS/lab.key" -quiet -naccept 100 </dev/null >>"$T/server.log" 2>&1 &
SERVER=$!
up=0
for i in $(seq 50); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then up=1; break; fi
	sleep 0.1
done
[ $up -eq 1 ] || die "openssl s_server did not start: $(tail -3 "$T/server.log")"
check "a policy with capitals is saved" sh -c "printf '*.Lab.Example_* chain\n* tofu\n' >'$MNT/policy'"
rc=0; TC connect "127.0.0.1:$PORT" --servername host.lab.example >"$T/out" 2>&1 || rc=$?
check_eq "*.Lab.Example_* governs host.lab.example: refused (exit 1)" "$rc" 1
check "the mode that applied is chain" grep -qx 'mode: chain' "$T/out"
check "nothing was pinned" test ! -e "$MNT/pinned/host.lab.example_$PORT"
stop_server

# --- defect 7: a certificate with an empty subject ----------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/" \
	-keyout "$CERTS/empty.key" -out "$CERTS/empty.pem" -days 30 2>>"$T/openssl.log" ||
	die "openssl could not make an empty-subject certificate"
check "an empty-subject certificate can be pinned" cp "$CERTS/empty.pem" "$MNT/pinned/empty.test_443"
check "stat works on it" stat "$MNT/pinned/empty.test_443"
check "cat shows an empty Subject line" grep -qx 'Subject: ' "$MNT/pinned/empty.test_443"
check "and an empty Issuer line" grep -qx 'Issuer: ' "$MNT/pinned/empty.test_443"
check "getfattr user.trustfs.subject works on it" \
	getfattr --absolute-names --only-values -n user.trustfs.subject "$MNT/pinned/empty.test_443"
check_eq "user.trustfs.subject is empty" "$(cat "$T/out")" ""
check "the daemon is still up" mountpoint -q "$MNT"

# --- defect 12: a root lives under one name -----------------------------
check "Other Root goes to roots/Other.pem" cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
check_fails "cp of Other Root over roots/Test_Root.pem is refused" "File exists" \
	cp "$CERTS/other.pem" "$MNT/roots/Test_Root.pem"
check "roots/Test_Root.pem still holds the test root" grep -q '^Subject: CN=Test Root CA' "$MNT/roots/Test_Root.pem"
check "the refusal is in audit.log, naming roots/Other.pem" \
	grep -q 'path=roots/Test_Root.pem .*refused=.*roots/Other.pem' "$MNT/audit.log"
check_fails "cp of a known root to a new name is refused" "File exists" \
	cp "$CERTS/other.pem" "$MNT/roots/Again.pem"
check "no roots/Again.pem" test ! -e "$MNT/roots/Again.pem"
check "that refusal is audited too" grep -q 'path=roots/Again.pem .*refused=.*roots/Other.pem' "$MNT/audit.log"
check "cp into a temporary name works" cp "$CERTS/other.pem" "$MNT/roots/.tmp.pem"
check_fails "renaming it over roots/Test_Root.pem is refused" "File exists" \
	mv "$MNT/roots/.tmp.pem" "$MNT/roots/Test_Root.pem"
check "roots/Test_Root.pem still holds the test root after the rename" \
	grep -q '^Subject: CN=Test Root CA' "$MNT/roots/Test_Root.pem"
rm -f "$MNT/roots/.tmp.pem"
check "the same root under its own name again: unchanged, success" \
	cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
check_eq "roots/ holds two entries" "$(ls "$MNT/roots" | wc -l)" 2
check "the same certificate may be pinned for two hosts" \
	sh -c "cp '$CERTS/leaf.pem' '$MNT/pinned/a.test_443' && cp '$CERTS/leaf.pem' '$MNT/pinned/b.test_443'"

umount_fs
finish
