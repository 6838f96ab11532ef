/*
 * PKCS#12 trust stores for Java (p12.h).  One renderer for the mount's
 * truststore.p12 and for trustctl's export.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>

#include "p12.h"

/* PKCS#12's default MAC iteration count (RFC 7292 appendix B.2 asks for
 * at least 1024); the password is public, the MAC is an integrity check. */
#define P12_MAC_ITER 2048

/*
 * One TLV of DER at *p (within end): universal tag `tag', constructed
 * or not as cons says, definite length (ret & 1 is the indefinite form);
 * *p moves past its header, *len is its content's length.
 */
static int
tlv(const unsigned char **p, const unsigned char *end, int tag, int cons,
    long *len)
{
	int ret, t, cls;

	ret = ASN1_get_object(p, len, &t, &cls, (long)(end - *p));
	return (ret & 0x80) == 0 && t == tag && cls == V_ASN1_UNIVERSAL &&
	    (ret & V_ASN1_CONSTRUCTED) == cons && (ret & 1) == 0 &&
	    *len <= end - *p;
}

/*
 * Whether der is one certificate's DER as to its outer shape (RFC 5280
 * 4.1: SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE,
 * signatureValue BIT STRING }, nothing after it).  Not a full parse: the
 * stored roots were parsed when they were stored, and OpenSSL 3.0's
 * d2i_X509 costs about 0.1 ms a certificate (it decodes the key through
 * its providers), a second for 10,000 roots.
 */
static int
der_shape_ok(const unsigned char *der, size_t der_len)
{
	const unsigned char *p = der, *end, *cert_end;
	long len;

	if (der == NULL || der_len == 0 || der_len > (size_t)LONG_MAX)
		return 0;
	end = der + der_len;
	if (!tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_CONSTRUCTED, &len) ||
	    p + len != end)
		return 0;
	cert_end = p + len;
	if (!tlv(&p, cert_end, V_ASN1_SEQUENCE, V_ASN1_CONSTRUCTED, &len))
		return 0;
	p += len;
	if (!tlv(&p, cert_end, V_ASN1_SEQUENCE, V_ASN1_CONSTRUCTED, &len))
		return 0;
	p += len;
	if (!tlv(&p, cert_end, V_ASN1_BIT_STRING, 0, &len))
		return 0;
	return p + len == cert_end;
}

/*
 * A certificate bag holding der as it is, named alias, marked trusted for
 * Java.  The same bytes as PKCS12_SAFEBAG_create_cert() of the parsed
 * certificate (its DER is re-encoded unchanged), without parsing it.
 */
static int
add_bag(STACK_OF(PKCS12_SAFEBAG) *bags, const unsigned char *der,
    size_t der_len, const char *alias, const ASN1_OBJECT *any,
    struct tf_error *e)
{
	PKCS12_SAFEBAG *bag = NULL;
	ASN1_STRING *seq = NULL;
	ASN1_TYPE *t = NULL;

	if (alias == NULL || alias[0] == '\0')
		return tf_error_setx(e, -EINVAL,
		    "a trust store entry needs an alias");
	if (!der_shape_ok(der, der_len))
		return tf_error_setx(e, -EINVAL, "%s: not one DER "
		    "certificate", alias);
	/* An ANY of type SEQUENCE is encoded as the bytes it holds. */
	seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
	t = ASN1_TYPE_new();
	if (seq == NULL || t == NULL ||
	    !ASN1_STRING_set(seq, der, (int)der_len)) {
		ASN1_STRING_free(seq);
		goto nomem;
	}
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, seq);	/* t owns seq */
	bag = PKCS12_item_pack_safebag(t, ASN1_ITEM_rptr(ASN1_ANY),
	    NID_x509Certificate, NID_certBag);
	if (bag == NULL || !PKCS12_add_friendlyname_utf8(bag, alias, -1) ||
	    !PKCS12_add1_attr_by_txt(bag, P12_TRUSTED_KEY_USAGE_OID,
	    V_ASN1_OBJECT, (const unsigned char *)any, -1) ||
	    !sk_PKCS12_SAFEBAG_push(bags, bag))
		goto nomem;
	ASN1_TYPE_free(t);
	return 0;
nomem:
	PKCS12_SAFEBAG_free(bag);
	ASN1_TYPE_free(t);
	return tf_error_setx(e, -ENOMEM, "%s: cannot make its PKCS#12 bag",
	    alias);
}

/* The store: one unencrypted safe holding the bags, a MAC, DER to out. */
static int
finish(STACK_OF(PKCS12_SAFEBAG) *bags, const char *password, struct buf *out,
    struct tf_error *e)
{
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	int len = -1, rc = -ENOMEM;

	/* nid_safe -1: PKCS#7 data, not encrypted (certificates are public;
	 * Java reads either). */
	if (!PKCS12_add_safe(&safes, bags, -1, 0, NULL) ||
	    (p12 = PKCS12_add_safes(safes, 0)) == NULL ||
	    !PKCS12_set_mac(p12, password, -1, NULL, 0, P12_MAC_ITER, NULL) ||
	    (len = i2d_PKCS12(p12, &der)) <= 0) {
		tf_error_setx(e, rc, "cannot encode the PKCS#12 trust store");
		goto out;
	}
	rc = buf_append(out, der, (size_t)len);
	if (rc != 0)
		tf_error_set(e, rc, "PKCS#12 trust store");
out:
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	ERR_clear_error();
	return rc;
}

/* The bags being collected and the attribute value every bag carries. */
struct build {
	STACK_OF(PKCS12_SAFEBAG) *bags;
	ASN1_OBJECT *any;	/* anyExtendedKeyUsage */
};

static int
build_start(struct build *b, struct tf_error *e)
{
	b->bags = sk_PKCS12_SAFEBAG_new_null();
	b->any = OBJ_txt2obj("2.5.29.37.0", 1);
	if (b->bags == NULL || b->any == NULL)
		return tf_error_setx(e, -ENOMEM, "out of memory");
	return 0;
}

/* Appends the store when rc is 0; frees what b holds.  rc or finish's. */
static int
build_end(struct build *b, int rc, const char *password, struct buf *out,
    struct tf_error *e)
{
	if (rc == 0)
		rc = finish(b->bags, password, out, e);
	sk_PKCS12_SAFEBAG_pop_free(b->bags, PKCS12_SAFEBAG_free);
	ASN1_OBJECT_free(b->any);
	ERR_clear_error();
	return rc;
}

int
p12_truststore(const struct p12_cert *certs, size_t n, const char *password,
    struct buf *out, struct tf_error *e)
{
	struct build b;
	size_t i;
	int rc = build_start(&b, e);

	for (i = 0; i < n && rc == 0; i++)
		rc = add_bag(b.bags, certs[i].der, certs[i].der_len,
		    certs[i].alias, b.any, e);
	return build_end(&b, rc, password, out, e);
}

int
p12_truststore_x509(STACK_OF(X509) *certs, const char *password,
    struct buf *out, struct tf_error *e)
{
	struct build b;
	char alias[1024];
	int i, rc = build_start(&b, e);

	for (i = 0; i < sk_X509_num(certs) && rc == 0; i++) {
		X509 *x = sk_X509_value(certs, i);
		unsigned char *der = NULL;
		int len = 0, dlen;
		const unsigned char *a = X509_alias_get0(x, &len);

		if (a == NULL || len <= 0 || (size_t)len >= sizeof(alias))
			len = 0;
		if (len > 0)
			memcpy(alias, a, (size_t)len);
		alias[len] = '\0';
		/* i2d_X509, not i2d_X509_AUX: the alias is not written. */
		dlen = i2d_X509(x, &der);
		if (dlen <= 0)
			rc = tf_error_setx(e, -EINVAL, "%s: cannot encode the "
			    "certificate", alias[0] ? alias : "(no alias)");
		else
			rc = add_bag(b.bags, der, (size_t)dlen, alias, b.any,
			    e);
		OPENSSL_free(der);
	}
	return build_end(&b, rc, password, out, e);
}
