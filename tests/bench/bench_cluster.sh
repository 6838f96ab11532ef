#!/bin/bash
# The fleet's figures (issue 11), on loopback: a 3-member etcd cluster and
# trustfs nodes started here.
#  1. change -> visible: a root copied into node A's roots/ until it is in
#     node B's roots/, median and p99 over N changes (N=$TRUSTFS_BENCH_CLUSTER_N,
#     default 1000);
#  2. join: a new node with an empty store against a prefix holding J roots
#     (J=$TRUSTFS_BENCH_CLUSTER_JOIN, default 10000; 100000 with
#     TRUSTFS_BENCH_FULL=1), until every root is in its roots/.
# Prints figures; asserts nothing about time.
#   TRUSTFS_BIN=build/trustfs MKCERT_BIN=build/tests/mkcert tests/bench/bench_cluster.sh
set -u
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
export TRUSTCTL_BIN=${TRUSTCTL_BIN:-/bin/true}
SYNC_DEBUG=	# nodes run without the sync trace
N=${TRUSTFS_BENCH_CLUSTER_N:-1000}
J=${TRUSTFS_BENCH_CLUSTER_JOIN:-10000}
[ "${TRUSTFS_BENCH_FULL:-0}" = 1 ] && J=100000
. "$SRC_DIR/tests/cluster/lib.sh"
# ETCD_EXTRA: bigger transactions for the bulk load of the join figure.
ETCD_EXTRA="--max-txn-ops 1024 --max-request-bytes 33554432 --quota-backend-bytes 8589934592"
etcd_cluster 3
node_start A
node_start B
echo "# $N changes, one at a time: cp on node A, until the file is in node B's roots/"
"$MKCERT_BIN" --count "$N" --out-bundle "$CERTS/lat.pem" >/dev/null || die "mkcert"
python3 - "$CERTS/lat.pem" "$(M A)/roots" "$(M B)/roots" <<'PY'
import os, sys, time, statistics
src, a, b = sys.argv[1:4]
pems = open(src).read().split("-----END CERTIFICATE-----\n")[:-1]
lat = []
for i, p in enumerate(pems):
    name = "Lat%06d.pem" % i
    t0 = time.monotonic()
    with open(os.path.join(a, name), "w") as f:
        f.write(p + "-----END CERTIFICATE-----\n")
    t1 = time.monotonic()
    while not os.path.exists(os.path.join(b, name)):
        if time.monotonic() - t1 > 30:
            print("change %d did not arrive within 30 s" % i)
            sys.exit(1)
        time.sleep(0.0005)
    lat.append(time.monotonic() - t0)
lat.sort()
def pct(q): return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
print("change -> visible on another node: n=%d median %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (len(lat), statistics.median(lat) * 1000, pct(0.90), pct(0.99), lat[-1] * 1000))
PY
[ $? -eq 0 ] && ok "latency measured" || not_ok "latency"

# The other nodes stop: the join is measured alone.
node_stop A
node_stop B
echo "# join: $J roots written straight into etcd, then a new node with an empty store"
"$MKCERT_BIN" --count "$J" --out-bundle "$CERTS/join.pem" >/dev/null || die "mkcert"
python3 - "$CERTS/join.pem" "http://127.0.0.1:${CPORT[1]}" <<'PY' || die "bulk load"
import base64, json, sys, time, urllib.request
src, url = sys.argv[1:3]
pems = open(src).read().split("-----END CERTIFICATE-----\n")[:-1]
b64 = lambda s: base64.b64encode(s.encode()).decode()
t0 = time.monotonic()
for off in range(0, len(pems), 1000):
    ops = []
    for i in range(off, min(off + 1000, len(pems))):
        v = json.dumps({"node": "bulk", "time": int(time.time()),
                        "pem": pems[i] + "-----END CERTIFICATE-----\n"})
        ops.append({"request_put": {"key": b64("/trustfs/roots/Join%06d.pem" % i), "value": b64(v)}})
    req = urllib.request.Request(url + "/v3/kv/txn", json.dumps({"success": ops}).encode(),
                                 {"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=60).read()
print("bulk load of %d roots into etcd: %.1f s" % (len(pems), time.monotonic() - t0))
PY
WANT=$(( J + N ))
t0=$(date +%s%N)
node_start J
while [ "$(ls "$(M J)/roots" | wc -l)" -lt "$WANT" ]; do
	sleep 0.05
	[ $(( ($(date +%s%N) - t0) / 1000000000 )) -gt 600 ] && die "join did not finish in 600 s"
done
t1=$(date +%s%N)
echo "join of a new node: $WANT roots in $(( (t1 - t0) / 1000000 )) ms (mount to the last root in roots/)"
ok "join measured"
grep "^Cluster" "$(M J)/status"
du -sh "${NSTORE[J]}" | sed 's/^/store size of the new node: /'
node_stop J
finish
