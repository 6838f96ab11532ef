#!/bin/bash
# Builds trustfs, mounts a demo store holding this machine's system roots,
# and says what to try.  Run it again to remount; unmount with
#   fusermount3 -u /tmp/trustfs-demo/mnt
# TRUSTFS_DEMO=DIR puts the demo (store, mount point, build log) in DIR
# instead of /tmp/trustfs-demo.  The demo never unmounts a mount that it
# did not make: it refuses and says how to choose another directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

demo=${TRUSTFS_DEMO:-/tmp/trustfs-demo}
mnt=$demo/mnt
marker=$demo/demo-mount.id	# "ID FSTYPE" of the mount this demo made

say() { printf '==> %s\n' "$*"; }
refuse() {
	printf 'demo.sh: %s\n' "$1" >&2
	printf 'demo.sh: it is left as it is.  Choose another directory for '\
'the demo, e.g.\n  TRUSTFS_DEMO=/tmp/trustfs-demo2 %s\n' "$0" >&2
	exit 1
}

# Before anything is built: the directories must be the demo's own.
if mountpoint -q "$demo" 2>/dev/null; then
	refuse "$demo is a mount point ($(findmnt -n -o FSTYPE,SOURCE --mountpoint "$demo" | tr -s ' '))"
fi
if mountpoint -q "$mnt" 2>/dev/null; then
	now=$(findmnt -n -o ID,FSTYPE --mountpoint "$mnt" | tr -s ' ')
	if [ ! -f "$marker" ] || [ "$(cat "$marker")" != "$now" ]; then
		refuse "$mnt is already a mount point ($(findmnt -n -o FSTYPE,SOURCE --mountpoint "$mnt" | tr -s ' ')) that this demo did not make"
	fi
	say "Unmounting the previous demo mount at $mnt"
	fusermount3 -u "$mnt"
	rm -f "$marker"
fi

say "Checking build dependencies (contrib/deps.sh; installs what is missing)"
contrib/deps.sh

bin=$top/build/demo
mkdir -p "$demo"
log=$demo/build.log
say "Configuring in $bin (log: $log)"
if ! cmake -S "$top" -B "$bin" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$log" 2>&1; then
	tail -20 "$log" >&2
	echo "demo.sh: cmake failed; the whole log is $log" >&2
	exit 1
fi
say "Building trustfs and trustctl (a minute or two the first time)"
# cmake's "[ 42%] Building ..." lines are the progress; everything else
# (warnings included) goes to the log only.
# shellcheck disable=SC2094 # both append to the log; neither reads it
cmake --build "$bin" -j"$(nproc)" --target trustfsd trustctl 2>>"$log" |
	tee -a "$log" | { grep --line-buffered '^\[ *[0-9]*%\]' || true; }
built=${PIPESTATUS[0]}
if [ "$built" -ne 0 ] || [ ! -x "$bin/trustfs" ] || [ ! -x "$bin/trustctl" ]; then
	tail -20 "$log" >&2
	echo "demo.sh: the build failed; the whole log is $log" >&2
	exit 1
fi

# allow_other: other users' programs (a web server, a TLS client under its
# own account) read the mount too.  fuse(8): only root may use it, unless
# /etc/fuse.conf says user_allow_other.
opts=
if [ "$(id -u)" -eq 0 ] || grep -qs '^[[:space:]]*user_allow_other' /etc/fuse.conf; then
	opts=allow_other
else
	echo "demo.sh: note: mounting without allow_other (add user_allow_other to /etc/fuse.conf for it); only you can read the mount" >&2
fi
mkdir -p "$mnt"
say "Mounting the store $demo/store at $mnt${opts:+ (-o $opts)}"
"$bin/trustfs" --store "$demo/store" ${opts:+-o "$opts"} "$mnt"
for _ in $(seq 50); do
	mountpoint -q "$mnt" && break
	sleep 0.1
done
mountpoint -q "$mnt" || { echo "demo.sh: trustfs did not mount $mnt" >&2; exit 1; }
findmnt -n -o ID,FSTYPE --mountpoint "$mnt" | tr -s ' ' >"$marker"

say "Importing this machine's system roots (as IOS-XR's ios.p7b would be)"
openssl crl2pkcs7 -nocrl -certfile /etc/ssl/certs/ca-certificates.crt \
	-outform DER -out "$demo/system-roots.p7b"
cp "$demo/system-roots.p7b" "$mnt/import"
head -n 6 "$mnt/import"

ctl="$bin/trustctl --store $demo/store"
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

  $ctl list roots | head
  $ctl list roots --json | python3 -m json.tool | head
  $ctl connect example.com:443       # a TLS handshake judged by the policy
  $ctl verify --host example.com chain.pem
  $ctl --help

Unmount with: fusermount3 -u $mnt
EOT
