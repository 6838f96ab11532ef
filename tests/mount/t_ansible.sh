#!/bin/bash
# Config management: an Ansible play (connection: local) adds a root with
# copy and removes a pin with file state=absent; a second run succeeds and
# changes nothing in the store.  Then the trustfs_cert module of
# contrib/ansible (issue 10): changed on the first run, changed=0 on the
# second, replacement by rename, state=absent, check mode and diff, and
# clear failures.
. "$(dirname "$0")/lib.sh"
command -v ansible-playbook >/dev/null || die "ansible-playbook is missing (contrib/deps.sh installs ansible-core)"
mkcerts
mount_fs
check "a pin to remove" cp "$CERTS/leaf.pem" "$MNT/pinned/old.example_8082"
cat >"$T/play.yml" <<YML
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
  tasks:
    - name: trust the corporate root
      ansible.builtin.copy:
        src: $CERTS/root.pem
        dest: $MNT/roots/Corporate_Root.pem
        mode: "0644"
    - name: delete the stale pin
      ansible.builtin.file:
        path: $MNT/pinned/old.example_8082
        state: absent
YML
export ANSIBLE_LOCAL_TEMP=$T/ansible ANSIBLE_REMOTE_TEMP=$T/ansible ANSIBLE_NOCOLOR=1
check "first run" ansible-playbook -i localhost, "$T/play.yml"
check "copy added the root" grep -q 'Subject: CN=Test Root CA' "$MNT/roots/Corporate_Root.pem"
check "file state=absent removed the pin" test ! -e "$MNT/pinned/old.example_8082"
check "no temporary file left behind" test -z "$(ls -A "$MNT/roots" | grep '^\.')"
before=$(state)
m1=$(stat -c %Y "$MNT/roots/Corporate_Root.pem")
sleep 1.1
check "second run succeeds" ansible-playbook -i localhost, "$T/play.yml"
check_eq "the second run changes nothing in the store" "$(state)" "$before"
check_eq "not even the mtime" "$(stat -c %Y "$MNT/roots/Corporate_Root.pem")" "$m1"
n=$(grep -c 'action=add path=roots/Corporate_Root.pem' "$MNT/audit.log")
check_eq "audit.log records one addition" "$n" "1"

# copy backup: yes (issue 10).  Ansible first copies the old file to
# NAME.PID.YYYY-MM-DD@HH:MM:SS~ beside it; the mount holds such names in
# memory, as it does other temporary names, so the task works on every run.
xsha() { getfattr --absolute-names --only-values -n user.trustfs.sha256 "$1"; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
"$MKCERT_BIN" --cn "Second Root" --ca --key-out "$T/second.key" --out "$T/second.pem" ||
	die "could not generate a second root"
cat >"$T/backup.yml" <<YML
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
  tasks:
    - name: replace the corporate root, keeping a backup
      ansible.builtin.copy:
        src: $T/second.pem
        dest: $MNT/roots/Corporate_Root.pem
        backup: yes
      register: copied
    - ansible.builtin.debug: { msg: "backup_file={{ copied.backup_file | default('none') }}" }
YML
backup_of() { grep -o 'backup_file=[^"]*' "$T/out" | cut -d= -f2-; }
for run in 1 2; do
	check "copy backup=yes over an existing root, run $run" ansible-playbook -i localhost, "$T/backup.yml"
	b=$(backup_of)
	check "run $run: the backup is NAME.PID.DATE@TIME~" grep -qE \
		"^$MNT/roots/Corporate_Root\.pem\.[0-9]+\.[0-9]{4}-[0-9]{2}-[0-9]{2}@[0-9]{2}:[0-9]{2}:[0-9]{2}~\$" <<<"$b"
	check "run $run: ls lists the backup" grep -qxF "$(basename "$b")" <<<"$(ls "$MNT/roots")"
	check_eq "run $run: the root holds the second root" "$(xsha "$MNT/roots/Corporate_Root.pem")" "$(sha_of "$T/second.pem")"
	eval "b$run=\$b"
done
check "the first backup holds what the root held before" grep -q 'Subject: CN=Test Root CA' "$b1"
check "the second backup holds the second root" grep -q 'Subject: CN=Second Root' "$b2"
check "cp to a backup name works too" cp "$CERTS/root.pem" "$MNT/roots/X.pem.123.2026-11-25@17:20:01~"
check "and cat reads it back" cmp "$CERTS/root.pem" "$MNT/roots/X.pem.123.2026-11-25@17:20:01~"
check "rm removes a backup" rm "$b1" "$b2" "$MNT/roots/X.pem.123.2026-11-25@17:20:01~"
check_eq "no backup is listed any more" "$(ls "$MNT/roots" | grep -c '~$')" 0
check_eq "roots/ holds the one root" "$(ls "$MNT/roots")" "Corporate_Root.pem"
# A backup is not an entry: no change to the store names one.  Python's
# copy2 also copies the attributes of the file onto the backup: on a
# temporary name they are accepted and dropped, so the runs leave no
# refusal in audit.log (issue 10: 9 setxattr refusals per run before).
check "no change to the store names a backup" sh -c \
	'! grep -E "action=[a-z]+ path=roots/[^ ]*~ sha256=[0-9a-f]" "$1"' sh "$MNT/audit.log"
check_eq "no refusal of a backup's attributes" "$(grep -c 'action=setxattr path=roots/[^ ]*~ ' "$MNT/audit.log")" 0
check_eq "no refusal at all from the backup runs" "$(grep -c 'refused=' "$MNT/audit.log")" 0
check "audit.log records the replacement" grep -q "action=replace path=roots/Corporate_Root.pem sha256=$(sha_of "$T/second.pem" | tr -d : | tr A-F a-f) " "$MNT/audit.log"

# --- trustfs_cert (contrib/ansible/library) ---
export ANSIBLE_LIBRARY=$SRC_DIR/contrib/ansible/library
cat "$CERTS/int.pem" "$CERTS/root.pem" >"$T/lab-chain.pem"
"$MKCERT_BIN" --cn "server.test" --san DNS:server.test --issuer "$CERTS/int.pem" \
	--issuer-key "$CERTS/int.key" --key-out "$T/new.key" --out "$T/new.pem" ||
	die "could not generate a second server certificate"
PIN=$MNT/pinned/10.1.2.3_8082
# play FILE PIN_CERT [STATE]: the four kinds of entry, the pin from content.
play() {
	cat >"$1" <<YML
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
  tasks:
    - name: a root
      trustfs_cert: { path: $MNT/roots/Corp.pem, src: $CERTS/root.pem }
    - name: a pin, as PEM text
      trustfs_cert:
        path: $PIN
        content: "{{ lookup('file', '$2') }}"
        state: ${3:-present}
    - name: a chain
      trustfs_cert: { path: $MNT/chains/Lab.pem, src: $T/lab-chain.pem }
    - name: a distrusted certificate
      trustfs_cert: { path: $MNT/distrusted/Other.pem, src: $CERTS/other.pem }
YML
}
recap() { grep -o 'changed=[0-9]*' "$T/out" | tail -1; }
rm -f "$MNT/roots/Corporate_Root.pem"
play "$T/m.yml" "$CERTS/leaf.pem"
check "trustfs_cert: first run" ansible-playbook -i localhost, "$T/m.yml"
check_eq "the first run changes all four" "$(recap)" "changed=4"
check_eq "the root holds root.pem" "$(xsha "$MNT/roots/Corp.pem")" "$(sha_of "$CERTS/root.pem")"
check_eq "the pin holds leaf.pem" "$(xsha "$PIN")" "$(sha_of "$CERTS/leaf.pem")"
check_eq "the chain is stored leaf side first" "$(xsha "$MNT/chains/Lab.pem")" "$(sha_of "$CERTS/int.pem")"
check_eq "distrusted/ holds other.pem" "$(xsha "$MNT/distrusted/Other.pem")" "$(sha_of "$CERTS/other.pem")"
check "no temporary name left" test -z "$(ls -A "$MNT/roots" "$MNT/pinned" "$MNT/chains" "$MNT/distrusted" | grep '^\.')"
before=$(state)
m1=$(stat -c %Y "$PIN")
sleep 1.1
check "trustfs_cert: second run" ansible-playbook -i localhost, "$T/m.yml"
check_eq "the second run reports changed=0" "$(recap)" "changed=0"
check_eq "and changes nothing in the store" "$(state)" "$before"
check_eq "not even the pin's mtime" "$(stat -c %Y "$PIN")" "$m1"

# Check mode with another certificate for the pin: reported, not made.
play "$T/new.yml" "$T/new.pem"
check "check mode run" ansible-playbook -i localhost, --check --diff "$T/new.yml"
check_eq "check mode reports the change" "$(recap)" "changed=1"
check "the diff shows the old SHA-256" grep -q -- "^-sha256: $(sha_of "$CERTS/leaf.pem")" "$T/out"
check "and the new one" grep -q -- "^+sha256: $(sha_of "$T/new.pem")" "$T/out"
# Same subject: diff shows it as context, so the module's own reading of
# the new certificate's subject (check mode) agrees with the mount's.
check "and the subject, unchanged" grep -qx -- " subject: CN=server.test" "$T/out"
check_eq "check mode changes nothing" "$(state)" "$before"

# Replacing the pin: a temporary name renamed over it.
check "replace the pin" ansible-playbook -i localhost, --diff "$T/new.yml"
check_eq "one change" "$(recap)" "changed=1"
check_eq "the pin holds the new certificate" "$(xsha "$PIN")" "$(sha_of "$T/new.pem")"
check "audit.log records a replacement" grep -q "action=replace path=pinned/10.1.2.3_8082" "$MNT/audit.log"
check "replace again" ansible-playbook -i localhost, "$T/new.yml"
check_eq "nothing left to change" "$(recap)" "changed=0"

# state: absent, in check mode first.
play "$T/absent.yml" "$T/new.pem" absent
check "absent in check mode" ansible-playbook -i localhost, --check "$T/absent.yml"
check_eq "reports the removal" "$(recap)" "changed=1"
check "but the pin is still there" test -f "$PIN"
check "absent" ansible-playbook -i localhost, "$T/absent.yml"
check_eq "removes the pin" "$(recap)" "changed=1"
check "the pin is gone" test ! -e "$PIN"
check "absent again" ansible-playbook -i localhost, "$T/absent.yml"
check_eq "nothing to remove" "$(recap)" "changed=0"

# Failures say why.  A root already stored under another name (EEXIST by
# design: one name per certificate in roots/).
one() { # one FILE PATH SRC: a play with one trustfs_cert task
	cat >"$1" <<YML
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
  tasks:
    - trustfs_cert: { path: $2, src: $3 }
YML
}
one "$T/dup.yml" "$MNT/roots/Second.pem" "$CERTS/root.pem"
check_fails "a root under a second name fails" "File exists" ansible-playbook -i localhost, "$T/dup.yml"
check "the failure names the entry that holds it" grep -q "already held by $MNT/roots/Corp.pem" "$T/out"
check "no Second.pem" test ! -e "$MNT/roots/Second.pem"
check "no temporary name left after the failure" test -z "$(ls -A "$MNT/roots" | grep '^\.')"
printf '0\003\002\001\001' >"$T/bad.der"
one "$T/bad.yml" "$MNT/roots/Bad.pem" "$T/bad.der"
check_fails "content the mount refuses fails with its errno text" "Invalid argument" ansible-playbook -i localhost, "$T/bad.yml"
check "no temporary name left after the refusal" test -z "$(ls -A "$MNT/roots" | grep '^\.')"
one "$T/key.yml" "$MNT/roots/Key.pem" "$CERTS/root.key"
check_fails "a private key is not a certificate" "no certificate found" ansible-playbook -i localhost, "$T/key.yml"
finish
