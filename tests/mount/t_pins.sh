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
	wait_server
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
check_fails "appending text that holds no certificate is refused" "Invalid argument" \
	bash -c "/bin/echo a note >> '$MNT/pinned/$H'"
check "audited with the reason" grep -q "action=add path=[^ ]*pinned/$H .*refused=" "$MNT/audit.log"
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
check "cp one.pem pinned/H: back to one" cp "$CERTS/ha1.pem" "$MNT/pinned/$H"
check_eq "one is pinned" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 1
openssl x509 -in "$CERTS/ha2.pem" -outform DER -out "$T/ha2.der"
check "append a DER certificate" sh -c "cat '$T/ha2.der' >> '$MNT/pinned/$H'"
check_eq "both are pinned again" "$(grep -c '^SHA256 Fingerprint:' "$MNT/pinned/$H")" 2
check "the DER one" grep -qx "SHA256 Fingerprint: $(fp "$CERTS/ha2.pem")" "$MNT/pinned/$H"
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

# 5. trustctl pin: pre-pin without trusting first (the ssh-keyscan of TLS).
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key"
check_fails "no --yes and no terminal: not pinned" "standard input is not a terminal" \
	TC pin "127.0.0.1:$PORT" </dev/null
TC pin "127.0.0.1:$PORT" </dev/null >/dev/null 2>&1; check_eq "exit status 1" "$?" 1
check "nothing was pinned" test ! -e "$MNT/pinned/$H"
# On a terminal it asks (script(1) gives it one).
on_tty() { printf '%s\n' "$1" | script -qec "'$TRUSTCTL_BIN' --store '$STORE' pin 127.0.0.1:$PORT" /dev/null; }
check_fails "an n on the terminal pins nothing" "trustctl: not pinned" on_tty n
check "it asked" grep -q "Pin this certificate as pinned/$H? \[y/N\]" "$T/out"
check "nothing was pinned" test ! -e "$MNT/pinned/$H"
check "a y on the terminal pins" on_tty y
check "it says so" grep -q "pinned: pinned/$H" "$T/out"
check "pinned" test -f "$MNT/pinned/$H"
rm -f "$MNT/pinned/$H"
check "trustctl pin --yes" TC pin --yes "127.0.0.1:$PORT"
check "it shows the subject" grep -qx 'subject: CN=server.test' "$T/out"
check "the certificate's SHA-256" grep -qx "sha256: $(fp "$CERTS/leaf.pem")" "$T/out"
check "and the key's" grep -qx "key sha256: $(keyfp "$CERTS/leaf.pem")" "$T/out"
check "it says so" grep -qx "pinned: pinned/$H" "$T/out"
check_eq "the pin is the server's certificate" "$(x sha256 "$MNT/pinned/$H")" "$(fp "$CERTS/leaf.pem")"
check "audited with trustctl's name" grep -q "comm=trustctl action=add path=pinned/$H sha256=$(hex "$CERTS/leaf.pem")" "$MNT/audit.log"
check "again: already pinned" TC pin --yes "127.0.0.1:$PORT"
check "nothing written" grep -q '^already pinned' "$T/out"
check "connect matches the pre-pin" TC connect "127.0.0.1:$PORT"
check "as pin-match, not first use" grep -qx 'reason: pin-match' "$T/out"
start_server "$CERTS/ha1.pem" "$CERTS/ha1.key"
check_fails "another certificate: refused without --replace" "holds a different pin" \
	TC pin --yes "127.0.0.1:$PORT"
TC pin --yes "127.0.0.1:$PORT" >/dev/null 2>&1; check_eq "exit status 1" "$?" 1
check_eq "the pin is unchanged" "$(x sha256 "$MNT/pinned/$H")" "$(fp "$CERTS/leaf.pem")"
check "--replace replaces it" TC pin --yes --replace "127.0.0.1:$PORT"
check "it says so" grep -qx "replaced: pinned/$H" "$T/out"
check_eq "the pin is the new certificate" "$(x sha256 "$MNT/pinned/$H")" "$(fp "$CERTS/ha1.pem")"
check "--servername names the pin" TC pin --yes --servername Server.Test "127.0.0.1:$PORT"
check "pinned under the name" test -f "$MNT/pinned/server.test_$PORT"
check_fails "a bad port" "bad port" TC pin --yes "127.0.0.1:99999"
check_fails "no HOST:PORT" "usage" TC pin --yes
check_fails "a hostile --servername" "not a valid host" TC pin --yes --servername '../../etc' "127.0.0.1:$PORT"
check_fails "an empty --servername" "servername is empty" TC pin --yes --servername '' "127.0.0.1:$PORT"
CLOSED=$(free_port)
check_fails "nobody listening" "connect to 127.0.0.1 port $CLOSED" TC pin --yes "127.0.0.1:$CLOSED"
check "pin --help" TC pin --help
check "describes --replace" grep -q -- '--replace' "$T/out"
rm -f "$MNT/pinned/$H" "$MNT/pinned/server.test_$PORT"

# 6. GnuTLS known_hosts, as gnutls-cli --tofu writes it, into key pins.
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | base64 -w0; }
"$MKCERT_BIN" --cn kh.test --key-out "$CERTS/kh.key" --out "$CERTS/kh.pem" || die "mkcert failed"
start_server "$CERTS/kh.pem" "$CERTS/kh.key"
mkdir -p "$T/home"
printf 'y\n' | HOME=$T/home timeout 20 gnutls-cli --tofu -p "$PORT" 127.0.0.1 >"$T/gnutls.log" 2>&1
KH=$T/home/.gnutls/known_hosts
check "gnutls-cli --tofu wrote known_hosts" grep -q "^|g0|127.0.0.1|$PORT|0|" "$KH"
check_eq "its key is the server's" "$(grep "^|g0|127.0.0.1|$PORT|" "$KH" | cut -d'|' -f6)" "$(spki "$CERTS/kh.pem")"
check_eq "Pinned Key SHA256 is GnuTLS's pin-sha256 in hex" \
	"$(sed -n 's/.*pin-sha256="\([^"]*\)".*/\1/p' "$T/gnutls.log" | head -1 | base64 -d | od -An -tx1 | tr -d ' \n' | tr a-f A-F | sed 's/../&:/g; s/:$//')" \
	"$(keyfp "$CERTS/kh.pem")"
check "import-known-hosts" TC import-known-hosts "$KH"
check "added" grep -q "^added  *pinned/$H (line 1: a key pin)" "$T/out"
check "the summary" grep -qx '1 added, 0 skipped (same), 0 refused (different), 0 expired, 0 ignored' "$T/out"
check "ls shows the key pin" test -f "$MNT/pinned/$H"
check "cat shows the key" grep -qx "Pinned Key SHA256: $(keyfp "$CERTS/kh.pem")" "$MNT/pinned/$H"
check "and no certificate yet" grep -q '^Certificate: none yet' "$MNT/pinned/$H"
check "no expiry" grep -qx 'Pin Expires: never' "$MNT/pinned/$H"
check_eq "user.trustfs.key_sha256 of a key pin" "$(x key_sha256 "$MNT/pinned/$H")" "$(keyfp "$CERTS/kh.pem")"
check "audited as pin-key" grep -q "action=pin-key path=pinned/$H" "$MNT/audit.log"
check "trustctl list pinned shows the key pin" TC list pinned
check "as key:SHA256 with no certificate yet" grep -q "^$H  *key:$(keyfp "$CERTS/kh.pem") .*(key pin, no certificate yet)" "$T/out"
check "and in JSON" sh -c "'$TRUSTCTL_BIN' --store '$STORE' list --json pinned | grep -q '\"sha256\": *\"key:'"
check "again: skipped (same)" TC import-known-hosts "$KH"
check "the summary says so" grep -qx '0 added, 1 skipped (same), 0 refused (different), 0 expired, 0 ignored' "$T/out"
check "connect: the key pin is honoured" TC connect "127.0.0.1:$PORT"
check "as the pin" grep -qx 'reason: pin-match' "$T/out"
check "its certificate is stored" grep -q '^message: matches the key pin .*certificate is now stored' "$T/out"
check_eq "the pin holds the certificate now" "$(x sha256 "$MNT/pinned/$H")" "$(fp "$CERTS/kh.pem")"
check "audited as fill" grep -q "action=fill path=pinned/$H sha256=$(hex "$CERTS/kh.pem")" "$MNT/audit.log"
check "gnutls-cli agrees: it trusts the same key" sh -c "printf '' | HOME='$T/home' timeout 20 gnutls-cli --tofu -p '$PORT' 127.0.0.1 >'$T/gnutls2.log' 2>&1"
start_server "$CERTS/ha2.pem" "$CERTS/ha2.key"
check_fails "another key is refused" "different from what was used earlier" TC connect "127.0.0.1:$PORT"
printf '|g0|127.0.0.1|%s|0|%s\n' "$PORT" "$(spki "$CERTS/ha2.pem")" >"$T/other.kh"
check_fails "a line for the host with another key is refused" "refused *pinned/$H" \
	TC import-known-hosts "$T/other.kh"
TC import-known-hosts "$T/other.kh" >/dev/null 2>&1; check_eq "exit status 1" "$?" 1
check "the summary counts it" grep -qx '0 added, 0 skipped (same), 1 refused (different), 0 expired, 0 ignored' "$T/out"
check_eq "the pin is unchanged" "$(x sha256 "$MNT/pinned/$H")" "$(fp "$CERTS/kh.pem")"
NOW=$(date +%s)
{
	printf '# a comment\n\n'
	printf '|g0|expired.test|443|1000|%s\n' "$(spki "$CERTS/ha1.pem")"
	printf '|g0|future.test|443|%s|%s\n' $((NOW + 86400)) "$(spki "$CERTS/ha1.pem")"
	printf '|g0|IPv6.Test|8443|0|%s\n' "$(spki "$CERTS/ha1.pem")"
	printf '|g0|2001:DB8:0::1|443|0|%s\n' "$(spki "$CERTS/ha1.pem")"
	printf '|c0|h.test|443|0|2|AAAA\n'
	printf '|g0|*|*|0|%s\n' "$(spki "$CERTS/ha1.pem")"
} >"$T/mixed.kh"
check "a file of every kind of line" TC import-known-hosts "$T/mixed.kh"
check "the summary" grep -qx '3 added, 0 skipped (same), 0 refused (different), 1 expired, 2 ignored' "$T/out"
check "an expired line is reported" grep -q '^expired  *pinned/expired.test_443' "$T/out"
check "a commitment is ignored, and says why" grep -q 'ignored.*line 7: a commitment' "$T/out"
check "a wildcard is ignored, and says why" grep -q 'ignored.*line 8: a wildcard' "$T/out"
check "an expired line is not imported" test ! -e "$MNT/pinned/expired.test_443"
check "an expiration is kept" grep -qx "Pin Expires: $(date -u -d @$((NOW + 86400)) '+%Y-%m-%d %H:%M:%S UTC')" "$MNT/pinned/future.test_443"
check "names are normalized" test -f "$MNT/pinned/ipv6.test_8443"
check "IPv6 compressed" test -f "$MNT/pinned/2001:db8::1_443"

# 7. Bad known_hosts input: a clear error, nothing imported, nothing lost.
BEFORE=$(ls "$MNT/pinned" | sort | tr '\n' ' ')
bad_kh() { # bad_kh DESCRIPTION WANT LINE...
	local d=$1 want=$2; shift 2
	printf '|g0|good.test|443|0|%s\n' "$(spki "$CERTS/ha1.pem")" >"$T/bad.kh"
	printf '%s\n' "$@" >>"$T/bad.kh"
	check_fails "$d" "$want" TC import-known-hosts "$T/bad.kh"
	TC import-known-hosts "$T/bad.kh" >/dev/null 2>&1
	check_eq "$d: exit status 2" "$?" 2
}
K=$(spki "$CERTS/ha1.pem")
bad_kh "a host name with a slash" "bad.kh:2: bad host name '../../etc'" "|g0|../../etc|443|0|$K"
bad_kh "a host name with a space" "bad host name" "|g0|a b|443|0|$K"
bad_kh "a control character" "bad host name" "|g0|$(printf 'a\033b')|443|0|$K"
bad_kh "an empty host" "bad host name" "|g0||443|0|$K"
bad_kh "a 300-byte host" "bad host name" "|g0|$(head -c 300 /dev/zero | tr '\0' a)|443|0|$K"
bad_kh "port 0" "bad port '0'" "|g0|h.test|0|0|$K"
bad_kh "a named port" "bad port 'https'" "|g0|h.test|https|0|$K"
bad_kh "a negative expiration" "bad expiration '-5'" "|g0|h.test|443|-5|$K"
bad_kh "not base64" "not base64" "|g0|h.test|443|0|!!!!"
bad_kh "not a key" "not a DER SubjectPublicKeyInfo" "|g0|h.test|443|0|AAAA"
bad_kh "a certificate, not a key" "bytes after\|not a DER" "|g0|h.test|443|0|$(openssl x509 -in "$CERTS/ha1.pem" -outform DER | base64 -w0)"
bad_kh "too many fields" "not a known_hosts line" "|g0|h.test|443|0|$K|extra"
bad_kh "too few fields" "not a known_hosts line" "|g0|h.test|443|$K"
bad_kh "an ssh known_hosts line" "not a known_hosts line" "host.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"
bad_kh "a very long line" "line too long" "$(head -c 70000 /dev/zero | tr '\0' A)"
head -c 4096 /dev/urandom >"$T/garbage.kh"
check_fails "garbage" "nothing imported" TC import-known-hosts "$T/garbage.kh"
check_fails "a missing file" "No such file" TC import-known-hosts "$T/nonexistent"
check_fails "no file given" "usage" TC import-known-hosts
check_eq "nothing was imported by any of them" "$(ls "$MNT/pinned" | sort | tr '\n' ' ')" "$BEFORE"
check "an empty file imports nothing, fine" TC import-known-hosts /dev/null
check "says so" grep -qx '0 added, 0 skipped (same), 0 refused (different), 0 expired, 0 ignored' "$T/out"
check "standard input" sh -c "printf '|g0|stdin.test|443|0|$K\n' | '$TRUSTCTL_BIN' --store '$STORE' import-known-hosts -"
check "pinned" test -f "$MNT/pinned/stdin.test_443"
check "import-known-hosts --help" TC import-known-hosts --help
check "unpin --help" TC unpin --help
check "a key pin can be unpinned by its key" TC unpin stdin.test_443 "$(keyfp "$CERTS/ha1.pem")"
check "gone" test ! -e "$MNT/pinned/stdin.test_443"

umount_fs
finish
