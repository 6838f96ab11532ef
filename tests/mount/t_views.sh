#!/bin/bash
# bundle.pem and certs/: read-only views that openssl and curl use as they
# are, regenerated when the store changes.
. "$(dirname "$0")/lib.sh"
mkcerts
mount_fs

check "empty bundle.pem" test ! -s "$MNT/bundle.pem"
check "add the test root" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "add the IdenTrust root" cp "$TESTDATA/identrust-commercial-root-ca-1.pem" "$MNT/roots/"
check_eq "bundle.pem holds both roots" "$(grep -c 'BEGIN CERTIFICATE' "$MNT/bundle.pem")" "2"
check_eq "bundle.pem size is true" "$(stat -c %s "$MNT/bundle.pem")" "$(wc -c <"$MNT/bundle.pem")"

hash=$(openssl x509 -in "$CERTS/root.pem" -noout -hash)
check "certs/ has HASH.0 for the root" test -f "$MNT/certs/$hash.0"
check_eq "certs/HASH.0 is the root" "$(openssl x509 -in "$MNT/certs/$hash.0" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$CERTS/root.pem" -noout -fingerprint -sha256)"

# A three-level chain verifies against the views; the intermediate comes
# from the peer (-untrusted) as a TLS client would get it.
check "openssl verify -CApath MOUNT/certs" \
	openssl verify -CApath "$MNT/certs" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"
check "openssl verify -CAfile MOUNT/bundle.pem" \
	openssl verify -CAfile "$MNT/bundle.pem" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"
check_fails "without the root it does not verify" "unable to get local issuer certificate" \
	openssl verify -CAfile "$CERTS/other.pem" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"

# Same subject, different key: HASH.0 and HASH.1, and the names stay put.
"$MKCERT_BIN" --cn "Test Root CA" --org "trustfs tests" --ca --out "$CERTS/root2.pem" --key-out "$CERTS/root2.key"
check "a second root with the same subject" cp "$CERTS/root2.pem" "$MNT/roots/TestRoot2.pem"
check "HASH.1 appears" test -f "$MNT/certs/$hash.1"
check_eq "HASH.0 still names the first root" \
	"$(openssl x509 -in "$MNT/certs/$hash.0" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$CERTS/root.pem" -noout -fingerprint -sha256)"
check "remove the first" rm "$MNT/roots/TestRoot.pem"
check "HASH.0 is gone" test ! -e "$MNT/certs/$hash.0"
check_eq "HASH.1 still names the second root" \
	"$(openssl x509 -in "$MNT/certs/$hash.1" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$CERTS/root2.pem" -noout -fingerprint -sha256)"
check "re-adding takes the free HASH.0" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "HASH.0 back" test -f "$MNT/certs/$hash.0"
check "the chain verifies again" \
	openssl verify -CApath "$MNT/certs" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"

# The views follow every change at once.
check "rm the root" rm "$MNT/roots/TestRoot.pem"
check_fails "bundle.pem follows at once" "unable to get local issuer certificate" \
	openssl verify -CAfile "$MNT/bundle.pem" -untrusted "$CERTS/int.pem" "$CERTS/leaf.pem"

# A reader holds a whole snapshot even while the store changes under it.
check "add the root back" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "a reader sees one whole version" python3 - "$MNT" "$CERTS/other.pem" <<'PY'
import sys, shutil
mnt, other = sys.argv[1], sys.argv[2]
f = open(mnt + "/bundle.pem", "rb")
first = f.read(100)
shutil.copy(other, mnt + "/roots/Other.pem")   # the store changes mid-read
rest = f.read()
data = first + rest
assert data.count(b"BEGIN CERTIFICATE") == 3, data.count(b"BEGIN CERTIFICATE")
assert open(mnt + "/bundle.pem", "rb").read().count(b"BEGIN CERTIFICATE") == 4
PY

# The views are read-only.
check_fails "write to bundle.pem" "Read-only file system" sh -c "echo x > '$MNT/bundle.pem'"
check_fails "create in certs/" "Read-only file system" cp "$CERTS/root.pem" "$MNT/certs/new.0"
check_fails "rm in certs/" "Read-only file system" rm "$MNT/certs/$hash.0"
check_fails "rm bundle.pem" "Read-only file system" rm "$MNT/bundle.pem"

finish
