#!/bin/bash
# Installs the Debian 12 packages that trustfs needs to build, test and
# run its demo; does nothing when they are all there.  clang builds the
# fuzz harnesses (tests/fuzz); libclang-rt-dev holds its libFuzzer and
# sanitizer runtimes, which clang only recommends.  libjson-c-dev: trustctl's
# JSON output and the etcd gateway's replies.  libcurl: URL import, EST, AIA
# and the fleet's etcd client; etcd-server/-client: the fleet tests' cluster.
# p11-kit, libnss3-tools, gnutls-bin and a JDK: the tests that show the mount
# to p11-kit, NSS, GnuTLS known_hosts and Java.
set -eu
pkgs="build-essential cmake pkg-config libfuse3-dev fuse3 libssl-dev openssl
liblmdb-dev lmdb-utils libjson-c-dev check ca-certificates curl python3 attr procps
util-linux libgnutls28-dev groff-base binutils ansible-core git
clang libclang-rt-dev libcurl4-openssl-dev etcd-server etcd-client p11-kit
p11-kit-modules gnutls-bin libnss3-tools default-jdk-headless"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing:$missing"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
