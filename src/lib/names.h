/*
 * Names of entries in the mount (DESIGN section 2).  One function per rule.
 * Each returns 0, -EINVAL or -ENAMETOOLONG, except the name_is_*()
 * predicates, which return 1 (yes) or 0 (no).
 */
#ifndef TRUSTFS_NAMES_H
#define TRUSTFS_NAMES_H

#include <stddef.h>

#define NAME_MAX_BYTES 255

/* Any file name: not empty, not "." or "..", no '/', valid UTF-8,
 * no control characters, at most 255 bytes. */
int name_check_file(const char *name);

/* HOST_PORT normalized: host lowercased, IPv6 compressed without brackets,
 * port 1-65535 after the last '_'.  out holds NAME_MAX_BYTES + 1. */
int name_host_port(const char *in, char *out, size_t outlen);
/* The same from a host (name, IPv4, IPv6 with or without brackets) and
 * port, as a TLS client has them. */
int name_host_port_make(const char *host, unsigned port, char *out,
    size_t outlen);
/* Split a normalized HOST_PORT. */
int name_host_port_split(const char *hp, char *host, size_t hostlen,
    unsigned *port);

/* 1 if name is LABEL.pem: a file name for roots/, distrusted/, chains/. */
int name_is_label(const char *name);
/* "base.pem" for n == 1, "base_N.pem" otherwise. */
int name_label_nth(const char *base, unsigned n, char *out, size_t outlen);

/* 1 for a temporary name that editors and config management write before they
 * rename over the final name, or keep beside it as a backup: it begins with
 * '.'; ends in '~' (NAME~, NAME.~1~, Ansible's NAME.PID.DATE@TIME~) after at
 * least one other character; is #NAME# (emacs auto-save); or (sed -i) is
 * "sed" and six letters or digits.  No LABEL.pem or HOST_PORT is one. */
int name_is_temporary(const char *name);

#endif
