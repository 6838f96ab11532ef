# Shared by the fleet tests: a real etcd cluster on loopback ports this
# test picks, and trustfs nodes with their own stores and mounts, driven
# with file tools.  Nothing is skipped: no etcd, no FUSE is a failure.
set -u

: "${TRUSTFS_BIN:?set by ctest: the trustfs daemon}"
: "${MKCERT_BIN:?set by ctest: the certificate generator}"
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRC_DIR/tests/lsan.supp
ETCD=${ETCD_BIN:-etcd}
ETCDCTL=${ETCDCTL_BIN:-etcdctl}
# Under a sanitizer everything is slower: waits are longer.
SLOW=1
[ "${TRUSTFS_SANITIZED:-0}" = 1 ] && SLOW=3

T=$(mktemp -d /tmp/trustfs-cluster.XXXXXX)
CERTS=$T/certs
mkdir -p "$CERTS"
PASS=0
FAIL=0
NMEMBERS=0
declare -A EPID CPORT PPORT NPID NSTORE NMNT NEXTRA

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi; }
die() { echo "Bail out! $*"; not_ok "$*"; finish; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
	local d=$1 s=$2 end; shift 2
	end=$(( $(date +%s%N) / 1000000 + s * SLOW * 1000 ))
	while [ $(( $(date +%s%N) / 1000000 )) -lt $end ]; do
		if "$@" >/dev/null 2>&1; then ok "$d"; return 0; fi
		sleep 0.05
	done
	not_ok "$d (not within $((s * SLOW)) s)"
	return 1
}
# still DESCRIPTION SECONDS COMMAND...: COMMAND keeps succeeding that long
# (what must not happen does not, for a while).
still() {
	local d=$1 s=$2 end; shift 2
	end=$(( $(date +%s%N) / 1000000 + s * 1000 ))
	while [ $(( $(date +%s%N) / 1000000 )) -lt $end ]; do
		if ! "$@" >/dev/null 2>&1; then not_ok "$d"; return 1; fi
		sleep 0.1
	done
	ok "$d"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# etcd_cluster N: an N-member cluster, healthy.
etcd_cluster() {
	local n=$1 i init=""
	NMEMBERS=$n
	for i in $(seq "$n"); do
		CPORT[$i]=$(free_port)
		PPORT[$i]=$(free_port)
		init="${init:+$init,}m$i=http://127.0.0.1:${PPORT[$i]}"
	done
	INITIAL=$init
	for i in $(seq "$n"); do etcd_start "$i"; done
	ENDPOINTS=$(for i in $(seq "$n"); do printf 'http://127.0.0.1:%s,' "${CPORT[$i]}"; done)
	ENDPOINTS=${ENDPOINTS%,}
	for i in $(seq "$n"); do
		wait_for "etcd member m$i is healthy" 20 etcd_healthy "$i" ||
			die "etcd did not start: $(tail -5 "$T/etcd$i.log")"
	done
}

etcd_start() {
	local i=$1
	"$ETCD" --name "m$i" --data-dir "$T/etcd$i" \
		--listen-client-urls "http://127.0.0.1:${CPORT[$i]}" \
		--advertise-client-urls "http://127.0.0.1:${CPORT[$i]}" \
		--listen-peer-urls "http://127.0.0.1:${PPORT[$i]}" \
		--initial-advertise-peer-urls "http://127.0.0.1:${PPORT[$i]}" \
		--initial-cluster "$INITIAL" --initial-cluster-token "t$$" \
		--initial-cluster-state new --heartbeat-interval 50 \
		--election-timeout 500 ${ETCD_EXTRA:-} >>"$T/etcd$i.log" 2>&1 &
	EPID[$i]=$!
}
etcd_healthy() { curl -sf "http://127.0.0.1:${CPORT[$1]}/health" | grep -q '"health":"true"'; }
etcd_kill() { kill -9 "${EPID[$1]}" 2>/dev/null; wait "${EPID[$1]}" 2>/dev/null; EPID[$1]=""; }
etcd_stop() { kill "${EPID[$1]}" 2>/dev/null; wait "${EPID[$1]}" 2>/dev/null; EPID[$1]=""; }
ectl() { ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ENDPOINTS" --command-timeout=5s "$@"; }

# node_start NAME [ARGS...]: a trustfs node in the foreground (so that its
# exit status, a sanitizer's included, is seen at the stop).
node_start() {
	local n=$1 i; shift
	NSTORE[$n]=${NSTORE[$n]:-$T/store-$n}
	NMNT[$n]=${NMNT[$n]:-$T/mnt-$n}
	mkdir -p "${NMNT[$n]}"
	env ${SYNC_DEBUG-TRUSTFS_SYNC_DEBUG=1} "$TRUSTFS_BIN" -f --store "${NSTORE[$n]}" --cluster "$ENDPOINTS" \
		--node-name "$n" "$@" "${NMNT[$n]}" >>"$T/node-$n.log" 2>&1 &
	NPID[$n]=$!
	for i in $(seq 100); do
		mountpoint -q "${NMNT[$n]}" && return 0
		kill -0 "${NPID[$n]}" 2>/dev/null || break
		sleep 0.05
	done
	die "node $n did not mount: $(tail -5 "$T/node-$n.log")"
}
# node_stop NAME: unmount; the daemon must exit 0 (clean, no leaks).
node_stop() {
	local n=$1 rc=0
	fusermount3 -u "${NMNT[$n]}" || not_ok "unmount of node $n"
	wait "${NPID[$n]}" || rc=$?
	NPID[$n]=""
	check_eq "node $n stops cleanly" "$rc" 0
}
node_kill() {
	local n=$1
	kill -9 "${NPID[$n]}" 2>/dev/null
	wait "${NPID[$n]}" 2>/dev/null
	NPID[$n]=""
	fusermount3 -uz "${NMNT[$n]}" 2>/dev/null
}
M() { echo "${NMNT[$1]}"; }

# has NODE PATH, gone NODE PATH, bundle_has NODE CERT, same NODE PATH CERT
has() { [ -e "${NMNT[$1]}/$2" ]; }
gone() { [ ! -e "${NMNT[$1]}/$2" ]; }
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
bundle_has() { grep -qF -- "$(sed -n 2p "$2")" "${NMNT[$1]}/bundle.pem"; }
bundle_lacks() { ! grep -qF -- "$(sed -n 2p "$2")" "${NMNT[$1]}/bundle.pem"; }
same() { [ "$(getfattr --only-values -n user.trustfs.sha256 "${NMNT[$1]}/$2" 2>/dev/null)" = "$(fp "$3")" ]; }
audit_has() { grep -q -- "$2" "${NMNT[$1]}/audit.log"; }
status_has() { grep -q -- "$2" "${NMNT[$1]}/status"; }

mkroot() { # mkroot NAME: a CA certificate $CERTS/NAME.pem
	"$MKCERT_BIN" --cn "$1" --ca --key-out "$CERTS/$1.key" --out "$CERTS/$1.pem" >/dev/null ||
		die "mkcert $1"
}
mkca_leaf() { # mkca_leaf NAME: a server certificate issued by a CA
	mkroot "$1-ca"
	"$MKCERT_BIN" --cn "$1" --san IP:127.0.0.1 --issuer "$CERTS/$1-ca.pem" \
		--issuer-key "$CERTS/$1-ca.key" --key-out "$CERTS/$1.key" \
		--out "$CERTS/$1.pem" >/dev/null || die "mkcert $1"
}
mkleaf() { # mkleaf NAME: a self-signed server certificate for 127.0.0.1
	"$MKCERT_BIN" --cn "$1" --san IP:127.0.0.1 --key-out "$CERTS/$1.key" \
		--out "$CERTS/$1.pem" >/dev/null || die "mkcert $1"
}

cleanup() {
	local n i
	for n in "${!NPID[@]}"; do
		[ -n "${NPID[$n]}" ] && kill -9 "${NPID[$n]}" 2>/dev/null
	done
	for n in "${!NMNT[@]}"; do
		fusermount3 -uz "${NMNT[$n]}" 2>/dev/null
	done
	for i in "${!EPID[@]}"; do
		[ -n "${EPID[$i]}" ] && kill -9 "${EPID[$i]}" 2>/dev/null
	done
	for i in "${!EXTRA_PIDS[@]}"; do kill "${EXTRA_PIDS[$i]}" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
EXTRA_PIDS=()
trap cleanup EXIT

finish() {
	local n
	echo "$PASS passed, $FAIL failed"
	if [ "$FAIL" -ne 0 ]; then
		for n in "${!NSTORE[@]}"; do
			echo "# node $n's log:"; tail -n 30 "$T/node-$n.log" 2>/dev/null | sed 's/^/#   /'
		done
	fi
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
	exit $?
}
