#!/bin/bash
# The Prime Infrastructure incident end to end (issue: libtrustfs and
# trustctl): TOFU pins against a real openssl s_server on 127.0.0.1, with the
# mount running, then the chain errors of the CAPF incident.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
mkcerts
mount_fs
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVER=
start_server() { # start_server CERT KEY [CHAIN]
	stop_server
	openssl s_server -accept "127.0.0.1:$PORT" -cert "$1" -key "$2" \
		${3:+-cert_chain "$3"} ${S_OPTS:-} -quiet -naccept 1000 </dev/null >>"$T/server.log" 2>&1 &
	SERVER=$!
	wait_server
}
trap 'stop_server; cleanup' EXIT
H=127.0.0.1_$PORT

# 1. The first connection is pinned, and shows in the mount at once.
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key"
check "first connection is trusted" TC connect "127.0.0.1:$PORT"
check "it was a first use" grep -qx 'reason: first-use' "$T/out"
check "the verdict names the subject" grep -qx 'subject: CN=server.test' "$T/out"
check "the verdict shows the SHA-256" grep -q '^sha256: [0-9A-F:]\{95\}$' "$T/out"
check "ls pinned/ shows the pin at once" test -f "$MNT/pinned/$H"
check "the pin has a first-seen time" grep -q '^First Seen: 20' "$MNT/pinned/$H"
check "again: matches the pin" TC connect "127.0.0.1:$PORT"
check "reason pin-match" grep -qx 'reason: pin-match' "$T/out"
check "TLS 1.3 by default" grep -q 'TLSv1.3' "$T/out"

# 2. The server gets a regenerated certificate with the same subject.
"$MKCERT_BIN" --cn server.test --san DNS:server.test --san IP:127.0.0.1 \
	--issuer "$CERTS/int.pem" --issuer-key "$CERTS/int.key" \
	--key-out "$CERTS/new.key" --out "$CERTS/new.pem"
start_server "$CERTS/new.pem" "$CERTS/new.key"
check_fails "a regenerated certificate is refused" \
	"Current certificate of the remote host is different from what was used earlier - CN=server.test" \
	TC connect "127.0.0.1:$PORT"
TC connect "127.0.0.1:$PORT" >/dev/null; check_eq "exit status 1 when refused" "$?" "1"

# 3. rejected/ shows the new certificate.
check "rejected/ holds it" test -f "$MNT/rejected/$H"
check_eq "rejected/ has the new certificate" \
	"$(getfattr --only-values -n user.trustfs.sha256 "$MNT/rejected/$H")" \
	"$(openssl x509 -in "$CERTS/new.pem" -noout -fingerprint -sha256 | cut -d= -f2)"
check "rejected/ names the pin it did not match" grep -q "^Pinned SHA256 Fingerprint: $(openssl x509 -in "$CERTS/leaf.pem" -noout -fingerprint -sha256 | cut -d= -f2)" "$MNT/rejected/$H"

# rm of a rejected/ entry discards it; the next mismatch records it again.
check "rm rejected/ discards it" rm "$MNT/rejected/$H"
check "gone" test ! -e "$MNT/rejected/$H"
check_fails "still refused" "different from what was used earlier" TC connect "127.0.0.1:$PORT"
check "recorded again" test -f "$MNT/rejected/$H"

# 4. mv accepts it.
check "mv rejected/ pinned/ accepts it" mv "$MNT/rejected/$H" "$MNT/pinned/$H"
check "rejected/ is empty" test -z "$(ls "$MNT/rejected")"
check "the new certificate is trusted" TC connect "127.0.0.1:$PORT"
check "as the pin" grep -qx 'reason: pin-match' "$T/out"

# TLS 1.2 works as well as 1.3.
S_OPTS=-tls1_2 start_server "$CERTS/new.pem" "$CERTS/new.key"
check "TLS 1.2 handshake" TC connect "127.0.0.1:$PORT"
check "reports TLSv1.2" grep -q 'TLSv1.2' "$T/out"
start_server "$CERTS/new.pem" "$CERTS/new.key"

# 5. rm of the pin: the next connection pins afresh.
check "rm the pin (deletecert)" rm "$MNT/pinned/$H"
check "the next connection pins afresh" TC connect "127.0.0.1:$PORT"
check "first use again" grep -qx 'reason: first-use' "$T/out"

# 6. pinned mode refuses unknown hosts; the policy reads back.
check "save a policy" sh -c "printf '# lab\n127.0.0.1_* pinned\n*  tofu\n' > '$MNT/policy'"
check "policy reads back" grep -qx '127.0.0.1_\* pinned' "$MNT/policy"
check "a pinned host is still trusted" TC connect "127.0.0.1:$PORT"
rm "$MNT/pinned/$H"
check_fails "pinned mode refuses an unknown host" "reason: no-pin" TC connect "127.0.0.1:$PORT"
check "and pins nothing" test ! -e "$MNT/pinned/$H"
printf '* tofu\n* bogus\n' >"$T/bad.policy"
check_fails "an invalid policy is refused" "Invalid argument" cp "$T/bad.policy" "$MNT/policy"
check "the old policy stays" grep -qx '127.0.0.1_\* pinned' "$MNT/policy"
check "sed -i edits the policy (temporary file + rename)" sed -i 's/^127.0.0.1_\* pinned$/127.0.0.1_* pinned   # edited/' "$MNT/policy"
check "the edit is saved" grep -qx '127.0.0.1_\* pinned   # edited' "$MNT/policy"
check "no temporary left at the top" test -z "$(ls -A "$MNT" | grep '^sed\|^\.')"
printf '* bogus\n' >"$T/bad2"
check_fails "sed -i that breaks the policy is refused" "Invalid argument" sed -i 's/pinned   # edited/bogus/' "$MNT/policy"
check "the policy stays" grep -qx '127.0.0.1_\* pinned   # edited' "$MNT/policy"
rm -f "$MNT"/sed* 2>/dev/null
check "audit.log names the line" grep -q "line%202:%20unknown%20mode%20'bogus'" "$MNT/audit.log"

# 7. chain mode: an unknown root, then cp root.pem roots/.
printf '* chain\n' >"$MNT/policy"
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key" "$CERTS/int.pem"
check_fails "chain mode: unknown root" "unable to get local issuer certificate" \
	TC connect "127.0.0.1:$PORT" --servername server.test
check "cp root.pem roots/" cp "$CERTS/root.pem" "$MNT/roots/"
check "chain mode: trusted after the root is added" TC connect "127.0.0.1:$PORT" --servername server.test
check "reason chain-ok" grep -qx 'reason: chain-ok' "$T/out"
check "rm of the root takes effect on the next handshake" rm "$MNT/roots/root.pem"
check_fails "refused again" "unable to get local issuer certificate" TC connect "127.0.0.1:$PORT" --servername server.test
cp "$CERTS/root.pem" "$MNT/roots/Root.pem"

# 8. The CAPF errors: wrong name, expired, not yet valid, missing intermediate.
check_fails "a wrong name" "hostname mismatch" TC connect "127.0.0.1:$PORT" --servername wrong.test
check "an IP literal is checked against IP SANs" TC connect "127.0.0.1:$PORT"
"$MKCERT_BIN" --cn server.test --san DNS:server.test --days-from -30 --days-to -1 \
	--issuer "$CERTS/int.pem" --issuer-key "$CERTS/int.key" --key-out "$CERTS/exp.key" --out "$CERTS/exp.pem"
start_server "$CERTS/exp.pem" "$CERTS/exp.key" "$CERTS/int.pem"
check_fails "an expired leaf" "certificate has expired" TC connect "127.0.0.1:$PORT" --servername server.test
"$MKCERT_BIN" --cn server.test --san DNS:server.test --days-from 10 --days-to 100 \
	--issuer "$CERTS/int.pem" --issuer-key "$CERTS/int.key" --key-out "$CERTS/nyv.key" --out "$CERTS/nyv.pem"
start_server "$CERTS/nyv.pem" "$CERTS/nyv.key" "$CERTS/int.pem"
check_fails "a not-yet-valid leaf" "certificate is not yet valid" TC connect "127.0.0.1:$PORT" --servername server.test
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key"
check_fails "the server omits its intermediate" "unable to get local issuer certificate" \
	TC connect "127.0.0.1:$PORT" --servername server.test
check "cp the intermediate into chains/" cp "$CERTS/int.pem" "$MNT/chains/int.pem"
check "the intermediate comes from chains/" TC connect "127.0.0.1:$PORT" --servername server.test
check "chain-ok" grep -qx 'reason: chain-ok' "$T/out"

# chain-or-tofu falls back to a pin.
printf '* chain-or-tofu\n' >"$MNT/policy"
check_fails "chain-or-tofu: chain fails, tofu pins" "reason: first-use" \
	sh -c "'$TRUSTCTL_BIN' --store '$STORE' connect 127.0.0.1:$PORT --servername other.test; exit 1"

# Offline verify, and a distrusted intermediate.
cat "$CERTS/leaf.pem" "$CERTS/int.pem" >"$T/chain.pem"
check "trustctl verify" TC verify --host server.test "$T/chain.pem"
check_fails "verify: wrong host" "hostname mismatch" TC verify --host nope.test "$T/chain.pem"
check "distrust the intermediate" cp "$CERTS/int.pem" "$MNT/distrusted/int.pem"
check_fails "a path through a distrusted intermediate is refused" "reason: distrusted" \
	TC verify --host server.test "$T/chain.pem"
check_fails "usage error exits 2" "usage" TC frobnicate
TC frobnicate 2>/dev/null; check_eq "exit status 2 on usage" "$?" "2"

stop_server
finish
