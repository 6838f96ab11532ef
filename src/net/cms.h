/*
 * CMS/PKCS#7 SignedData checks with OpenSSL's CMS: a vendor-signed
 * trustpool bundle (Cisco's ios.p7b) is trusted only once its signature
 * verifies to the signer the administrator named.
 */
#ifndef TRUSTFS_NET_CMS_H
#define TRUSTFS_NET_CMS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "buf.h"
#include "error.h"

/*
 * Checks the SignedData in der/len (DER, or a PEM "PKCS7" / "CMS" block)
 * against signer: every SignerInfo's signature must verify, and its
 * certificate must be signer itself or chain to signer (signer the only
 * trust anchor, the SignedData's certificates the intermediates, any
 * purpose, dates checked now).  A SignedData without a SignerInfo
 * (certs-only) or with detached content does not verify.
 *
 * On success, *certs (when not NULL) gets the certificates carried in the
 * SignedData's certificates field other than the signers' own, in their
 * order (free with sk_X509_pop_free(.., X509_free)), and content (when
 * not NULL) the signed content, appended: a bundle signed as a file (e.g.
 * `openssl cms -sign -nodetach -in bundle.pem') carries its certificates
 * there.
 *
 * Returns 0, or -EINVAL (not a SignedData), -EACCES (the signature does
 * not verify, or not to signer: OpenSSL's words, e.g. "unable to get
 * local issuer certificate", "content verify error"), -ENOMEM, e set.
 */
int net_cms_verify(const void *der, size_t len, X509 *signer,
    STACK_OF(X509) **certs, struct buf *content, struct tf_error *e);

#endif
