/* Test certificates made with the OpenSSL API: the one generator behind
 * tests/tools/mkcert and the unit suites' tu_make_cert(). */
#ifndef TRUSTFS_GENCERT_H
#define TRUSTFS_GENCERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

struct gencert_opts {
	const char *cn;
	const char *org;
	X509 *issuer;		/* NULL: self-signed */
	EVP_PKEY *issuer_key;
	int is_ca;
	long not_before;	/* seconds from now (negative: past) */
	long not_after;		/* seconds from now; 0 means one year */
	const char *san;	/* "DNS:a,IP:1.2.3.4" or NULL */
	int rsa_bits;		/* 0: EC P-256 */
	EVP_PKEY *key;		/* the subject's key; NULL: a new one */
};

/* A signed certificate, or NULL.  *key_out (if not NULL) gets the
 * subject's key, referenced. */
X509 *gencert(const struct gencert_opts *o, EVP_PKEY **key_out);

#endif
