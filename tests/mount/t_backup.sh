#!/bin/bash
# trustctl backup, restore and export: no shell ever runs a file name, a
# restore checks the backup before it replaces anything, and no planted
# symlink makes root write through it (issue 8, defects 8, 9 and 10).
. "$(dirname "$0")/lib.sh"
: "${TRUSTCTL_BIN:?set by ctest}"
command -v mdb_load >/dev/null && command -v mdb_dump >/dev/null ||
	die "mdb_load and mdb_dump (lmdb-utils) are needed to build bad backups"
mkcerts
# Every command runs here, so that a file name run by a shell would leave
# its PWNED where the checks look.
mkdir "$T/cwd" && cd "$T/cwd" || die "cannot enter $T/cwd"
CTL() { "$TRUSTCTL_BIN" --store "$STORE" "$@"; }
# exit_of COMMAND...: prints the exit status; the output goes to $T/out.
exit_of() { local rc=0; "$@" >"$T/out" 2>&1 || rc=$?; echo "$rc"; }
said() { # said DESCRIPTION TEXT...: $T/out holds every TEXT
	local d=$1 w; shift
	for w in "$@"; do
		if ! grep -qF -- "$w" "$T/out"; then
			not_ok "$d (wanted '$w')"; sed 's/^/#   /' "$T/out" | head -10
			return
		fi
	done
	ok "$d"
}
# What a refused restore must leave alone: the data file and the names.
snap() { sha256sum <"$STORE/data.mdb"; ls -A "$STORE"; }

# A store with roots, a pin and a policy.
mount_fs
check "a root" cp "$CERTS/root.pem" "$MNT/roots/Root.pem"
check "another root" cp "$CERTS/other.pem" "$MNT/roots/Other.pem"
check "a pin" cp "$CERTS/leaf.pem" "$MNT/pinned/h.test_443"
check "a policy" sh -c "printf '*.lab.example_443 chain\n* tofu\n' >'$MNT/policy'"
live=$(state)
live_policy=$(cat "$MNT/policy")
umount_fs

check "backup FILE" CTL backup "$T/good.mdb"
check_eq "the backup is 0600" "$(stat -c %a "$T/good.mdb")" 600

# Defect 10: the temporary file is never a predictable name.
echo victim >"$T/victim"
mkdir "$T/bk"
for n in b.mdb.tmp b.mdb~ b.mdb.new .b.mdb.tmp .b.mdb; do
	ln -s "$T/victim" "$T/bk/$n"
done
check "backup beside symlinks planted at FILE.tmp and other names" CTL backup "$T/bk/b.mdb"
check_eq "the symlinks' target is untouched" "$(cat "$T/victim")" victim
check "FILE is a regular file" test -f "$T/bk/b.mdb" -a ! -L "$T/bk/b.mdb"
check_eq "no temporary file is left" "$(ls -A "$T/bk" | sort | tr '\n' ' ')" ".b.mdb .b.mdb.tmp b.mdb b.mdb.new b.mdb.tmp b.mdb~ "
ln -s "$T/victim" "$T/bk/link.mdb"
check "backup onto a symlink replaces the link" CTL backup "$T/bk/link.mdb"
check_eq "and does not write through it" "$(cat "$T/victim")" victim
check "link.mdb is now the backup" test -f "$T/bk/link.mdb" -a ! -L "$T/bk/link.mdb"
check_eq "backup into a missing directory exits 2" "$(exit_of CTL backup "$T/nodir/b.mdb")" 2
said "and says which file and why" "$T/nodir/b.mdb" "No such file or directory"
check_eq "the backup of a missing store exits 2" "$(exit_of "$TRUSTCTL_BIN" --store "$T/nostore" backup "$T/x.mdb")" 2
check "and creates nothing" test ! -e "$T/x.mdb" -a ! -e "$T/nostore"

# export -o: the same rule.
ln -s "$T/victim" "$T/export.pem"
check "export -o onto a planted symlink" CTL export --format pem -o "$T/export.pem"
check_eq "the symlink's target is untouched" "$(cat "$T/victim")" victim
check_eq "the export holds both roots" "$(grep -c 'BEGIN CERTIFICATE' "$T/export.pem")" 2
mkdir "$T/ex"
ln -s "$T/victim" "$T/ex/roots.p12.tmp"
check "export -o pkcs12 beside a planted FILE.tmp" CTL export --format pkcs12 -o "$T/ex/roots.p12"
check_eq "its target is untouched" "$(cat "$T/victim")" victim
check_eq "no temporary file is left" "$(ls -A "$T/ex" | sort | tr '\n' ' ')" "roots.p12 roots.p12.tmp "
check_eq "export of an unknown format exits 2" "$(exit_of CTL export --format bogus -o "$T/ex/bogus")" 2
check "and creates nothing" test ! -e "$T/ex/bogus"

# Defect 8: file names never reach a shell.
evil="x'; touch PWNED; echo '"
cp "$T/good.mdb" "$T/$evil"
# A name that would write into /tmp by an absolute path (a file name holds
# no '/': printf makes them), unique to this run.
mark=/tmp/PWNED.${T##*.}
evil_abs="y'; touch \"\$(printf '\\057tmp\\057PWNED.${T##*.}')\"; echo '"
cp "$T/good.mdb" "$T/$evil_abs"
check "restore --force of a file named $evil" sh -c 'cd "$1" && exec "$2" --store "$3" restore --force "$4"' sh "$T/cwd" "$TRUSTCTL_BIN" "$STORE" "$T/$evil"
evil_store="$T/s'; touch PWNED; echo '"
check "restore into a store named $evil_store" sh -c 'cd "$1" && exec "$2" --store "$3" restore "$4"' sh "$T/cwd" "$TRUSTCTL_BIN" "$evil_store" "$T/good.mdb"
check "restore --force of a file named $evil_abs" CTL restore --force "$T/$evil_abs"
check "backup to a file named $evil" sh -c 'cd "$1" && exec "$2" --store "$3" backup "$4"' sh "$T/cwd" "$TRUSTCTL_BIN" "$STORE" "$T/$evil.bak"
check_eq "nothing ran: no PWNED anywhere" "$(ls -d "$T/cwd/PWNED" "$T/PWNED" "$STORE/PWNED" "$evil_store/PWNED" 2>/dev/null)" ""
check "nor $mark" test ! -e "$mark"
rm -f "$mark"

# Defect 9: a backup that is not a whole trustfs store is refused, with
# --force too, and the store stays as it was.
: >"$T/empty.mdb"
head -c 65536 /dev/urandom >"$T/random.mdb"
size=$(stat -c %s "$T/good.mdb")
head -c $((size / 2)) "$T/good.mdb" >"$T/half.mdb"
head -c 4096 "$T/good.mdb" >"$T/page.mdb"
printf 'key\nvalue\n' | mdb_load -n -T "$T/other.mdb" 2>"$T/load.err" || cat "$T/load.err"
: | mdb_load -n -T "$T/emptyenv.mdb" 2>"$T/load.err" || cat "$T/load.err"
# mdb_dump writes "duplicates=1", mdb_load 0.9.24 reads "dupsort=1".  The
# dump is in hex: "schema" is 736368656d61, "policy" 706f6c696379.
mdb_dump -n -a "$T/good.mdb" | sed 's/^duplicates=1$/dupsort=1/; /^db_pagesize=/d' >"$T/good.hex"
reload() { # reload NAME AWK-PROGRAM: good.hex changed by AWK, loaded into NAME.mdb
	awk "$2" "$T/good.hex" >"$T/$1.hex" &&
	mdb_load -n -f "$T/$1.hex" "$T/$1.mdb" 2>"$T/load.err" || { cat "$T/load.err"; not_ok "mdb_load $1"; }
}
reload reloaded '{ print }'
reload newer '/^database=/ { db = $0 } { if (db == "database=meta" && prev == " 736368656d61") print " 39"; else print; prev = $0 }'
reload noschema '/^database=/ { db = $0 } { if (db == "database=meta" && ($0 == " 736368656d61" || prev == " 736368656d61")) { prev = $0; next } print; prev = $0 }'
reload badpolicy '/^database=/ { db = $0 } { if (db == "database=meta" && prev == " 706f6c696379") print " 2a20626f6775730a"; else print; prev = $0 }'
# Whole sections (VERSION= to DATA=END), all but the roots database.
reload noroots '{ sec = sec $0 "\n" } $0 == "database=roots" { drop = 1 } $0 == "DATA=END" { if (!drop) printf "%s", sec; sec = ""; drop = 0 }'
# A root whose DER is damaged (the certificate starts at byte 128 of a
# one-certificate record: "30 82" becomes "00 00").
reload badder '/^database=/ { db = $0 } { if (db == "database=roots" && length($0) > 300 && substr($0, 258, 4) == "3082") $0 = substr($0, 1, 257) "0000" substr($0, 262); print }'
for n in newer noschema badpolicy noroots badder; do
	check "the $n copy differs from the backup" sh -c "! cmp -s '$T/good.hex' '$T/$n.hex'"
done
mkfifo "$T/fifo.mdb"
mkdir "$T/dir.mdb"
rm -f "$T"/*.mdb-lock

before=$(snap)
refused() { # refused DESCRIPTION FILE REASON
	local rc
	rc=$(exit_of timeout 20 "$TRUSTCTL_BIN" --store "$STORE" restore --force "$2")
	check_eq "restore --force of $1 exits 2" "$rc" 2
	said "it names the file and says why" "$2" "$3"
	check_eq "the store is unchanged" "$(snap)" "$before"
}
refused "a 0-byte file" "$T/empty.mdb" "empty"
refused "random bytes" "$T/random.mdb" "not a trustfs backup"
refused "a backup cut in half" "$T/half.mdb" "truncated"
refused "the first page of a backup" "$T/page.mdb" "not a trustfs backup"
refused "an LMDB file that is not a trustfs store" "$T/other.mdb" "not a trustfs backup"
refused "an empty LMDB file" "$T/emptyenv.mdb" "not a trustfs backup"
refused "a store without a schema version" "$T/noschema.mdb" "schema"
refused "a store of a newer schema" "$T/newer.mdb" "schema version 9"
refused "a store without roots" "$T/noroots.mdb" "not a trustfs backup"
refused "a store whose policy does not parse" "$T/badpolicy.mdb" "policy"
refused "a store with a damaged certificate" "$T/badder.mdb" "roots/"
refused "a FIFO (must not hang)" "$T/fifo.mdb" "not a regular file"
refused "a directory" "$T/dir.mdb" "not a regular file"
refused "a missing file" "$T/missing.mdb" "No such file or directory"
check_eq "restore --force without FILE exits 2" "$(exit_of CTL restore --force)" 2
check_eq "restore with two files exits 2" "$(exit_of CTL restore "$T/good.mdb" "$T/good.mdb")" 2
check_eq "restore with an unknown option exits 2" "$(exit_of CTL restore --forse "$T/good.mdb")" 2
check_eq "after all that the store is unchanged" "$(snap)" "$before"
check_eq "no staging directory is left beside the store" "$(ls -d "$STORE"?* 2>/dev/null)" ""

# Without --force a store that is there is never replaced, readable or not.
mkdir "$T/junk" && head -c 8192 /dev/urandom >"$T/junk/data.mdb"
check_eq "restore over an unreadable store without --force exits 2" "$(exit_of "$TRUSTCTL_BIN" --store "$T/junk" restore "$T/good.mdb")" 2
said "it says why and how" "$T/junk" "--force"
check "restore --force replaces it" "$TRUSTCTL_BIN" --store "$T/junk" restore --force "$T/good.mdb"

# A store in use is never replaced.
mount_fs
check_eq "restore --force while mounted exits 2" "$(exit_of CTL restore --force "$T/good.mdb")" 2
said "it says the store is in use" "in use"
umount_fs

# A good backup round-trips, keeping the data file's mode.
check "a dump and reload of the backup restores" CTL restore --force "$T/reloaded.mdb"
chmod 640 "$STORE/data.mdb"
check "restore --force of the good backup" CTL restore --force "$T/good.mdb"
check_eq "the data file keeps its mode" "$(stat -c %a "$STORE/data.mdb")" 640
check "restore of the hostile name's backup" CTL restore --force "$T/$evil.bak"
check_eq "and still no PWNED" "$(ls -d "$T/cwd/PWNED" "$T/PWNED" "$STORE/PWNED" 2>/dev/null)" ""
mount_fs
check_eq "roots and pins are as backed up" "$(state)" "$live"
check_eq "the policy is as backed up" "$(cat "$MNT/policy")" "$live_policy"
umount_fs
STORE=$evil_store
mount_fs
check_eq "the store with the hostile name holds the backup" "$(state)" "$live"
umount_fs

finish
