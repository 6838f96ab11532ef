#!/bin/bash
# trustctl for scripts and people (issue 10): list in its three layouts
# (columns, -H, --json) with subjects holding quotes, UTF-8 and control
# characters; --no-counters for comparing two members; --json of connect
# and verify against openssl s_server on 127.0.0.1, exit statuses
# unchanged; --help of every command (import too); trustctl(1) covers
# every command; and demo.sh refuses to touch a mount it did not make.
# (import itself: t_import.sh.)
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
mkcerts
mount_fs
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
xattr() { getfattr --absolute-names --only-values -n "user.trustfs.$1" "$2"; }
# exit_of COMMAND...: the exit status, output in $T/out (stdout only in
# $T/stdout, for JSON).
exit_of() { local rc=0; "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?; cat "$T/stdout" "$T/stderr" >"$T/out"; echo "$rc"; }
# jq_py EXPR: evaluates a Python expression over the JSON in $T/stdout (j).
jq_py() { python3 -c 'import json,re,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/stdout" "$1"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVER=
start_server() { # start_server CERT KEY [CHAIN]
	stop_server
	openssl s_server -accept "127.0.0.1:$PORT" -cert "$1" -key "$2" \
		${3:+-cert_chain "$3"} -quiet -naccept 1000 </dev/null >>"$T/server.log" 2>&1 &
	SERVER=$!
	wait_server
}
FOREIGN=()
cleanup_all() {
	local m
	stop_server
	for m in "${FOREIGN[@]}"; do umount "$m" 2>/dev/null; done
	cleanup
}
trap cleanup_all EXIT

# 1. --help: every command, exit 0, usage on standard output.
for c in connect verify list import export backup restore; do
	check_eq "$c --help exits 0" "$(exit_of "$TRUSTCTL_BIN" "$c" --help)" 0
	check "$c --help prints its usage on stdout" grep -q "^usage: trustctl .*$c" "$T/stdout"
	check_eq "$c --help writes nothing on stderr" "$(cat "$T/stderr")" ""
done
check_eq "trustctl --help exits 0" "$(exit_of "$TRUSTCTL_BIN" --help)" 0
check "it names every command" grep -q "list \[--json" "$T/stdout"
check_eq "list without DIR is a usage error" "$(exit_of TC list)" 2
check_eq "list of an unknown DIR is a usage error" "$(exit_of TC list bogus)" 2
check "it names the directories" grep -q "pinned, rejected, roots, distrusted, chains" "$T/out"

# trustctl(1) has a section for every command and renders without warnings.
MAN=$SRC_DIR/contrib/man/trustctl.1
for c in connect verify list import export backup restore; do
	check "trustctl(1) documents $c" grep -q "^\.SS $c\b" "$MAN"
done
check_eq "trustctl(1) renders without warnings" \
	"$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)" ""

# 2. Entries whose subjects hold quotes, UTF-8 and a control character.
"$MKCERT_BIN" --cn 'Quote "Root", Ünïcødé ✓' --org 'a\b' --ca \
	--key-out "$CERTS/q.key" --out "$CERTS/q.pem" || die "mkcert"
"$MKCERT_BIN" --cn "$(printf 'Tab\there')" --ca \
	--key-out "$CERTS/tab.key" --out "$CERTS/tab.pem" || die "mkcert"
check "a root with quotes and UTF-8" cp "$CERTS/q.pem" "$MNT/roots/Quote.pem"
check "a root with a tab" cp "$CERTS/tab.pem" "$MNT/roots/Tab.pem"
check "the test root" cp "$CERTS/root.pem" "$MNT/roots/Root.pem"
check "a pre-pin" cp "$CERTS/leaf.pem" "$MNT/pinned/10.1.2.3_8082"
check "a chain" sh -c 'cat "$1" "$2" >"$3"' sh "$CERTS/int.pem" "$CERTS/root.pem" "$MNT/chains/Lab.pem"
check "a distrusted certificate" cp "$CERTS/other.pem" "$MNT/distrusted/Other.pem"
QSUBJ=$(xattr subject "$MNT/roots/Quote.pem")

# 3. The layout for people: a header, aligned columns, the subject last.
check_eq "list roots exits 0" "$(exit_of TC list roots)" 0
check "a header" grep -qE '^NAME +SHA256 +NOT_AFTER +STATUS +SUBJECT$' "$T/stdout"
check_eq "one line per entry, plus the header" "$(wc -l <"$T/stdout")" 4
line=$(grep '^Quote\.pem ' "$T/stdout")
check "Quote.pem's line: SHA-256, ISO 8601 time, status" grep -qE \
	"^Quote\.pem +$(sha_of "$CERTS/q.pem") +20[0-9-]{8}T[0-9:]{8}Z +valid +" "$T/stdout"
check_eq "then the subject as the mount shows it" "${line%"$QSUBJ"}$QSUBJ" "$line"
check "which is not all of the line" test "${line%"$QSUBJ"}" != "$line"
col=$(awk 'NR == 1 { print index($0, "SHA256") } ' "$T/stdout")
check_eq "columns are aligned" "$(awk -v c="$col" 'NR > 1 && substr($0, c - 2, 2) != "  " { print "misaligned: " $0 }' "$T/stdout")" ""

# -H: no header, one tab between fields.
check_eq "list -H roots exits 0" "$(exit_of TC list -H roots)" 0
check_eq "no header, one line per entry" "$(wc -l <"$T/stdout")" 3
check_eq "five tab-separated fields on every line" "$(awk -F'\t' 'NF != 5' "$T/stdout")" ""
check_eq "field 2 is the SHA-256" "$(awk -F'\t' '$1 == "Quote.pem" { print $2 }' "$T/stdout")" "$(sha_of "$CERTS/q.pem")"
check_eq "field 5 is the subject as the mount shows it" "$(awk -F'\t' '$1 == "Quote.pem" { print $5 }' "$T/stdout")" "$QSUBJ"
check_eq "a tab in a subject stays on its line, escaped" "$(awk -F'\t' '$1 == "Tab.pem" { print $5 }' "$T/stdout")" "$(xattr subject "$MNT/roots/Tab.pem")"

# --json: valid JSON, the fields, strings escaped.
check_eq "list roots --json exits 0" "$(exit_of TC list roots --json)" 0
check "python3 -m json.tool reads it" python3 -m json.tool "$T/stdout"
check_eq "an array of three" "$(jq_py 'len(j)')" 3
check_eq "the fields of a root" "$(jq_py 'sorted(j[0])')" \
	"['days_left', 'name', 'not_after', 'sha256', 'status', 'subject']"
check_eq "the subject with quotes and UTF-8 comes back whole" \
	"$(jq_py '[e["subject"] for e in j if e["name"] == "Quote.pem"][0]')" "$QSUBJ"
check_eq "the SHA-256" "$(jq_py '[e["sha256"] for e in j if e["name"] == "Quote.pem"][0]')" "$(sha_of "$CERTS/q.pem")"
check_eq "not_after is ISO 8601 UTC" "$(jq_py '[e["not_after"] for e in j if e["name"] == "Root.pem"][0]')" \
	"$(date -u -d "$(openssl x509 -in "$CERTS/root.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)"
check_eq "days_left is a number" "$(jq_py 'all(type(e["days_left"]) is int for e in j)')" True
check_eq "status" "$(jq_py 'j[0]["status"]')" valid
check "no raw tab in the JSON" sh -c '! grep -qP "\t" "$1"' sh "$T/stdout"

# The other directories.
check_eq "list chains --json" "$(exit_of TC list chains --json)" 0
check_eq "a chain shows its leaf side and how many" "$(jq_py '(j[0]["name"], j[0]["sha256"], j[0]["certificates"])')" \
	"('Lab.pem', '$(sha_of "$CERTS/int.pem")', 2)"
check_eq "list distrusted -H" "$(exit_of TC list -H distrusted)" 0
check "shows Other.pem" grep -q "^Other.pem	$(sha_of "$CERTS/other.pem")	" "$T/stdout"
check_eq "list pinned/ (as the shell completes it)" "$(exit_of TC list pinned/)" 0
check "pins: HOST_PORT, SHA-256, first and last seen, seen count, subject" \
	grep -qE '^HOST_PORT +SHA256 +FIRST_SEEN +LAST_SEEN +SEEN_COUNT +SUBJECT$' "$T/stdout"
check "a pre-pin was never seen" grep -qE "^10\.1\.2\.3_8082 +$(sha_of "$CERTS/leaf.pem") +never +never +0 +CN=server.test$" "$T/stdout"

# 4. connect --json against openssl s_server: a first use, then a match.
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key"
H=127.0.0.1_$PORT
check_eq "connect --json: first use exits 0" "$(exit_of TC connect --json "127.0.0.1:$PORT")" 0
check "one JSON object" python3 -m json.tool "$T/stdout"
check_eq "one line" "$(wc -l <"$T/stdout")" 1
check_eq "the verdict" "$(jq_py '(j["trusted"], j["mode"], j["reason"], j["entry"], j["subject"])')" \
	"(True, 'tofu', 'first-use', 'pinned/$H', 'CN=server.test')"
check_eq "its sha256" "$(jq_py 'j["sha256"]')" "$(sha_of "$CERTS/leaf.pem")"
check "a message" test -n "$(jq_py 'j["message"]')"
check_eq "connect --json: the pin matches" "$(exit_of TC connect --json "127.0.0.1:$PORT")" 0
check_eq "pin-match" "$(jq_py 'j["reason"]')" pin-match

check_eq "list pinned --json" "$(exit_of TC list pinned --json)" 0
check "is JSON" python3 -m json.tool "$T/stdout"
check_eq "a pin's fields" "$(jq_py "sorted([e for e in j if e['host_port'] == '$H'][0])")" \
	"['first_seen', 'host', 'host_port', 'last_seen', 'port', 'seen_count', 'sha256', 'subject']"
check_eq "seen_count is a number" "$(jq_py "type([e for e in j if e['host_port'] == '$H'][0]['seen_count']).__name__")" int
check_eq "host and port" "$(jq_py "[(e['host'], e['port']) for e in j if e['host_port'] == '$H'][0]")" "('127.0.0.1', $PORT)"
check_eq "first_seen is ISO 8601 UTC" "$(jq_py "bool(re.fullmatch(r'20[0-9-]{8}T[0-9:]{8}Z', [e for e in j if e['host_port'] == '$H'][0]['first_seen']))")" True
check_eq "a pre-pin's times are null" "$(jq_py "[(e['first_seen'], e['last_seen'], e['seen_count']) for e in j if e['host_port'] == '10.1.2.3_8082'][0]")" "(None, None, 0)"

# A regenerated certificate: exit 1, the verdict says why.
"$MKCERT_BIN" --cn server.test --san IP:127.0.0.1 --issuer "$CERTS/int.pem" \
	--issuer-key "$CERTS/int.key" --key-out "$CERTS/new.key" --out "$CERTS/new.pem" || die "mkcert"
start_server "$CERTS/new.pem" "$CERTS/new.key"
check_eq "connect --json: a mismatch exits 1" "$(exit_of TC connect --json "127.0.0.1:$PORT")" 1
check "still one JSON object" python3 -m json.tool "$T/stdout"
check_eq "refused as pin-mismatch" "$(jq_py '(j["trusted"], j["reason"])')" "(False, 'pin-mismatch')"
check "the message says so" grep -q "different from what was used earlier" "$T/stdout"
check_eq "list rejected --json" "$(exit_of TC list rejected --json)" 0
check_eq "names the pin it did not match" "$(jq_py "[e['pinned_sha256'] for e in j if e['name'] == '$H'][0]")" "$(sha_of "$CERTS/leaf.pem")"
stop_server

# The check could not run: exit 2, reason "error", still JSON.
check_eq "connect --json to a closed port exits 2" "$(exit_of TC connect --json "127.0.0.1:$CLOSED")" 2
check "JSON on stdout" python3 -m json.tool "$T/stdout"
check_eq "reason error, not trusted" "$(jq_py '(j["trusted"], j["reason"], j["sha256"])')" "(False, 'error', None)"
check "the message says why" grep -q "Connection refused" "$T/stdout"
check "and so does stderr" grep -q "^trustctl: connect to 127.0.0.1 port $CLOSED: Connection refused" "$T/stderr"
check_eq "without --json: the same exit status" "$(exit_of TC connect "127.0.0.1:$CLOSED")" 2
check_eq "and nothing on stdout" "$(cat "$T/stdout")" ""

# 5. verify --json.
cat "$CERTS/leaf.pem" "$CERTS/int.pem" >"$T/chain.pem"
check_eq "verify --json of a good chain exits 0" "$(exit_of TC verify --json --host server.test "$T/chain.pem")" 0
check_eq "chain-ok" "$(jq_py '(j["trusted"], j["mode"], j["reason"])')" "(True, 'chain', 'chain-ok')"
check_eq "verify --json of a wrong name exits 1" "$(exit_of TC verify --json --host wrong.test "$T/chain.pem")" 1
check_eq "name-mismatch" "$(jq_py '(j["trusted"], j["reason"])')" "(False, 'name-mismatch')"
check_eq "verify --json of the quoted root (a CA, not a server)" "$(exit_of TC verify --json "$CERTS/q.pem")" 1
check_eq "its subject comes back whole" "$(jq_py 'j["subject"]')" "$QSUBJ"
check_eq "verify --json of a private key exits 2" "$(exit_of TC verify --json "$CERTS/root.key")" 2
check_eq "reason error, with the parser's message" "$(jq_py '(j["reason"], "private key" in j["message"])')" "('error', True)"
check_eq "verify --json of a missing file exits 2" "$(exit_of TC verify --json "$T/nothing.pem")" 2
check "No such file or directory" grep -q "No such file or directory" "$T/stdout"

# 6. Two members of a cluster: same pins, different counters.
check "a second member from a backup" TC backup "$T/member.mdb"
check "restored" "$TRUSTCTL_BIN" --store "$T/member" restore "$T/member.mdb"
start_server "$CERTS/leaf.pem" "$CERTS/leaf.key"
check "the second member sees the host" "$TRUSTCTL_BIN" --store "$T/member" connect "127.0.0.1:$PORT"
stop_server
check "the counters differ" bash -c '! diff <("$1" --store "$2" list pinned) <("$1" --store "$3" list pinned) >/dev/null' \
	sh "$TRUSTCTL_BIN" "$STORE" "$T/member"
check "--no-counters: only what matters is compared" bash -c 'diff <("$1" --store "$2" list pinned --no-counters) <("$1" --store "$3" list pinned --no-counters)' \
	sh "$TRUSTCTL_BIN" "$STORE" "$T/member"
check "--no-counters --json: same" bash -c 'diff <("$1" --store "$2" list pinned --no-counters --json) <("$1" --store "$3" list pinned --no-counters --json)' \
	sh "$TRUSTCTL_BIN" "$STORE" "$T/member"
check_eq "list --no-counters --json" "$(exit_of TC list pinned --no-counters --json)" 0
check_eq "has no counters" "$(jq_py 'sorted(j[0])')" "['host', 'host_port', 'port', 'sha256', 'subject']"
check_eq "list of a missing store exits 2" "$(exit_of "$TRUSTCTL_BIN" --store "$T/nostore" list roots)" 2
check "and says why" grep -q "No such file or directory" "$T/stderr"
check "and creates nothing" test ! -e "$T/nostore"

# 7. demo.sh never touches a mount it did not make.
for d in demo demo2/mnt; do
	mkdir -p "$T/$d"
	mount -t tmpfs -o size=1m trustfs-test "$T/$d" || die "cannot mount a tmpfs"
	FOREIGN+=("$T/$d")
	echo mine >"$T/$d/file"
done
check_eq "demo.sh refuses a directory that is a mount point" \
	"$(exit_of env TRUSTFS_DEMO="$T/demo" bash "$SRC_DIR/contrib/demo.sh")" 1
check "it says so" grep -q "$T/demo is a mount point" "$T/stderr"
check "and how to choose another directory" grep -q "TRUSTFS_DEMO=" "$T/stderr"
check "before building anything" sh -c '! grep -q "Building" "$1"' sh "$T/out"
check "the tmpfs is still mounted" mountpoint -q "$T/demo"
check "with its file" grep -qx mine "$T/demo/file"
check_eq "demo.sh refuses a mount point at its mnt/ it did not make" \
	"$(exit_of env TRUSTFS_DEMO="$T/demo2" bash "$SRC_DIR/contrib/demo.sh")" 1
check "it says so" grep -q "$T/demo2/mnt is already a mount point (tmpfs trustfs-test) that this demo did not make" "$T/stderr"
check "that tmpfs is still mounted" mountpoint -q "$T/demo2/mnt"
check "with its file" grep -qx mine "$T/demo2/mnt/file"
finish
