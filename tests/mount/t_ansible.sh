#!/bin/bash
# Config management: an Ansible play (connection: local) adds a root with
# copy and removes a pin with file state=absent; a second run succeeds and
# changes nothing in the store.
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
finish
