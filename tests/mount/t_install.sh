#!/bin/bash
# cmake --install into a DESTDIR puts every file in place, and a program
# builds against the installed header and library through pkg-config.
. "$(dirname "$0")/lib.sh"
BUILD=$(dirname "$TRUSTFS_BIN")
R=$T/root
P=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/../CMakeCache.txt" "$BUILD/CMakeCache.txt" 2>/dev/null | head -1)
L=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$BUILD/CMakeCache.txt" | head -1)
check "cmake --install into a DESTDIR" env DESTDIR="$R" cmake --install "$BUILD"
for f in bin/trustfs bin/trustctl sbin/mount.trustfs include/trustfs.h "$L/pkgconfig/trustfs.pc" \
	share/man/man8/trustfs.8 share/man/man8/mount.trustfs.8 share/man/man1/trustctl.1 \
	share/man/man3/libtrustfs.3 share/man/man5/trustfs-policy.5 lib/systemd/system/trustfs.service \
	lib/systemd/system/trust.mount share/bash-completion/completions/trustctl \
	share/doc/trustfs/policies/default.policy share/doc/trustfs/policies/ha-pair.policy \
	share/doc/trustfs/fstab.example lib/systemd/system/trustfs-update.service \
	lib/systemd/system/trustfs-update.timer share/doc/trustfs/p11-kit/trustfs.module; do
	check "installed: $P/$f" test -e "$R$P/$f"
done
lib=$(find "$R" -name 'libtrustfs.so.0*' -type f | head -1)
check "libtrustfs.so has a soname" sh -c "objdump -p '$lib' | grep -q 'SONAME *libtrustfs.so.0'"
check "the static library" test -n "$(find "$R" -name libtrustfs.a)"
check "mount.fuse.trustfs links to the helper" test "$(readlink "$R$P/sbin/mount.fuse.trustfs")" = mount.trustfs
check "only trustfs_ symbols are exported" sh -c "! nm -D --defined-only '$lib' | awk '{print \$3}' | grep -v '^trustfs_' | grep -v '^TRUSTFS_0' | grep ."
check "the unit names the installed daemon" grep -q "ExecStart=$P/bin/trustfs " "$R$P/lib/systemd/system/trustfs.service"
check "the update unit runs the installed trustctl" grep -q "ExecStart=$P/bin/trustctl .*update" "$R$P/lib/systemd/system/trustfs-update.service"
check "the p11-kit module file is shipped disabled (not in /etc)" test ! -e "$R/etc/pkcs11/modules/trustfs.module"
check "man pages format without errors" sh -c "for m in '$R$P'/share/man/man*/*; do groff -man -Tutf8 -z \"\$m\" 2>&1 | grep . && exit 1; done; exit 0"

cat >"$T/client.c" <<'C'
#include <stdio.h>
#include <trustfs.h>
int main(int argc, char **argv)
{
	struct trustfs *t = trustfs_open(argv[1]);
	struct trustfs_verdict v;

	if (t == NULL || trustfs_error(t) != NULL)
		return 2;
	/* No chain: the check cannot run, and that is never trust. */
	if (trustfs_check(t, "example.org", 443, NULL, &v) != -1 || v.trusted)
		return 1;
	printf("%s\n", trustfs_reason_name(TRUSTFS_PIN_MISMATCH));
	trustfs_free(t);
	return 0;
}
C
export PKG_CONFIG_SYSROOT_DIR=$R
export PKG_CONFIG_PATH=$R$P/$L/pkgconfig
check "pkg-config finds trustfs" pkg-config --exists trustfs
# A sanitizer build's library needs its runtime in the program too.
san=
grep -q '^TRUSTFS_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && san="-fsanitize=address,undefined"
check "a C program builds against the installed library" \
	sh -c "cc $san -o '$T/client' '$T/client.c' \$(pkg-config --cflags --libs trustfs)"
check "and runs" sh -c "LD_LIBRARY_PATH='$(dirname "$lib")' '$T/client' '$T/store' | grep -qx pin-mismatch"
finish
