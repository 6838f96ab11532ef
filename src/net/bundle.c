/*
 * A bundle against its Content-Type (bundle.h).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "cert.h"

const char *const net_bundle_types[] = {
	"application/pkcs7-mime", "application/x-pkcs7-certificates",
	"application/x-pkcs7-mime", "application/pem-certificate-chain",
	"application/x-pem-file", "text/plain", "application/pkix-cert",
	"application/x-x509-ca-cert", "application/octet-stream", NULL
};

enum { T_P7, T_PEM, T_CERT, T_ANY };

static int
kind(const char *ctype)
{
	static const int kinds[] = { T_P7, T_P7, T_P7, T_PEM, T_PEM, T_PEM,
	    T_CERT, T_CERT, T_ANY };
	size_t i;

	if (ctype[0] == '\0')
		return T_ANY;
	for (i = 0; net_bundle_types[i] != NULL; i++)
		if (strcasecmp(net_bundle_types[i], ctype) == 0)
			return kinds[i];
	return -1;
}

static int
has(const void *buf, size_t len, const char *s)
{
	return memmem(buf, len, s, strlen(s)) != NULL;
}

/* The whole input is one DER object of this type. */
static int
der_p7(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	PKCS7 *p7 = d2i_PKCS7(NULL, &q, (long)len);
	int ok = p7 != NULL && q == p + len;

	PKCS7_free(p7);
	ERR_clear_error();
	return ok;
}

static int
der_cert(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	X509 *x = d2i_X509(NULL, &q, (long)len);
	int ok = x != NULL;

	X509_free(x);
	ERR_clear_error();
	return ok;
}

int
net_bundle_ctype_check(const char *ctype, const void *buf, size_t len,
    struct tf_error *e)
{
	int k = kind(ctype), ok = 0;

	if (k < 0)
		return tf_error_setx(e, -EINVAL, "served as %s, which is not a "
		    "certificate bundle", ctype);
	switch (k) {
	case T_P7:
		ok = has(buf, len, "-----BEGIN PKCS7-----") ||
		    has(buf, len, "-----BEGIN CMS-----") || der_p7(buf, len);
		break;
	case T_PEM:
		ok = has(buf, len, "-----BEGIN ");
		break;
	case T_CERT:
		ok = has(buf, len, "-----BEGIN ") || der_cert(buf, len);
		break;
	default:
		ok = 1;
	}
	if (!ok)
		return tf_error_setx(e, -EPROTO, "served as %s, but the body is "
		    "not %s", ctype, k == T_P7 ? "PKCS#7" : k == T_PEM ? "PEM" :
		    "a certificate");
	return 0;
}

X509 *
net_find_sha256(STACK_OF(X509) *sk, const unsigned char *sha)
{
	unsigned char d[32];
	int i;

	for (i = 0; i < sk_X509_num(sk); i++) {
		cert_sha256(sk_X509_value(sk, i), d);
		if (memcmp(d, sha, 32) == 0)
			return sk_X509_value(sk, i);
	}
	return NULL;
}
