/*
 * net_cms_verify(): OpenSSL's CMS_verify with the named signer as the
 * only trust anchor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "cms.h"

/* OpenSSL's error queue in words, "reason: data; ...", then cleared. */
static void
ssl_words(char *out, size_t outlen)
{
	const char *data = NULL;
	unsigned long err;
	size_t used = 0;
	int flags = 0, n;

	out[0] = '\0';
	while ((err = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) !=
	    0) {
		const char *r = ERR_reason_error_string(err);

		n = snprintf(out + used, outlen - used, "%s%s%s%s",
		    used ? "; " : "", r ? r : "unknown error",
		    (flags & ERR_TXT_STRING) && data && *data ? ": " : "",
		    (flags & ERR_TXT_STRING) && data ? data : "");
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
	ERR_clear_error();
}

static CMS_ContentInfo *
cms_read(const void *der, size_t len)
{
	BIO *b = BIO_new_mem_buf(der, (int)len);
	CMS_ContentInfo *cms = NULL;
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	long dlen = 0;

	if (b == NULL)
		return NULL;
	/* DER starts with a SEQUENCE; a signed PEM bundle carries
	 * "-----BEGIN" inside it, so only the first byte tells. */
	if (len > 0 && *(const unsigned char *)der != 0x30) {
		while (PEM_read_bio(b, &name, &hdr, &data, &dlen) == 1) {
			if (strcmp(name, "PKCS7") == 0 ||
			    strcmp(name, "CMS") == 0 ||
			    strcmp(name, "PKCS #7 SIGNED DATA") == 0) {
				p = data;
				cms = d2i_CMS_ContentInfo(NULL, &p, dlen);
			}
			OPENSSL_free(name);
			OPENSSL_free(hdr);
			OPENSSL_free(data);
			name = hdr = NULL;
			data = NULL;
			if (cms != NULL)
				break;
		}
	} else {
		p = der;
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	}
	BIO_free(b);
	ERR_clear_error();
	return cms;
}

static int
is_signer(STACK_OF(X509) *signers, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(signers); i++)
		if (X509_cmp(sk_X509_value(signers, i), x) == 0)
			return 1;
	return 0;
}

/* The certificates of the SignedData that are not a signer's. */
static int
other_certs(CMS_ContentInfo *cms, STACK_OF(X509) **out)
{
	STACK_OF(X509) *all = CMS_get1_certs(cms), *signers, *sk;
	X509 *x;
	int i;

	signers = CMS_get0_signers(cms);
	if ((sk = sk_X509_new_null()) == NULL)
		goto err;
	for (i = 0; i < sk_X509_num(all); i++) {
		x = sk_X509_value(all, i);
		if (is_signer(signers, x))
			continue;
		if (!X509_up_ref(x) || !sk_X509_push(sk, x)) {
			X509_free(x);
			goto err;
		}
	}
	sk_X509_pop_free(all, X509_free);
	sk_X509_free(signers);
	*out = sk;
	return 0;
err:
	sk_X509_pop_free(all, X509_free);
	sk_X509_free(signers);
	sk_X509_pop_free(sk, X509_free);
	return -ENOMEM;
}

int
net_cms_verify(const void *der, size_t len, X509 *signer,
    STACK_OF(X509) **certs, struct buf *content, struct tf_error *e)
{
	CMS_ContentInfo *cms = NULL;
	X509_STORE *xs = NULL;
	BIO *out = NULL;
	char words[600];
	char *p;
	long plen;
	int rc = 0;

	if (certs != NULL)
		*certs = NULL;
	cms = cms_read(der, len);
	if (cms == NULL || OBJ_obj2nid(CMS_get0_type(cms)) !=
	    NID_pkcs7_signed) {
		rc = tf_error_setx(e, -EINVAL, "not a CMS/PKCS#7 SignedData: "
		    "a signed bundle was expected");
		goto out;
	}
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) <= 0) {
		rc = tf_error_setx(e, -EACCES, "the bundle is not signed (a "
		    "certs-only PKCS#7 has no signature)");
		goto out;
	}
	if (CMS_is_detached(cms)) {
		rc = tf_error_setx(e, -EACCES, "the signature is detached: "
		    "the signed content is not in the bundle");
		goto out;
	}
	/* The signer is the trust anchor whatever its place in a PKI, and
	 * its key usage is the vendor's business: PARTIAL_CHAIN, any
	 * purpose. */
	if ((xs = X509_STORE_new()) == NULL || !X509_STORE_add_cert(xs,
	    signer) || !X509_STORE_set_flags(xs, X509_V_FLAG_PARTIAL_CHAIN) ||
	    !X509_STORE_set_purpose(xs, X509_PURPOSE_ANY) ||
	    (out = BIO_new(BIO_s_mem())) == NULL) {
		rc = tf_error_setx(e, -ENOMEM, "out of memory");
		goto out;
	}
	ERR_clear_error();
	if (CMS_verify(cms, NULL, xs, NULL, out, CMS_BINARY) != 1) {
		ssl_words(words, sizeof(words));
		rc = tf_error_setx(e, -EACCES, "the signature does not verify "
		    "to the signer: %s", words[0] ? words : "unknown error");
		goto out;
	}
	plen = BIO_get_mem_data(out, &p);
	if (content != NULL && plen > 0 && buf_append(content, p,
	    (size_t)plen) != 0) {
		rc = tf_error_setx(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (certs != NULL && other_certs(cms, certs) != 0)
		rc = tf_error_setx(e, -ENOMEM, "out of memory");
out:
	ERR_clear_error();
	BIO_free(out);
	X509_STORE_free(xs);
	CMS_ContentInfo_free(cms);
	return rc;
}
