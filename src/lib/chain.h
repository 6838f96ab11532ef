/* Chain verification for the chain modes (chain.c), used by verify.c. */
#ifndef TRUSTFS_CHAIN_H
#define TRUSTFS_CHAIN_H

#include <openssl/x509.h>

#include "handle.h"
#include "vopts.h"

/* 1 if a certificate with this SHA-256 is in distrusted/ (name set), 0
 * if not, -1 with the handle's error set if the store could not be read. */
int chain_is_distrusted_sha(struct trustfs *t, const unsigned char *sha,
    char *name, size_t namelen);

/* 1 if any certificate of sk is distrusted, filling in the verdict; 0;
 * or -1 with the handle's error set. */
int chain_check_distrusted(struct trustfs *t, STACK_OF(X509) *sk,
    struct trustfs_verdict *v);

/*
 * The chain check of DESIGN section 5 under cp (strict rules,
 * revocation, the options).  host may be NULL (no name check).  0 with
 * the verdict filled in, or -1 with the handle's error set (the verdict
 * untrusted).  cause, if not NULL, gets why it failed in short, for
 * chain-or-tofu's message.
 */
int chain_check(struct trustfs *t, const char *host, STACK_OF(X509) *chain,
    const struct chain_params *cp, struct trustfs_verdict *v, char *cause,
    size_t causelen);

/*
 * The issuer of chain's leaf: from the chain, chains/ or roots/, whose
 * key verifies the leaf.  0 with *out (referenced, or NULL when none is
 * known), or -1 with the handle's error set.  For stapled OCSP.
 */
int chain_find_issuer(struct trustfs *t, STACK_OF(X509) *chain, X509 **out);

#endif
