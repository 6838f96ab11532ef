/* The one test-certificate generator (see gencert.h). */
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "gencert.h"

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

X509 *
gencert(const struct gencert_opts *o, EVP_PKEY **key_out)
{
	EVP_PKEY *key = o->key;
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (key != NULL)
		EVP_PKEY_up_ref(key);
	else
		key = o->rsa_bits ? EVP_RSA_gen((unsigned)o->rsa_bits) :
		    EVP_EC_gen("P-256");
	ok = x != NULL && key != NULL && RAND_bytes(rnd, sizeof(rnd)) == 1;
	rnd[0] &= 0x7f;		/* a positive serial */
	bn = ok ? BN_bin2bn(rnd, sizeof(rnd), NULL) : NULL;
	ok = ok && bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	ok = ok && X509_set_version(x, 2);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), o->not_before);
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), o->not_after ?
	    o->not_after : 365L * 86400);
	n = ok ? X509_get_subject_name(x) : NULL;
	if (ok && o->org)
		ok = X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
		    (const unsigned char *)o->org, -1, -1, 0);
	if (ok && o->cn)
		ok = X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)o->cn, -1, -1, 0);
	ok = ok && X509_set_issuer_name(x, o->issuer ?
	    X509_get_subject_name(o->issuer) : n);
	ok = ok && X509_set_pubkey(x, key);
	ok = ok && add_ext(x, o->issuer, NID_basic_constraints, o->is_ca ?
	    "critical,CA:TRUE" : "critical,CA:FALSE");
	ok = ok && add_ext(x, o->issuer, NID_key_usage, o->is_ca ?
	    "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature,keyEncipherment");
	ok = ok && add_ext(x, o->issuer, NID_subject_key_identifier, "hash");
	if (ok && o->issuer)
		ok = add_ext(x, o->issuer, NID_authority_key_identifier,
		    "keyid:always");
	if (ok && !o->is_ca)
		ok = add_ext(x, o->issuer, NID_ext_key_usage, "serverAuth");
	if (ok && o->san && *o->san)
		ok = add_ext(x, o->issuer, NID_subject_alt_name, o->san);
	ok = ok && X509_sign(x, o->issuer_key ? o->issuer_key : key,
	    EVP_sha256());
	if (!ok) {
		X509_free(x);
		EVP_PKEY_free(key);
		return NULL;
	}
	if (key_out != NULL)
		*key_out = key;
	else
		EVP_PKEY_free(key);
	return x;
}
