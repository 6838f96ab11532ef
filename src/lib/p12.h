/*
 * PKCS#12 trust stores for Java: the roots as trusted certificate entries
 * (keytool -list shows trustedCertEntry), rendered for MOUNT/truststore.p12
 * and trustctl export --format pkcs12.
 *
 * Java (PKCS12KeyStore) reads a certificate bag as a trusted entry only
 * when it carries Oracle's trusted-key-usage attribute
 * (2.16.840.1.113894.746875.1.1, OpenSSL 3.2's NID_oracle_jdk_trustedkeyusage
 * and `openssl pkcs12 -jdktrust'), here anyExtendedKeyUsage.  The bags are
 * not encrypted (there is nothing secret); the store has a MAC under the
 * password, keytool's customary "changeit", so that Java's integrity check
 * passes.  The MAC's salt is random: two renderings of the same roots
 * differ in bytes, so a caller that serves the result renders once per
 * change and hands every reader the same bytes.
 */
#ifndef TRUSTFS_P12_H
#define TRUSTFS_P12_H

#include <stddef.h>

#include <openssl/x509.h>

#include "buf.h"
#include "error.h"

#define P12_PASSWORD "changeit"
#define P12_TRUSTED_KEY_USAGE_OID "2.16.840.1.113894.746875.1.1"

/* One certificate of a trust store: its alias (the friendlyName; Java
 * lowercases it) and its DER. */
struct p12_cert {
	const char *alias;
	const unsigned char *der;
	size_t der_len;
};

/*
 * Appends a PKCS#12 trust store holding certs[0..n) in that order to out,
 * with its MAC under password (P12_PASSWORD for Java's default).  n may be
 * 0 (an empty store keytool lists as 0 entries).  The DER is put in the
 * store as it is, checked for the outer shape of one certificate but not
 * parsed (the store's roots were parsed when they were stored).  Returns
 * 0, -EINVAL when an entry does not have the shape of one DER certificate
 * or has no alias (e names the alias), or -ENOMEM; on failure out is as it
 * was.
 */
int p12_truststore(const struct p12_cert *certs, size_t n,
    const char *password, struct buf *out, struct tf_error *e);

/* The same from parsed certificates, each named by its X509 alias
 * (X509_alias_set1), which is not written into the certificate. */
int p12_truststore_x509(STACK_OF(X509) *certs, const char *password,
    struct buf *out, struct tf_error *e);

#endif
