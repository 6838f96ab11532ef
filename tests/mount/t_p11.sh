#!/bin/bash
# MOUNT/p11-kit/: p11-kit's trust module, pointed at the mount by the shipped
# contrib/p11-kit/trustfs.module, shows roots/ as anchors and distrusted/ as
# the blocklist, live: in `trust list' and in NSS (certutil -L -h all on a
# database that loads the module with modutil -add).
#
# p11-kit reads a user's module files only when not run as root, so trust(1)
# runs as nobody with the module file in a HOME of its own; /etc is not
# touched.
. "$(dirname "$0")/lib.sh"
mkcerts
mount_fs -o allow_other
NOBODY=65534
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@"; }

# The user's p11-kit configuration: the shipped file, copied as the README
# says (under the name of the distribution's trust module file), its path
# moved to MNT.
chmod 711 "$T"
HOMEDIR=$T/home
mkdir -p "$HOMEDIR/.config/pkcs11/modules"
sed "s|^x-init-reserved: paths=/trust/p11-kit\$|x-init-reserved: paths=$MNT/p11-kit|" \
	"$SRC_DIR/contrib/p11-kit/trustfs.module" >"$HOMEDIR/.config/pkcs11/modules/p11-kit-trust.module"
check "the module file names the mount" grep -qx "x-init-reserved: paths=$MNT/p11-kit" \
	"$HOMEDIR/.config/pkcs11/modules/p11-kit-trust.module"
chmod -R a+rX "$HOMEDIR"
TRUST() { as_nobody env HOME="$HOMEDIR" trust list "$@"; }
# label: L in a trust list block, followed by its trust: line.
trust_of() { awk -v l="    label: $1" '$0 == l { getline; sub(/^ *trust: /, ""); print; exit }' "$T/out"; }

# The layout p11-kit's trust module loads: PATH/anchors and PATH/blocklist.
check "p11-kit/ is listed at the top" sh -c "ls '$MNT' | grep -qx p11-kit"
check_eq "p11-kit/ holds anchors and blocklist (blacklist before p11-kit 0.24)" \
	"$(ls "$MNT/p11-kit" | tr '\n' ' ')" "anchors blacklist blocklist "
check_eq "anchors -> ../roots" "$(readlink "$MNT/p11-kit/anchors")" "../roots"
check_eq "blocklist -> ../distrusted" "$(readlink "$MNT/p11-kit/blocklist")" "../distrusted"
check_eq "blacklist -> ../distrusted" "$(readlink "$MNT/p11-kit/blacklist")" "../distrusted"

check "add the test root" cp "$CERTS/root.pem" "$MNT/roots/TestRoot.pem"
check "distrust the other root" cp "$CERTS/other.pem" "$MNT/distrusted/Other.pem"
check "the link leads to roots/" test -f "$MNT/p11-kit/anchors/TestRoot.pem"

check "trust list --filter=ca-anchors" TRUST --filter=ca-anchors
check_eq "the test root is an anchor" "$(trust_of 'Test Root CA')" "anchor"
check_eq "only the mount's roots (it takes the bundle's place)" "$(grep -c 'type: certificate' "$T/out")" "1"
check "the distrusted root is no anchor" sh -c "! grep -q 'label: Other Root' '$T/out'"
check "trust list --filter=blocklist" TRUST --filter=blocklist
check_eq "the distrusted root is blocklisted" "$(trust_of 'Other Root')" "distrusted"
check_eq "once (p11-kit 0.24 reads blocklist/ only)" "$(grep -c 'type: certificate' "$T/out")" "1"

# NSS: a database of its own that loads the trust module on the mount.
DB=$(mktemp -d "$T/nssdb.XXXXXX")
check "certutil -N" certutil -N -d "sql:$DB" --empty-password
check "modutil -add the p11-kit trust module" modutil -force -dbdir "sql:$DB" -add trustfs \
	-libfile "$(pkg-config --variable p11_module_path p11-kit-1)/p11-kit-trust.so" \
	-string "paths=$MNT/p11-kit"
CERTUTIL() { certutil -L -h all -d "sql:$DB"; }
nss_trust() { awk -v n="p11-kit:$1" 'index($0, n) == 1 { print $NF }' "$T/out"; }
check "certutil -L -h all" CERTUTIL
check_eq "NSS: the test root is a trusted CA" "$(nss_trust 'Test Root CA')" "CT,C,C"
check_eq "NSS: the distrusted root is prohibited" "$(nss_trust 'Other Root')" "p,p,p"

# Live: every change shows in the next look, in both.
"$MKCERT_BIN" --cn "Added Root" --ca --key-out "$CERTS/added.key" --out "$CERTS/added.pem" ||
	die "could not make a certificate"
check "add a root" cp "$CERTS/added.pem" "$MNT/roots/Added.pem"
check "decommission the test root" mv "$MNT/roots/TestRoot.pem" "$MNT/distrusted/"
check "trust list --filter=ca-anchors again" TRUST --filter=ca-anchors
check_eq "the added root is an anchor" "$(trust_of 'Added Root')" "anchor"
check "the decommissioned root is no anchor" sh -c "! grep -q 'label: Test Root CA' '$T/out'"
check "trust list --filter=blocklist again" TRUST --filter=blocklist
check_eq "the decommissioned root is blocklisted" "$(trust_of 'Test Root CA')" "distrusted"
check "certutil -L -h all again" CERTUTIL
check_eq "NSS: the added root is a trusted CA" "$(nss_trust 'Added Root')" "CT,C,C"
check_eq "NSS: the decommissioned root is prohibited" "$(nss_trust 'Test Root CA')" "p,p,p"
check "lift the block" rm "$MNT/distrusted/Other.pem"
check "trust list --filter=blocklist once more" TRUST --filter=blocklist
check "the lifted root is gone from the blocklist" sh -c "! grep -q 'label: Other Root' '$T/out'"

# The view is read-only; the links cannot be changed.
check_fails "rm p11-kit/anchors" "Read-only file system" rm "$MNT/p11-kit/anchors"
check_fails "cp into p11-kit/" "Read-only file system" cp "$CERTS/root.pem" "$MNT/p11-kit/x.pem"
check_fails "mv -T over p11-kit/blocklist" "Read-only file system" mv -T "$MNT/roots/Added.pem" "$MNT/p11-kit/blocklist"
check_fails "ln -s in p11-kit/" "Operation not permitted" ln -s ../roots "$MNT/p11-kit/more"
check_fails "a name that is not there" "No such file or directory" ls "$MNT/p11-kit/denylist"
check "refusals are audited" grep -q 'path=p11-kit/anchors .*refused=Read-only' "$MNT/audit.log"
check "the roots are unchanged" test -f "$MNT/roots/Added.pem"

finish
