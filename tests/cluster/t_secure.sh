#!/bin/bash
# Who may write the fleet's prefix (issue 11): etcd with TLS and client
# certificates, and etcd users with passwords.  A node without the right
# credentials does not get in (status says why), one with them replicates.
. "$(dirname "$0")/lib.sh"

# 1. TLS with client certificates (etcd --client-cert-auth).
# client_cert NAME CA [EKU [SAN]]: a TLS certificate issued by CA, for a
# client (extendedKeyUsage clientAuth, which etcd requires) unless told.
client_cert() {
	printf 'extendedKeyUsage=%s\nkeyUsage=critical,digitalSignature\n%s' \
		"${3:-clientAuth}" "${4:+subjectAltName=$4
}" >"$T/client.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$CERTS/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$T/$1.csr" -CA "$CERTS/$2.pem" -CAkey "$CERTS/$2.key" \
		-CAcreateserial -days 2 -extfile "$T/client.ext" -out "$CERTS/$1.pem" 2>/dev/null ||
		die "client certificate $1"
}
mkroot etcd-ca
# etcd's own gateway connects to its gRPC server with the server's
# certificate: with --client-cert-auth it must be a client's too.
client_cert server etcd-ca serverAuth,clientAuth IP:127.0.0.1
client_cert client-A etcd-ca
client_cert client-B etcd-ca
mkroot other-ca
client_cert intruder other-ca
CPORT[1]=$(free_port) PPORT[1]=$(free_port)
"$ETCD" --name m1 --data-dir "$T/etcd1" \
	--listen-client-urls "https://127.0.0.1:${CPORT[1]}" \
	--advertise-client-urls "https://127.0.0.1:${CPORT[1]}" \
	--listen-peer-urls "http://127.0.0.1:${PPORT[1]}" \
	--initial-advertise-peer-urls "http://127.0.0.1:${PPORT[1]}" \
	--initial-cluster "m1=http://127.0.0.1:${PPORT[1]}" \
	--cert-file "$CERTS/server.pem" --key-file "$CERTS/server.key" \
	--client-cert-auth --trusted-ca-file "$CERTS/etcd-ca.pem" >>"$T/etcd1.log" 2>&1 &
EPID[1]=$!
ENDPOINTS=https://127.0.0.1:${CPORT[1]}
tls_healthy() { curl -sf --cacert "$CERTS/etcd-ca.pem" --cert "$CERTS/client-A.pem" \
	--key "$CERTS/client-A.key" "$ENDPOINTS/health" | grep -q '"health":"true"'; }
wait_for "etcd with client-certificate auth is up" 20 tls_healthy || die "etcd: $(tail -3 "$T/etcd1.log")"
for n in A B; do
	node_start $n --cluster-cacert "$CERTS/etcd-ca.pem" --cluster-cert "$CERTS/client-$n.pem" \
		--cluster-key "$CERTS/client-$n.key"
done
node_start C --cluster-cacert "$CERTS/etcd-ca.pem" --cluster-cert "$CERTS/intruder.pem" \
	--cluster-key "$CERTS/intruder.key"
NSTORE[D]=$T/store-D
node_start D
mkroot TlsRoot
cp "$CERTS/TlsRoot.pem" "$(M A)/roots/" || not_ok "cp on A"
wait_for "TLS: a node with a client certificate replicates to another" 10 bundle_has B "$CERTS/TlsRoot.pem"
wait_for "TLS: both say connected" 10 status_has A "Cluster: connected"
wait_for "TLS: a client certificate from another CA is not let in" 10 status_has C "Cluster: disconnected"
status_has D "Cluster: disconnected" && ok "TLS: no client certificate, not let in" ||
	not_ok "TLS: a node without a client certificate got in"
still "TLS: neither gets the root" 1 sh -c "[ ! -e '$(M C)/roots/TlsRoot.pem' ] && [ ! -e '$(M D)/roots/TlsRoot.pem' ]"
mkroot Intruded
cp "$CERTS/Intruded.pem" "$(M C)/roots/" && ok "the intruder's node still works locally" ||
	not_ok "the intruder's node refused a local change"
still "and its change reaches nobody" 1 sh -c "[ ! -e '$(M A)/roots/Intruded.pem' ]"
status_has C "Cluster Changes Waiting: 1" && ok "the change waits in its outbox" || not_ok "C's outbox"
for n in A B C D; do node_stop $n; done
etcd_stop 1

# 2. etcd users and passwords (RBAC): a user that may write the prefix,
# one that may only read it, and a wrong password.
CPORT[2]=$(free_port) PPORT[2]=$(free_port)
INITIAL="m2=http://127.0.0.1:${PPORT[2]}"
etcd_start 2
ENDPOINTS=http://127.0.0.1:${CPORT[2]}
wait_for "plain etcd is up" 20 etcd_healthy 2 || die "etcd"
ectl user add root --new-user-password=rootpw >/dev/null &&
ectl user grant-role root root >/dev/null &&
ectl role add trustfs >/dev/null &&
ectl role grant-permission trustfs --prefix=true readwrite /trustfs/ >/dev/null &&
ectl user add writer --new-user-password=s3cret >/dev/null &&
ectl user grant-role writer trustfs >/dev/null &&
ectl role add reader >/dev/null &&
ectl role grant-permission reader --prefix=true read /trustfs/ >/dev/null &&
ectl user add reader --new-user-password=readpw >/dev/null &&
ectl user grant-role reader reader >/dev/null &&
ectl auth enable >/dev/null && ok "etcd RBAC set up" || die "etcdctl RBAC"
printf 's3cret\n' >"$T/writer.pw"
printf 'readpw\n' >"$T/reader.pw"
printf 'wrong\n' >"$T/wrong.pw"
chmod 600 "$T"/*.pw
for n in E F; do NSTORE[$n]=$T/store-$n; node_start $n --cluster-user writer --cluster-password-file "$T/writer.pw"; done
NSTORE[G]=$T/store-G
node_start G --cluster-user reader --cluster-password-file "$T/reader.pw"
NSTORE[H]=$T/store-H
node_start H --cluster-user writer --cluster-password-file "$T/wrong.pw"
mkroot UserRoot
cp "$CERTS/UserRoot.pem" "$(M E)/roots/" || not_ok "cp on E"
wait_for "users: the writer's change reaches another writer" 10 bundle_has F "$CERTS/UserRoot.pem"
wait_for "users: a read-only user still follows the fleet" 10 bundle_has G "$CERTS/UserRoot.pem"
mkroot ReaderRoot
cp "$CERTS/ReaderRoot.pem" "$(M G)/roots/" || not_ok "cp on G"
wait_for "users: a read-only user's push is refused (disconnected)" 10 status_has G "Cluster: disconnected"
still "users: its change reaches nobody" 1 sh -c "[ ! -e '$(M E)/roots/ReaderRoot.pem' ]"
wait_for "users: a wrong password is told in status" 10 status_has H "authentication failed\|invalid"
gone H roots/UserRoot.pem && ok "users: the wrong password gets nothing" || not_ok "wrong password got in"
for n in E F G H; do node_stop $n; done
finish
