#!/bin/bash
# The trustpool's life cycle on real data: the IOS-XR incident (QuoVadis
# Root CA 2 retired, IdenTrust Commercial Root CA 1 added), imports, and the
# clients that read bundle.pem and certs/.
. "$(dirname "$0")/lib.sh"
mkcerts
mount_fs
SYS=/etc/ssl/certs/ca-certificates.crt
[ -s "$SYS" ] || die "no system bundle at $SYS (ca-certificates)"
fingerprints() { # the sorted SHA-256 set of a PEM bundle
	python3 - "$1" <<'PY'
import ssl, sys, hashlib, re
pem = open(sys.argv[1]).read()
for b in sorted(hashlib.sha256(ssl.PEM_cert_to_DER_cert(m)).hexdigest()
                for m in re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.S)):
    print(b)
PY
}
nsys=$(grep -c 'BEGIN CERTIFICATE' "$SYS")

# ios.p7b, built now from this machine's bundle, imported.
openssl crl2pkcs7 -nocrl -certfile "$SYS" -outform DER -out "$T/ios.p7b"
check "cp ios.p7b import" cp "$T/ios.p7b" "$MNT/import"
check_eq "roots/ has one file per certificate" "$(ls "$MNT/roots" | wc -l)" "$nsys"
check "import reports what it added" grep -qx "Added: $nsys" "$MNT/import"
check_eq "bundle.pem has the system bundle's fingerprints" \
	"$(fingerprints "$MNT/bundle.pem" | sha256sum)" "$(fingerprints "$SYS" | sha256sum)"
check "labels come from the subject" test -f "$MNT/roots/QuoVadis_Root_CA_2.pem"
before=$(state)
check "re-import" cp "$T/ios.p7b" "$MNT/import"
check "re-import skips every duplicate" grep -qx "Skipped (duplicate): $nsys" "$MNT/import"
check "re-import adds nothing" grep -qx "Added: 0" "$MNT/import"
check_eq "re-import changes nothing" "$(state)" "$before"
check "import the PEM form" cp "$SYS" "$MNT/import"
check_eq "the PEM form changes nothing" "$(state)" "$before"
openssl crl2pkcs7 -nocrl -certfile "$SYS" -out "$T/ios.p7b.pem"
check "import PKCS#7 in PEM" cp "$T/ios.p7b.pem" "$MNT/import"
check_eq "PKCS#7 PEM changes nothing" "$(state)" "$before"

# Decommission QuoVadis Root CA 2.
qv_hash=$(openssl x509 -in "$MNT/roots/QuoVadis_Root_CA_2.pem" -noout -hash)
qv_fp=$(getfattr --only-values -n user.trustfs.sha256 "$MNT/roots/QuoVadis_Root_CA_2.pem")
check "mv roots/QuoVadis_Root_CA_2.pem distrusted/" mv "$MNT/roots/QuoVadis_Root_CA_2.pem" "$MNT/distrusted/"
check "it is in distrusted/" test -f "$MNT/distrusted/QuoVadis_Root_CA_2.pem"
check_eq "it left bundle.pem (fingerprints)" "$(fingerprints "$MNT/bundle.pem" | grep -ci "$(echo "$qv_fp" | tr -d ':' )")" "0"
check_eq "bundle.pem has one root fewer" "$(grep -c 'BEGIN CERTIFICATE' "$MNT/bundle.pem")" "$((nsys - 1))"
check "it left certs/" sh -c "! ls '$MNT/certs' | grep -q '^$qv_hash\.'"
check "re-import" cp "$T/ios.p7b" "$MNT/import"
check "re-import reports it distrusted" grep -qx "Skipped (distrusted): 1" "$MNT/import"
check "it stays out of roots/" test ! -e "$MNT/roots/QuoVadis_Root_CA_2.pem"
check_eq "and out of bundle.pem" "$(grep -c 'BEGIN CERTIFICATE' "$MNT/bundle.pem")" "$((nsys - 1))"
check_fails "cp into roots/ is refused too" "Invalid argument" cp /etc/ssl/certs/QuoVadis_Root_CA_2.pem "$MNT/roots/QV.pem"

# Paste the seed's IdenTrust PEM (prose around it) into roots/.
rm -f "$MNT/roots/IdenTrust_Commercial_Root_CA_1.pem"
check "paste the IdenTrust PEM" sh -c "cat '$TESTDATA/identrust-commercial-root-ca-1.pem' > '$MNT/roots/IdenTrust_Commercial_Root_CA_1.pem'"
check "IdenTrust is in bundle.pem" sh -c "openssl verify -CAfile '$MNT/bundle.pem' /etc/ssl/certs/IdenTrust_Commercial_Root_CA_1.pem"
check "IdenTrust is in certs/" openssl verify -CApath "$MNT/certs" /etc/ssl/certs/IdenTrust_Commercial_Root_CA_1.pem
check "rm distrusted/ lifts the block" rm "$MNT/distrusted/QuoVadis_Root_CA_2.pem"
check "then it can come back" cp /etc/ssl/certs/QuoVadis_Root_CA_2.pem "$MNT/roots/QuoVadis_Root_CA_2.pem"

# Real clients: curl --cacert, curl --capath, Python's ssl.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$CERTS/leaf.pem" -cert_chain "$CERTS/int.pem" -key "$CERTS/leaf.key" \
	-www -quiet </dev/null >"$T/server.log" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; cleanup' EXIT
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
URL=https://server.test:$PORT/
RES="--resolve server.test:$PORT:127.0.0.1"
check_fails "curl --cacert fails before the root is added" "curl: (60)" curl -sS $RES --cacert "$MNT/bundle.pem" "$URL"
check "cp the test root into roots/" cp "$CERTS/root.pem" "$MNT/roots/Test_Root.pem"
check "curl --cacert MOUNT/bundle.pem" curl -sS -o /dev/null $RES --cacert "$MNT/bundle.pem" "$URL"
check "curl --capath MOUNT/certs" curl -sS -o /dev/null $RES --capath "$MNT/certs" "$URL"
check "SSL_CERT_FILE=MOUNT/bundle.pem openssl s_client" sh -c "echo | SSL_CERT_FILE='$MNT/bundle.pem' openssl s_client -connect 127.0.0.1:$PORT -servername server.test -verify_return_error -verify_hostname server.test >/dev/null 2>&1"
check "Python ssl loads every root from bundle.pem" python3 - "$MNT/bundle.pem" "$nsys" <<'PY'
import ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
n = ctx.cert_store_stats()["x509_ca"]
assert n == int(sys.argv[2]) + 1, (n, sys.argv[2])
PY
check "SSL_CERT_DIR=MOUNT/certs openssl s_client" sh -c "echo | SSL_CERT_FILE=/dev/null SSL_CERT_DIR='$MNT/certs' openssl s_client -connect 127.0.0.1:$PORT -servername server.test -verify_return_error -verify_hostname server.test >/dev/null 2>&1"
# git verifies through libcurl.  The server is no git server: once TLS is
# trusted, git complains about what it got instead of the certificate.
git_tls() {
	GIT_TERMINAL_PROMPT=0 GIT_SSL_CAINFO="$MNT/bundle.pem" git -c "http.curloptResolve=server.test:$PORT:127.0.0.1" \
		ls-remote "https://server.test:$PORT/repo.git" 2>&1
}
check_fails "git with GIT_SSL_CAINFO=MOUNT/bundle.pem trusts the server" "is this a git repository" git_tls
check "rm the test root" rm "$MNT/roots/Test_Root.pem"
check_fails "curl --cacert fails once it is removed" "curl: (60)" curl -sS $RES --cacert "$MNT/bundle.pem" "$URL"
check_fails "curl --capath fails once it is removed" "curl: (60)" curl -sS $RES --capath "$MNT/certs" "$URL"
check_fails "git fails once it is removed" "certificate verification failed\|SSL certificate problem" git_tls
kill $SRV 2>/dev/null

# Export for other trust systems.
check "export pkcs7" "$TRUSTCTL_BIN" --store "$STORE" export --format pkcs7 -o "$T/out.p7b"
check_eq "the PKCS#7 holds every root" "$(openssl pkcs7 -inform DER -in "$T/out.p7b" -print_certs | grep -c '^subject=')" "$(ls "$MNT/roots" | wc -l)"
check "export pem" "$TRUSTCTL_BIN" --store "$STORE" export --format pem -o "$T/out.pem"
check_eq "the PEM export has bundle.pem's fingerprints" "$(fingerprints "$T/out.pem" | sha256sum)" "$(fingerprints "$MNT/bundle.pem" | sha256sum)"
check "export openssl-trusted" "$TRUSTCTL_BIN" --store "$STORE" export --format openssl-trusted -o "$T/out.trusted"
check "trusted for serverAuth" sh -c "openssl x509 -in '$T/out.trusted' -trustout -noout -text | grep -q 'Trusted Uses:' "
check "export pkcs12" "$TRUSTCTL_BIN" --store "$STORE" export --format pkcs12 -o "$T/out.p12"
check_eq "the PKCS#12 holds every root" "$(openssl pkcs12 -in "$T/out.p12" -passin pass:changeit -nokeys 2>/dev/null | grep -c 'BEGIN CERTIFICATE')" "$(ls "$MNT/roots" | wc -l)"

# An expired root stays in roots/, flagged, and shows in status.
"$MKCERT_BIN" --cn "Expired Root" --ca --days-from -400 --days-to -10 --out "$T/expired.pem"
"$MKCERT_BIN" --cn "Soon Root" --ca --days-from -400 --days-to 10 --out "$T/soon.pem"
check "an expired root can be added" cp "$T/expired.pem" "$MNT/roots/Expired_Root.pem"
check "a soon-to-expire root" cp "$T/soon.pem" "$MNT/roots/Soon_Root.pem"
check "cat shows it expired" grep -qx 'Status: expired' "$MNT/roots/Expired_Root.pem"
check "cat shows expires in N days" grep -q '^Status: expires in [0-9]* days' "$MNT/roots/Soon_Root.pem"
check "status counts roots" grep -q "^roots: " "$MNT/status"
check "status lists the expired root" grep -q '^roots/Expired_Root.pem expired ' "$MNT/status"
check "status lists the soon-to-expire root" grep -q '^roots/Soon_Root.pem expires in ' "$MNT/status"

# Chains written out of order are stored leaf side first.
check "a chain written root first" sh -c "cat '$CERTS/root.pem' '$CERTS/int.pem' '$CERTS/leaf.pem' > '$MNT/chains/full.pem'"
check_eq "stored leaf side first" "$(grep '^Subject:' "$MNT/chains/full.pem" | tr '\n' '|')" \
	"Subject: CN=server.test|Subject: CN=Test Intermediate CA|Subject: CN=Test Root CA,O=trustfs tests|"
check "the chain is not anchored (its root is not in roots/)" grep -q '^Anchored In roots/: no' "$MNT/chains/full.pem"

# Oversize and malformed bundles are refused whole; nothing changes.
before=$(state)
{ cat "$CERTS/other.pem"; head -c 700 /dev/urandom | base64; } >"$T/bad-bundle.pem"
sed -i '$a -----BEGIN CERTIFICATE-----\nAAAA' "$T/bad-bundle.pem"
check_fails "a malformed bundle is refused" "Invalid argument" cp "$T/bad-bundle.pem" "$MNT/import"
check "the report says so" grep -q '^Refused: the whole input' "$MNT/import"
head -c $((65 * 1024 * 1024)) /dev/zero >"$T/huge.p7b"
check_fails "an oversize bundle is refused" "File too large" cp "$T/huge.p7b" "$MNT/import"
check_eq "the store is unchanged" "$(state)" "$before"

# 10,000 certificates in one import.
"$MKCERT_BIN" --count 10000 --out-bundle "$T/10k.pem"
s=$(date +%s%N)
check "import 10,000 certificates" cp "$T/10k.pem" "$MNT/import"
e=$(date +%s%N)
echo "# 10,000-certificate import took $(( (e - s) / 1000000 )) ms"
check "all added" grep -qx "Added: 10000" "$MNT/import"
check_eq "bundle.pem holds them" "$(grep -c 'BEGIN CERTIFICATE' "$MNT/bundle.pem")" "$((nsys + 10000 + 2))"

finish
