#!/bin/bash
# Pins beyond one certificate per host (issue 14), against real openssl
# s_server instances on 127.0.0.1 with the mount running: key pins
# (pin=key) and renewals, several certificates per pin, appending with
# `>>', trustctl pin / unpin, and GnuTLS known_hosts written by
# `gnutls-cli --tofu' imported and then honoured.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
mkcerts
mount_fs
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PORT=$(free_port)
SERVER=
start_server() { # start_server CERT KEY
	stop_server
	openssl s_server -accept "127.0.0.1:$PORT" -cert "$1" -key "$2" \
		-quiet -naccept 1000 </dev/null >>"$T/server.log" 2>&1 &
	SERVER=$!
	local i
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	die "openssl s_server did not start: $(tail -3 "$T/server.log")"
}
stop_server() {
	if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; fi
	SERVER=
}
trap 'stop_server; cleanup' EXIT
H=127.0.0.1_$PORT

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
hex() { fp "$1" | tr -d : | tr A-F a-f; }
# The key's SHA-256 as trustfs shows it: of the DER SubjectPublicKeyInfo.
keyfp() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		sha256sum | cut -c1-64 | tr a-f A-F | sed 's/../&:/g; s/:$//'
}
# renew CERT_OUT KEY SERIAL: a new certificate for server.test with an
# existing key, as an ACME client's renewal keeps it.
renew() {
	printf 'subjectAltName=DNS:server.test,IP:127.0.0.1\n' >"$T/san.ext"
	openssl req -new -key "$2" -subj /CN=server.test 2>/dev/null |
		openssl x509 -req -CA "$CERTS/int.pem" -CAkey "$CERTS/int.key" \
			-set_serial "$3" -days 30 -extfile "$T/san.ext" -out "$1" 2>/dev/null ||
		die "could not renew a certificate"
}
x() { getfattr --only-values -n "user.trustfs.$1" "$2" 2>/dev/null; }

# 1. pin=key: a renewal with the same key is trusted, stored and audited.
printf '127.0.0.1_%s tofu pin=key\n* tofu\n' "$PORT" >"$MNT/policy" ||
	not_ok "the policy takes pin=key"
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key"
check "first use pins the certificate" TC connect "127.0.0.1:$PORT"
check "cat shows the pinned key" grep -qx "Pinned Key SHA256: $(keyfp "$CERTS/leaf.pem")" "$MNT/pinned/$H"
check_eq "user.trustfs.key_sha256" "$(x key_sha256 "$MNT/pinned/$H")" "$(keyfp "$CERTS/leaf.pem")"
renew "$CERTS/renew1.pem" "$CERTS/leaf.key" 4001
start_server "$CERTS/renew1.pem" "$CERTS/leaf.key"
check "pin=key: the renewal is trusted" TC connect "127.0.0.1:$PORT"
check "as the pin" grep -qx 'reason: pin-match' "$T/out"
check "the verdict says it was renewed" grep -q '^message: matches the pinned key of pinned/.*renewed' "$T/out"
check_eq "the stored certificate is the new one" "$(x sha256 "$MNT/pinned/$H")" "$(fp "$CERTS/renew1.pem")"
check "audited as renew, old and new SHA-256" grep -q "action=renew path=pinned/$H sha256=$(hex "$CERTS/renew1.pem") old_sha256=$(hex "$CERTS/leaf.pem")" "$MNT/audit.log"
check "the sightings go on" grep -qx 'Seen Count: 2' "$MNT/pinned/$H"
check "nothing in rejected/" test ! -e "$MNT/rejected/$H"
check "again: a plain match" TC connect "127.0.0.1:$PORT"
check "reason pin-match" grep -q '^message: matches the pin pinned/' "$T/out"

# 2. pin=cert (the default): the same renewal is a mismatch.
printf '* tofu\n' >"$MNT/policy" || not_ok "the policy saves"
renew "$CERTS/renew2.pem" "$CERTS/leaf.key" 4002
start_server "$CERTS/renew2.pem" "$CERTS/leaf.key"
check_fails "pin=cert: the renewal is refused" "different from what was used earlier" \
	TC connect "127.0.0.1:$PORT"
check "recorded in rejected/" test -f "$MNT/rejected/$H"
check_eq "the pin is unchanged" "$(x sha256 "$MNT/pinned/$H")" "$(fp "$CERTS/renew1.pem")"
check_fails "a bad pin= value is refused at save" "Invalid argument" \
	bash -c "printf '* tofu pin=spki\n' >'$MNT/policy'"
check "and logged with its line" grep -q "bad%20value%20'spki'%20for%20pin" "$MNT/audit.log"

# 3. cat rejected/H >> pinned/H keeps the old certificate and adds the new.
check "append the rejected certificate to the pin" sh -c "cat '$MNT/rejected/$H' >> '$MNT/pinned/$H'"
check_eq "the pin holds both" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 2
check "the old one" grep -qx "SHA256 Fingerprint: $(fp "$CERTS/renew1.pem")" "$MNT/pinned/$H"
check "the new one" grep -qx "SHA256 Fingerprint: $(fp "$CERTS/renew2.pem")" "$MNT/pinned/$H"
check "rejected/ is cleared" test ! -e "$MNT/rejected/$H"
check "each has its own fields" test "$(grep -c '^Seen Count: ' "$MNT/pinned/$H")" = 2
check "the sightings stay" grep -qx 'Seen Count: [23]' "$MNT/pinned/$H"
check "the new certificate is trusted" TC connect "127.0.0.1:$PORT"
check "as the pin" grep -qx 'reason: pin-match' "$T/out"
start_server "$CERTS/renew1.pem" "$CERTS/leaf.key"
check "and so is the old one" TC connect "127.0.0.1:$PORT"
check "as the pin" grep -qx 'reason: pin-match' "$T/out"
check "appending text changes nothing (text around PEM is ignored)" sh -c "echo a note >> '$MNT/pinned/$H'"
check_eq "the pin is unchanged" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 2
check_fails "appending a broken PEM block is refused" "Invalid argument" \
	bash -c "printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' >> '$MNT/pinned/$H'"
check_eq "and the pin is unchanged" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 2
check_fails "appending a chain is refused" "Invalid argument" \
	sh -c "cat '$CERTS/int.pem' >> '$MNT/pinned/$H'"
check_eq "the pin is still the two" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 2

# 4. Two certificates for one host (an HA pair): cp two.pem pins both.
"$MKCERT_BIN" --cn server.test --san DNS:server.test --san IP:127.0.0.1 \
	--key-out "$CERTS/ha1.key" --out "$CERTS/ha1.pem" &&
"$MKCERT_BIN" --cn server.test --san DNS:server.test --san IP:127.0.0.1 \
	--key-out "$CERTS/ha2.key" --out "$CERTS/ha2.pem" || die "mkcert failed"
cat "$CERTS/ha1.pem" "$CERTS/ha2.pem" >"$T/two.pem"
check "cp two.pem pinned/H" cp "$T/two.pem" "$MNT/pinned/$H"
check_eq "both are pinned" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 2
for n in 1 2; do
	start_server "$CERTS/ha$n.pem" "$CERTS/ha$n.key"
	check "HA node $n is trusted" TC connect "127.0.0.1:$PORT"
	check "node $n: pin-match" grep -qx 'reason: pin-match' "$T/out"
done
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key"
check_fails "a third certificate is refused" "different from what was used earlier" \
	TC connect "127.0.0.1:$PORT"
check "the same certificate twice is stored once" sh -c "cat '$CERTS/ha1.pem' '$CERTS/ha1.pem' > '$MNT/pinned/dup_1'"
check_eq "once" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/dup_1")" 1

# trustctl unpin rewrites the pin without one certificate.
check "unpin HA node 1" TC unpin "$H" "$(fp "$CERTS/ha1.pem")"
check_eq "one left" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 1
check "node 2's" grep -qx "SHA256 Fingerprint: $(fp "$CERTS/ha2.pem")" "$MNT/pinned/$H"
check "audited as unpin" grep -q "action=unpin path=pinned/$H sha256=$(hex "$CERTS/ha1.pem")" "$MNT/audit.log"
check_fails "unpin of a certificate it does not hold" "holds no certificate" \
	TC unpin "$H" "$(fp "$CERTS/ha1.pem")"
check_fails "unpin with a bad SHA-256" "SHA-256" TC unpin "$H" nothex
check_fails "unpin of a hostile name" "HOST_PORT" TC unpin "../../etc_1" "$(fp "$CERTS/ha1.pem")"
check "unpin of the last one removes the pin" TC unpin "$H" "$(fp "$CERTS/ha2.pem")"
check "gone" test ! -e "$MNT/pinned/$H"

umount_fs
finish
