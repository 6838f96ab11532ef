/*
 * What a certificate bundle may be served as, and whether the body is
 * what its Content-Type says (an HTML error page served with 200, a PEM
 * file labelled PKCS#7): for trustctl import URL and sources.
 */
#ifndef TRUSTFS_NET_BUNDLE_H
#define TRUSTFS_NET_BUNDLE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "error.h"

/* The media types a bundle may come as (for net_opts.ctypes): PKCS#7
 * (RFC 5751 application/pkcs7-mime, application/x-pkcs7-certificates),
 * PEM (application/pem-certificate-chain of RFC 8555,
 * application/x-pem-file, text/plain), one certificate
 * (application/pkix-cert, application/x-x509-ca-cert) and
 * application/octet-stream.  NULL-terminated. */
extern const char *const net_bundle_types[];

/*
 * 0 if buf/len can be what ctype (a media type as net_fetch() returns it,
 * "" for none) says: PKCS#7 types a DER PKCS#7 or a PEM PKCS7/CMS block;
 * PEM types at least one "-----BEGIN " line; certificate types a DER
 * certificate or PEM; octet-stream and "" anything.  -EPROTO with e
 * saying what was served as what, or -EINVAL for a type not in
 * net_bundle_types.  The parse that follows judges the content itself.
 */
int net_bundle_ctype_check(const char *ctype, const void *buf, size_t len,
    struct tf_error *e);

/* The certificate of sk whose SHA-256 is sha (32 bytes), or NULL: for
 * --expect-sha256, EST's bootstrap and --replace. */
X509 *net_find_sha256(STACK_OF(X509) *sk, const unsigned char *sha);

#endif
