#!/bin/bash
# trustctl est URL (issue 12, RFC 7030 4.1): the CA certificates of an EST
# server.  A first contact is refused in OpenSSL's words; a wrong
# --expect-sha256 is refused; the right one bootstraps (4.1.1): the root
# into roots/NAME.pem, the intermediate into chains/NAME.pem, each with
# Source "EST URL"; the next run verifies the server against roots/ and
# changes nothing.  A server whose own chain does not lead to the expected
# root, an expected SHA-256 that is not a root's, a response that is not
# base64 PKCS#7, an http:// URL: refused, the store unchanged.  connect
# --save-chain NAME stores the intermediate a server presents.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HTTPSD=$SRC_DIR/tests/tools/httpsd.py
TC() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
exit_of() { local rc=0; "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?; cat "$T/stdout" "$T/stderr" >"$T/out"; echo "$rc"; }
PIDS=()
stop_servers() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap 'stop_servers; cleanup' EXIT
serve() { # serve NAME DIR CHAIN KEY: an HTTPS server; $PORT_NAME
	local n=$1 i
	python3 "$HTTPSD" --dir "$2" --port-file "$T/$n.port" --cert "$3" --key "$4" 2>>"$T/$n.log" &
	PIDS+=($!)
	for i in $(seq 100); do [ -s "$T/$n.port" ] && break; sleep 0.05; done
	[ -s "$T/$n.port" ] || die "server $n did not start: $(cat "$T/$n.log")"
	eval "PORT_$n=$(cat "$T/$n.port")"
}
snap() { state >"$T/state.before"; }
unchanged() { state >"$T/state.after"; check "$1: the store is unchanged" cmp -s "$T/state.before" "$T/state.after"; }
mk() { # mk NAME CN [options]
	local n=$1 cn=$2; shift 2
	"$MKCERT_BIN" --cn "$cn" "$@" --key-out "$CERTS/$n.key" --out "$CERTS/$n.pem" || die "could not generate $n"
}
# cacerts DIR CERT...: DIR/cacerts.b64, a base64 certs-only PKCS#7
cacerts() {
	local d=$1 a=() c; shift
	for c in "$@"; do a+=(-certfile "$c"); done
	openssl crl2pkcs7 -nocrl "${a[@]}" -outform DER | base64 >"$d/cacerts.b64" || die "crl2pkcs7"
}

mount_fs
# The EST CA: EST Root CA -> EST Issuing CA -> the server.
mk estroot "EST Root CA" --ca
mk estint "EST Issuing CA" --ca --issuer "$CERTS/estroot.pem" --issuer-key "$CERTS/estroot.key"
mk estsrv "est.test" --san IP:127.0.0.1 --san DNS:localhost \
	--issuer "$CERTS/estint.pem" --issuer-key "$CERTS/estint.key"
cat "$CERTS/estsrv.pem" "$CERTS/estint.pem" >"$CERTS/estsrv.chain"
# An impostor: a server of another CA that hands out the real /cacerts.
mk evilroot "Evil Root" --ca
mk evilsrv "est.test" --san IP:127.0.0.1 --issuer "$CERTS/evilroot.pem" --issuer-key "$CERTS/evilroot.key"
D=$T/est; mkdir -p "$D" "$T/evil" "$T/bad"
cacerts "$D" "$CERTS/estint.pem" "$CERTS/estroot.pem"
cp "$D/cacerts.b64" "$T/evil/"
echo "this is not base64 at all!" >"$T/bad/cacerts.b64"
serve est "$D" "$CERTS/estsrv.chain" "$CERTS/estsrv.key"
serve evil "$T/evil" "$CERTS/evilsrv.pem" "$CERTS/evilsrv.key"
serve bad "$T/bad" "$CERTS/estsrv.chain" "$CERTS/estsrv.key"
U=https://127.0.0.1:$PORT_est
ROOTSHA=$(sha_of "$CERTS/estroot.pem")

snap
check_eq "est before the root is known: exit 1" "$(exit_of TC est "$U")" 1
check "in OpenSSL's words" grep -q "unable to get local issuer certificate" "$T/stderr"
check_eq "a wrong --expect-sha256: exit 1" "$(exit_of TC est --expect-sha256 "$(sha_of "$CERTS/evilroot.pem")" "$U")" 1
check "it names the fingerprint it wanted" grep -q "no certificate with SHA-256 $(sha_of "$CERTS/evilroot.pem")" "$T/stderr"
check_eq "the intermediate's SHA-256 is no root: exit 1" "$(exit_of TC est --expect-sha256 "$(sha_of "$CERTS/estint.pem")" "$U")" 1
check "it says it is not a self-signed CA" grep -q "not a self-signed CA" "$T/stderr"
check_eq "a server that does not chain to the expected root: exit 1" \
	"$(exit_of TC est --expect-sha256 "$ROOTSHA" "https://127.0.0.1:$PORT_evil")" 1
check "the second look refuses it in OpenSSL's words" grep -q "unable to get local issuer certificate" "$T/stderr"
check_eq "a response that is not base64: exit 2" "$(exit_of TC est --expect-sha256 "$ROOTSHA" "https://127.0.0.1:$PORT_bad")" 2
check "it says so" grep -q "not base64" "$T/stderr"
check_eq "an http:// URL: exit 2" "$(exit_of TC est "http://127.0.0.1:$PORT_est")" 2
check_eq "a malformed --expect-sha256: exit 2" "$(exit_of TC est --expect-sha256 xyz "$U")" 2
unchanged "the refused EST runs"

check_eq "the right --expect-sha256 bootstraps: exit 0" "$(exit_of TC est --label LabCA --expect-sha256 "$ROOTSHA" "$U")" 0
check "it says it bootstrapped" grep -q "^bootstrap:" "$T/stdout"
check "roots/LabCA.pem added" grep -qx "added roots/LabCA.pem" "$T/stdout"
check "chains/LabCA.pem added" grep -qx "added chains/LabCA.pem" "$T/stdout"
check_eq "roots/LabCA.pem is the EST root" "$(getfattr --only-values -n user.trustfs.sha256 "$MNT/roots/LabCA.pem" 2>/dev/null)" "$ROOTSHA"
check_eq "chains/LabCA.pem starts with the intermediate" "$(getfattr --only-values -n user.trustfs.sha256 "$MNT/chains/LabCA.pem" 2>/dev/null)" "$(sha_of "$CERTS/estint.pem")"
check "cat shows the root's Source" grep -qx "Source: EST $U" "$MNT/roots/LabCA.pem"
check "and the chain's" grep -qx "Source: EST $U" "$MNT/chains/LabCA.pem"
check "the chain is anchored in roots/" grep -q "Anchored In roots/: yes, roots/LabCA.pem" "$MNT/chains/LabCA.pem"
check "audit.log has both" sh -c "grep -q 'action=add path=roots/LabCA.pem' '$MNT/audit.log' && grep -q 'action=add path=chains/LabCA.pem' '$MNT/audit.log'"

snap
check_eq "again, verified against roots/ now: exit 0" "$(exit_of TC est --label LabCA "$U")" 0
check "no bootstrap this time" sh -c "! grep -q '^bootstrap:' '$T/stdout'"
check "the root is unchanged" grep -q "^unchanged roots/LabCA.pem" "$T/stdout"
check "the chain is unchanged" grep -qx "unchanged chains/LabCA.pem" "$T/stdout"
unchanged "a second EST run"
cp "$CERTS/evilroot.pem" "$MNT/chains/Hand.pem" || die "hand chain"
snap
check_eq "a label whose chain was made by hand: exit 1" "$(exit_of TC est --label Hand "$U")" 1
check "it says the name holds other certificates" grep -q "chains/Hand.pem holds other certificates" "$T/stderr"
unchanged "a label taken by hand"
check_eq "est --help exits 0" "$(exit_of TC est --help)" 0
snap
check_eq "a --label with a slash: exit 2" "$(exit_of TC est --label ../evil "$U")" 2
check "it names the rule" test -s "$T/stderr"
check_eq "a URL without a host: exit 2" "$(exit_of TC est "https://")" 2
check "it says the URL is not valid" grep -q "not a valid URL\|no host" "$T/stderr"
check_eq "a --timeout of 0: exit 2" "$(exit_of TC est --timeout 0 "$U")" 2
unchanged "hostile names and options"

# connect --save-chain: the intermediate the server presented.
rm "$MNT/chains/LabCA.pem" || die "rm chain"
check_eq "connect --save-chain exits 0 (trusted by chain)" \
	"$(exit_of TC connect --mode chain --save-chain Saved "127.0.0.1:$PORT_est")" 0
check "it says what it saved" grep -q "added chains/Saved.pem" "$T/stdout"
check_eq "chains/Saved.pem holds the intermediate" "$(getfattr --only-values -n user.trustfs.sha256 "$MNT/chains/Saved.pem" 2>/dev/null)" "$(sha_of "$CERTS/estint.pem")"
check "its Source names the peer" grep -q "^Source: TLS peer 127.0.0.1 port $PORT_est" "$MNT/chains/Saved.pem"
check_eq "again: exit 0" "$(exit_of TC connect --mode chain --save-chain Saved "127.0.0.1:$PORT_est")" 0
check "unchanged the second time" grep -q "unchanged chains/Saved.pem" "$T/stdout"
check_eq "a peer with no intermediate saves nothing" \
	"$(exit_of TC connect --mode tofu --save-chain None "127.0.0.1:$PORT_evil")" 0
check "and says so" grep -q "presented no intermediate" "$T/stdout"
check "chains/None.pem does not exist" test ! -e "$MNT/chains/None.pem"
check_eq "--save-chain with a slash in NAME: exit 2" \
	"$(exit_of TC connect --mode chain --save-chain a/b "127.0.0.1:$PORT_est")" 2
check "chains/ has no such entry" test ! -e "$MNT/chains/a"

stop_servers
finish
