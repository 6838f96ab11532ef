#!/bin/bash
# The fleet (issue 11): a real 3-member etcd cluster on loopback ports and
# three trustfs nodes, each with its own store and mount, checked with
# file tools: replication of roots, pins, distrust and the policy; TOFU
# across nodes; partitions (one member down, all of etcd down); a node
# killed with -9; malformed values written straight into etcd.
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"

etcd_cluster 3

# Options a user gets wrong are refused before anything mounts (exit 2).
mkdir -p "$T/mnt-bad"
bad() { # bad DESCRIPTION 'message' ARGS...
	local d=$1 want=$2 rc=0; shift 2
	"$TRUSTFS_BIN" -f --store "$T/store-bad" "$@" "$T/mnt-bad" >"$T/out" 2>&1 || rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$want" "$T/out"; then ok "$d"; else
		not_ok "$d (exit $rc: $(head -2 "$T/out"))"; fusermount3 -uz "$T/mnt-bad" 2>/dev/null; fi
}
bad "--cluster needs --node-name" "needs --node-name" --cluster "$ENDPOINTS"
bad "--node-name needs --cluster" "need --cluster" --node-name A
bad "a URL that is not http(s)" "is not an http:// or https:// URL" --cluster ftp://127.0.0.1:1 --node-name A
bad "a node name with a space" "give this node a name" --cluster "$ENDPOINTS" --node-name "a b"
bad "--cluster with -o ro" "do not go together" --cluster "$ENDPOINTS" --node-name A -o ro
bad "a password file that does not exist" "password-file" --cluster "$ENDPOINTS" --node-name A --cluster-user u --cluster-password-file "$T/nope"
bad "--cluster-cert without --cluster-key" "go together" --cluster "$ENDPOINTS" --node-name A --cluster-cert "$T/nope"

node_start A
node_start B
node_start C

# 1. cp of a root on A: in roots/ and bundle.pem of B and C.
mkroot Alpha
cp "$CERTS/Alpha.pem" "$(M A)/roots/Alpha.pem" || not_ok "cp on A"
for n in B C; do
	wait_for "cp root on A: in roots/ of $n" 10 same $n roots/Alpha.pem "$CERTS/Alpha.pem"
	wait_for "cp root on A: in bundle.pem of $n" 10 bundle_has $n "$CERTS/Alpha.pem"
done
wait_for "B's audit.log names the origin" 5 audit_has B "action=add path=roots/Alpha.pem .* origin=A"
check_eq "C's root says it came from node A (user.trustfs.source)" \
	"$(getfattr --only-values -n user.trustfs.source "$(M C)/roots/Alpha.pem" 2>/dev/null)" "fleet A"
grep -q "^Source: fleet A" "$(M C)/roots/Alpha.pem" && ok "and its inspect text (Source:)" || not_ok "Source: line"
wait_for "etcd holds the root as JSON with its PEM" 5 \
	sh -c "ETCDCTL_API=3 $ETCDCTL --endpoints=$ENDPOINTS get --print-value-only /trustfs/roots/Alpha.pem | grep -q '\"node\":\"A\".*BEGIN CERTIFICATE'"

# 2. a pin written on A, removed on B: gone on A and C.
mkleaf pinhost
cp "$CERTS/pinhost.pem" "$(M A)/pinned/10.0.0.1_443" || not_ok "cp pin on A"
wait_for "pin on A reaches C" 10 same C pinned/10.0.0.1_443 "$CERTS/pinhost.pem"
wait_for "pin on A reaches B" 10 has B pinned/10.0.0.1_443
rm "$(M B)/pinned/10.0.0.1_443" || not_ok "rm pin on B"
wait_for "rm pin on B: gone on A" 10 gone A pinned/10.0.0.1_443
wait_for "rm pin on B: gone on C" 10 gone C pinned/10.0.0.1_443
wait_for "the removal is a tombstone in etcd" 5 \
	sh -c "ETCDCTL_API=3 $ETCDCTL --endpoints=$ENDPOINTS get --print-value-only /trustfs/pinned/10.0.0.1_443 | grep -q '\"deleted\":true'"

# 3. mv roots/X.pem distrusted/ on C: X leaves every bundle.pem.
mkroot Xray
cp "$CERTS/Xray.pem" "$(M A)/roots/Xray.pem"
wait_for "Xray reaches C" 10 bundle_has C "$CERTS/Xray.pem"
mv "$(M C)/roots/Xray.pem" "$(M C)/distrusted/" || not_ok "mv to distrusted/ on C"
for n in A B C; do
	wait_for "distrust on C: Xray out of $n's bundle.pem" 10 bundle_lacks $n "$CERTS/Xray.pem"
	wait_for "distrust on C: in $n's distrusted/" 10 has $n distrusted/Xray.pem
done
cp "$CERTS/Xray.pem" "$(M B)/roots/Xray.pem" 2>/dev/null &&
	not_ok "B takes a distrusted root back" || ok "B refuses the distrusted root"

# 4. policy written on B reaches A and C.
printf '*.lab.example_443 chain\n* tofu\n' >"$(M B)/policy" || not_ok "write policy on B"
for n in A C; do
	wait_for "policy from B on $n" 10 grep -q 'lab.example_443' "$(M $n)/policy"
done

# 5. TOFU: a pin made on A by trustctl connect makes B refuse another
# certificate for that host with the pin-mismatch message.
PORT=$(free_port)
SERVER=
start_server() {
	[ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }
	openssl s_server -accept "127.0.0.1:$PORT" -cert "$1" -key "$2" -quiet \
		-naccept 100 </dev/null >>"$T/server.log" 2>&1 &
	SERVER=$!
	EXTRA_PIDS+=("$SERVER")
	local i
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	die "openssl s_server did not start"
}
mkleaf tls1
mkca_leaf eeleaf
mkleaf tls2
start_server "$CERTS/tls1.pem" "$CERTS/tls1.key"
"$TRUSTCTL_BIN" --store "${NSTORE[A]}" connect "127.0.0.1:$PORT" >"$T/out" 2>&1 &&
	grep -q 'reason: first-use' "$T/out" && ok "trustctl connect on A pins the host" ||
	not_ok "trustctl connect on A: $(cat "$T/out")"
wait_for "the TOFU pin reaches B" 10 same B "pinned/127.0.0.1_$PORT" "$CERTS/tls1.pem"
start_server "$CERTS/tls2.pem" "$CERTS/tls2.key"
rc=0
"$TRUSTCTL_BIN" --store "${NSTORE[B]}" connect "127.0.0.1:$PORT" >"$T/out" 2>&1 || rc=$?
check_eq "B refuses a different certificate (exit 1)" "$rc" 1
grep -q "Current certificate of the remote host is different from what was used earlier" "$T/out" &&
	grep -q "reason: pin-mismatch" "$T/out" && ok "with the pin-mismatch message" ||
	not_ok "pin-mismatch message: $(cat "$T/out")"
wait_for "B's rejected/ reaches A" 10 same A "rejected/127.0.0.1_$PORT" "$CERTS/tls2.pem"

# 6. A malformed value straight into etcd: refused by every node, audited.
ectl put /trustfs/roots/Bad.pem 'not json at all' >/dev/null || not_ok "etcdctl put"
ectl put /trustfs/roots/Bad2.pem '{"node":"evil","pem":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}' >/dev/null
ectl put /trustfs/roots/Leaf.pem "$(printf '{"node":"evil","pem":"%s"}' "$(awk '{printf "%s\\n", $0}' "$CERTS/eeleaf.pem")")" >/dev/null
ectl put /trustfs/whatever/x 'x' >/dev/null
ectl put /trustfs/roots/Cut.pem '{"node":"evil","pem":"-----BEGIN CERT' >/dev/null
ectl put /trustfs/roots/Who.pem '{"node":"../../etc passwd","deleted":true}' >/dev/null
ectl put '/trustfs/pinned/NOT A HOST' '{"node":"evil","deleted":true}' >/dev/null
for n in A B C; do
	wait_for "$n refuses and audits a value that is not JSON" 10 audit_has $n "action=sync path=roots/Bad.pem .*refused=the%20value%20is%20not%20a%20JSON%20object"
	wait_for "$n refuses a certificate that does not parse" 10 audit_has $n "action=sync path=roots/Bad2.pem .*refused=.*origin=evil"
	wait_for "$n refuses an end-entity certificate in roots/" 10 audit_has $n "action=sync path=roots/Leaf.pem .*refused="
	wait_for "$n refuses a key trustfs does not write" 10 audit_has $n "action=sync path=whatever/x"
	wait_for "$n refuses a bad HOST_PORT" 10 audit_has $n "action=sync path=pinned/NOT%20A%20HOST"
	wait_for "$n refuses a truncated value" 10 audit_has $n "action=sync path=roots/Cut.pem .*refused=the%20value%20is%20not%20a%20JSON%20object"
	wait_for "$n refuses a hostile node name" 10 audit_has $n "action=sync path=roots/Who.pem .*refused=no%20valid%20%22node%22"
	gone $n roots/Bad.pem && gone $n roots/Bad2.pem && gone $n roots/Leaf.pem &&
		ok "$n applied none of them" || not_ok "$n applied a malformed value"
done
grep -q "refused" "$(M A)/status" && ok "status counts the refusals" || not_ok "status refusals"

# 6b. A pin of two certificates (an HA pair behind one address) reaches the
# other nodes whole; rejected/ holds one certificate, so a value of two
# there is refused.
mkleaf ha1
mkleaf ha2
cat "$CERTS/ha1.pem" "$CERTS/ha2.pem" >"$T/ha.pem"
cp "$T/ha.pem" "$(M A)/pinned/ha.test_443" || not_ok "cp of a two-certificate pin on A"
two_certs() { [ "$(grep -c '^SHA256 Fingerprint:' "$(M $1)/pinned/ha.test_443" 2>/dev/null)" = 2 ]; }
for n in B C; do
	wait_for "a pin of two certificates reaches $n whole" 10 two_certs $n
done
ectl put /trustfs/rejected/two.test_443 "$(printf '{"node":"evil","pem":"%s"}' "$(awk '{printf "%s\\n", $0}' "$T/ha.pem")")" >/dev/null
for n in A B C; do
	wait_for "$n refuses a rejected/ value of two certificates" 10 audit_has $n "action=sync path=rejected/two.test_443 .*refused=rejected/%20holds%20one%20certificate"
done

# 6c. A key pin (trustctl import-known-hosts on A) reaches B and C as a key
# pin: no certificate, the same key.
mkleaf khost
spki=$(openssl x509 -in "$CERTS/khost.pem" -pubkey -noout | openssl pkey -pubin -outform DER | base64 -w0)
printf '|g0|kh.test|443|0|%s\n' "$spki" >"$T/known_hosts"
"$TRUSTCTL_BIN" --store "${NSTORE[A]}" import-known-hosts "$T/known_hosts" >"$T/out" 2>&1 ||
	not_ok "import-known-hosts on A: $(cat "$T/out")"
keyfp=$(openssl x509 -in "$CERTS/khost.pem" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n' | tr a-f A-F | sed 's/../&:/g; s/:$//')
key_pin() { grep -qx "Pinned Key SHA256: $keyfp" "$(M $1)/pinned/kh.test_443" && grep -q '^Certificate: none yet' "$(M $1)/pinned/kh.test_443"; }
for n in B C; do
	wait_for "a key pin made on A reaches $n as a key pin" 10 key_pin $n
done

# 7. One etcd member killed: everything still replicates.
etcd_kill 1
mkroot Bravo
cp "$CERTS/Bravo.pem" "$(M B)/roots/Bravo.pem" || not_ok "cp on B"
for n in A C; do
	wait_for "one member down: B's root reaches $n" 15 bundle_has $n "$CERTS/Bravo.pem"
done
etcd_start 1
wait_for "member m1 back" 20 etcd_healthy 1

# 8. All of etcd stopped: nodes serve and accept changes; they converge when
# it returns.
for i in 1 2 3; do etcd_stop $i; done
wait_for "A says it is disconnected" 15 status_has A "Cluster: disconnected"
mkroot Charlie
cp "$CERTS/Charlie.pem" "$(M A)/roots/Charlie.pem" && ok "A accepts a change with etcd down" ||
	not_ok "A refused a change with etcd down"
bundle_has A "$CERTS/Charlie.pem" && bundle_has C "$CERTS/Alpha.pem" &&
	ok "nodes serve their last state" || not_ok "serving while disconnected"
wait_for "A's status shows the change waiting" 5 status_has A "Cluster Changes Waiting: 1"
grep -q '^trustfs_cluster_connected 0' "$(M A)/metrics" && ok "metrics: disconnected" ||
	not_ok "metrics: disconnected"
# Two nodes pin one host to different certificates while apart: the
# first committed to etcd wins everywhere, the loser's goes to rejected/.
mkleaf conflict1
mkleaf conflict2
cp "$CERTS/conflict1.pem" "$(M A)/pinned/10.9.9.9_443"
cp "$CERTS/conflict2.pem" "$(M C)/pinned/10.9.9.9_443"
# A tombstone made while a node is away wins: B is stopped, the root it
# holds is removed on A, and B comes back without it.
node_stop B
rm "$(M A)/roots/Alpha.pem"
for i in 1 2 3; do etcd_start $i; done
for i in 1 2 3; do wait_for "member m$i back" 20 etcd_healthy $i; done
for n in C; do
	wait_for "etcd back: A's change reaches $n" 20 bundle_has $n "$CERTS/Charlie.pem"
done
wait_for "A connected again" 15 status_has A "Cluster: connected"
wait_for "A's outbox is empty" 10 status_has A "Cluster Changes Waiting: 0"
grep -q '^trustfs_cluster_connected 1' "$(M A)/metrics" && ok "metrics: connected" ||
	not_ok "metrics: connected"
pinA() { getfattr --only-values -n user.trustfs.sha256 "$(M A)/pinned/10.9.9.9_443" 2>/dev/null; }
pinC() { getfattr --only-values -n user.trustfs.sha256 "$(M C)/pinned/10.9.9.9_443" 2>/dev/null; }
wait_for "conflict: A and C end with the same pin" 15 sh -c "[ \"\$(getfattr --only-values -n user.trustfs.sha256 '$(M A)/pinned/10.9.9.9_443')\" = \"\$(getfattr --only-values -n user.trustfs.sha256 '$(M C)/pinned/10.9.9.9_443')\" ]"
if [ "$(pinA)" = "$(fp "$CERTS/conflict1.pem")" ]; then WIN=A LOSER=C LCERT=conflict2; else WIN=C LOSER=A LCERT=conflict1; fi
wait_for "conflict: the loser's certificate is in rejected/ on $LOSER" 10 same $LOSER rejected/10.9.9.9_443 "$CERTS/$LCERT.pem"
wait_for "conflict: the mismatch is audited on $LOSER" 5 audit_has $LOSER "action=conflict path=pinned/10.9.9.9_443 .*refused=pin-mismatch.*origin=$WIN"
node_start B
wait_for "B catches up after its restart" 20 bundle_has B "$CERTS/Charlie.pem"
wait_for "tombstone: the root removed while B was away is gone on B" 10 gone B roots/Alpha.pem
still "and B does not bring it back to A" 1 gone A roots/Alpha.pem

# 9. A node killed with -9 mid-sync converges after its restart.
"$MKCERT_BIN" --count 40 --out-bundle "$CERTS/many.pem" >/dev/null || die "mkcert --count"
cp "$CERTS/many.pem" "$(M A)/import" || not_ok "import on A"
sleep 0.2
node_kill C
mkroot Delta
cp "$CERTS/Delta.pem" "$(M B)/roots/Delta.pem"
node_kill B
node_start C
node_start B
nroots() { ls "$(M $1)/roots" | wc -l; }
wait_for "after kill -9: C has every root of A" 20 sh -c "[ \$(ls '$(M C)/roots' | wc -l) -eq \$(ls '$(M A)/roots' | wc -l) ] && [ \$(ls '$(M A)/roots' | wc -l) -ge 40 ]"
wait_for "after kill -9: B's last change reached A" 20 bundle_has A "$CERTS/Delta.pem"
wait_for "after kill -9: and C" 20 bundle_has C "$CERTS/Delta.pem"

# 10. etcd compacts the revisions a stopped node would resume from: the
# node reads the whole prefix again at its restart.
node_stop C
mkroot Foxtrot
cp "$CERTS/Foxtrot.pem" "$(M A)/roots/Foxtrot.pem"
wait_for "Foxtrot reaches B" 10 bundle_has B "$CERTS/Foxtrot.pem"
rm "$(M A)/roots/Delta.pem"
wait_for "Delta's removal reaches B" 10 gone B roots/Delta.pem
REV=$(ectl get /trustfs/roots/Foxtrot.pem -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
ectl compact "$REV" >/dev/null && ok "etcd compacted to revision $REV" || not_ok "etcd compact"
node_start C
wait_for "after a compaction C reads the prefix again: Foxtrot" 20 bundle_has C "$CERTS/Foxtrot.pem"
wait_for "and Delta's tombstone" 10 gone C roots/Delta.pem

# 11. A new node joins with an empty store (mounted with -o, as fstab
# does); one with a store of its own merges under the same rules.
NSTORE[D]=$T/store-D NMNT[D]=$T/mnt-D
mkdir -p "${NMNT[D]}"
TRUSTFS_SYNC_DEBUG=1 "$TRUSTFS_BIN" -f --store "${NSTORE[D]}" -o "cluster=$ENDPOINTS,node=D" \
	"${NMNT[D]}" >>"$T/node-D.log" 2>&1 &
NPID[D]=$!
wait_for "a node mounted with -o cluster=URL1,URL2,URL3,node=D" 10 mountpoint -q "${NMNT[D]}"
wait_for "status names node D and every URL's member" 10 status_has D "node D, prefix /trustfs/"
wait_for "a new node reads the whole prefix" 20 sh -c "[ \$(ls '$(M D)/roots' | wc -l) -eq \$(ls '$(M A)/roots' | wc -l) ]"
same D "pinned/127.0.0.1_$PORT" "$CERTS/tls1.pem" && ok "the new node has the TOFU pin" || not_ok "D's TOFU pin"
gone D roots/Alpha.pem && ok "the new node has no removed root" || not_ok "D has a removed root"
# E: a store made before it joined, with a root of its own and a pin
# that disagrees with the fleet's.
mkroot Echo
mkleaf epin
mkdir -p "$T/mnt-E"
NSTORE[E]=$T/store-E NMNT[E]=$T/mnt-E
"$TRUSTFS_BIN" --store "${NSTORE[E]}" "${NMNT[E]}" 2>>"$T/node-E.log" || not_ok "E alone"
for i in $(seq 50); do mountpoint -q "${NMNT[E]}" && break; sleep 0.1; done
cp "$CERTS/Echo.pem" "${NMNT[E]}/roots/Echo.pem"
cp "$CERTS/epin.pem" "${NMNT[E]}/pinned/127.0.0.1_$PORT"
fusermount3 -u "${NMNT[E]}"
for i in $(seq 50); do pgrep -f "store ${NSTORE[E]}" >/dev/null || break; sleep 0.1; done
node_start E
wait_for "merge: E's own root reaches A" 20 bundle_has A "$CERTS/Echo.pem"
wait_for "merge: E takes the fleet's pin" 10 same E "pinned/127.0.0.1_$PORT" "$CERTS/tls1.pem"
wait_for "merge: E's own pin goes to rejected/" 10 same E "rejected/127.0.0.1_$PORT" "$CERTS/epin.pem"

# A node mounted once without --cluster leaves the fleet; what it changed
# meanwhile is merged when it comes back.
node_stop D
"$TRUSTFS_BIN" --store "${NSTORE[D]}" "${NMNT[D]}" 2>>"$T/node-D.log" || not_ok "D alone"
for i in $(seq 50); do mountpoint -q "${NMNT[D]}" && break; sleep 0.1; done
grep -q "^Cluster" "${NMNT[D]}/status" && not_ok "D alone still says Cluster" || ok "without --cluster, status has no Cluster lines"
mkroot Golf
cp "$CERTS/Golf.pem" "${NMNT[D]}/roots/" || not_ok "cp on D alone"
fusermount3 -u "${NMNT[D]}"
for i in $(seq 50); do pgrep -f "store ${NSTORE[D]}" >/dev/null || break; sleep 0.1; done
still "a change made outside the fleet stays there" 1 sh -c "[ ! -e '$(M A)/roots/Golf.pem' ]"
node_start D
wait_for "back in the fleet, D's change is merged" 20 bundle_has A "$CERTS/Golf.pem"

# SIGTERM stops a node as cleanly as an unmount (its threads end, nothing
# leaks: the sanitizer build checks).
kill -TERM "${NPID[E]}"
rc=0; wait "${NPID[E]}" || rc=$?
NPID[E]=""
check_eq "SIGTERM stops a node cleanly" "$rc" 0
fusermount3 -uz "${NMNT[E]}" 2>/dev/null
for n in A B C D; do node_stop $n; done
finish
