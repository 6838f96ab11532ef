#!/bin/bash
# crls/ (issue 13): cp, cat, ls and rm of CRLs through the mount, the
# CRLs that are refused, certs/HASH.rN for openssl verify -CApath
# -crl_check, status, trustctl verify's options, and trustctl connect
# against openssl s_server with a stapled OCSP response, good and revoked.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest: trustctl}"

TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
exit_of() { local rc=0; "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?; cat "$T/stdout" "$T/stderr" >"$T/out"; echo "$rc"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVER=
start_server() { # start_server CERT KEY CHAIN [STATUS_FILE]
	stop_server
	openssl s_server -accept "127.0.0.1:$PORT" -cert "$1" -key "$2" \
		-cert_chain "$3" ${4:+-status_file "$4"} -quiet -naccept 1000 \
		</dev/null >>"$T/server.log" 2>&1 &
	SERVER=$!
	wait_server
}
trap 'stop_server; cleanup' EXIT

mkcerts
C=$CERTS
"$MKCERT_BIN" --cn server2.test --san DNS:server2.test --issuer "$C/int.pem" \
	--issuer-key "$C/int.key" --key-out "$C/leaf2.key" --out "$C/leaf2.pem" ||
	die "could not generate leaf2"
cat "$C/leaf.pem" "$C/int.pem" >"$C/chain.pem"
cat "$C/leaf2.pem" "$C/int.pem" >"$C/chain2.pem"

# A CA for `openssl ca': CRLs with a number, one without, one with a
# critical extension nobody knows.
CA=$T/ca
mkdir -p "$CA"
: >"$CA/index.txt"
echo 01 >"$CA/crlnumber"
cat >"$CA/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
database = $CA/index.txt
crlnumber = $CA/crlnumber
default_md = sha256
default_crl_days = 30
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
[ crl_crit ]
authorityKeyIdentifier = keyid:always
1.2.3.4.5 = critical,ASN1:NULL
EOF
ca() { openssl ca -batch -config "$CA/ca.cnf" -cert "$C/int.pem" -keyfile "$C/int.key" "$@" 2>>"$T/ca.log"; }
ca -gencrl -out "$C/int.crl" || die "openssl ca -gencrl failed"
openssl crl -in "$C/int.crl" -outform DER -out "$C/int.der" || die "DER CRL"
ca -revoke "$C/leaf.pem" || die "openssl ca -revoke failed"
ca -valid "$C/leaf2.pem" || die "openssl ca -valid failed"
ca -gencrl -out "$C/int-rev.crl" || die "openssl ca -gencrl (revoked) failed"
ca -gencrl -crlexts crl_crit -out "$C/int-crit.crl" || die "critical CRL"
grep -v '^crlnumber' "$CA/ca.cnf" >"$CA/nonum.cnf"
openssl ca -batch -config "$CA/nonum.cnf" -cert "$C/int.pem" -keyfile "$C/int.key" \
	-gencrl -out "$C/int-nonum.crl" 2>>"$T/ca.log" || die "CRL without a number"
# A CRL whose next update is long past, for status.
ca -gencrl -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z \
	-out "$C/int-short.crl" || die "stale CRL"
# The Other Root's CRL: its issuer is not in the store.
sed "s|^database.*|database = $CA/other-index.txt|" "$CA/ca.cnf" >"$CA/other.cnf"
: >"$CA/other-index.txt"
openssl ca -batch -config "$CA/other.cnf" -cert "$C/other.pem" -keyfile "$C/other.key" \
	-gencrl -out "$C/other.crl" 2>>"$T/ca.log" || die "other CRL"

# The root's CRL, for revocation=require (the intermediate needs one).
sed "s|^database.*|database = $CA/root-index.txt|" "$CA/ca.cnf" >"$CA/root.cnf"
: >"$CA/root-index.txt"
openssl ca -batch -config "$CA/root.cnf" -cert "$C/root.pem" -keyfile "$C/root.key" \
	-gencrl -out "$C/root.crl" 2>>"$T/ca.log" || die "root CRL"

mount_fs
cp "$C/root.pem" "$MNT/roots/Root.pem" || die "cp root"
cp "$C/int.pem" "$MNT/chains/Int.pem" || die "cp intermediate"

# 1. cp, ls, cat.
check "cp a PEM CRL to crls/" cp "$C/int.crl" "$MNT/crls/Lab.crl"
check "ls crls/ lists it" bash -c "ls '$MNT/crls' | grep -qx Lab.crl"
check "ls / lists crls" bash -c "ls '$MNT' | grep -qx crls"
check "cat crls/Lab.crl" cat "$MNT/crls/Lab.crl"
check "cat: Issuer" grep -q '^Issuer: CN=Test Intermediate CA$' "$T/out"
check "cat: This Update" grep -qE '^This Update: [0-9]{4}-[0-9]{2}-[0-9]{2} ' "$T/out"
check "cat: Next Update" grep -qE '^Next Update: [0-9]{4}-' "$T/out"
check "cat: CRL Number" grep -q '^CRL Number: 1$' "$T/out"
check "cat: Revoked: 0" grep -q '^Revoked: 0$' "$T/out"
check "cat: Status: current" grep -q '^Status: current$' "$T/out"
check "cat: then the PEM, which openssl reads" \
	bash -c "openssl crl -in '$MNT/crls/Lab.crl' -noout"
check "audit.log: add crls/Lab.crl" grep -q 'action=add path=crls/Lab.crl sha256=[0-9a-f]\{64\}' "$MNT/audit.log"
check "a DER CRL is accepted" cp "$C/int.der" "$MNT/crls/Der.crl"
check "the same CRL twice: the same SHA-256 in crls/" bash -c \
	"[ \"\$(sed -n 's/^SHA256 Fingerprint: //p' '$MNT/crls/Der.crl')\" = \"\$(sed -n 's/^SHA256 Fingerprint: //p' '$MNT/crls/Lab.crl')\" ]"
check "rm crls/Der.crl" rm "$MNT/crls/Der.crl"
check_fails "it is gone" "No such file or directory" cat "$MNT/crls/Der.crl"
check "audit.log: remove crls/Der.crl" grep -q 'action=remove path=crls/Der.crl' "$MNT/audit.log"

# 2. Refusals: EINVAL, an audit line, nothing stored.
check_fails "a certificate is not a CRL" "Invalid argument" cp "$C/leaf.pem" "$MNT/crls/Cert.crl"
check "audit: not a CRL" grep -q 'path=crls/Cert.crl .*refused=.*not%20a%20CRL' "$MNT/audit.log"
check_fails "a critical unknown extension" "Invalid argument" cp "$C/int-crit.crl" "$MNT/crls/Crit.crl"
check "audit: critical extension" grep -q 'path=crls/Crit.crl .*refused=.*critical%20extension' "$MNT/audit.log"
check_fails "no CRL number" "Invalid argument" cp "$C/int-nonum.crl" "$MNT/crls/NoNum.crl"
check "audit: no CRL number" grep -q 'path=crls/NoNum.crl .*refused=.*no%20CRL%20number' "$MNT/audit.log"
check_fails "issuer not in the store" "Invalid argument" cp "$C/other.crl" "$MNT/crls/Other.crl"
check "audit: issuer not in the store" grep -q 'path=crls/Other.crl .*refused=.*issuer%20not%20in%20the%20store' "$MNT/audit.log"
check_fails "a name that is not LABEL.crl" "Invalid argument" cp "$C/int.crl" "$MNT/crls/Lab.pem"
check_eq "nothing refused is listed" "$(ls "$MNT/crls" | tr '\n' ' ')" "Lab.crl "

# 3. certs/HASH.rN and openssl verify -CApath -crl_check.
H=$(openssl crl -in "$C/int.crl" -noout -hash)
check "certs/$H.r0 is the CRL" bash -c "ls '$MNT/certs' | grep -qx '$H.r0'"
check "bundle.pem holds no CRL" bash -c "! grep -q 'X509 CRL' '$MNT/bundle.pem'"
check "openssl verify -CApath certs -crl_check: current CRL, not revoked" \
	openssl verify -CApath "$MNT/certs" -crl_check -untrusted "$C/int.pem" "$C/leaf2.pem"
check "cp the CRL that revokes the leaf over Lab.crl" cp "$C/int-rev.crl" "$MNT/crls/Lab.crl"
check "audit: replace with the old SHA-256" grep -q 'action=replace path=crls/Lab.crl sha256=[0-9a-f]* old_sha256=' "$MNT/audit.log"
check "cat: Revoked: 1" bash -c "grep -qx 'Revoked: 1' '$MNT/crls/Lab.crl'"
check_fails "openssl verify -CApath certs -crl_check: revoked" "certificate revoked" \
	openssl verify -CApath "$MNT/certs" -crl_check -untrusted "$C/int.pem" "$C/leaf.pem"

# 4. trustctl verify uses crls/, and its options.
check_eq "verify: a revoked leaf exits 1" "$(exit_of TC verify --host server.test "$C/chain.pem")" 1
check "reason: revoked" grep -q '^reason: revoked$' "$T/out"
check "the message names the certificate and the CRL" \
	grep -q 'certificate revoked (depth 0: CN=server.test): serial .* is listed in crls/Lab.crl' "$T/out"
check_eq "verify: leaf2 is not revoked" "$(exit_of TC verify --host server2.test "$C/chain2.pem")" 0
check_eq "verify --crl with the revoking CRL, after rm crls/Lab.crl" \
	"$(rm "$MNT/crls/Lab.crl"; exit_of TC verify --crl "$C/int-rev.crl" --host server.test "$C/chain.pem")" 1
check "reason: revoked, from the CRL given" grep -q 'listed in a CRL given to the check' "$T/out"
check_eq "verify without --crl: trusted" "$(exit_of TC verify --host server.test "$C/chain.pem")" 0
check_eq "verify --at 2001-01-01T00:00:00Z: not yet valid" \
	"$(exit_of TC verify --at 2001-01-01T00:00:00Z "$C/chain.pem")" 1
check "reason: not-yet-valid" grep -q '^reason: not-yet-valid$' "$T/out"
check_eq "verify --at @4102444800 (2100): expired" "$(exit_of TC verify --at @4102444800 "$C/chain.pem")" 1
check "reason: expired" grep -q '^reason: expired$' "$T/out"
check_eq "verify --at with an offset" "$(exit_of TC verify --at "$(date -u +%Y-%m-%dT%H:%M:%S+00:00)" "$C/chain.pem")" 0
check_eq "verify --at yesterday-ish: bad value exits 2" "$(exit_of TC verify --at yesterday "$C/chain.pem")" 2
check "--at: the message says what TIME is" grep -q 'RFC 3339' "$T/out"
check_eq "verify --purpose sslclient: the leaf has serverAuth only" \
	"$(exit_of TC verify --purpose sslclient "$C/chain.pem")" 1
check_eq "verify --purpose any" "$(exit_of TC verify --purpose any "$C/chain.pem")" 0
check_eq "verify --purpose bogus exits 2" "$(exit_of TC verify --purpose bogus "$C/chain.pem")" 2
check_eq "verify --depth 0: one intermediate is too many" "$(exit_of TC verify --depth 0 "$C/chain.pem")" 1
check_eq "verify --depth 1" "$(exit_of TC verify --depth 1 "$C/chain.pem")" 0
check_eq "verify --depth -1 exits 2" "$(exit_of TC verify --depth -1 "$C/chain.pem")" 2
check_eq "verify --ip 127.0.0.1 (an iPAddress SAN)" "$(exit_of TC verify --ip 127.0.0.1 "$C/chain.pem")" 0
check_eq "verify --ip 10.9.9.9: name mismatch" "$(exit_of TC verify --ip 10.9.9.9 "$C/chain.pem")" 1
check "reason: name-mismatch" grep -q '^reason: name-mismatch$' "$T/out"
check_eq "verify --ip not-an-ip exits 2" "$(exit_of TC verify --ip not-an-ip "$C/chain.pem")" 2
check_eq "verify --crl missing-file exits 2" "$(exit_of TC verify --crl "$T/none.crl" "$C/chain.pem")" 2

# 5. revocation=require in the policy: no CRL for the leaf is no-crl.
check "cp the root's CRL" cp "$C/root.crl" "$MNT/crls/Root.crl"
printf 'server2.test_* chain revocation=require\n* tofu\n' >"$MNT/policy" || die "policy"
start_server "$C/leaf2.pem" "$C/leaf2.key" "$C/int.pem"
check_eq "connect, require, no CRL, no staple: refused" \
	"$(exit_of TC connect --servername server2.test "127.0.0.1:$PORT")" 1
check "reason: no-crl" grep -q '^reason: no-crl$' "$T/out"

# 6. Stapled OCSP: good (require is then met for the leaf), and revoked.
cp "$CA/index.txt" "$CA/idx-good.txt"
openssl ocsp -index "$CA/idx-good.txt" -rsigner "$C/int.pem" -rkey "$C/int.key" \
	-CA "$C/int.pem" -issuer "$C/int.pem" -cert "$C/leaf2.pem" -ndays 1 \
	-respout "$T/good.der" >>"$T/ca.log" 2>&1 || die "openssl ocsp (good)"
start_server "$C/leaf2.pem" "$C/leaf2.key" "$C/int.pem" "$T/good.der"
check_eq "connect with a good stapled response (require): trusted" \
	"$(exit_of TC connect --servername server2.test "127.0.0.1:$PORT")" 0
check "the message says the response was good" grep -q 'stapled OCSP response: good' "$T/out"
ca -revoke "$C/leaf2.pem" -crl_reason keyCompromise || die "revoke leaf2"
openssl ocsp -index "$CA/index.txt" -rsigner "$C/int.pem" -rkey "$C/int.key" \
	-CA "$C/int.pem" -issuer "$C/int.pem" -cert "$C/leaf2.pem" -ndays 1 \
	-respout "$T/revoked.der" >>"$T/ca.log" 2>&1 || die "openssl ocsp (revoked)"
printf 'server2.test_* chain\n* tofu\n' >"$MNT/policy" || die "policy"
start_server "$C/leaf2.pem" "$C/leaf2.key" "$C/int.pem" "$T/revoked.der"
check_eq "connect with a revoked stapled response: refused" \
	"$(exit_of TC connect --servername server2.test "127.0.0.1:$PORT")" 1
check "reason: revoked" grep -q '^reason: revoked$' "$T/out"
check "the message says the stapled response revoked it" \
	grep -q 'certificate revoked (depth 0: CN=server2.test): stapled OCSP response: revoked (keyCompromise)' "$T/out"
# A response signed by a key that is not the issuer's is refused.
openssl ocsp -index "$CA/idx-good.txt" -rsigner "$C/other.pem" -rkey "$C/other.key" \
	-CA "$C/int.pem" -issuer "$C/int.pem" -cert "$C/leaf2.pem" -ndays 1 \
	-respout "$T/forged.der" >>"$T/ca.log" 2>&1 || die "openssl ocsp (forged)"
start_server "$C/leaf2.pem" "$C/leaf2.key" "$C/int.pem" "$T/forged.der"
check_eq "connect with a response signed by another key: refused" \
	"$(exit_of TC connect --servername server2.test "127.0.0.1:$PORT")" 1
check "the message says why" grep -q 'not signed by the issuer' "$T/out"
stop_server

# 7. status lists CRLs past their next update.
check "a CRL past its next update is stored" cp "$C/int-short.crl" "$MNT/crls/Short.crl"
check "cat: Status: expired" bash -c "grep -qx 'Status: expired' '$MNT/crls/Short.crl'"
check "status lists it" grep -q '^crls/Short.crl next update was 2020-02-01 00:00:00 UTC$' "$MNT/status"
check "status counts CRLs" grep -q '^crls: 2$' "$MNT/status"

# 8. Imports carry CRLs: cp a bundle to import, trustctl import. The
# certificates go first, so a CRL of a root in the same bundle is stored;
# a refused CRL is reported and the rest goes on.
ca -gencrl -out "$C/int-new.crl" || die "openssl ca -gencrl (newest)"
{
	echo "# the Other Root and the CRLs we have"
	cat "$C/other.pem" "$C/other.crl" "$C/root.crl" "$C/int-nonum.crl" "$C/int-new.crl"
} >"$T/crl-bundle.pem"
lines=$(wc -l <"$MNT/audit.log")
check "cp a bundle with certificates and CRLs to import" cp "$T/crl-bundle.pem" "$MNT/import"
cat "$MNT/import" >"$T/report"
check "report: one certificate" grep -qx 'Certificates: 1' "$T/report"
check "report: added roots/Other_Root.pem" grep -qx 'added roots/Other_Root.pem' "$T/report"
check "report: CRLs: 4" grep -qx 'CRLs: 4' "$T/report"
check "report: two CRLs added" grep -qx 'CRLs added: 2' "$T/report"
check "report: the Other Root's CRL, its issuer in the same bundle" grep -qx 'added crls/Other_Root.crl' "$T/report"
check "report: the intermediate's newest CRL" grep -qx 'added crls/Test_Intermediate_CA.crl' "$T/report"
check "report: the root's CRL is a duplicate of crls/Root.crl" grep -qx 'duplicate crls/Root.crl' "$T/report"
check "report: the CRL without a number is refused, with the reason" \
	grep -q '^refused CRL CN=Test Intermediate CA: .*no CRL number' "$T/report"
check "crls/ lists the new CRLs" bash -c "ls '$MNT/crls' | grep -qx Other_Root.crl && ls '$MNT/crls' | grep -qx Test_Intermediate_CA.crl"
check "cat crls/Other_Root.crl: its issuer" grep -q '^Issuer: CN=Other Root$' "$MNT/crls/Other_Root.crl"
check "audit.log: add crls/Other_Root.crl" bash -c "tail -n +$((lines + 1)) '$MNT/audit.log' | grep -q 'action=add path=crls/Other_Root.crl sha256='"
check "audit.log: the import" bash -c "tail -n +$((lines + 1)) '$MNT/audit.log' | grep -q 'action=import path=import'"
check_eq "trustctl import of the same CRL again exits 0" "$(exit_of TC import "$C/int-new.crl")" 0
check "it is a duplicate" grep -qx 'duplicate crls/Test_Intermediate_CA.crl' "$T/stdout"
check_eq "trustctl import of an older CRL of that issuer, DER, exits 0" "$(exit_of TC import "$C/int.der")" 0
check "it is refused as older" grep -qx 'refused CRL CN=Test Intermediate CA: not newer than crls/Test_Intermediate_CA.crl (CRL number)' "$T/stdout"
check "CRLs refused: 1" grep -qx 'CRLs refused: 1' "$T/stdout"
check_eq "trustctl import --json of a CRL" "$(exit_of TC import --json "$C/other.crl")" 0
check_eq "JSON: one CRL, a duplicate" "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j["results"][0]; print(j["crls"], r["type"], r["result"], r["entry"])' "$T/stdout")" \
	"1 crl duplicate crls/Other_Root.crl"
check_eq "a CRL block that does not decode refuses the whole import" \
	"$(exit_of TC import <(printf -- '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'))" 2
check "and says which block" grep -q 'CRL block 1 does not decode' "$T/stderr"

finish
