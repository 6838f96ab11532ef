#!/bin/bash
# trustctl import SOURCE from the network (issue 12): a bundle over https
# from a server verified by the chain mode (roots/, chains/ for an
# intermediate it did not send, distrust), the Source each root records
# (cat, xattr), the three CAPF errors in OpenSSL's words (missing
# intermediate, wrong name, not yet valid), a distrusted server CA, signed
# bundles (good, forged, a signer that does not verify, certs-only),
# --expect-sha256, --dry-run, --replace (a lost root removed, a renewed
# one replaced, roots added by hand kept), and bad input: unreachable
# host, HTTP 404 and 500, a redirect to another scheme, oversize, a slow
# body, a wrong Content-Type -- each a clear message, exit 1 or 2, and the
# store unchanged.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
command -v script >/dev/null || die "script (util-linux) is missing"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HTTPSD=$SRC_DIR/tests/tools/httpsd.py
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
exit_of() { local rc=0; "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?; cat "$T/stdout" "$T/stderr" >"$T/out"; echo "$rc"; }
gen() { # gen NAME CN [mkcert options]: $CERTS/NAME.pem and .key
	local n=$1 cn=$2; shift 2
	"$MKCERT_BIN" --cn "$cn" "$@" --key-out "$CERTS/$n.key" --out "$CERTS/$n.pem" ||
		die "could not generate $n"
}
PIDS=()
stop_servers() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap 'stop_servers; cleanup' EXIT
# serve NAME DIR [CHAIN KEY]: a server on a port of its own; $PORT_NAME
serve() {
	local n=$1 dir=$2 i
	if [ $# -ge 4 ]; then
		python3 "$HTTPSD" --dir "$dir" --port-file "$T/$n.port" --cert "$3" --key "$4" 2>>"$T/$n.log" &
	else
		python3 "$HTTPSD" --dir "$dir" --port-file "$T/$n.port" 2>>"$T/$n.log" &
	fi
	PIDS+=($!)
	for i in $(seq 100); do [ -s "$T/$n.port" ] && break; sleep 0.05; done
	[ -s "$T/$n.port" ] || die "server $n did not start: $(cat "$T/$n.log")"
	eval "PORT_$n=$(cat "$T/$n.port")"
}
# unchanged DESCRIPTION: the store is as it was at the last snapshot
snap() { state >"$T/state.before"; }
unchanged() { state >"$T/state.after"; check "$1: the store is unchanged" cmp -s "$T/state.before" "$T/state.after"; }

mkcerts
mount_fs
# The server CA: root.pem (in roots/ below) -> int.pem -> leaves.
leaf() { # leaf NAME [mkcert options]: a server certificate issued by int
	local n=$1; shift
	"$MKCERT_BIN" --cn "$n" "$@" --issuer "$CERTS/int.pem" --issuer-key "$CERTS/int.key" \
		--key-out "$CERTS/$n.key" --out "$CERTS/$n.pem" || die "could not generate $n"
}
leaf good --san IP:127.0.0.1 --san DNS:localhost
leaf wrongname --san DNS:server.test
leaf notyet --san IP:127.0.0.1 --days-from 2 --days-to 30
cat "$CERTS/good.pem" "$CERTS/int.pem" >"$CERTS/good.chain"
cat "$CERTS/wrongname.pem" "$CERTS/int.pem" >"$CERTS/wrongname.chain"
cat "$CERTS/notyet.pem" "$CERTS/int.pem" >"$CERTS/notyet.chain"
cp "$CERTS/good.pem" "$CERTS/noint.chain"	# no intermediate presented

# Bundles.
for i in 1 2 3 4 5; do gen ca$i "Net CA $i" --ca; done
gen ca3n "Net CA 3" --ca	# a renewed Net CA 3: same label, new key
W=$T/www; mkdir -p "$W"
cat "$CERTS/ca1.pem" "$CERTS/ca2.pem" "$CERTS/ca3.pem" "$CERTS/ca5.pem" >"$W/v.pem"
echo application/x-pem-file >"$W/v.pem.type"
openssl crl2pkcs7 -nocrl -certfile "$CERTS/ca1.pem" -outform DER -out "$W/one.p7b" || die crl2pkcs7
echo application/pkcs7-mime >"$W/one.p7b.type"
cp "$W/v.pem" "$W/html.pem"; echo "text/html; charset=utf-8" >"$W/html.pem.type"
cp "$W/v.pem" "$W/liar.p7b"; echo application/pkcs7-mime >"$W/liar.p7b.type"
head -c 4096 /dev/urandom >"$W/garbage.bin"
head -c 300 "$W/one.p7b" >"$W/cut.p7b"; echo application/pkcs7-mime >"$W/cut.p7b.type"
# A vendor: Vendor Root -> Bundle Signer, which signs the bundle.
gen vroot "Vendor Root" --ca
"$MKCERT_BIN" --cn "Bundle Signer" --issuer "$CERTS/vroot.pem" --issuer-key "$CERTS/vroot.key" \
	--key-out "$CERTS/signer.key" --out "$CERTS/signer.pem" || die "signer"
openssl cms -sign -binary -nodetach -in "$W/v.pem" -signer "$CERTS/signer.pem" \
	-inkey "$CERTS/signer.key" -outform DER -out "$W/signed.p7m" || die "cms -sign"
echo application/pkcs7-mime >"$W/signed.p7m.type"
# Forged: one character of a certificate in the signed content changed.
python3 - "$W/signed.p7m" "$W/forged.p7m" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.index(b'-----BEGIN CERTIFICATE-----') + 40
d[i] = ord('A') if d[i] != ord('A') else ord('B')
open(sys.argv[2], 'wb').write(d)
EOF
echo application/pkcs7-mime >"$W/forged.p7m.type"

serve good "$W" "$CERTS/good.chain" "$CERTS/good.key"
serve wrongname "$W" "$CERTS/wrongname.chain" "$CERTS/wrongname.key"
serve notyet "$W" "$CERTS/notyet.chain" "$CERTS/notyet.key"
serve noint "$W" "$CERTS/noint.chain" "$CERTS/good.key"
serve plain "$W"
G=https://127.0.0.1:$PORT_good

# 1. Before the server's root is in roots/: not trusted, nothing changed.
snap
check_eq "import from an https server whose root is not in roots/ exits 1" "$(exit_of TC import "$G/files/v.pem")" 1
check "it says so in OpenSSL's words" grep -q "unable to get local issuer certificate" "$T/stderr"
unchanged "an untrusted server"

cp "$CERTS/root.pem" "$MNT/roots/Test_Root_CA.pem" || die "cp root"

# 2. The three CAPF errors, with the root in place.
snap
check_eq "a server that presents no intermediate: exit 1" "$(exit_of TC import "https://127.0.0.1:$PORT_noint/files/v.pem")" 1
check "unable to get local issuer certificate" grep -q "unable to get local issuer certificate" "$T/stderr"
check_eq "a server certificate for another name: exit 1" "$(exit_of TC import "https://localhost:$PORT_wrongname/files/v.pem")" 1
check "hostname mismatch" grep -q "hostname mismatch" "$T/stderr"
check_eq "the same by IP address: exit 1" "$(exit_of TC import "https://127.0.0.1:$PORT_wrongname/files/v.pem")" 1
check "hostname mismatch, for the address" grep -q "hostname mismatch: .* is not valid for 127.0.0.1" "$T/stderr"
check_eq "a server certificate not valid yet: exit 1" "$(exit_of TC import "https://127.0.0.1:$PORT_notyet/files/v.pem")" 1
check "certificate is not yet valid" grep -q "certificate is not yet valid" "$T/stderr"
unchanged "the three refusals"
# As in the chain mode, chains/ supplies the intermediate a server forgot.
cp "$CERTS/int.pem" "$MNT/chains/Test_Int.pem" || die "cp int"
check_eq "the same server, its intermediate in chains/: exit 0" \
	"$(exit_of TC import --dry-run "https://127.0.0.1:$PORT_noint/files/v.pem")" 0
rm "$MNT/chains/Test_Int.pem" || die "rm int"

# 3. A server whose intermediate is distrusted: refused.
cp "$CERTS/int.pem" "$MNT/distrusted/Test_Intermediate_CA.pem" || die "distrust int"
snap
check_eq "a server CA in distrusted/: exit 1" "$(exit_of TC import "$G/files/v.pem")" 1
check "it names the distrusted certificate" grep -q "distrusted/Test_Intermediate_CA.pem" "$T/stderr"
unchanged "a distrusted server CA"
rm "$MNT/distrusted/Test_Intermediate_CA.pem" || die "undistrust"

# 4. --dry-run, then the import, over a verified https server.
cp "$CERTS/ca2.pem" "$MNT/roots/Hand_CA_2.pem" || die "hand ca2"
snap
check_eq "--dry-run exits 0" "$(exit_of TC import --dry-run "$G/files/v.pem")" 0
check "it says it is a dry run" grep -qx "Dry run: nothing was changed." "$T/stdout"
check "it would add three" grep -qx "Added: 3" "$T/stdout"
check "and skip the root added by hand" grep -qx "duplicate roots/Hand_CA_2.pem" "$T/stdout"
unchanged "--dry-run"
check_eq "import over https exits 0" "$(exit_of TC import "$G/files/v.pem")" 0
check "three added" grep -qx "Added: 3" "$T/stdout"
check "roots/Net_CA_1.pem is there" test -f "$MNT/roots/Net_CA_1.pem"
check "cat shows its Source" grep -qx "Source: $G/files/v.pem" "$MNT/roots/Net_CA_1.pem"
check_eq "the xattr gives it" "$(getfattr --only-values -n user.trustfs.source "$MNT/roots/Net_CA_1.pem" 2>/dev/null)" "$G/files/v.pem"
check "a root added by hand has no Source" sh -c "! grep -q '^Source:' '$MNT/roots/Hand_CA_2.pem'"
check "getfattr -d lists the source" sh -c "getfattr -d '$MNT/roots/Net_CA_1.pem' 2>/dev/null | grep -q '^user.trustfs.source='"
check "and none for a root added by hand" sh -c "! getfattr -d '$MNT/roots/Hand_CA_2.pem' 2>/dev/null | grep -q source"
check "cat import shows the report" grep -qx "Added: 3" "$MNT/import"
check "audit.log has the import" grep -q "action=import" "$MNT/audit.log"

# 5. --expect-sha256.
snap
check_eq "--expect-sha256 of a certificate the bundle lacks: exit 1" \
	"$(exit_of TC import --expect-sha256 "$(sha_of "$CERTS/ca4.pem")" "$G/files/v.pem")" 1
check "it names the fingerprint" grep -q "no certificate with SHA-256 $(sha_of "$CERTS/ca4.pem")" "$T/stderr"
unchanged "an absent expected certificate"
check_eq "--expect-sha256 of one it holds (lower case, no colons): exit 0" \
	"$(exit_of TC import --expect-sha256 "$(sha_of "$CERTS/ca1.pem" | tr -d : | tr A-F a-f)" "$G/files/v.pem")" 0
check "all duplicates now" grep -qx "Skipped (duplicate): 4" "$T/stdout"
check_eq "a malformed --expect-sha256: exit 2" "$(exit_of TC import --expect-sha256 12ab "$G/files/v.pem")" 2

# 6. Signed bundles.
snap
check_eq "a forged signature: exit 1" "$(exit_of TC import --signer "$CERTS/vroot.pem" "$G/files/forged.p7m")" 1
check "it says the signature does not verify" grep -q "signature does not verify" "$T/stderr"
unchanged "a forged signature"
check_eq "a signer that did not sign it: exit 1" "$(exit_of TC import --signer "$CERTS/other.pem" "$G/files/signed.p7m")" 1
check "OpenSSL's words" grep -q "unable to get local issuer certificate" "$T/stderr"
check_eq "a certs-only PKCS#7 with --signer: exit 1" "$(exit_of TC import --signer "$CERTS/vroot.pem" "$G/files/one.p7b")" 1
check "it says it is not signed" grep -q "not signed" "$T/stderr"
check_eq "a PEM bundle with --signer: exit 1" "$(exit_of TC import --signer "$CERTS/vroot.pem" "$G/files/v.pem")" 1
unchanged "the refused signed bundles"
rm "$MNT/roots/Net_CA_1.pem" || die "rm ca1"
check_eq "a good signature, chained to the signer given: exit 0" "$(exit_of TC import --signer "$CERTS/vroot.pem" "$G/files/signed.p7m")" 0
check "it added the one root missing" grep -qx "Added: 1" "$T/stdout"
check "the signer itself is not imported" sh -c "! grep -q 'Bundle Signer' '$T/stdout'"
check_eq "the signer certificate itself as --signer: exit 0" "$(exit_of TC import --signer "$CERTS/signer.pem" "$G/files/signed.p7m")" 0

# 7. --replace: v2 lost Net CA 5 and renewed Net CA 3.
cp "$CERTS/ca4.pem" "$MNT/roots/Hand_CA_4.pem" || die "hand ca4"
cat "$CERTS/ca1.pem" "$CERTS/ca3n.pem" >"$W/v.pem"
snap
check_eq "--replace --dry-run exits 0" "$(exit_of TC import --replace --dry-run "$G/files/v.pem")" 0
check "it would remove Net CA 5" grep -qx "removed roots/Net_CA_5.pem" "$T/stdout"
check "it would replace Net CA 3" grep -qx "replaced roots/Net_CA_3.pem" "$T/stdout"
unchanged "--replace --dry-run"
check_eq "--replace exits 0" "$(exit_of TC import --replace "$G/files/v.pem")" 0
check "the report counts one replaced" grep -qx "Replaced: 1" "$T/stdout"
check "and one removed" grep -qx "Removed: 1" "$T/stdout"
check "Net CA 5 is gone" test ! -e "$MNT/roots/Net_CA_5.pem"
check_eq "roots/Net_CA_3.pem holds the renewed root" \
	"$(getfattr --only-values -n user.trustfs.sha256 "$MNT/roots/Net_CA_3.pem" 2>/dev/null)" "$(sha_of "$CERTS/ca3n.pem")"
check "Net CA 2, added by hand, is kept" test -f "$MNT/roots/Hand_CA_2.pem"
check "Net CA 4, added by hand, is kept" test -f "$MNT/roots/Hand_CA_4.pem"
check "the test root, added by hand, is kept" test -f "$MNT/roots/Test_Root_CA.pem"
check "the removal is audited" grep -q "action=remove path=roots/Net_CA_5.pem" "$MNT/audit.log"
check_eq "--replace with standard input: exit 2" "$(exit_of TC import --replace - </dev/null)" 2

# 8. Bad input: each a clear message, the store unchanged.
snap
check_eq "an unreachable host: exit 2" "$(exit_of TC import "https://127.0.0.1:1/x.pem")" 2
check "cannot connect" grep -q "cannot connect" "$T/stderr"
check_eq "HTTP 404: exit 2" "$(exit_of TC import "$G/files/nothing.pem")" 2
check "it says HTTP 404" grep -q "HTTP 404 Not Found" "$T/stderr"
check_eq "HTTP 500: exit 2" "$(exit_of TC import "$G/status/500")" 2
check "it says HTTP 500" grep -q "HTTP 500" "$T/stderr"
check_eq "a redirect from https to http: exit 2" \
	"$(exit_of TC import "$G/redirect?to=http://127.0.0.1:$PORT_plain/files/v.pem")" 2
check "it is refused" grep -q "redirect to http://127.0.0.1:$PORT_plain/files/v.pem refused" "$T/stderr"
check_eq "a redirect within https is followed" "$(exit_of TC import --dry-run "$G/redirect?to=/files/v.pem")" 0
check_eq "a body over 64 MiB: exit 2" "$(exit_of TC import "$G/big?bytes=67108865")" 2
check "it names the limit" grep -q "larger than 67108864 bytes" "$T/stderr"
check_eq "a slow body: exit 2" "$(exit_of TC import --timeout 2 "$G/slow/v.pem")" 2
check "it says the time ran out" grep -q "within 2 seconds" "$T/stderr"
check_eq "an HTML page: exit 1" "$(exit_of TC import "$G/files/html.pem")" 1
check "it names the Content-Type" grep -q "served as text/html" "$T/stderr"
check_eq "PEM served as PKCS#7: exit 1" "$(exit_of TC import "$G/files/liar.p7b")" 1
check "it says the body is not PKCS#7" grep -q "the body is not PKCS#7" "$T/stderr"
check_eq "random bytes as application/octet-stream: exit 2" "$(exit_of TC import "$G/files/garbage.bin")" 2
check "the parser says why, naming the URL" grep -q "^trustctl: $G/files/garbage.bin: " "$T/stderr"
check_eq "a truncated PKCS#7: exit 1" "$(exit_of TC import "$G/files/cut.p7b")" 1
check "it is not PKCS#7 as served" grep -q "the body is not PKCS#7" "$T/stderr"
check_eq "an ftp:// URL is a file name that does not exist: exit 2" "$(exit_of TC import "ftp://127.0.0.1/x")" 2
unchanged "the bad inputs"

# 9. http:// and file:// URLs, a file's Source, progress on a terminal.
check_eq "import over plain http exits 0" "$(exit_of TC import "http://127.0.0.1:$PORT_plain/files/one.p7b")" 0
rm "$MNT/roots/Net_CA_1.pem" || die "rm ca1"
check_eq "a URL with a user and password" "$(exit_of TC import "http://op:s3cret@127.0.0.1:$PORT_plain/files/one.p7b")" 0
check "its Source leaves them out" grep -qx "Source: http://127.0.0.1:$PORT_plain/files/one.p7b" "$MNT/roots/Net_CA_1.pem"
check_eq "a file:// URL" "$(exit_of TC import --dry-run "file://$W/v.pem")" 0
check_eq "--json --replace --dry-run" "$(exit_of TC import --json --replace --dry-run "$G/files/v.pem")" 0
check_eq "JSON: source, dry_run, replaced, removed" \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["source"], j["dry_run"], j["replaced"], j["removed"], j["duplicate"])' "$T/stdout")" \
	"$G/files/v.pem 1 0 0 2"
check_eq "JSON of a plain import has neither replaced nor removed" \
	"$(exit_of TC import --json "$W/one.p7b")" 0
check_eq "JSON keys" "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("replaced" in j, "removed" in j, "dry_run" in j)' "$T/stdout")" \
	"False False False"
rm "$MNT/roots/Net_CA_1.pem" || die "rm ca1"
check_eq "a file path" "$(exit_of TC import "$W/one.p7b")" 0
check "its Source is file://PATH" grep -qx "Source: file://$W/one.p7b" "$MNT/roots/Net_CA_1.pem"
script -qec "$TRUSTCTL_BIN --store $STORE import --dry-run $G/files/v.pem" /dev/null >"$T/tty" 2>&1
check "a terminal shows the fetch's progress" grep -q "bytes fetched" "$T/tty"
check_eq "import --help exits 0" "$(exit_of TC import --help)" 0
check "--help names --signer" grep -q -- "--signer FILE" "$T/stdout"

stop_servers
finish
