/*
 * CMS/PKCS#7 SignedData checks with OpenSSL's CMS: a vendor-signed
 * trustpool bundle (Cisco's ios.p7b) is trusted only once its signature
 * verifies to the signer the administrator named.
 */
#ifndef TRUSTFS_NET_CMS_H
#define TRUSTFS_NET_CMS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "error.h"

/*
 * Checks the SignedData in der/len (DER, or one PEM "PKCS7" / "CMS"
 * block) against signer: a SignerInfo's signature must verify, and its
 * certificate must be signer itself or chain to signer (signer the only
 * trust anchor, the SignedData's certificates the intermediates, any
 * purpose, dates checked now).  A SignedData without any SignerInfo
 * (certs-only) does not verify.  *certs (when not NULL) gets the
 * certificates carried in the SignedData, in their order, for an import;
 * the caller frees them with sk_X509_pop_free(.., X509_free).  Returns 0,
 * or -EINVAL (not a SignedData), -EACCES (the signature does not verify,
 * or not to signer: OpenSSL's words, e.g. "unable to get local issuer
 * certificate", "signature failure"), -ENOMEM, with e set.
 */
int net_cms_verify(const void *der, size_t len, X509 *signer,
    STACK_OF(X509) **certs, struct tf_error *e);

/*
 * The certificates of a certs-only PKCS#7 (RFC 7030 4.1.3 /cacerts):
 * der/len DER.  0 with *certs (possibly empty; free it), or -EINVAL.
 */
int net_p7_certs(const void *der, size_t len, STACK_OF(X509) **certs,
    struct tf_error *e);

#endif
