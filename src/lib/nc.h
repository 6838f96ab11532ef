/* The name-constraint rule on subject CNs (nc.c), used by strict.c. */
#ifndef TRUSTFS_NC_H
#define TRUSTFS_NC_H

#include <openssl/x509.h>

#include "strict.h"

/*
 * RFC 5280 6.1.3 (b) for the subject CNs that OpenSSL 3.0 leaves
 * unchecked: each CN of path (leaf first) that names a host or an
 * address is held to the nameConstraints of every CA above it.  0 if
 * all pass, 1 with r filled in (depth, reason, what); a constraint that
 * does not decode, or running out of memory, refuses.
 */
int nc_subject_names(STACK_OF(X509) *path, struct strict_refusal *r);

#endif
