/*
 * The trust of a store for fetching over HTTPS (src/net knows no store):
 * the X509_STORE of roots/ and the chain mode's distrust rule, as
 * net_opts' trust and check, for trustctl import, est and update.
 */
#ifndef TRUSTFS_NETTRUST_H
#define TRUSTFS_NETTRUST_H

#include "error.h"
#include "fetch.h"
#include "handle.h"

/*
 * Fills o->verify with the chain mode of t (trustfs_verify_chain: roots/,
 * intermediates the server did not send from chains/, name, dates,
 * strict rules, revocation, distrust), and, for a caller that verifies
 * against a store of its own (EST's bootstrap clears verify), o->trust
 * (trustfs_x509_store(t): roots/ by subject, no partial chains) and
 * o->check (refuses a verified chain that holds a certificate of
 * distrusted/, naming it).  t must outlive the fetches.
 * 0, or -ENOMEM / -EIO with e set.  nettrust_done() frees o->trust.
 */
int nettrust_init(struct trustfs *t, struct net_opts *o, struct tf_error *e);
void nettrust_done(struct net_opts *o);

#endif
