#!/bin/bash
# Every write answers where the writer looks (issue 10): refusals at
# write(), which bash does not ignore; no false refusals from flushes that
# carry nothing or from attributes copied onto temporaries; cp over an
# entry replaces it; one import for the mount and trustctl; pins' seen
# attributes; status's warnings.  Driven with bash builtins and
# redirections, printf, cat, cp, cp -f, mv, as a user would.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
mkcerts
mount_fs
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
sha() { getfattr --only-values -n user.trustfs.sha256 "$1" 2>/dev/null; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
# audit.log with its %20s as spaces, for grep.
audit() { sed 's/%20/ /g' "$MNT/audit.log"; }
# refusals PATH: audit lines refusing a change of PATH.
refusals() { audit | grep -c "path=$1 .*refused="; }
# in_audit PATTERN: grep -q in audit.log.
in_audit() { audit | grep -q -- "$1"; }
# run_bash SCRIPT: bash -c SCRIPT; its exit status and what it printed.
run_bash() { bash -c "$1" >"$T/sh.out" 2>&1; echo $?; }

#
# 1. Refusals at write(): the shell sees them.
#
policy0=$(cat "$MNT/policy")
check_eq "echo '* bogus' > policy fails (bash builtin)" "$(run_bash "echo '* bogus' > '$MNT/policy'")" 1
check "bash says Invalid argument" grep -q "write error: Invalid argument" "$T/sh.out"
check_eq "the policy is unchanged" "$(cat "$MNT/policy")" "$policy0"
check_eq "audited once, with the line number" "$(audit | grep -c 'action=write path=policy .*refused=Invalid argument: line 1: unknown mode')" 1
check_eq "printf of three lines, the third bad, fails" \
	"$(run_bash "printf '10.* chain\n*.example_443 tofu\nfoo\n' > '$MNT/policy'")" 1
check "printf says Invalid argument" grep -q "Invalid argument" "$T/sh.out"
check "the reason names line 3" in_audit "path=policy .*refused=Invalid argument: line 3: expected"
check_eq "the policy is still unchanged" "$(cat "$MNT/policy")" "$policy0"
# A bad line without its newline can only be judged at close, which bash
# ignores: the exit status is 0, the policy stays, audit.log says why.
check_eq "a last line without newline: bash exits 0" "$(run_bash "printf '* bogus' > '$MNT/policy'")" 0
check_eq "but it is not saved" "$(cat "$MNT/policy")" "$policy0"
check "and the close's refusal is audited" in_audit "action=policy path=policy .*refused=Invalid argument: line 1"
check_eq "a good policy through echo" "$(run_bash "echo '* tofu' > '$MNT/policy'")" 0
check_eq "is saved" "$(cat "$MNT/policy")" "* tofu"

printf -- '-----BEGIN CERTIFICATE-----\n!!!!notbase64\n-----END CERTIFICATE-----\n' >"$T/b64.pem"
check_fails "bad base64: cp fails at write" "Invalid argument" cp "$T/b64.pem" "$MNT/roots/B64.pem"
check "cp names the write" grep -q "error writing" "$T/out"
check "nothing stored" test ! -e "$MNT/roots/B64.pem"
check_eq "audited once: bad base64" "$(refusals roots/B64.pem)" 1
check "the reason" in_audit "path=roots/B64.pem .*bad base64 in PEM block at line 1"
check_eq "a private key after a good certificate: cat fails" \
	"$(run_bash "cat '$CERTS/root.pem' '$CERTS/root.key' > '$MNT/roots/Key.pem'")" 1
check "cat says write error: Invalid argument" grep -q "write error: Invalid argument" "$T/sh.out"
check "the good certificate before it is not stored either" test ! -e "$MNT/roots/Key.pem"
lines=$(wc -l <"$CERTS/root.pem")
check "the key's line is of the whole input" in_audit "path=roots/Key.pem .*private keys are not accepted (PEM block '.*PRIVATE KEY' at line $((lines + 1)))"
check_eq "and audited once" "$(refusals roots/Key.pem)" 1
printf -- '-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n' >"$T/foo.pem"
check_fails "an unsupported label: printf > pinned/ fails" "Invalid argument" \
	bash -c "printf '%s\n' \"\$(cat '$T/foo.pem')\" > '$MNT/pinned/10.0.0.1_443'"
check "audit: unsupported PEM block" in_audit "path=pinned/10.0.0.1_443 .*unsupported PEM block 'FOO'"
{ echo "-----BEGIN CERTIFICATE-----"; head -c 300 /dev/urandom | base64; echo "-----END CERTIFICATE-----"; } >"$T/junk.pem"
check_fails "base64 that is no certificate: cat > chains/ fails" "Invalid argument" \
	bash -c "cat '$T/junk.pem' > '$MNT/chains/Junk.pem'"
check "audit: malformed certificate" in_audit "path=chains/Junk.pem .*malformed certificate"
openssl x509 -in "$CERTS/root.pem" -outform DER -out "$T/root.der"
cp "$T/root.der" "$T/bad.der"
printf '\xff\xff\xff\xff' | dd of="$T/bad.der" bs=1 seek=40 conv=notrunc 2>/dev/null
check_fails "a damaged DER certificate: cp fails at write" "Invalid argument" cp "$T/bad.der" "$MNT/roots/Der.pem"
check "audit: the DER refusal" in_audit "path=roots/Der.pem .*refused=Invalid argument"
check "a good DER certificate is stored" cp "$T/root.der" "$MNT/roots/Der.pem"
printf '\x30\x84\x7f\xff\xff\xff' >"$T/huge.der"
check_fails "a DER header larger than the limit: at write" "File too large" cp "$T/huge.der" "$MNT/roots/Huge.pem"
check "audit: its size" in_audit "path=roots/Huge.pem .*a DER structure of"
check_fails "the size limit at the write that crosses it" "File too large" \
	bash -c "head -c 2000000 /dev/zero > '$MNT/chains/Big.pem'"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$T/short.pem"
check_fails "import: a bad block fails at write" "Invalid argument" \
	bash -c "cat '$CERTS/other.pem' '$T/short.pem' > '$MNT/import'"
check "and imports nothing" test -z "$(ls "$MNT/roots" | grep -v Der.pem)"
check "cat import says why" grep -q "^Refused: the whole input: .*at line" "$MNT/import"
# After a refused write, later writes fail and the close stores nothing.
check "after a refusal, later writes and the close fail" python3 - "$MNT/roots/After.pem" "$T/b64.pem" "$CERTS/root.pem" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
errs = []
for src in sys.argv[2:]:
    try:
        os.write(fd, open(src, "rb").read())
        errs.append("ok")
    except OSError as e:
        errs.append(e.strerror)
try:
    os.close(fd)
    errs.append("ok")
except OSError as e:
    errs.append(e.strerror)
print(errs)
sys.exit(0 if errs == ["Invalid argument"] * 3 else 1)
PY
check "nothing stored" test ! -e "$MNT/roots/After.pem"
check_eq "one audit line for the three failures" "$(refusals roots/After.pem)" 1
# Writes out of order are judged at close only.
check "a certificate written back to front is stored" python3 - "$MNT/roots/Back.pem" "$CERTS/other.pem" <<'PY'
import os, sys
data = open(sys.argv[2], "rb").read()
half = len(data) // 2
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(fd, data[half:], half)
os.pwrite(fd, data[:half], 0)
os.close(fd)
PY
check_eq "it holds that certificate" "$(sha "$MNT/roots/Back.pem")" "$(fp "$CERTS/other.pem")"
rm -f "$MNT/roots/Back.pem" "$MNT/roots/Der.pem"

#
# 2. No false refusals.
#
audit0=$(wc -l <"$MNT/audit.log")
check_eq "cat > chains/ from bash" "$(run_bash "cat '$CERTS/int.pem' > '$MNT/chains/Int.pem'")" 0
check_eq "echo of a certificate > roots/ (builtin)" "$(run_bash "echo \"\$(cat '$CERTS/root.pem')\" > '$MNT/roots/Echo.pem'")" 0
check_eq "exec 3> then exec 3>&- writes nothing and says nothing" \
	"$(run_bash "exec 3>'$MNT/roots/Nothing.pem'; exec 3>&-")" 0
check_eq "a { } group's redirection" "$(run_bash "{ cat '$CERTS/leaf.pem'; cat '$CERTS/int.pem'; } > '$MNT/chains/Leaf.pem'")" 0
check_eq "no refusal since" "$(tail -n +"$((audit0 + 1))" "$MNT/audit.log" | grep -c 'refused=')" 0
check "the chain is stored" grep -q "Subject: CN=Test Intermediate CA" "$MNT/chains/Int.pem"
check "the root is stored" grep -q "Subject: CN=Test Root CA" "$MNT/roots/Echo.pem"
check "nothing stored for the empty redirection" test ! -e "$MNT/roots/Nothing.pem"
check_fails "touch still says EINVAL" "Invalid argument" touch "$MNT/roots/Touch.pem"
check_eq "without an audit line" "$(refusals roots/Touch.pem)" 0
# Python's copy2 (Ansible's backup: yes) copies attributes onto the
# backup: accepted and dropped.
BK="$MNT/roots/Echo.pem.4242.2026-01-01@00:00:00~"
check "copy2 of an entry onto a backup name" python3 -c 'import shutil, sys; shutil.copy2(sys.argv[1], sys.argv[2])' "$MNT/roots/Echo.pem" "$BK"
check_eq "no refusal for it" "$(tail -n +"$((audit0 + 1))" "$MNT/audit.log" | grep -c 'refused=')" 0
check_eq "the backup lists no user.trustfs attributes" "$(getfattr -d -m - "$BK" 2>/dev/null | grep -c trustfs)" 0
check "setfattr on the backup is accepted" setfattr -n user.trustfs.label -v x "$BK"
check "removexattr on the backup too" setfattr -x user.trustfs.label "$BK"
check_fails "setfattr on a stored entry: ENOTSUP" "Operation not supported" setfattr -n user.trustfs.label -v x "$MNT/roots/Echo.pem"
check_eq "and audited" "$(audit | grep -c 'action=setxattr path=roots/Echo.pem .*refused=Operation not supported')" 1
rm -f "$BK"

#
# 3. cp over an entry replaces it.
#
P=$MNT/pinned/10.1.2.3_8082
check "a pin" cp "$CERTS/leaf.pem" "$P"
check "cp another certificate over it" cp "$CERTS/other.pem" "$P"
check_eq "it holds the new one" "$(sha "$P")" "$(fp "$CERTS/other.pem")"
hex() { fp "$1" | tr -d : | tr A-F a-f; }
check "audited as a replacement with both SHA-256" \
	in_audit "action=replace path=pinned/10.1.2.3_8082 sha256=$(hex "$CERTS/other.pem") old_sha256=$(hex "$CERTS/leaf.pem")"
check "cp -f" cp -f "$CERTS/root.pem" "$P"
check_eq "replaced" "$(sha "$P")" "$(fp "$CERTS/root.pem")"
check_eq "cat > from bash" "$(run_bash "cat '$CERTS/leaf.pem' > '$P'")" 0
check_eq "replaced" "$(sha "$P")" "$(fp "$CERTS/leaf.pem")"
cp "$CERTS/other.pem" "$T/other-copy.pem"
check "mv from outside the mount" mv "$T/other-copy.pem" "$P"
check_eq "replaced" "$(sha "$P")" "$(fp "$CERTS/other.pem")"
"$MKCERT_BIN" --cn "Root Two" --ca --key-out "$T/r2.key" --out "$T/r2.pem" || die "mkcert r2"
"$MKCERT_BIN" --cn "Root Three" --ca --key-out "$T/r3.key" --out "$T/r3.pem" || die "mkcert r3"
check "a root" cp "$T/r2.pem" "$MNT/roots/R.pem"
check "cp another CA over it" cp "$CERTS/int.pem" "$MNT/roots/R.pem"
check_eq "replaced" "$(sha "$MNT/roots/R.pem")" "$(fp "$CERTS/int.pem")"
check "distrusted/: cp over" sh -c "cp '$T/r2.pem' '$MNT/distrusted/D.pem' && cp '$T/r3.pem' '$MNT/distrusted/D.pem'"
check_eq "replaced" "$(sha "$MNT/distrusted/D.pem")" "$(fp "$T/r3.pem")"
check_eq "chains/: cat > over" "$(run_bash "cat '$CERTS/root.pem' > '$MNT/chains/Int.pem'")" 0
check_eq "replaced" "$(sha "$MNT/chains/Int.pem")" "$(fp "$CERTS/root.pem")"
# One name per root still: Echo.pem holds root.pem.
check_fails "a root stored under another name: still EEXIST" "File exists" cp -f "$CERTS/root.pem" "$MNT/roots/R.pem"
check_eq "R.pem unchanged" "$(sha "$MNT/roots/R.pem")" "$(fp "$CERTS/int.pem")"
check_fails "an end-entity certificate over a root: EINVAL" "Invalid argument" cp "$CERTS/leaf.pem" "$MNT/roots/R.pem"

#
# 4. One import: the mount's and trustctl's reports are the same.
#
"$MKCERT_BIN" --cn "Self Signed Leaf" --key-out "$T/self.key" --out "$T/self.pem" || die "mkcert self"
"$MKCERT_BIN" --cn "Import CA" --ca --key-out "$T/ca.key" --out "$T/ca.pem" || die "mkcert ca"
cat "$T/ca.pem" "$CERTS/leaf.pem" "$T/self.pem" "$CERTS/int.pem" >"$T/bundle.pem"
check "cp a bundle with a leaf to import" cp "$T/bundle.pem" "$MNT/import"
cat "$MNT/import" >"$T/mount-report"
check "the leaf is refused with entry_add's reason" grep -q "^refused CN=server.test: .*pinned/" "$T/mount-report"
check "the self-signed end-entity certificate is an anchor" grep -qx "Added: 2" "$T/mount-report"
check "the duplicate" grep -qx "Skipped (duplicate): 1" "$T/mount-report"
for f in "$T/ca.pem" "$T/self.pem"; do
	n=$(grep "^added roots/" "$T/mount-report" | cut -d/ -f2 | while read -r e; do
		[ "$(sha "$MNT/roots/$e")" = "$(fp "$f")" ] && echo "$e"; done)
	rm -f "$MNT/roots/$n"
done
check "trustctl import of the same bundle" TC import "$T/bundle.pem"
check_eq "the same report, byte for byte (but the time)" \
	"$(tail -n +2 "$MNT/import")" "$(tail -n +2 "$T/mount-report")"

#
# 5. Pins carry host, first and last seen and the count.
#
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$CERTS/leaf.pem" -key "$CERTS/leaf.key" \
	-quiet -naccept 2 </dev/null >"$T/server.log" 2>&1 &
SERVER=$!
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
TC connect "127.0.0.1:$PORT" >/dev/null 2>&1
TC connect "127.0.0.1:$PORT" >/dev/null 2>&1
kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null
H=$MNT/pinned/127.0.0.1_$PORT
x() { getfattr --only-values -n "user.trustfs.$1" "$H" 2>/dev/null; }
field() { sed -n "s/^$1: //p" "$H" | head -1; }
check "the pin is there" test -f "$H"
check_eq "user.trustfs.host" "$(x host)" "127.0.0.1:$PORT"
check_eq "user.trustfs.first_seen is the inspect text's" "$(x first_seen)" "$(field 'First Seen')"
check "and a time" sh -c "echo '$(x first_seen)' | grep -Eqx '20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC'"
check_eq "user.trustfs.last_seen" "$(x last_seen)" "$(field 'Last Seen')"
check_eq "user.trustfs.seen_count" "$(x seen_count)" "$(field 'Seen Count')"
check "listed on pins" sh -c "getfattr -d -m - '$H' | grep -q user.trustfs.seen_count"
check_eq "not on roots" "$(getfattr -d -m - "$MNT/roots/R.pem" 2>/dev/null | grep -c seen_count)" 0

#
# 6. status: policy lines that can never match, roots the strict rules refuse.
#
check "a policy with a line after '*'" sh -c "printf '* tofu\n10.* chain\n' > '$MNT/policy'"
check_eq "is saved (a warning, not a refusal)" "$(sed -n 2p "$MNT/policy")" "10.* chain"
check "status names the line that can never match" grep -q "^line 2: 10.\* can never match (line 1: \* matches first)" "$MNT/status"
n0=$(sed -n 's/^Roots failing the strict rules: //p' "$MNT/status")
"$MKCERT_BIN" --cn "Weak Root" --ca --rsa 1024 --key-out "$T/weak.key" --out "$T/weak.pem" || die "mkcert weak"
check "a 1024-bit root" cp "$T/weak.pem" "$MNT/roots/Weak.pem"
check_eq "status counts it" "$(sed -n 's/^Roots failing the strict rules: //p' "$MNT/status")" "$((n0 + 1))"
check "and says why" grep -q "^roots/Weak.pem: weak-key" "$MNT/status"
#
# 7. A file being written is the writer's alone until its close commits it:
#    another process reads what is stored (ENOENT for a new name), never a
#    half-written certificate.  The writer itself reads back what it wrote.
#
half=$(head -c 300 "$CERTS/root.pem")
exec 7>"$MNT/roots/Half.pem"
printf '%s' "$half" >&7
check_fails "another process: a new entry still being written is not there" \
	"No such file or directory" cat "$MNT/roots/Half.pem"
exec 7>&-
rm -f "$MNT/roots/Half.pem" 2>/dev/null
"$MKCERT_BIN" --cn "Whole Root" --ca --out "$T/whole.pem" || die "mkcert whole"
check "an entry to replace" cp "$T/whole.pem" "$MNT/roots/Whole.pem"
want=$(cat "$MNT/roots/Whole.pem")
exec 7>"$MNT/roots/Whole.pem"
printf '%s' "$half" >&7
check_eq "another process: an entry being replaced reads as stored" \
	"$(cat "$MNT/roots/Whole.pem")" "$want"
check "the writer reads back its own bytes" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"-----BEGIN")
os.lseek(fd, 0, 0)
sys.exit(0 if os.read(fd, 10) == b"-----BEGIN" else 1)' "$MNT/roots/Mine.pem"
exec 7>&-
check_eq "the torn replacement was refused; the stored one stands" \
	"$(cat "$MNT/roots/Whole.pem")" "$want"
finish
