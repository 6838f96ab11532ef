#!/bin/bash
# trustctl import FILE (issue 10): a PKCS#7 and a PEM bundle into roots/ of
# a store that is mounted at the same time -- the mount shows the roots and
# the report (`cat import') at once; a leaf is refused with its reason and
# the rest is added; a distrusted certificate is skipped; standard input;
# --json; input that does not parse changes nothing (exit 2); a progress
# line on a terminal (script(1) gives a pty), none when stderr is a pipe
# or a file, or with --quiet.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
command -v script >/dev/null || die "script (util-linux) is missing"
mkcerts
mount_fs
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
# exit_of COMMAND...: the exit status; stdout in $T/stdout, stderr in
# $T/stderr, both in $T/out.
exit_of() { local rc=0; "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?; cat "$T/stdout" "$T/stderr" >"$T/out"; echo "$rc"; }
jq_py() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/stdout" "$1"; }
# in_dir DIR CERT: the name under DIR (through the mount) of CERT, or "".
in_dir() {
	local f want
	want=$(sha_of "$2")
	for f in "$MNT/$1"/*; do
		[ -e "$f" ] || continue
		if [ "$(getfattr --absolute-names --only-values -n user.trustfs.sha256 "$f" 2>/dev/null)" = "$want" ]; then
			basename "$f"
			return
		fi
	done
}
gen() { # gen NAME CN [--ca] ...: a certificate in $CERTS/NAME.pem
	local n=$1 cn=$2; shift 2
	"$MKCERT_BIN" --cn "$cn" "$@" --key-out "$CERTS/$n.key" --out "$CERTS/$n.pem" ||
		die "could not generate $n"
}
gen ca1 "Import CA One" --ca
gen ca2 "Import CA Two" --ca
gen ca3 "Import CA Three" --ca
gen ca4 "Import CA Four" --ca
gen self "Self Signed Device"	# no CA:TRUE, but self-signed: an anchor

# 1. A PKCS#7 bundle (DER), as IOS-XR's trustpool bundles come.
openssl crl2pkcs7 -nocrl -certfile "$CERTS/root.pem" -certfile "$CERTS/int.pem" \
	-certfile "$CERTS/ca1.pem" -outform DER -out "$T/bundle.p7b" || die "crl2pkcs7"
audit0=$(wc -l <"$MNT/audit.log")
check_eq "import of a PKCS#7 bundle exits 0" "$(exit_of TC import "$T/bundle.p7b")" 0
check "the report counts three certificates" grep -qx "Certificates: 3" "$T/stdout"
check "all added" grep -qx "Added: 3" "$T/stdout"
check "no duplicate" grep -qx "Skipped (duplicate): 0" "$T/stdout"
check "nothing refused" grep -qx "Refused: 0" "$T/stdout"
check "a line per certificate" test "$(grep -c '^added roots/' "$T/stdout")" -eq 3
check_eq "nothing on stderr (not a terminal: no progress)" "$(cat "$T/stderr")" ""
for c in root int ca1; do
	n=$(in_dir roots "$CERTS/$c.pem")
	check "the mount shows $c.pem in roots/ at once" test -n "$n"
	check "the report names roots/$n" grep -qxF "added roots/$n" "$T/stdout"
done
check_eq "cat import shows the same report" "$(cat "$MNT/import")" "$(cat "$T/stdout")"
# pem_in CERT FILE: CERT's base64 is in FILE (line breaks ignored).
pem_in() { tr -d '\n' <"$2" | grep -qF "$(grep -v -- ----- "$1" | tr -d '\n')"; }
check "bundle.pem holds the new roots at once" pem_in "$CERTS/ca1.pem" "$MNT/bundle.pem"
check "audit.log: the import, by trustctl" grep -q "uid=0 pid=[0-9]* comm=trustctl action=import path=import" "$MNT/audit.log"
check_eq "audit.log: and each root added with it" \
	"$(tail -n +"$((audit0 + 1))" "$MNT/audit.log" | grep -c 'comm=trustctl action=add path=roots/')" 3

# 2. A PEM bundle with text around it: a duplicate, a new CA, a
# self-signed certificate, and a leaf, which is refused; the rest is added.
{
	echo "# corporate bundle"
	cat "$CERTS/root.pem" "$CERTS/ca2.pem"
	echo "some text between the blocks"
	cat "$CERTS/leaf.pem" "$CERTS/self.pem"
} >"$T/bundle.pem"
before_roots=$(ls "$MNT/roots" | wc -l)
check_eq "import of a PEM bundle with a leaf exits 0" "$(exit_of TC import "$T/bundle.pem")" 0
check "four certificates" grep -qx "Certificates: 4" "$T/stdout"
check "two added" grep -qx "Added: 2" "$T/stdout"
check "one duplicate" grep -qx "Skipped (duplicate): 1" "$T/stdout"
check "one refused" grep -qx "Refused: 1" "$T/stdout"
check "the duplicate names the entry that has it" grep -qxF "duplicate roots/$(in_dir roots "$CERTS/root.pem")" "$T/stdout"
check "the refused line names the leaf" grep -q "^refused CN=server.test: " "$T/stdout"
check "and says where it belongs" grep -q "^refused CN=server.test: .*end-entity certificate.*pinned/" "$T/stdout"
check "the leaf is not in roots/" test -z "$(in_dir roots "$CERTS/leaf.pem")"
check "the new CA is" test -n "$(in_dir roots "$CERTS/ca2.pem")"
check "and so is the self-signed certificate" test -n "$(in_dir roots "$CERTS/self.pem")"
check_eq "roots/ grew by two" "$(ls "$MNT/roots" | wc -l)" "$((before_roots + 2))"
check_eq "cat import shows this report" "$(cat "$MNT/import")" "$(cat "$T/stdout")"

# 3. A distrusted certificate is skipped, and stays out.
check "distrust Import CA Two" mv "$MNT/roots/$(in_dir roots "$CERTS/ca2.pem")" "$MNT/distrusted/"
cat "$CERTS/ca2.pem" "$CERTS/ca3.pem" >"$T/dist.pem"
check_eq "import with a distrusted certificate exits 0" "$(exit_of TC import "$T/dist.pem")" 0
check "one skipped as distrusted" grep -qx "Skipped (distrusted): 1" "$T/stdout"
check "the line names the distrusted/ entry" grep -qxF "distrusted distrusted/$(in_dir distrusted "$CERTS/ca2.pem")" "$T/stdout"
check "the other added" grep -qx "Added: 1" "$T/stdout"
check "the distrusted one is not back in roots/" test -z "$(in_dir roots "$CERTS/ca2.pem")"

# 4. Standard input, with --json.
check_eq "import --json - (standard input) exits 0" "$(exit_of sh -c '"$1" --store "$2" import --json - <"$3"' sh "$TRUSTCTL_BIN" "$STORE" "$CERTS/ca4.pem")" 0
check "one JSON object" python3 -m json.tool "$T/stdout"
check_eq "one line" "$(wc -l <"$T/stdout")" 1
check_eq "the counts" "$(jq_py '(j["file"], j["certificates"], j["added"], j["duplicate"], j["distrusted"], j["refused"])')" \
	"('-', 1, 1, 0, 0, 0)"
check_eq "time is ISO 8601 UTC" "$(jq_py 'bool(__import__("re").fullmatch(r"20[0-9-]{8}T[0-9:]{8}Z", j["time"]))')" True
check_eq "one result" "$(jq_py '(j["results"][0]["result"], j["results"][0]["subject"], j["results"][0]["reason"])')" \
	"('added', 'CN=Import CA Four', None)"
check_eq "its entry" "$(jq_py 'j["results"][0]["entry"]')" "roots/$(in_dir roots "$CERTS/ca4.pem")"
check_eq "its sha256" "$(jq_py 'j["results"][0]["sha256"]')" "$(sha_of "$CERTS/ca4.pem")"
check_eq "--json of the PEM bundle again" "$(exit_of TC import --json "$T/bundle.pem")" 0
check_eq "a duplicate, the distrusted one, the refusal, a duplicate" "$(jq_py '[r["result"] for r in j["results"]]')" \
	"['duplicate', 'distrusted', 'refused', 'duplicate']"
check_eq "the refusal has a reason and no entry" "$(jq_py '(j["results"][2]["entry"], "pinned/" in j["results"][2]["reason"])')" "(None, True)"

# 5. Input that does not parse: exit 2, the reason, nothing changed --
# not the roots, not the report, not audit.log.
head -c 4096 /dev/urandom >"$T/garbage"
before=$(state)
report=$(cat "$MNT/import")
lines=$(wc -l <"$MNT/audit.log")
check_eq "import of garbage exits 2" "$(exit_of TC import "$T/garbage")" 2
check "says why, naming the file" grep -q "^trustctl: $T/garbage: " "$T/stderr"
check_eq "nothing on stdout" "$(cat "$T/stdout")" ""
check_eq "import of a private key exits 2" "$(exit_of TC import "$CERTS/root.key")" 2
check "says it is a private key" grep -q "private key" "$T/stderr"
check_eq "garbage on standard input exits 2" "$(exit_of sh -c '"$1" --store "$2" import - <"$3"' sh "$TRUSTCTL_BIN" "$STORE" "$T/garbage")" 2
check "names standard input" grep -q "^trustctl: standard input: " "$T/stderr"
head -c 1000 "$T/bundle.p7b" >"$T/cut.p7b"
check_eq "a truncated PKCS#7 bundle exits 2" "$(exit_of TC import "$T/cut.p7b")" 2
check_eq "an empty input exits 2" "$(exit_of TC import /dev/null)" 2
check_eq "a missing file exits 2" "$(exit_of TC import "$T/nothing.pem")" 2
check "No such file or directory" grep -q "No such file or directory" "$T/stderr"
check_eq "a directory exits 2" "$(exit_of TC import "$T")" 2
check "Is a directory" grep -q "^trustctl: reading $T: Is a directory" "$T/stderr"
check_eq "no FILE is a usage error" "$(exit_of TC import)" 2
check "with the usage" grep -q "^usage: trustctl .*import" "$T/stderr"
check_eq "an unknown option is a usage error" "$(exit_of TC import --bogus "$T/bundle.pem")" 2
check_eq "the store is unchanged" "$(state)" "$before"
check_eq "the report is unchanged" "$(cat "$MNT/import")" "$report"
check_eq "audit.log is unchanged" "$(wc -l <"$MNT/audit.log")" "$lines"
check_eq "a store that does not exist exits 2" "$(exit_of "$TRUSTCTL_BIN" --store "$T/nostore" import "$T/bundle.pem")" 2
check "and is not created" test ! -e "$T/nostore"

# 6. Progress: on a terminal (script gives the command a pty), a line
# redrawn with \r and erased at the end; never on a pipe or a file.
cat "$CERTS"/ca*.pem "$CERTS/root.pem" "$CERTS/int.pem" >"$T/all.pem"
check "on a terminal" script -qec "'$TRUSTCTL_BIN' --store '$STORE' import '$T/all.pem'" /dev/null
check "a progress line shows N/total" grep -qaE $'\r''import: \[[#-]+\] [0-9]+/6 certificates' "$T/out"
check "and is erased before the report" grep -qaF $'\r\033[KImport: ' "$T/out"
check "the report follows" grep -qa "^Skipped (duplicate): " "$T/out"
check "--quiet on a terminal" script -qec "'$TRUSTCTL_BIN' --store '$STORE' import --quiet '$T/all.pem'" /dev/null
check "shows no progress" sh -c '! grep -qa "import: \[" "$1"' sh "$T/out"
check "nor an escape sequence" sh -c '! grep -qa "$(printf "\033")" "$1"' sh "$T/out"
check "stderr a pipe" sh -c '"$1" --store "$2" import "$3" 2>&1 | cat >"$4"' sh "$TRUSTCTL_BIN" "$STORE" "$T/all.pem" "$T/piped"
check "no progress on a pipe" sh -c '! grep -qa "import: \[" "$1"' sh "$T/piped"
check "no escape sequence on a pipe" sh -c '! grep -qa "$(printf "\033")" "$1"' sh "$T/piped"
check "stdout a pipe, stderr a file" sh -c '"$1" --store "$2" import "$3" 2>"$4" | cat >/dev/null' sh "$TRUSTCTL_BIN" "$STORE" "$T/all.pem" "$T/err"
check_eq "nothing on the stderr file" "$(cat "$T/err")" ""
check_eq "import --help exits 0" "$(exit_of TC import --help)" 0
check "prints its usage" grep -q "^usage: trustctl .*import" "$T/stdout"
finish
