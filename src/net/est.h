/*
 * EST (RFC 7030) /cacerts: the CA certificates an EST server hands out,
 * for `trustctl est' and for est entries of `sources'.
 */
#ifndef TRUSTFS_NET_EST_H
#define TRUSTFS_NET_EST_H

#include <openssl/x509.h>

#include "error.h"
#include "fetch.h"

/*
 * GET BASE/.well-known/est/cacerts (RFC 7030 4.1; BASE is
 * https://HOST[:PORT][/PATH], a trailing slash ignored; a BASE that
 * already ends in /cacerts is taken as it is) and decode its base64
 * application/pkcs7-mime certs-only body into *certs.
 *
 * The TLS server is verified with o (o->trust: the store's roots, o->check
 * for distrust).  expect_sha256 (32 bytes, or NULL): the response must
 * hold a certificate with that SHA-256, else -EACCES.  When the server
 * does not verify against o->trust (or o->trust is NULL) and expect_sha256
 * is given, the bootstrap of RFC 7030 4.1.1 (manual authorization): the
 * response is fetched without verification, the certificate with that
 * SHA-256 must be in it and be a self-signed CA, and then the response is
 * fetched again with that certificate as the only trust anchor, the
 * server verified (name, dates, chain) against it; only that second
 * response is returned.
 *
 * 0 with *certs (free with sk_X509_pop_free(.., X509_free)) and *bootstrapped
 * (when not NULL) 1 if the bootstrap was used; or net_fetch()'s errors,
 * -EINVAL for a body that is not base64 PKCS#7 certs-only, -EACCES for
 * an absent fingerprint, with e set.
 */
int net_est_cacerts(const char *base, const struct net_opts *o,
    const unsigned char *expect_sha256, STACK_OF(X509) **certs,
    int *bootstrapped, struct tf_error *e);

#endif
