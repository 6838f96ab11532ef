/* trustctl est (est.c) and what it shares with import (import.c). */
#ifndef TRUSTCTL_NETCMD_H
#define TRUSTCTL_NETCMD_H

/* trustctl est URL [--label NAME] [--expect-sha256 HEX]; an exit status. */
int ctl_est(const char *store_dir, int argc, char **argv);

/* Options that import and est share (import.c): --expect-sha256 HEX (64
 * hex digits, colons and spaces allowed between them) and --timeout
 * SECONDS (1 to 3600).  0, or -1 after saying why on standard error. */
int ctl_opt_sha256(const char *arg, unsigned char out[32]);
int ctl_opt_timeout(const char *arg, long *out);

/*
 * connect --save-chain NAME: the intermediates of `presented' (the peer's
 * chain, leaf first; its leaf and any self-signed certificate left out)
 * into chains/NAME.pem with Source "TLS peer PEER", replacing what an
 * earlier --save-chain from that peer put there, never an entry made by
 * hand or another source (-EEXIST).  said gets a line for the person.
 * store_dir NULL: the default store.  0 or a negative errno, e set.
 */
#include <openssl/x509.h>
#include "buf.h"
#include "error.h"

struct trustfs;
int ctl_save_chain(struct trustfs *t, const char *name, const char *peer,
    STACK_OF(X509) *presented, struct buf *said, struct tf_error *e);

#endif
