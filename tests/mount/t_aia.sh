#!/bin/bash
# Missing intermediates from AIA caIssuers (issue 12): openssl s_server on
# 127.0.0.1 presents only its leaf; the intermediate is served over plain
# http at the URL the leaf's AIA names.  Without aia=fetch the chain is
# refused in OpenSSL's words and nothing is fetched; with it, a non-CA
# certificate at the URL is refused (and audited) and nothing stored; a
# CA that chains to roots/ is stored in chains/ (audited) and the peer
# trusted; the next connection needs no fetch; an unreachable URL or one
# over the size limit leaves the chain refused.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
HPORT=$(free_port)
DEAD=$(free_port)
WWW=$T/www
mkdir -p "$WWW"
SERVER= HTTPD=
start_server() { # start_server CERT KEY
	stop_server
	openssl s_server -accept "127.0.0.1:$PORT" -cert "$1" -key "$2" \
		-quiet -naccept 1000 </dev/null >>"$T/server.log" 2>&1 &
	SERVER=$!
	wait_server
}
cleanup_all() {
	stop_server
	if [ -n "$HTTPD" ]; then kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null; fi
	cleanup
}
trap cleanup_all EXIT
# requests: how many GETs the http server has logged.
requests() { grep -c '"GET ' "$T/httpd.log" 2>/dev/null || true; }

# Certificates as the strict rules want them (key identifiers, critical
# basicConstraints, serverAuth); the leaves name their issuer's URL.
cat >"$T/x509.cnf" <<EOF
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[noca]
basicConstraints = critical, CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
leaf_section() { # leaf_section NAME URL: a server leaf naming URL
	printf '[%s]\n' "$1"
	printf '%s\n' "basicConstraints = critical, CA:FALSE" \
		"keyUsage = critical, digitalSignature, keyEncipherment" \
		"extendedKeyUsage = serverAuth" "subjectAltName = IP:127.0.0.1" \
		"subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" \
		"authorityInfoAccess = caIssuers;URI:$2"
}
{
	leaf_section leaf_good "http://127.0.0.1:$HPORT/int.der"
	leaf_section leaf_noca "http://127.0.0.1:$HPORT/noca.der"
	leaf_section leaf_dead "http://127.0.0.1:$DEAD/int.der"
	leaf_section leaf_big "http://127.0.0.1:$HPORT/big.der"
	leaf_section leaf_sub "http://127.0.0.1:$HPORT/sub.der"
	printf '%s\n' "[ca_aia]" "basicConstraints = critical, CA:TRUE" \
		"keyUsage = critical, keyCertSign, cRLSign" \
		"subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" \
		"authorityInfoAccess = caIssuers;URI:http://127.0.0.1:$HPORT/int.der"
} >>"$T/x509.cnf"
C=$CERTS
gen() { # gen NAME SUBJ ISSUER EXT [KEY]: a certificate signed by ISSUER
	local key=${5:-$C/$1.key}
	[ -f "$key" ] || openssl genrsa -out "$key" 2048 2>/dev/null
	openssl req -new -key "$key" -subj "$2" -out "$C/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$3.pem" -CAkey "$C/$3.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$T/x509.cnf" \
		-extensions "$4" -out "$C/$1.pem" 2>/dev/null
}
openssl genrsa -out "$C/root.key" 2048 2>/dev/null &&
openssl req -x509 -new -key "$C/root.key" -subj "/CN=AIA Test Root" -days 30 \
	-set_serial 0x1234abcd -config "$T/x509.cnf" -extensions ca \
	-out "$C/root.pem" 2>/dev/null &&
gen int "/CN=AIA Test Intermediate" root ca &&
gen noca "/CN=AIA Test Intermediate" root noca "$C/int.key" &&
gen leaf "/CN=aia.test" int leaf_good &&
gen leafnoca "/CN=aia-noca.test" int leaf_noca &&
gen leafdead "/CN=aia-dead.test" int leaf_dead &&
gen leafbig "/CN=aia-big.test" int leaf_big &&
gen sub "/CN=AIA Test Sub CA" int ca_aia &&
gen leafsub "/CN=aia-sub.test" sub leaf_sub ||
	die "could not generate test certificates"
openssl x509 -in "$C/int.pem" -outform DER -out "$WWW/int.der"
openssl x509 -in "$C/noca.pem" -outform DER -out "$WWW/noca.der"
openssl x509 -in "$C/sub.pem" -outform DER -out "$WWW/sub.der"
head -c 400000 /dev/urandom >"$WWW/big.der"

python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$HPORT" \
	>"$T/httpd.log" 2>&1 &
HTTPD=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$HPORT") 2>/dev/null && break
	sleep 0.1
done

mount_fs
cp "$C/root.pem" "$MNT/roots/AIA_Test_Root.pem" || die "could not add the root"
H=127.0.0.1_$PORT

# 1. Without aia=fetch: refused in OpenSSL's words, nothing fetched.
echo "127.0.0.1_* chain" >"$MNT/policy"
start_server "$C/leaf.pem" "$C/leaf.key"
check_fails "chain without aia=fetch: refused" "unable to get local issuer certificate" \
	TC connect "127.0.0.1:$PORT"
check_eq "exit status 1" "$(TC connect "127.0.0.1:$PORT" >/dev/null 2>&1; echo $?)" 1
check_eq "nothing fetched" "$(requests)" 0
check_eq "chains/ stays empty" "$(ls "$MNT/chains" | wc -l)" 0

# 2. aia=fetch, but the URL serves a certificate that is no CA.
echo "127.0.0.1_* chain aia=fetch" >"$MNT/policy" || die "aia=fetch refused"
start_server "$C/leafnoca.pem" "$C/leafnoca.key"
check_fails "a non-CA certificate at the URL: refused" "unable to get local issuer certificate" \
	TC connect "127.0.0.1:$PORT"
check "the verdict says why" grep -q "not a CA certificate" "$T/out"
check_eq "it was fetched" "$(requests)" 1
check_eq "nothing stored in chains/" "$(ls "$MNT/chains" | wc -l)" 0
check "the refusal is audited" grep -q "action=aia .*refused=.*not%20a%20CA" "$MNT/audit.log"

# 3. Unreachable and oversized URLs: refused, nothing stored.
start_server "$C/leafdead.pem" "$C/leafdead.key"
check_fails "an unreachable AIA URL: refused" "unable to get local issuer certificate" \
	TC connect "127.0.0.1:$PORT"
check "and says which URL" grep -q "AIA: .*127.0.0.1:$DEAD" "$T/out"
start_server "$C/leafbig.pem" "$C/leafbig.key"
check_fails "an AIA body over the limit: refused" "unable to get local issuer certificate" \
	TC connect "127.0.0.1:$PORT"
check_eq "nothing stored in chains/" "$(ls "$MNT/chains" | wc -l)" 0

# 4. The intermediate at the URL: fetched, stored, trusted.
n0=$(requests)
start_server "$C/leaf.pem" "$C/leaf.key"
check "aia=fetch completes the chain" TC connect "127.0.0.1:$PORT"
check "chain verified to the root" grep -q "chain verified to roots/AIA_Test_Root.pem" "$T/out"
check "the verdict names what was fetched" grep -q "AIA: fetched chains/AIA_Test_Intermediate.pem" "$T/out"
check "stored in chains/" test -f "$MNT/chains/AIA_Test_Intermediate.pem"
check_eq "the intermediate itself" \
	"$(openssl x509 -in "$MNT/chains/AIA_Test_Intermediate.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$C/int.pem" -noout -fingerprint -sha256)"
check "the store change is audited" grep -q "path=chains/AIA_Test_Intermediate.pem" "$MNT/audit.log"
check "cat shows its Source: the AIA URL" grep -q "^Source: AIA http://127.0.0.1:$HPORT/int.der" \
	"$MNT/chains/AIA_Test_Intermediate.pem"
check "so does the xattr" bash -c "getfattr --only-values -n user.trustfs.source \
	'$MNT/chains/AIA_Test_Intermediate.pem' | grep -qx 'AIA http://127.0.0.1:$HPORT/int.der'"
check_eq "fetched once" "$(requests)" $((n0 + 1))
check "the next connection is trusted too" TC connect "127.0.0.1:$PORT"
check_eq "without a fetch" "$(requests)" $((n0 + 1))

# 5. chain-or-tofu with aia=fetch after the intermediate is removed:
# fetched again rather than pinned.
rm "$MNT/chains/AIA_Test_Intermediate.pem"
echo "127.0.0.1_* chain-or-tofu aia=fetch" >"$MNT/policy"
check "chain-or-tofu: chain verified" TC connect "127.0.0.1:$PORT"
check "not by a pin" grep -q "chain verified to roots/" "$T/out"
check_eq "no pin written" "$(ls "$MNT/pinned" | wc -l)" 0
check "the intermediate is back in chains/" test -f "$MNT/chains/AIA_Test_Intermediate.pem"

# 6. Two links missing: the sub CA's URL, then the intermediate's, both
# stored in one chains/ entry once they chain to the root.
rm -f "$MNT"/chains/*
echo "127.0.0.1_* chain aia=fetch" >"$MNT/policy"
n0=$(requests)
start_server "$C/leafsub.pem" "$C/leafsub.key"
check "two missing links: trusted" TC connect "127.0.0.1:$PORT"
check "  stored as chains/AIA_Test_Sub_CA.pem" grep -q "AIA: fetched chains/AIA_Test_Sub_CA.pem" "$T/out"
check_eq "  two fetches" "$(requests)" $((n0 + 2))
check_eq "  the entry holds both" "$(grep -c '^-----BEGIN CERTIFICATE' "$MNT/chains/AIA_Test_Sub_CA.pem")" 2
check_eq "  nothing else in chains/" "$(ls "$MNT/chains")" AIA_Test_Sub_CA.pem

# 7. A certs-only PKCS#7 (.p7c) at the URL is read as well.
rm -f "$MNT"/chains/*
openssl crl2pkcs7 -nocrl -certfile "$C/int.pem" -outform DER -out "$WWW/int.der"
start_server "$C/leaf.pem" "$C/leaf.key"
check "a PKCS#7 at the URL: trusted" TC connect "127.0.0.1:$PORT"
check "  stored in chains/" test -f "$MNT/chains/AIA_Test_Intermediate.pem"

# 8. Bad policy values are refused with the line number.
echo '* chain aia=maybe' >"$T/badpolicy"
check_fails "aia=maybe is refused" "Invalid argument" cp "$T/badpolicy" "$MNT/policy"
check "with its line, audited" grep -q "path=policy .*refused=.*line%201:%20bad%20value%20'maybe'%20for%20aia" "$MNT/audit.log"

umount_fs
finish
