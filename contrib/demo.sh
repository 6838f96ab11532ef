#!/bin/bash
# Builds trustfs, mounts a demo store holding this machine's system roots,
# and says what to try.  Run it again to remount; unmount with
#   fusermount3 -u /tmp/trustfs-demo/mnt
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
contrib/deps.sh
cmake -S "$top" -B "$top/build/demo" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build/demo" -j"$(nproc)" >/dev/null
bin=$top/build/demo

demo=${TRUSTFS_DEMO:-/tmp/trustfs-demo}
mnt=$demo/mnt
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then
	fusermount3 -u "$mnt"
fi
"$bin/trustfs" --store "$demo/store" "$mnt"
# The system roots, as a PKCS#7 bundle (as IOS-XR's ios.p7b would be).
openssl crl2pkcs7 -nocrl -certfile /etc/ssl/certs/ca-certificates.crt \
	-outform DER -out "$demo/system-roots.p7b"
cp "$demo/system-roots.p7b" "$mnt/import"
head -n 6 "$mnt/import"

cat <<EOT

trustfs is mounted at $mnt (store: $demo/store).  Try:

  ls $mnt/roots | head                  # the trustpool, one file per root
  cat "$mnt/roots/\$(ls $mnt/roots | head -1)"   # inspect a root
  getfattr -d $mnt/roots/ISRG_Root_X1.pem     # the same values as xattrs
  openssl verify -CAfile $mnt/bundle.pem /etc/ssl/certs/ISRG_Root_X1.pem
  ls $mnt/certs | head                  # hashed directory for -CApath
  curl --cacert $mnt/bundle.pem https://...   # any client that takes a CA file
  cp server.pem $mnt/pinned/10.1.2.3_8082     # pre-pin a host
  rm $mnt/pinned/10.1.2.3_8082                # delete a stale pin
  mv $mnt/roots/X.pem $mnt/distrusted/        # decommission a root

Unmount with: fusermount3 -u $mnt
EOT
