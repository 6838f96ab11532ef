#!/bin/bash
# Sources kept current (issue 12): the sources file is edited like policy
# (accepted, refused whole with the line number and audited, sed -i, not
# removable, bad input of every kind); trustctl update fetches bundles
# from a local HTTPS server verified against roots/, records each
# source's Source on its roots, shows last attempt, last success and
# result in status and metrics, skips what is not due, removes with
# `replace' a root the bundle lost (never one added by hand), keeps the
# store unchanged and audits every failure (HTTP error, a page that is no
# bundle, a wrong sha256=, an untrusted server name, an unknown NAME), and
# stores a CRL from a crl source in crls/.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
exit_of() { local rc=0; "$@" >"$T/out" 2>&1 || rc=$?; echo "$rc"; }
HTTPSD=$SRC_DIR/tests/tools/httpsd.py
WWW=$T/www
mkdir -p "$WWW"
HTTPD=
cleanup_all() {
	if [ -n "$HTTPD" ]; then kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null; fi
	cleanup
}
trap cleanup_all EXIT
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
metric() { grep "^$1{source=\"$2\"} " "$MNT/metrics" | awk '{print $2}'; }

mkcerts
for n in A B; do
	"$MKCERT_BIN" --cn "Bundle Root $n" --ca --key-out "$CERTS/$n.key" \
		--out "$CERTS/$n.pem" || die "could not make root $n"
done
cat "$CERTS/A.pem" "$CERTS/B.pem" >"$WWW/bundle.pem"
cat "$CERTS/leaf.pem" "$CERTS/int.pem" >"$CERTS/server-chain.pem"
echo '<html><body>Service unavailable</body></html>' >"$WWW/page.html"
echo text/html >"$WWW/page.html.type"

# A CRL of the test root, as openssl ca makes it (a number, a next update).
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
EOF
openssl ca -batch -config "$CA/ca.cnf" -cert "$CERTS/root.pem" -keyfile "$CERTS/root.key" \
	-gencrl -out "$WWW/root.crl" 2>"$T/ca.log" || die "openssl ca -gencrl failed"

python3 "$HTTPSD" --dir "$WWW" --port-file "$T/port" --cert "$CERTS/server-chain.pem" \
	--key "$CERTS/leaf.key" 2>"$T/httpsd.log" &
HTTPD=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port" 2>/dev/null) || die "httpsd did not start: $(cat "$T/httpsd.log")"
URL=https://127.0.0.1:$PORT

mount_fs

# 1. The file: there, with a comment, and edited like policy.
check "ls / lists sources" bash -c "ls '$MNT' | grep -qx sources"
check "it starts as a comment" grep -q "^# trustfs sources" "$MNT/sources"
cat >"$T/good" <<EOF
# comment
lab $URL/files/bundle.pem replace every=1h

crl $URL/files/root.crl type=crl every=6h
EOF
check "a valid sources file is saved" cp "$T/good" "$MNT/sources"
check "cat shows it" cmp "$T/good" "$MNT/sources"
check "saving is audited" grep -q "action=sources path=sources sha256=-$" "$MNT/audit.log"
bad() { # bad DESCRIPTION WANT TEXT: refused, the saved text unchanged
	printf '%s' "$3" >"$T/bad"
	check_fails "$1" "Invalid argument" cp "$T/bad" "$MNT/sources"
	check "  the reason, audited: $2" grep -q "action=sources path=sources .*refused=.*$2" "$MNT/audit.log"
	check "  the old text stays" cmp "$T/good" "$MNT/sources"
}
bad "an unknown option" "line%203:%20unknown%20option%20'evry=1d'" \
	$'# c\nok https://x/a.pem\nb https://x/b.pem evry=1d\n'
bad "a NAME twice" "line%202:%20source%20a%20is%20already%20named%20on%20line%201" \
	$'a https://x/a.pem\na https://x/b.pem\n'
bad "an ftp:// URL" "line%201:%20bad%20URL" $'a ftp://x/a.pem\n'
bad "EST over http://" "line%201:%20bad%20URL.*EST%20needs%20an%20https" $'e http://x type=est\n'
bad "a short sha256" "line%201:%20bad%20sha256" $'a https://x/a sha256=abcd\n'
bad "every=0" "line%201:%20bad%20every" $'a https://x/a every=0\n'
bad "every=5s (under a minute)" "line%201:%20bad%20every" $'a https://x/a every=5s\n'
bad "a bad name" "line%201:%20bad%20name" $'-a https://x/a\n'
bad "a NAME alone" "line%201:%20expected" $'lonely\n'
bad "signer= with type=crl" "line%201:%20signer=%20does%20not%20go%20with%20type=crl" \
	$'c https://x/c.crl type=crl signer=X\n'
bad "a URL with a control character" "line%201:%20bad%20URL" $'a https://x/\x01a\n'
printf 'a https://x/a\0b\n' >"$T/nul"
check_fails "a NUL byte is refused" "Invalid argument" cp "$T/nul" "$MNT/sources"
head -c 2000000 /dev/zero | tr '\0' '#' >"$T/huge"
check_fails "over 1 MiB is refused" "File too large" cp "$T/huge" "$MNT/sources"
check "  at the write that crosses it, audited" grep -q "action=write path=/\?sources .*refused=.*1048576-byte%20limit" "$MNT/audit.log"
check "the old text still stays" cmp "$T/good" "$MNT/sources"
check "sed -i edits it" sed -i 's/every=6h/every=12h/' "$MNT/sources"
check "  and it is saved" grep -q "type=crl every=12h" "$MNT/sources"
check_fails "sed -i that breaks it is refused" "Invalid argument" \
	sed -i 's/every=12h/every=forever/' "$MNT/sources"
check "  the old text stays" grep -q "type=crl every=12h" "$MNT/sources"
check_fails "rm sources is refused" "Permission denied" rm "$MNT/sources"
check "status lists the sources, not fetched yet" \
	grep -q "^  lab: last attempt never, last success never, roots 0, result: not fetched yet" "$MNT/status"

# 2. trustctl update: both sources fetched over verified HTTPS.
cp "$CERTS/root.pem" "$MNT/roots/Test_Root_CA.pem" || die "could not add the server's root"
check "update --help" TC update --help
check "  names --force" grep -q -- "--force" "$T/out"
check_eq "update exits 0" "$(exit_of TC update)" 0
check "  reports lab" grep -q "^lab: ok: 2 added" "$T/out"
check "  reports the CRL" grep -q "^crl: ok: CRL stored" "$T/out"
check "root A is in roots/" test -f "$MNT/roots/Bundle_Root_A.pem"
check "root B is in roots/" test -f "$MNT/roots/Bundle_Root_B.pem"
check "cat shows its Source" grep -q "^Source: $URL/files/bundle.pem" "$MNT/roots/Bundle_Root_A.pem"
check "the CRL is in crls/" bash -c "ls '$MNT/crls' | grep -q '\.crl$'"
check "status: lab's result" grep -q "^  lab: last attempt 20.*, last success 20.*, roots 2, result: ok: 2 added" "$MNT/status"
check "status: crl's result" grep -q "^  crl: last attempt 20.*, result: ok: CRL stored" "$MNT/status"
ts=$(metric trustfs_source_last_success_timestamp_seconds lab)
check "metrics: lab's last success is now" test "${ts:-0}" -ge $(($(date +%s) - 120))
check_eq "metrics: lab has 2 roots" "$(metric trustfs_source_roots lab)" 2
check_eq "metrics: lab is up" "$(metric trustfs_source_up lab)" 1
check "the update is audited" grep -q "action=update path=sources/lab sha256=-$" "$MNT/audit.log"

# 3. Not due again within every=; a named source is fetched anyway.
check_eq "a second update exits 0" "$(exit_of TC update)" 0
check "  and fetches nothing" grep -q "^lab: not due" "$T/out"
check "  crl is not due either" grep -q "^crl: not due" "$T/out"
check_eq "update crl --force: options after a NAME" "$(exit_of TC update crl --force)" 0
check "  fetched crl only" bash -c "grep -q '^crl: ok' '$T/out' && ! grep -q '^lab' '$T/out'"

# 4. The bundle lost root B: replace removes it; a root added by hand stays.
cat "$CERTS/A.pem" >"$WWW/bundle.pem"
check_eq "update lab exits 0" "$(exit_of TC update lab)" 0
check "root B is gone" test ! -e "$MNT/roots/Bundle_Root_B.pem"
check "root A stays" test -f "$MNT/roots/Bundle_Root_A.pem"
check "the root added by hand stays" test -f "$MNT/roots/Test_Root_CA.pem"
check "the removal is audited" grep -q "path=roots/Bundle_Root_B.pem" "$MNT/audit.log"
check_eq "metrics: lab has 1 root" "$(metric trustfs_source_roots lab)" 1

# 5. Failures change nothing and are audited; the last success stays.
before=$(state)
ts=$(metric trustfs_source_last_success_timestamp_seconds lab)
fail_case() { # fail_case DESCRIPTION WANT LINE
	sed -i "/^lab /d" "$MNT/sources" && echo "$3" >>"$MNT/sources" ||
		{ not_ok "$1: sources not saved"; return; }
	check_eq "$1: update exits 1" "$(exit_of TC update lab)" 1
	check "  says why: $2" grep -q "$2" "$T/out"
	check_eq "  the store is unchanged" "$(state)" "$before"
	check "  audited" grep -q "action=update path=sources/lab .*refused=" "$MNT/audit.log"
	check "  status: failed" grep -q "^  lab: .*result: failed: .*$2" "$MNT/status"
	check_eq "  metrics: down" "$(metric trustfs_source_up lab)" 0
	check_eq "  metrics: last success kept" "$(metric trustfs_source_last_success_timestamp_seconds lab)" "$ts"
}
fail_case "HTTP 500" "HTTP 500" "lab $URL/status/500 replace"
fail_case "a missing file" "404" "lab $URL/files/nothing.pem replace"
fail_case "an HTML page" "text/html" "lab $URL/files/page.html replace"
fail_case "a sha256= not in the bundle" "no certificate with SHA-256" \
	"lab $URL/files/bundle.pem replace sha256=$(sha_of "$CERTS/B.pem")"
fail_case "a server name that does not match" "hostname mismatch" \
	"lab https://localhost:$PORT/files/bundle.pem replace"
fail_case "a redirect from https to http" "redirect to http://" \
	"lab $URL/redirect?to=http://127.0.0.1:1/bundle.pem replace"
fail_case "a body over 64 MiB" "larger than" \
	"lab $URL/big?bytes=70000000 replace"
fail_case "a signer that is not in the store" "signer Nobody: not in roots/ or chains/" \
	"lab $URL/files/bundle.pem replace signer=Nobody"
fail_case "a signer= on a bundle that is not signed" "not a CMS/PKCS#7 SignedData" \
	"lab $URL/files/bundle.pem replace signer=Bundle_Root_A"
check_eq "an unknown NAME exits 2" "$(exit_of TC update nosuch)" 2
check "  and says so" grep -q "no source named 'nosuch'" "$T/out"
check_eq "  the store is unchanged" "$(state)" "$before"
# A failed source is due again at once.
check_eq "update (all) retries the failed one" "$(exit_of TC update)" 1
check "  lab was tried" grep -q "update lab: failed" "$T/out"
check "  crl was not due" grep -q "^crl: not due" "$T/out"

# 6. EST /cacerts: the intermediate into chains/est.pem with its Source;
# the root, already in roots/ by hand, stays as it is.
openssl crl2pkcs7 -nocrl -certfile "$CERTS/int.pem" -certfile "$CERTS/root.pem" \
	-outform DER | base64 >"$WWW/cacerts.b64" || die "could not make /cacerts"
echo "est $URL type=est" >>"$MNT/sources"
check_eq "an EST source: update est exits 0" "$(exit_of TC update est)" 0
check "  reports it" grep -q "^est: ok: 1 added, 1 unchanged" "$T/out"
check "  the intermediate is in chains/est.pem" cmp <(sed -n '/BEGIN/,/END/p' "$MNT/chains/est.pem") "$CERTS/int.pem"
check "  with its Source" grep -q "^Source: EST $URL$" "$MNT/chains/est.pem"
check "  the root stays where it was" test ! -e "$MNT/roots/est.pem"
check_eq "  again: exits 0" "$(exit_of TC update est)" 0
check "  and changes nothing" grep -q "^est: ok: 0 added, 2 unchanged" "$T/out"
cp "$CERTS/other.pem" "$MNT/chains/mine.pem"
echo "mine $URL type=est" >>"$MNT/sources"
before=$(state)
check_eq "an EST source whose chains/NAME.pem was made by hand: exits 1" \
	"$(exit_of TC update mine)" 1
check "  says why" grep -q "chains/mine.pem holds certificates that are not from EST" "$T/out"
check_eq "  nothing changed" "$(state)" "$before"

# 7. sha256= of a root in the bundle: accepted.
sed -i "/^lab /d" "$MNT/sources"
echo "lab $URL/files/bundle.pem replace sha256=$(sha_of "$CERTS/A.pem")" >>"$MNT/sources"
check_eq "sha256= that is there: update exits 0" "$(exit_of TC update lab)" 0
check_eq "  metrics: up again" "$(metric trustfs_source_up lab)" 1

# 8. signer=: a bundle signed by the named certificate is imported; one
# signed by another key is refused and changes nothing.
"$MKCERT_BIN" --cn "Bundle Signer" --ca --key-out "$CERTS/signer.key" \
	--out "$CERTS/signer.pem" || die "could not make the signer"
"$MKCERT_BIN" --cn "Signed Root C" --ca --key-out "$CERTS/C.key" \
	--out "$CERTS/C.pem" || die "could not make root C"
cp "$CERTS/signer.pem" "$MNT/chains/Bundle_Signer.pem" || die "could not add the signer"
openssl cms -sign -nodetach -binary -in "$CERTS/C.pem" -signer "$CERTS/signer.pem" \
	-inkey "$CERTS/signer.key" -outform DER -out "$WWW/signed.p7b" 2>>"$T/ca.log" ||
	die "openssl cms -sign failed"
openssl cms -sign -nodetach -binary -in "$CERTS/C.pem" -signer "$CERTS/other.pem" \
	-inkey "$CERTS/other.key" -outform DER -out "$WWW/forged.p7b" 2>>"$T/ca.log" ||
	die "openssl cms -sign (forged) failed"
echo "vendor $URL/files/forged.p7b signer=Bundle_Signer" >>"$MNT/sources"
before=$(state)
check_eq "a bundle signed by another key: exits 1" "$(exit_of TC update vendor)" 1
check "  says the signature does not verify" grep -q "update vendor: failed: the signature does not verify to the signer" "$T/out"
check_eq "  nothing changed" "$(state)" "$before"
check "  root C is not in roots/" test ! -e "$MNT/roots/Signed_Root_C.pem"
sed -i 's|/files/forged.p7b signer=|/files/signed.p7b signer=|' "$MNT/sources"
check_eq "the bundle its signer signed: exits 0" "$(exit_of TC update vendor)" 0
check "  root C is in roots/" test -f "$MNT/roots/Signed_Root_C.pem"
check "  with its Source" grep -q "^Source: $URL/files/signed.p7b$" "$MNT/roots/Signed_Root_C.pem"
check "  the signer is no root" test ! -e "$MNT/roots/Bundle_Signer.pem"

# 9. A crl source: a newer CRL replaces the stored one; an older one is
# refused and changes nothing.
cp "$WWW/root.crl" "$T/crl1.pem"
openssl ca -batch -config "$CA/ca.cnf" -cert "$CERTS/root.pem" -keyfile "$CERTS/root.key" \
	-gencrl -out "$WWW/root.crl" 2>>"$T/ca.log" || die "openssl ca -gencrl (2) failed"
check_eq "a newer CRL: update crl exits 0" "$(exit_of TC update crl)" 0
check "  stored" grep -q "^crl: ok: CRL stored" "$T/out"
check "  crls/ has the newer one" grep -rqx "CRL Number: 0*2" "$MNT/crls"
cp "$T/crl1.pem" "$WWW/root.crl"
before=$(state; cat "$MNT"/crls/*)
check_eq "an older CRL: update crl exits 1" "$(exit_of TC update crl)" 1
check "  says why" grep -q "update crl: failed: CRL refused" "$T/out"
check_eq "  nothing changed" "$(state; cat "$MNT"/crls/*)" "$before"
check "  status says so" grep -q "^  crl: .*result: failed: CRL refused" "$MNT/status"

# 9b. A URL with a user and password: fetched with them, never shown.
"$MKCERT_BIN" --cn "Auth Root" --ca --out "$WWW/auth.pem" || die "mkcert auth"
echo "auth https://someone:s3cret@127.0.0.1:$PORT/files/auth.pem" >>"$MNT/sources"
check_eq "a URL with a password: update auth exits 0" "$(exit_of TC update auth)" 0
check "  the root is in roots/" test -f "$MNT/roots/Auth_Root.pem"
check "  its Source has no user or password" grep -qx "Source: $URL/files/auth.pem" "$MNT/roots/Auth_Root.pem"
check "  nor its xattr" sh -c "! getfattr -d -m - '$MNT/roots/Auth_Root.pem' | grep -q s3cret"
check_eq "  metrics count the root for the source" "$(metric trustfs_source_roots auth)" 1

# 10. file:// sources, and more input the file refuses.
echo "local file://$WWW/bundle.pem every=1m" >>"$MNT/sources"
check_eq "a file:// source: update local exits 0" "$(exit_of TC update local)" 0
check "  reports it" grep -q "^local: ok: " "$T/out"
cp "$MNT/sources" "$T/saved"
bad_text() { # bad_text DESCRIPTION WANT: $T/bad is refused, sources unchanged
	check_fails "$1" "$2" cp "$T/bad" "$MNT/sources"
	check "  sources unchanged" cmp "$T/saved" "$MNT/sources"
}
printf 'long https://x/%s\n' "$(head -c 3000 /dev/zero | tr '\0' a)" >"$T/bad"
bad_text "a URL over 2048 bytes is refused" "Invalid argument"
for i in $(seq 1001); do echo "s$i https://x/$i"; done >"$T/bad"
bad_text "1001 sources are refused" "Invalid argument"
check "  audited with the line" grep -q "refused=.*line%201001:%20more%20than%201000%20sources" "$MNT/audit.log"
head -c 4096 /dev/urandom >"$T/bad"
bad_text "binary garbage is refused" "Invalid argument"

umount_fs
finish
