#!/bin/bash
# MOUNT/truststore.p12: roots/ as a Java PKCS#12 trust store, live.  keytool
# lists every root as a trusted certificate entry, and a Java HTTPS client
# (tests/tools/TlsClient.java) trusts an openssl s_server on 127.0.0.1 through
# -Djavax.net.ssl.trustStore=MOUNT/truststore.p12 until its root is
# distrusted.  Few JVM starts (each costs about a second).
. "$(dirname "$0")/lib.sh"
mkcerts
mount_fs

KT() { keytool -list -keystore "$MNT/truststore.p12" -storetype PKCS12 "$@"; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }

check "truststore.p12 is listed at the top" sh -c "ls '$MNT' | grep -qx truststore.p12"
check "an empty store is a valid trust store" KT -storepass changeit
check "keytool: 0 entries" grep -q 'contains 0 entries' "$T/out"

check "add the test root" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "add the IdenTrust root" cp "$TESTDATA/identrust-commercial-root-ca-1.pem" "$MNT/roots/IdenTrust.pem"
# Java keys entries by the lowercased alias: a label that differs only in
# case must not replace the first root.
check "add a root whose label differs only in case" cp "$CERTS/other.pem" "$MNT/roots/testroot.pem"
check "keytool -list with changeit" KT -storepass changeit
check "keytool: 3 entries" grep -q 'contains 3 entries' "$T/out"
check_eq "each root is a trustedCertEntry" "$(grep -c 'trustedCertEntry' "$T/out")" "3"
check "the alias is the label (Java lowercases it)" grep -q '^testroot, .*trustedCertEntry' "$T/out"
check "its case twin is testroot_2" grep -q '^testroot_2, .*trustedCertEntry' "$T/out"
check "the case twin's SHA-256" grep -q "$(fp "$CERTS/other.pem")" "$T/out"
check "the test root's SHA-256" grep -q "$(fp "$CERTS/root.pem")" "$T/out"
check "IdenTrust's SHA-256" grep -q "$(fp "$TESTDATA/identrust-commercial-root-ca-1.pem")" "$T/out"
check "rm the case twin" rm "$MNT/roots/testroot.pem"
check_fails "the MAC is under changeit" "Integrity check failed" KT -storepass wrongpass

# One version, one set of bytes: a MAC's salt is random, so the view is
# rendered once per change and every reader gets the same file.
a=$(sha256sum <"$MNT/truststore.p12")
b=$(sha256sum <"$MNT/truststore.p12")
check_eq "two reads of one version are the same bytes" "$a" "$b"
# Readers arriving together right after a change share one build.
check "a change of roots/" cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
for n in 1 2 3 4 5 6 7 8; do sha256sum <"$MNT/truststore.p12" >"$T/sum.$n" & done
wait
check_eq "8 readers at once after a change read the same bytes" "$(sort -u "$T"/sum.* | wc -l)" "1"
check "rm it again" rm "$MNT/roots/Other.pem"
a=$(sha256sum <"$MNT/truststore.p12")
check "a change elsewhere in the store (policy)" sh -c "printf '* tofu\n' > '$MNT/policy'"
check_eq "leaves the bytes as they were" "$(sha256sum <"$MNT/truststore.p12")" "$a"
check_eq "stat's size is the size read" "$(stat -c %s "$MNT/truststore.p12")" "$(wc -c <"$MNT/truststore.p12")"
check "openssl reads it (no key, two certificates)" sh -c \
	"openssl pkcs12 -in '$MNT/truststore.p12' -passin pass:changeit -nokeys | grep -c 'BEGIN CERTIFICATE' | grep -qx 2"

# Read-only: every change is EROFS.
check_fails "write to truststore.p12" "Read-only file system" sh -c "echo x > '$MNT/truststore.p12'"
check_fails "rm truststore.p12" "Read-only file system" rm "$MNT/truststore.p12"
check_fails "mv truststore.p12" "Read-only file system" mv "$MNT/truststore.p12" "$MNT/t.p12"
check "refusals are audited" grep -q 'path=truststore.p12 .*refused=Read-only' "$MNT/audit.log"

# The Java client against a server whose chain ends at the test root.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$CERTS/leaf.pem" -key "$CERTS/leaf.key" \
	-cert_chain "$CERTS/int.pem" -www -quiet -naccept 100 </dev/null >>"$T/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; cleanup' EXIT
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null ||
	die "openssl s_server did not start: $(tail -3 "$T/server.log")"
mkdir -p "$T/java"
check "javac TlsClient.java" javac -d "$T/java" "$SRC_DIR/tests/tools/TlsClient.java"
JAVA() {
	java -Djavax.net.ssl.trustStore="$MNT/truststore.p12" -Djavax.net.ssl.trustStoreType=PKCS12 \
		-Djavax.net.ssl.trustStorePassword=changeit -cp "$T/java" TlsClient 127.0.0.1 "$PORT"
}
check "Java trusts the server through MOUNT/truststore.p12" JAVA
check "the client saw the server's certificate" grep -q '^trusted: CN=server.test' "$T/out"
check "and its answer" grep -q '^HTTP/1.0 200 ok' "$T/out"

# Live: distrust the root and the next JVM refuses the same server.
check "distrust the test root" mv "$MNT/roots/TestRoot.pem" "$MNT/distrusted/"
check "keytool: 1 entry" KT -storepass changeit
check "keytool: no testroot" sh -c "grep -q 'contains 1 entry' '$T/out' && ! grep -q '^testroot' '$T/out'"
check_fails "Java refuses the server once its root is distrusted" "unable to find valid certification path" JAVA
check "lift the distrust" mv "$MNT/distrusted/TestRoot.pem" "$MNT/roots/"
check "Java trusts it again" JAVA

finish
