#!/bin/bash
# DESIGN section 2: pins, roots and chains managed with ls, cat, cp, mv, rm.
. "$(dirname "$0")/lib.sh"
mkcerts
mount_fs

IDT=$TESTDATA/identrust-commercial-root-ca-1.pem

check_eq "the top level" "$(ls "$MNT" | tr '\n' ' ')" \
	"audit.log bundle.pem certs chains crls distrusted import metrics p11-kit pinned policy rejected roots sources status truststore.p12 "
check "empty store lists no pins" test -z "$(ls "$MNT/pinned")"

# Roots: cp, cat (inspect), xattrs.
check "cp a root into roots/" cp "$IDT" "$MNT/roots/IdenTrust.pem"
check "ls roots/ shows it" test -f "$MNT/roots/IdenTrust.pem"
cat "$MNT/roots/IdenTrust.pem" >"$T/idt.txt"
check "inspect: subject" grep -qx 'Subject: CN=IdenTrust Commercial Root CA 1,O=IdenTrust,C=US' "$T/idt.txt"
check "inspect: serial" grep -qx 'Serial Number: 0A:01:42:80:00:00:01:45:23:C8:44:B5:00:00:00:02' "$T/idt.txt"
check "inspect: SHA-1" grep -qx 'SHA1 Fingerprint: DF:71:7E:AA:4A:D9:4E:C9:55:84:99:60:2D:48:DE:5F:BC:F0:3A:25' "$T/idt.txt"
check "inspect: validity" grep -qx 'Validity End: 2034-01-16 18:12:23 UTC' "$T/idt.txt"
check "inspect: key" grep -qx 'Public Key: RSA 4096' "$T/idt.txt"
check "inspect: CA" grep -qx 'CA: yes' "$T/idt.txt"
check "inspect: status" grep -qx 'Status: valid' "$T/idt.txt"
want_sha256=$(openssl x509 -in "$IDT" -noout -fingerprint -sha256 | cut -d= -f2)
check "inspect: SHA-256 as openssl prints it" grep -qx "SHA256 Fingerprint: $want_sha256" "$T/idt.txt"
check_eq "xattr user.trustfs.sha256" \
	"$(getfattr --only-values -n user.trustfs.sha256 "$MNT/roots/IdenTrust.pem")" "$want_sha256"
check_eq "xattr user.trustfs.subject" \
	"$(getfattr --only-values -n user.trustfs.subject "$MNT/roots/IdenTrust.pem")" \
	"CN=IdenTrust Commercial Root CA 1,O=IdenTrust,C=US"
check "the inspect text loads as a PEM certificate" \
	openssl x509 -in "$MNT/roots/IdenTrust.pem" -noout
check_eq "stat size equals the bytes read" "$(stat -c %s "$MNT/roots/IdenTrust.pem")" \
	"$(wc -c <"$MNT/roots/IdenTrust.pem")"

# The same certificate again changes nothing: no new entry, same mtime.
m1=$(stat -c %Y "$MNT/roots/IdenTrust.pem")
sleep 1.1
check "cp the same root again" cp "$IDT" "$MNT/roots/IdenTrust.pem"
# A root lives under one name: a second name is refused, naming the first.
check_fails "cp the same root under another name" "File exists" \
	cp "$IDT" "$MNT/roots/Again.pem"
check "the refusal names the entry that holds it" \
	sh -c "grep roots/Again.pem \"\$1\" | grep -q roots/IdenTrust.pem" - "$MNT/audit.log"
check_eq "no new entry" "$(ls "$MNT/roots" | tr '\n' ' ')" "IdenTrust.pem "
check_eq "mtime unchanged" "$(stat -c %Y "$MNT/roots/IdenTrust.pem")" "$m1"

# cat > also adds; cp of a different certificate over a taken name
# replaces it (issue 10: O_TRUNC over an entry by a caller with rights).
check "cat > roots/ adds a root" sh -c "cat '$CERTS/root.pem' > '$MNT/roots/TestRoot.pem'"
check "cp of a different certificate over a taken name replaces it" \
	cp "$CERTS/other.pem" "$MNT/roots/TestRoot.pem"
check "it holds the other root" grep -q 'Subject: CN=Other Root' "$MNT/roots/TestRoot.pem"
check "cp -f puts the first one back" cp -f "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "mtime is when the root was stored" \
	test "$(stat -c %Y "$MNT/roots/TestRoot.pem")" -ge "$(( $(date +%s) - 5 ))"

# Relabel, and the temporary-name + rename pattern.
check "mv relabels" mv "$MNT/roots/TestRoot.pem" "$MNT/roots/Relabel.pem"
check "old name gone" test ! -e "$MNT/roots/TestRoot.pem"
check "new name there" grep -q 'CN=Test Root CA' "$MNT/roots/Relabel.pem"
check "sed -i edits in place (temp file + rename)" sed -i '1i # edited' "$MNT/roots/Relabel.pem"
check "still the same root after sed -i" grep -q 'Subject: CN=Test Root CA' "$MNT/roots/Relabel.pem"
check "install(1) writes a root" install -m 0644 "$CERTS/other.pem" "$MNT/roots/Other.pem"
# Ansible's copy: a hidden temporary in the same directory, then rename.
check "hidden temp file + rename (Ansible)" python3 - "$MNT/roots" "$CERTS/int.pem" <<'PY'
import os, sys, tempfile
d, src = sys.argv[1], sys.argv[2]
fd, tmp = tempfile.mkstemp(prefix=".ansible_tmp", dir=d, suffix="Int.pem")
with os.fdopen(fd, "wb") as f:
    f.write(open(src, "rb").read())
os.rename(tmp, os.path.join(d, "Intermediate.pem"))
PY
check "the renamed file is stored" grep -q 'CN=Test Intermediate CA' "$MNT/roots/Intermediate.pem"
check_eq "no temporary left behind" "$(ls -A "$MNT/roots" | grep -c '^\.' || true)" "0"
check "rm removes a root" rm "$MNT/roots/Intermediate.pem"
check "gone" test ! -e "$MNT/roots/Intermediate.pem"
check_fails "rm of a missing root" "No such file" rm "$MNT/roots/Intermediate.pem"

# Pins: cp to pre-pin, names normalized, inspect, rm.
check "cp pre-pins a host" cp "$CERTS/leaf.pem" "$MNT/pinned/10.1.2.3_8082"
check_eq "ls pinned/ (listcerts)" "$(ls "$MNT/pinned")" "10.1.2.3_8082"
check "pin shows Host" grep -qx 'Host: 10.1.2.3:8082' "$MNT/pinned/10.1.2.3_8082"
check "pin shows First Seen" grep -q '^First Seen: ' "$MNT/pinned/10.1.2.3_8082"
check "pin shows Seen Count" grep -qx 'Seen Count: 0' "$MNT/pinned/10.1.2.3_8082"
check "host names are lowercased" cp "$CERTS/leaf.pem" "$MNT/pinned/Server.EXAMPLE.com_443"
check "stored as lowercase" sh -c "ls '$MNT/pinned' | grep -qx server.example.com_443"
check "IPv6 is compressed" cp "$CERTS/leaf.pem" "$MNT/pinned/2001:DB8:0:0:0:0:0:1_443"
check "stored compressed" sh -c "ls '$MNT/pinned' | grep -qx '2001:db8::1_443'"
check_fails "a pin name without a port" "Invalid argument" cp "$CERTS/leaf.pem" "$MNT/pinned/nohost"
check_fails "a port out of range" "Invalid argument" cp "$CERTS/leaf.pem" "$MNT/pinned/h_70000"
check "rm deletes a pin (deletecert)" rm "$MNT/pinned/10.1.2.3_8082"
check "pin gone" test ! -e "$MNT/pinned/10.1.2.3_8082"
check_fails "a bundle is not a pin" "Invalid argument" \
	sh -c "cat '$CERTS/leaf.pem' '$CERTS/int.pem' > '$MNT/pinned/h_443'"

# Chains: several certificates, stored leaf side first.
check "cp a chain (root first)" sh -c "cat '$CERTS/root.pem' '$CERTS/int.pem' > '$MNT/chains/test.pem'"
check_eq "chain holds both" "$(grep -c '^-----BEGIN CERTIFICATE' "$MNT/chains/test.pem")" "2"
check_eq "chain is stored leaf side first" "$(grep -m1 '^Subject:' "$MNT/chains/test.pem")" \
	"Subject: CN=Test Intermediate CA"
check "chain says where it is anchored" grep -q '^Anchored In roots/: yes, roots/Relabel.pem' "$MNT/chains/test.pem"
check "mv relabels a chain" mv "$MNT/chains/test.pem" "$MNT/chains/ca.pem"

# distrusted/: mv from roots/ takes a root out of the views.
check "mv roots/ -> distrusted/" mv "$MNT/roots/Other.pem" "$MNT/distrusted/"
check "left roots/" test ! -e "$MNT/roots/Other.pem"
check "in distrusted/" test -f "$MNT/distrusted/Other.pem"
check_fails "a distrusted certificate cannot be added to roots/" "Invalid argument" \
	cp "$CERTS/other.pem" "$MNT/roots/Back.pem"

# Cross-directory moves that mean nothing fall back to copy (EXDEV), and the
# copy obeys the target's rules: roots/ holds CA and self-signed certificates.
check_fails "mv pinned/ -> roots/ of an end-entity certificate is refused" \
	"Invalid argument" mv "$MNT/pinned/server.example.com_443" "$MNT/roots/Leaf.pem"
check "the pin stays" test -f "$MNT/pinned/server.example.com_443"
check "nothing in roots/" test ! -e "$MNT/roots/Leaf.pem"

# Everything survives an unmount and a remount.
before=$(state)
umount_fs
mount_fs
check_eq "state survives a remount" "$(state)" "$before"
check "root still readable after remount" grep -q 'Serial Number: 0A:01:42:80' "$MNT/roots/IdenTrust.pem"

finish
