/*
 * The strict rules (issue 13), tested from the rules themselves: for each
 * rule a certificate set made here with the OpenSSL API that breaks it,
 * and one that keeps it, each on a fresh store.  Every set is checked
 * twice: strict (the default) with the verdict and reason the rule gives,
 * and with strict=no, which must give what OpenSSL's defaults give (the
 * verdicts trustfs gave before the rules).  At the end the suite prints
 * how many bad sets each configuration accepts.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "entry.h"
#include "handle.h"
#include "strict.h"
#include "vopts.h"
#include "testutil.h"

/* --- the certificate builder ------------------------------------------ */

enum serial { SER_RANDOM = 0, SER_ZERO, SER_LONG, SER_NEGATIVE };
enum aia { AIA_NONE = 0, AIA_GOOD, AIA_GARBAGE, AIA_CRITICAL };

/* One certificate; NULL strings take the position's default, "" none. */
struct spec {
	const char *cn;
	int v1;
	const char *bc, *ku, *eku, *san, *nc, *pc;
	int no_ski, no_aki;
	enum serial serial;
	enum aia aia;
	EVP_PKEY *key;		/* NULL: the position's P-256 key */
};

enum pos { ROOT = 0, INTER, LEAF };

static EVP_PKEY *pos_key[3], *rsa1024, *rsa2048, *p192, *p224, *ed25519,
    *rsa_even_e, *rsa_e1, *rsa_even_n, *dsa2048;

static int
add_conf(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = e != NULL && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* An extension of raw DER content. */
static int
add_raw(X509 *x, int nid, int crit, const unsigned char *der, int len)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok;

	ok = os != NULL && ASN1_OCTET_STRING_set(os, der, len);
	e = ok ? X509_EXTENSION_create_by_NID(NULL, nid, crit, os) : NULL;
	ok = e != NULL && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	return ok;
}

/* The authority key identifier of an issuer that has no subject key
 * identifier to copy (a v1 CA, a CA made without one): the SHA-1 of its
 * key, as RFC 5280 4.2.1.2 (1) computes one. */
static int
add_aki_of_key(X509 *x, X509 *issuer)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	unsigned char md[20];
	unsigned int mdlen = sizeof(md);
	int ok;

	ok = akid != NULL && X509_pubkey_digest(issuer, EVP_sha1(), md,
	    &mdlen);
	ok = ok && (akid->keyid = ASN1_OCTET_STRING_new()) != NULL &&
	    ASN1_OCTET_STRING_set(akid->keyid, md, (int)mdlen);
	ok = ok && X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
	    X509V3_ADD_DEFAULT) == 1;
	AUTHORITY_KEYID_free(akid);
	return ok;
}

static int
set_serial(X509 *x, enum serial s)
{
	unsigned char rnd[21];
	BIGNUM *bn;
	int ok;

	if (s == SER_ZERO)
		return ASN1_INTEGER_set(X509_get_serialNumber(x), 0);
	if (s == SER_NEGATIVE)
		return ASN1_INTEGER_set(X509_get_serialNumber(x), -5);
	ok = RAND_bytes(rnd, sizeof(rnd)) == 1;
	rnd[0] = (rnd[0] & 0x7f) | 0x40;	/* positive, full length */
	bn = BN_bin2bn(rnd, s == SER_LONG ? 21 : 16, NULL);
	ok = ok && bn != NULL && BN_to_ASN1_INTEGER(bn,
	    X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

/* As a peer or a file would give it: decoded from DER, with what the
 * decoder notes (flags of critical extensions) in place. */
static X509 *
reparse_x509(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *y;
	int len = i2d_X509(x, &der);

	ck_assert_int_gt(len, 0);
	p = der;
	y = d2i_X509(NULL, &p, len);
	ck_assert_ptr_nonnull(y);
	OPENSSL_free(der);
	X509_free(x);
	return y;
}

static const char *
pick(const char *given, const char *def)
{
	return given != NULL ? given : def;
}

static X509 *
build(const struct spec *s, enum pos p, X509 *issuer, EVP_PKEY *issuer_key)
{
	/* An AIA that is a SEQUENCE holding an INTEGER: not an AIA. */
	static const unsigned char garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	EVP_PKEY *key = s->key ? s->key : pos_key[p];
	X509 *x = X509_new();
	X509_NAME *n;
	const char *cn, *cnend;
	int ok, ca = p != LEAF;

	ck_assert_ptr_nonnull(x);
	ok = set_serial(x, s->serial);
	ok = ok && X509_set_version(x, s->v1 ? X509_VERSION_1 :
	    X509_VERSION_3);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
	n = X509_get_subject_name(x);
	cn = pick(s->cn, p == ROOT ? "Strict Root" : p == INTER ?
	    "Strict Intermediate" : "server.test");
	/* "": an empty subject; "a/b": two CNs. */
	for (; ok && *cn; cn = *cnend ? cnend + 1 : cnend) {
		cnend = cn + strcspn(cn, "/");
		ok = X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)cn, (int)(cnend - cn), -1, 0);
	}
	ok = ok && X509_set_issuer_name(x, issuer ?
	    X509_get_subject_name(issuer) : n);
	ok = ok && X509_set_pubkey(x, key);
	if (!s->v1) {
		const char *bc = pick(s->bc, ca ? "critical,CA:TRUE" :
		    "critical,CA:FALSE");
		const char *ku = pick(s->ku, ca ? "critical,keyCertSign,cRLSign"
		    : "critical,digitalSignature");
		const char *eku = pick(s->eku, ca ? "" : "serverAuth");
		const char *san = pick(s->san, ca ? "" :
		    "DNS:server.test,DNS:*.wild.test,IP:127.0.0.1");

		if (ok && *bc)
			ok = add_conf(x, issuer ? issuer : x,
			    NID_basic_constraints, bc);
		if (ok && *ku)
			ok = add_conf(x, issuer ? issuer : x, NID_key_usage, ku);
		if (ok && !s->no_ski)
			ok = add_conf(x, issuer ? issuer : x,
			    NID_subject_key_identifier, "hash");
		if (ok && issuer != NULL && !s->no_aki)
			ok = X509_get0_subject_key_id(issuer) != NULL ?
			    add_conf(x, issuer, NID_authority_key_identifier,
			    "keyid:always") : add_aki_of_key(x, issuer);
		if (ok && *eku)
			ok = add_conf(x, issuer ? issuer : x, NID_ext_key_usage,
			    eku);
		if (ok && *san)
			ok = add_conf(x, issuer ? issuer : x,
			    NID_subject_alt_name, san);
		if (ok && s->nc)
			ok = add_conf(x, issuer ? issuer : x,
			    NID_name_constraints, s->nc);
		if (ok && s->pc)
			ok = add_conf(x, issuer ? issuer : x,
			    NID_policy_constraints, s->pc);
		if (ok && (s->aia == AIA_GOOD || s->aia == AIA_CRITICAL))
			ok = add_conf(x, issuer ? issuer : x, NID_info_access,
			    s->aia == AIA_GOOD ? "caIssuers;URI:http://ca.test/i"
			    : "critical,caIssuers;URI:http://ca.test/i");
		if (ok && s->aia == AIA_GARBAGE)
			ok = add_raw(x, NID_info_access, 0, garbage,
			    sizeof(garbage));
	}
	ok = ok && X509_sign(x, issuer_key ? issuer_key : key,
	    EVP_PKEY_get_base_id(issuer_key ? issuer_key : key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	if (!ok)
		ERR_print_errors_fp(stderr);
	ck_assert_msg(ok, "building the certificate");
	return reparse_x509(x);
}

/* --- keys that no key generator makes --------------------------------- */

/* Outside a test, where Check's assertions cannot report. */
#define NEED(x) do { if (!(x)) { fprintf(stderr, "%s:%d: %s failed\n", \
	__FILE__, __LINE__, #x); abort(); } } while (0)

static EVP_PKEY *
from_params(const char *type, OSSL_PARAM_BLD *b)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	NEED(params != NULL && ctx != NULL);
	NEED(EVP_PKEY_fromdata_init(ctx) == 1);
	NEED(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) ==
	    1);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_BLD_free(b);
	return pk;
}

/* An RSA public key of 2048 bits with this exponent; even_n makes the
 * modulus even. */
static EVP_PKEY *
rsa_public(unsigned long e, int even_n)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_new(), *be = BN_new();
	EVP_PKEY *pk;

	NEED(BN_rand(n, 2048, BN_RAND_TOP_ONE, even_n ? BN_RAND_BOTTOM_ANY
	    : BN_RAND_BOTTOM_ODD));
	if (even_n)
		BN_clear_bit(n, 0);
	NEED(BN_set_word(be, e));
	NEED(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n));
	NEED(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be));
	pk = from_params("RSA", b);
	BN_free(n);
	BN_free(be);
	return pk;
}

/* A DSA public key of 2048 bits: its numbers need not be a real group
 * for a certificate to carry it, and generating one takes seconds. */
static EVP_PKEY *
dsa_public(void)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *p = BN_new(), *q = BN_new(), *g = BN_new(), *y = BN_new();
	EVP_PKEY *pk;

	NEED(BN_rand(p, 2048, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
	NEED(BN_rand(q, 256, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
	NEED(BN_set_word(g, 2) && BN_set_word(y, 3));
	NEED(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_P, p));
	NEED(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_Q, q));
	NEED(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_G, g));
	NEED(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, y));
	pk = from_params("DSA", b);
	BN_free(p); BN_free(q); BN_free(g); BN_free(y);
	return pk;
}

static void
make_keys(void)
{
	int i;

	for (i = 0; i < 3; i++)
		pos_key[i] = EVP_EC_gen("P-256");
	rsa1024 = EVP_RSA_gen(1024);
	rsa2048 = EVP_RSA_gen(2048);
	p192 = EVP_EC_gen("P-192");
	p224 = EVP_EC_gen("P-224");
	ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	rsa_even_e = rsa_public(65536, 0);
	rsa_e1 = rsa_public(1, 0);
	rsa_even_n = rsa_public(65537, 1);
	dsa2048 = dsa_public();
	NEED(pos_key[2] && rsa1024 && rsa2048 && p192 && p224 &&
	    ed25519 && rsa_even_e && rsa_e1 && rsa_even_n && dsa2048);
}

static void
free_keys(void)
{
	EVP_PKEY *all[] = { pos_key[0], pos_key[1], pos_key[2], rsa1024,
	    rsa2048, p192, p224, ed25519, rsa_even_e, rsa_e1, rsa_even_n,
	    dsa2048 };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		EVP_PKEY_free(all[i]);
}

/* --- CRLs ------------------------------------------------------------- */

#define CRL_NONE 0
#define CRL_FOR_LEAF 0x1	/* the intermediate's CRL, leaf not listed */
#define CRL_REVOKE_LEAF 0x2	/* ... listing the leaf */
#define CRL_FOR_INTER 0x4	/* the root's CRL, nothing listed */
#define CRL_NO_NUMBER 0x8	/* the intermediate's CRL has no number */
#define CRL_CRIT_EXT 0x10	/* ... has an unknown critical extension */
#define CRL_ALL (CRL_FOR_LEAF | CRL_FOR_INTER)

static X509_CRL *
reparse_crl(X509_CRL *crl)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_CRL *y;
	int len = i2d_X509_CRL(crl, &der);

	ck_assert_int_gt(len, 0);
	p = der;
	y = d2i_X509_CRL(NULL, &p, len);
	ck_assert_ptr_nonnull(y);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return y;
}

static X509_CRL *
make_crl(X509 *issuer, EVP_PKEY *key, X509 *revoke, int number, int crit)
{
	static const unsigned char der_null[] = { 0x05, 0x00 };
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r;
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;
	ASN1_OBJECT *obj;
	int ok;

	ok = crl && t && num && os && X509_CRL_set_version(crl, 1) &&
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ok = ok && X509_gmtime_adj(t, -3600) && X509_CRL_set1_lastUpdate(crl,
	    t) && X509_gmtime_adj(t, 86400) && X509_CRL_set1_nextUpdate(crl, t);
	if (ok && revoke != NULL) {
		r = X509_REVOKED_new();
		ok = r && X509_REVOKED_set_serialNumber(r,
		    X509_get_serialNumber(revoke)) && X509_gmtime_adj(t, -60) &&
		    X509_REVOKED_set_revocationDate(r, t) &&
		    X509_CRL_add0_revoked(crl, r);
	}
	if (ok && number)
		ok = ASN1_INTEGER_set(num, 7) && X509_CRL_add1_ext_i2d(crl,
		    NID_crl_number, num, 0, 0);
	if (ok && crit) {
		obj = OBJ_txt2obj("1.3.6.1.4.1.55555.1", 1);
		ok = obj && ASN1_OCTET_STRING_set(os, der_null,
		    sizeof(der_null));
		e = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os) : NULL;
		ok = e && X509_CRL_add_ext(crl, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OBJECT_free(obj);
	}
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256());
	ck_assert_msg(ok, "building the CRL");
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	ASN1_OCTET_STRING_free(os);
	return reparse_crl(crl);
}

/* --- the corpus -------------------------------------------------------- */

struct world {
	struct spec s[3];	/* root, intermediate, leaf */
	unsigned crls;
	const char *policy;	/* options on the policy line, "" none */
	enum trustfs_purpose purpose;
};

typedef void (*mk_fn)(struct world *w);

static void mk_good(struct world *w) { (void)w; }
static void mk_leaf_rsa2048(struct world *w) { w->s[LEAF].key = rsa2048; }
static void mk_leaf_rsa1024(struct world *w) { w->s[LEAF].key = rsa1024; }
static void mk_inter_rsa1024(struct world *w) { w->s[INTER].key = rsa1024; }
static void mk_leaf_even_e(struct world *w) { w->s[LEAF].key = rsa_even_e; }
static void mk_leaf_e1(struct world *w) { w->s[LEAF].key = rsa_e1; }
static void mk_leaf_even_n(struct world *w) { w->s[LEAF].key = rsa_even_n; }
static void mk_leaf_p224(struct world *w) { w->s[LEAF].key = p224; }
static void mk_leaf_p192(struct world *w) { w->s[LEAF].key = p192; }
static void mk_leaf_ed25519(struct world *w) { w->s[LEAF].key = ed25519; }
static void mk_leaf_dsa(struct world *w) { w->s[LEAF].key = dsa2048; }
static void mk_inter_no_ski(struct world *w) { w->s[INTER].no_ski = 1; }
static void mk_leaf_no_aki(struct world *w) { w->s[LEAF].no_aki = 1; }
static void mk_inter_no_aki(struct world *w) { w->s[INTER].no_aki = 1; }
static void mk_root_no_bc(struct world *w) { w->s[ROOT].bc = ""; }
static void mk_root_bc_noncrit(struct world *w) { w->s[ROOT].bc = "CA:TRUE"; }
static void mk_leaf_certsign(struct world *w)
{ w->s[LEAF].ku = "critical,digitalSignature,keyCertSign"; }
static void mk_leaf_ca(struct world *w)
{ w->s[LEAF].bc = "critical,CA:TRUE"; }
static void mk_leaf_partial(struct world *w)
{ w->s[LEAF].san = "DNS:server.test,DNS:f*.example.test"; }
static void mk_leaf_partial_only(struct world *w)
{ w->s[LEAF].san = "DNS:f*.example.test"; }
static void mk_leaf_mid_wild(struct world *w)
{ w->s[LEAF].san = "DNS:server.test,DNS:www.*.example.test"; }
static void mk_leaf_no_san(struct world *w) { w->s[LEAF].san = ""; }
static void mk_inter_eku_client(struct world *w)
{ w->s[INTER].eku = "clientAuth"; }
static void mk_inter_eku_server(struct world *w)
{ w->s[INTER].eku = "serverAuth,clientAuth"; }
static void mk_leaf_no_eku(struct world *w) { w->s[LEAF].eku = ""; }
static void mk_leaf_eku_client(struct world *w) { w->s[LEAF].eku = "clientAuth"; }
static void mk_client_purpose(struct world *w)
{ w->s[LEAF].eku = "clientAuth"; w->purpose = TRUSTFS_PURPOSE_SSL_CLIENT; }
static void mk_inter_nc_crit(struct world *w)
{ w->s[INTER].nc = "critical,permitted;DNS:.test,permitted;IP:127.0.0.0/255.0.0.0"; }
static void mk_inter_nc_noncrit(struct world *w)
{ w->s[INTER].nc = "permitted;DNS:.test,permitted;IP:127.0.0.0/255.0.0.0"; }
/* Name constraints on the subject CN: OpenSSL 3.0 skips a CN when there
 * is a DNS subjectAltName, and never reads one as an IP address. */
#define NC_LAB "critical,permitted;DNS:.test,permitted;IP:127.0.0.0/255.0.0.0"
static void mk_nc_cn_outside(struct world *w)
{ w->s[INTER].nc = NC_LAB; w->s[LEAF].cn = "server.evil.example"; }
static void mk_nc_cn_second(struct world *w)
{ w->s[INTER].nc = NC_LAB; w->s[LEAF].cn = "server.test/server.evil.example"; }
static void mk_nc_cn_ip(struct world *w)
{ w->s[INTER].nc = NC_LAB; w->s[LEAF].cn = "10.9.9.9"; }
static void mk_nc_cn_excluded(struct world *w)
{
	w->s[INTER].nc = "critical,excluded;DNS:.evil.example";
	w->s[LEAF].cn = "www.evil.example";
}
static void mk_nc_cn_excluded_ip(struct world *w)
{
	w->s[INTER].nc = "critical,excluded;IP:10.0.0.0/255.0.0.0";
	w->s[LEAF].cn = "10.1.1.1";
}
static void mk_nc_cn_text(struct world *w)
{ w->s[INTER].nc = NC_LAB; w->s[LEAF].cn = "Lab Server 1.2"; }
static void mk_nc_cn_ip_inside(struct world *w)
{ w->s[INTER].nc = NC_LAB; w->s[LEAF].cn = "127.0.0.1"; }
/* subjectAltName critical: only with an empty subject. */
#define SAN_ALL "DNS:server.test,DNS:*.wild.test,IP:127.0.0.1"
static void mk_san_crit_subject(struct world *w)
{ w->s[LEAF].san = "critical," SAN_ALL; }
static void mk_san_crit_empty(struct world *w)
{ w->s[LEAF].san = "critical," SAN_ALL; w->s[LEAF].cn = ""; }
static void mk_inter_pc_crit(struct world *w)
{ w->s[INTER].pc = "critical,inhibitPolicyMapping:1"; }
static void mk_inter_pc_noncrit(struct world *w)
{ w->s[INTER].pc = "inhibitPolicyMapping:1"; }
static void mk_leaf_serial0(struct world *w) { w->s[LEAF].serial = SER_ZERO; }
static void mk_leaf_serial21(struct world *w) { w->s[LEAF].serial = SER_LONG; }
static void mk_leaf_serial_neg(struct world *w)
{ w->s[LEAF].serial = SER_NEGATIVE; }
static void mk_inter_v1(struct world *w) { w->s[INTER].v1 = 1; }
static void mk_root_v1(struct world *w) { w->s[ROOT].v1 = 1; }
static void mk_leaf_aia(struct world *w) { w->s[LEAF].aia = AIA_GOOD; }
static void mk_leaf_aia_bad(struct world *w) { w->s[LEAF].aia = AIA_GARBAGE; }
static void mk_leaf_aia_crit(struct world *w) { w->s[LEAF].aia = AIA_CRITICAL; }
static void mk_crl_good(struct world *w) { w->crls = CRL_FOR_LEAF; }
static void mk_crl_revoked(struct world *w)
{ w->crls = CRL_FOR_LEAF | CRL_REVOKE_LEAF; }
static void mk_crl_crit(struct world *w)
{ w->crls = CRL_FOR_LEAF | CRL_CRIT_EXT; }
static void mk_crl_no_number(struct world *w)
{ w->crls = CRL_FOR_LEAF | CRL_NO_NUMBER; }
static void mk_crl_no_crlsign(struct world *w)
{ w->crls = CRL_FOR_LEAF; w->s[INTER].ku = "critical,keyCertSign"; }
static void mk_crl_off(struct world *w)
{ w->crls = CRL_FOR_LEAF | CRL_REVOKE_LEAF | CRL_NO_NUMBER;
  w->policy = "revocation=off"; }
static void mk_require_none(struct world *w)
{ w->policy = "revocation=require"; }
static void mk_require_all(struct world *w)
{ w->policy = "revocation=require"; w->crls = CRL_ALL; }

static const struct scase {
	const char *rule;	/* the class of issue 13 */
	int bad;		/* 1: a set the rules must refuse */
	mk_fn mk;
	const char *host;
	enum trustfs_reason want;	/* strict */
	const char *want_msg;		/* strict, a substring */
	int lax_trusted;		/* strict=no: OpenSSL's default */
	enum trustfs_reason lax_reason;
} cases[] = {
	{ "base", 0, mk_good, "server.test", TRUSTFS_CHAIN_OK, NULL, 1,
	    TRUSTFS_CHAIN_OK },
	{ "base, by IP", 0, mk_good, "127.0.0.1", TRUSTFS_CHAIN_OK, NULL, 1,
	    TRUSTFS_CHAIN_OK },
	{ "base, wildcard", 0, mk_good, "a.wild.test", TRUSTFS_CHAIN_OK, NULL,
	    1, TRUSTFS_CHAIN_OK },
	{ "key: RSA 2048", 0, mk_leaf_rsa2048, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "key: P-224", 0, mk_leaf_p224, "server.test", TRUSTFS_CHAIN_OK,
	    NULL, 1, TRUSTFS_CHAIN_OK },
	{ "key: Ed25519", 0, mk_leaf_ed25519, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "key: RSA 1024 leaf", 1, mk_leaf_rsa1024, "server.test",
	    TRUSTFS_WEAK_KEY, "EE certificate key too weak", 1,
	    TRUSTFS_CHAIN_OK },
	{ "key: RSA 1024 CA", 1, mk_inter_rsa1024, "server.test",
	    TRUSTFS_WEAK_KEY, "CA certificate key too weak", 1,
	    TRUSTFS_CHAIN_OK },
	{ "key: RSA even exponent", 1, mk_leaf_even_e, "server.test",
	    TRUSTFS_WEAK_KEY, "RSA public exponent is malformed", 1,
	    TRUSTFS_CHAIN_OK },
	{ "key: RSA exponent 1", 1, mk_leaf_e1, "server.test",
	    TRUSTFS_WEAK_KEY, "RSA public exponent is malformed", 1,
	    TRUSTFS_CHAIN_OK },
	{ "key: RSA even modulus", 1, mk_leaf_even_n, "server.test",
	    TRUSTFS_WEAK_KEY, "RSA modulus is malformed", 1,
	    TRUSTFS_CHAIN_OK },
	{ "key: P-192", 1, mk_leaf_p192, "server.test", TRUSTFS_WEAK_KEY,
	    "EE certificate key too weak", 1, TRUSTFS_CHAIN_OK },
	{ "key: DSA", 1, mk_leaf_dsa, "server.test", TRUSTFS_WEAK_KEY,
	    "DSA key", 1, TRUSTFS_CHAIN_OK },
	{ "ski: CA without", 1, mk_inter_no_ski, "server.test",
	    TRUSTFS_BAD_EXTENSION, "Missing Subject Key Identifier", 1,
	    TRUSTFS_CHAIN_OK },
	{ "aki: leaf without", 1, mk_leaf_no_aki, "server.test",
	    TRUSTFS_BAD_EXTENSION, "Missing Authority Key Identifier", 1,
	    TRUSTFS_CHAIN_OK },
	{ "aki: CA without", 1, mk_inter_no_aki, "server.test",
	    TRUSTFS_BAD_EXTENSION, "Missing Authority Key Identifier", 1,
	    TRUSTFS_CHAIN_OK },
	{ "bc: root without", 1, mk_root_no_bc, "server.test",
	    TRUSTFS_BAD_EXTENSION, "without basicConstraints", 1,
	    TRUSTFS_CHAIN_OK },
	{ "bc: root not critical", 1, mk_root_bc_noncrit, "server.test",
	    TRUSTFS_BAD_EXTENSION, "not marked critical", 1,
	    TRUSTFS_CHAIN_OK },
	{ "ku: leaf keyCertSign", 1, mk_leaf_certsign, "server.test",
	    TRUSTFS_BAD_KEY_USAGE, "keyCertSign", 1, TRUSTFS_CHAIN_OK },
	{ "bc: leaf CA:TRUE", 1, mk_leaf_ca, "server.test", TRUSTFS_CA_LEAF,
	    "end-entity certificate with basicConstraints CA:TRUE", 1,
	    TRUSTFS_CHAIN_OK },
	{ "wildcard: partial, other name", 1, mk_leaf_partial, "server.test",
	    TRUSTFS_BAD_WILDCARD, "f*.example.test", 1, TRUSTFS_CHAIN_OK },
	{ "wildcard: partial, matching", 1, mk_leaf_partial_only,
	    "foo.example.test", TRUSTFS_BAD_WILDCARD, "f*.example.test", 1,
	    TRUSTFS_CHAIN_OK },
	{ "wildcard: not leftmost", 1, mk_leaf_mid_wild, "server.test",
	    TRUSTFS_BAD_WILDCARD, "www.*.example.test", 1, TRUSTFS_CHAIN_OK },
	{ "san: CN only", 1, mk_leaf_no_san, "server.test",
	    TRUSTFS_NAME_MISMATCH, "no subjectAltName", 1, TRUSTFS_CHAIN_OK },
	{ "eku: CA allows serverAuth", 0, mk_inter_eku_server, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "eku: CA clientAuth only", 1, mk_inter_eku_client, "server.test",
	    TRUSTFS_BAD_EKU, NULL, 0, TRUSTFS_BAD_EKU },
	{ "eku: leaf without", 1, mk_leaf_no_eku, "server.test",
	    TRUSTFS_BAD_EKU, "no extendedKeyUsage serverAuth", 1,
	    TRUSTFS_CHAIN_OK },
	{ "eku: leaf clientAuth", 1, mk_leaf_eku_client, "server.test",
	    TRUSTFS_BAD_EKU, NULL, 0, TRUSTFS_BAD_EKU },
	{ "eku: client purpose", 0, mk_client_purpose, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "nc: critical", 0, mk_inter_nc_crit, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "nc: not critical", 1, mk_inter_nc_noncrit, "server.test",
	    TRUSTFS_BAD_EXTENSION, "nameConstraints is not critical", 1,
	    TRUSTFS_CHAIN_OK },
	{ "nc: CN outside, SAN inside", 1, mk_nc_cn_outside, "server.test",
	    TRUSTFS_NAME_CONSTRAINTS, "subject CN server.evil.example is outside", 1,
	    TRUSTFS_CHAIN_OK },
	{ "nc: second CN outside", 1, mk_nc_cn_second, "server.test",
	    TRUSTFS_NAME_CONSTRAINTS, "permitted subtree violation", 1,
	    TRUSTFS_CHAIN_OK },
	{ "nc: CN IP outside", 1, mk_nc_cn_ip, "server.test",
	    TRUSTFS_NAME_CONSTRAINTS, "subject CN 10.9.9.9 is outside", 1,
	    TRUSTFS_CHAIN_OK },
	{ "nc: CN in excluded DNS", 1, mk_nc_cn_excluded, "server.test",
	    TRUSTFS_NAME_CONSTRAINTS, "excluded subtree violation", 1,
	    TRUSTFS_CHAIN_OK },
	{ "nc: CN in excluded IP", 1, mk_nc_cn_excluded_ip, "server.test",
	    TRUSTFS_NAME_CONSTRAINTS, "excluded subtree violation", 1,
	    TRUSTFS_CHAIN_OK },
	{ "nc: CN not a name", 0, mk_nc_cn_text, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "nc: CN IP inside", 0, mk_nc_cn_ip_inside, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "san: critical, subject", 1, mk_san_crit_subject, "server.test",
	    TRUSTFS_BAD_EXTENSION, "subjectAltName is critical and the "
	    "subject is not empty", 1, TRUSTFS_CHAIN_OK },
	{ "san: critical, empty subject", 0, mk_san_crit_empty, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "pc: critical", 0, mk_inter_pc_crit, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "pc: not critical", 1, mk_inter_pc_noncrit, "server.test",
	    TRUSTFS_BAD_EXTENSION, "policyConstraints is not critical", 1,
	    TRUSTFS_CHAIN_OK },
	{ "serial: zero", 1, mk_leaf_serial0, "server.test",
	    TRUSTFS_BAD_SERIAL, "serial number is zero", 1, TRUSTFS_CHAIN_OK },
	{ "serial: 21 octets", 1, mk_leaf_serial21, "server.test",
	    TRUSTFS_BAD_SERIAL, "21 octets", 1, TRUSTFS_CHAIN_OK },
	{ "serial: negative", 1, mk_leaf_serial_neg, "server.test",
	    TRUSTFS_BAD_SERIAL, "negative", 1, TRUSTFS_CHAIN_OK },
	{ "v1: intermediate", 1, mk_inter_v1, "server.test", TRUSTFS_V1_CA,
	    "version 1", 0, TRUSTFS_BAD_CHAIN },
	{ "v1: root", 1, mk_root_v1, "server.test", TRUSTFS_V1_CA,
	    "version 1", 1, TRUSTFS_CHAIN_OK },
	{ "aia: good", 0, mk_leaf_aia, "server.test", TRUSTFS_CHAIN_OK, NULL,
	    1, TRUSTFS_CHAIN_OK },
	{ "aia: malformed", 1, mk_leaf_aia_bad, "server.test",
	    TRUSTFS_BAD_EXTENSION, "authorityInfoAccess is malformed", 1,
	    TRUSTFS_CHAIN_OK },
	{ "aia: critical", 1, mk_leaf_aia_crit, "server.test",
	    TRUSTFS_BAD_EXTENSION, "unhandled critical extension", 0,
	    TRUSTFS_BAD_EXTENSION },
	{ "crl: current, not listed", 0, mk_crl_good, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "crl: revoked", 1, mk_crl_revoked, "server.test", TRUSTFS_REVOKED,
	    "revoked", 0, TRUSTFS_REVOKED },
	{ "crl: critical unknown extension", 1, mk_crl_crit, "server.test",
	    TRUSTFS_BAD_CRL, NULL, 0, TRUSTFS_BAD_CRL },
	{ "crl: issuer without cRLSign", 1, mk_crl_no_crlsign, "server.test",
	    TRUSTFS_BAD_CRL, NULL, 0, TRUSTFS_BAD_CRL },
	{ "crl: no CRL number", 1, mk_crl_no_number, "server.test",
	    TRUSTFS_BAD_CRL, "no CRL number", 1, TRUSTFS_CHAIN_OK },
	{ "crl: revocation=off", 0, mk_crl_off, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
	{ "crl: require, none", 1, mk_require_none, "server.test",
	    TRUSTFS_NO_CRL, NULL, 0, TRUSTFS_NO_CRL },
	{ "crl: require, all there", 0, mk_require_all, "server.test",
	    TRUSTFS_CHAIN_OK, NULL, 1, TRUSTFS_CHAIN_OK },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* What each configuration did with each set, for the summary. */
static int strict_trusted[NCASES], lax_trusted[NCASES], ran[NCASES];

static int
add_root_txn(struct store_txn *txn, void *arg)
{
	STACK_OF(X509) *sk = tu_stack(arg, NULL);
	struct entry_result res;
	struct tf_error te = { 0 };
	int rc;

	rc = entry_add(txn, STORE_ROOTS, "Strict_Root.pem", sk, 0, NULL, &res,
	    &te);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static void
save_policy(struct trustfs *t, const char *text)
{
	struct store_txn *txn = NULL;

	ck_assert_int_eq(store_txn_begin(t->st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_meta_put(txn, "policy", text, strlen(text)), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
}

/*
 * trustctl verify on the same set must say what the library said: the
 * exit status (0 trusted, 1 not) and the reason line.  Runs when ctest
 * gives TRUSTCTL_BIN (tests/CMakeLists.txt); trustctl reads the same
 * store, the chain and CRLs from files, the policy's options from flags.
 */
static void
write_pem(const char *path, X509 *a, X509 *b, X509_CRL *crl)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	if (a != NULL)
		ck_assert_int_eq(PEM_write_X509(f, a), 1);
	if (b != NULL)
		ck_assert_int_eq(PEM_write_X509(f, b), 1);
	if (crl != NULL)
		ck_assert_int_eq(PEM_write_X509_CRL(f, crl), 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void
ctl_agrees(const char *rule, const char *dir, const char *host,
    const struct world *w, int strict, int ncrl,
    const struct trustfs_verdict *v)
{
	const char *bin = getenv("TRUSTCTL_BIN");
	char chain[600], crlf[2][600], out[8192], want[200];
	const char *argv[24];
	int argc = 0, fds[2], status, i;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (bin == NULL)
		return;
	snprintf(chain, sizeof(chain), "%s/chain.pem", dir);
	argv[argc++] = bin;
	argv[argc++] = "--store";
	argv[argc++] = dir;
	argv[argc++] = "verify";
	argv[argc++] = "--host";
	argv[argc++] = host;
	argv[argc++] = "--purpose";
	argv[argc++] = w->purpose == TRUSTFS_PURPOSE_SSL_CLIENT ? "sslclient" :
	    w->purpose == TRUSTFS_PURPOSE_ANY ? "any" : "sslserver";
	for (i = 0; i < ncrl; i++) {
		snprintf(crlf[i], sizeof(crlf[i]), "%s/crl%d.pem", dir, i);
		argv[argc++] = "--crl";
		argv[argc++] = crlf[i];
	}
	if (strstr(w->policy, "require") != NULL) {
		argv[argc++] = "--revocation";
		argv[argc++] = "require";
	} else if (strstr(w->policy, "off") != NULL) {
		argv[argc++] = "--revocation";
		argv[argc++] = "off";
	}
	if (!strict)
		argv[argc++] = "--no-strict";
	argv[argc++] = chain;
	argv[argc] = NULL;
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) ==
	    (v->trusted ? 0 : 1), "%s (%s): trustctl verify exit %d, the "
	    "library says %s", rule, strict ? "strict" : "strict=no",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	    v->trusted ? "trusted" : "not trusted");
	snprintf(want, sizeof(want), "reason: %s\n",
	    trustfs_reason_name(v->reason));
	ck_assert_msg(strstr(out, want) != NULL, "%s (%s): trustctl verify "
	    "says\n%s\nthe library says %s", rule, strict ? "strict" :
	    "strict=no", out, want);
}

/* One set, one configuration: the verdict through the policy (the
 * daemon's and trustctl's path), checked against the options path. */
static void
run_case(const struct scase *c, int strict, struct trustfs_verdict *v)
{
	struct world w = { .policy = "", .purpose = TRUSTFS_PURPOSE_SSL_SERVER };
	struct trustfs_verify_opts *o = trustfs_verify_opts_new();
	struct trustfs_verdict v2;
	X509 *x[3];
	X509_CRL *crl;
	STACK_OF(X509) *peer;
	char *dir = tu_mkdtemp(), policy[200], path[600];
	struct trustfs *t = trustfs_open(dir);
	int ncrl = 0;

	ck_assert_ptr_null(trustfs_error(t));
	c->mk(&w);
	x[ROOT] = build(&w.s[ROOT], ROOT, NULL, NULL);
	x[INTER] = build(&w.s[INTER], INTER, x[ROOT], w.s[ROOT].key ?
	    w.s[ROOT].key : pos_key[ROOT]);
	x[LEAF] = build(&w.s[LEAF], LEAF, x[INTER], w.s[INTER].key ?
	    w.s[INTER].key : pos_key[INTER]);
	ck_assert_int_eq(store_write(t->st, add_root_txn, x[ROOT], NULL), 0);
	if (w.crls & CRL_FOR_LEAF) {
		crl = make_crl(x[INTER], w.s[INTER].key ? w.s[INTER].key :
		    pos_key[INTER], w.crls & CRL_REVOKE_LEAF ? x[LEAF] : NULL,
		    !(w.crls & CRL_NO_NUMBER), w.crls & CRL_CRIT_EXT);
		ck_assert_int_eq(trustfs_verify_opts_add_crl(o, crl), 0);
		snprintf(path, sizeof(path), "%s/crl%d.pem", dir, ncrl++);
		write_pem(path, NULL, NULL, crl);
		X509_CRL_free(crl);
	}
	if (w.crls & CRL_FOR_INTER) {
		crl = make_crl(x[ROOT], pos_key[ROOT], NULL, 1, 0);
		ck_assert_int_eq(trustfs_verify_opts_add_crl(o, crl), 0);
		snprintf(path, sizeof(path), "%s/crl%d.pem", dir, ncrl++);
		write_pem(path, NULL, NULL, crl);
		X509_CRL_free(crl);
	}
	snprintf(path, sizeof(path), "%s/chain.pem", dir);
	write_pem(path, x[LEAF], x[INTER], NULL);
	ck_assert_int_eq(trustfs_verify_opts_set_purpose(o, w.purpose), 0);
	snprintf(policy, sizeof(policy), "* chain %s %s\n", strict ? "" :
	    "strict=no", w.policy);
	save_policy(t, policy);
	peer = tu_stack(x[LEAF], x[INTER], NULL);
	ck_assert_msg(trustfs_check_opts(t, c->host, 443, peer, o, v) == 0,
	    "%s: %s", c->rule, trustfs_error(t));
	ctl_agrees(c->rule, dir, c->host, &w, strict, ncrl, v);
	/* The options path agrees: strict=no there is the insecure setter,
	 * revocation=require its setter. */
	if (!strict)
		trustfs_verify_opts_set_insecure_nonstrict(o);
	if (strstr(w.policy, "require") != NULL)
		ck_assert_int_eq(trustfs_verify_opts_set_revocation(o,
		    TRUSTFS_REVOCATION_REQUIRE), 0);
	if (strstr(w.policy, "off") != NULL)
		ck_assert_int_eq(trustfs_verify_opts_set_revocation(o,
		    TRUSTFS_REVOCATION_OFF), 0);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, c->host, peer, o, &v2),
	    0);
	ck_assert_msg(v2.trusted == v->trusted && v2.reason == v->reason,
	    "%s: check says %s, verify_chain says %s", c->rule,
	    trustfs_reason_name(v->reason), trustfs_reason_name(v2.reason));
	sk_X509_pop_free(peer, X509_free);
	X509_free(x[0]); X509_free(x[1]); X509_free(x[2]);
	trustfs_verify_opts_free(o);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}

START_TEST(test_rule)
{
	const struct scase *c = &cases[_i];
	struct trustfs_verdict v;

	run_case(c, 1, &v);
	strict_trusted[_i] = v.trusted;
	ck_assert_msg(v.reason == c->want && v.trusted ==
	    (c->want == TRUSTFS_CHAIN_OK), "%s strict: %s (%s), want %s",
	    c->rule, trustfs_reason_name(v.reason), v.message,
	    trustfs_reason_name(c->want));
	if (c->want_msg != NULL)
		ck_assert_msg(strstr(v.message, c->want_msg) != NULL,
		    "%s: message '%s' lacks '%s'", c->rule, v.message,
		    c->want_msg);
	/* The certificate is named, OpenSSL style. */
	if (!v.trusted && c->want != TRUSTFS_NAME_MISMATCH)
		ck_assert_msg(strstr(v.message, "(depth ") != NULL, "%s: '%s'",
		    c->rule, v.message);
	run_case(c, 0, &v);
	lax_trusted[_i] = v.trusted;
	ran[_i] = 1;
	ck_assert_msg(v.trusted == c->lax_trusted && v.reason == c->lax_reason,
	    "%s strict=no: %s (%s), want %s", c->rule,
	    trustfs_reason_name(v.reason), v.message,
	    trustfs_reason_name(c->lax_reason));
}
END_TEST

/* The options object: setters refuse what they cannot use, and say why. */
START_TEST(test_opts_setters)
{
	struct trustfs_verify_opts *o = trustfs_verify_opts_new();
	char path[] = "/tmp/trustfs-crl-XXXXXX";
	FILE *f;
	X509_CRL *crl;
	X509 *root;
	struct spec s = { 0 };
	int fd;

	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_null(trustfs_verify_opts_error(o));
	ck_assert_int_eq(trustfs_verify_opts_set_time(o, -1), -1);
	ck_assert_ptr_nonnull(strstr(trustfs_verify_opts_error(o), "1970"));
	ck_assert_int_eq(trustfs_verify_opts_set_time(o, 1700000000), 0);
	ck_assert_ptr_null(trustfs_verify_opts_error(o));
	ck_assert_int_eq(trustfs_verify_opts_set_depth(o, -1), -1);
	ck_assert_int_eq(trustfs_verify_opts_set_depth(o, 65), -1);
	ck_assert_int_eq(trustfs_verify_opts_set_depth(o, 0), 0);
	ck_assert_int_eq(trustfs_verify_opts_set_purpose(o,
	    (enum trustfs_purpose)9), -1);
	ck_assert_int_eq(trustfs_verify_opts_set_revocation(o,
	    (enum trustfs_revocation)9), -1);
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, "server.test"), -1);
	ck_assert_ptr_nonnull(strstr(trustfs_verify_opts_error(o),
	    "not an IPv4 or IPv6 address"));
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, ""), -1);
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, "[::1]"), 0);
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, "127.0.0.1"), 0);
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, NULL), 0);
	ck_assert_int_eq(trustfs_verify_opts_add_crl(o, NULL), -1);
	ck_assert_int_eq(trustfs_verify_opts_add_crl_file(o,
	    "/nonexistent/x.crl"), -1);
	ck_assert_ptr_nonnull(strstr(trustfs_verify_opts_error(o),
	    "cannot be read"));
	/* A file of two PEM CRLs, then one that holds none. */
	root = build(&s, ROOT, NULL, NULL);
	crl = make_crl(root, pos_key[ROOT], NULL, 1, 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert(PEM_write_X509_CRL(f, crl) && PEM_write_X509_CRL(f, crl));
	fclose(f);
	ck_assert_int_eq(trustfs_verify_opts_add_crl_file(o, path), 0);
	ck_assert_int_eq(sk_X509_CRL_num(o->crls), 2);
	f = fopen(path, "w");
	ck_assert(PEM_write_X509(f, root));
	fclose(f);
	ck_assert_int_eq(trustfs_verify_opts_add_crl_file(o, path), -1);
	ck_assert_ptr_nonnull(strstr(trustfs_verify_opts_error(o), "no CRL"));
	ck_assert_int_eq(sk_X509_CRL_num(o->crls), 2);
	/* DER. */
	f = fopen(path, "w");
	ck_assert(i2d_X509_CRL_fp(f, crl));
	fclose(f);
	ck_assert_int_eq(trustfs_verify_opts_add_crl_file(o, path), 0);
	ck_assert_int_eq(sk_X509_CRL_num(o->crls), 3);
	unlink(path);
	X509_CRL_free(crl);
	X509_free(root);
	trustfs_verify_opts_free(o);
	trustfs_verify_opts_free(NULL);
	ck_assert_ptr_null(trustfs_verify_opts_error(NULL));
}
END_TEST

/* --at, --depth, --ip, --purpose through the library. */
START_TEST(test_opts_apply)
{
	struct world w = { 0 };
	struct trustfs_verify_opts *o = trustfs_verify_opts_new();
	struct trustfs_verdict v;
	STACK_OF(X509) *peer;
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	X509 *x[3];

	x[ROOT] = build(&w.s[ROOT], ROOT, NULL, NULL);
	x[INTER] = build(&w.s[INTER], INTER, x[ROOT], pos_key[ROOT]);
	x[LEAF] = build(&w.s[LEAF], LEAF, x[INTER], pos_key[INTER]);
	ck_assert_int_eq(store_write(t->st, add_root_txn, x[ROOT], NULL), 0);
	peer = tu_stack(x[LEAF], x[INTER], NULL);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, "server.test", peer, o,
	    &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_CHAIN_OK);
	/* Two years on, everything has expired. */
	ck_assert_int_eq(trustfs_verify_opts_set_time(o, time(NULL) +
	    2 * 365 * 86400L), 0);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, "server.test", peer, o,
	    &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_EXPIRED);
	ck_assert_int_eq(trustfs_verify_opts_set_time(o, time(NULL)), 0);
	/* No intermediate allowed. */
	ck_assert_int_eq(trustfs_verify_opts_set_depth(o, 0), 0);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, "server.test", peer, o,
	    &v), 0);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_ptr_nonnull(strstr(v.message, "certificate chain too long"));
	ck_assert_int_eq(trustfs_verify_opts_set_depth(o, 1), 0);
	/* An address, with or without a host name. */
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, "127.0.0.1"), 0);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, NULL, peer, o, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_CHAIN_OK);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, "server.test", peer, o,
	    &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_CHAIN_OK);
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, "10.0.0.1"), 0);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, NULL, peer, o, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_NAME_MISMATCH);
	ck_assert_ptr_nonnull(strstr(v.message, "10.0.0.1"));
	/* The address twice is a mistake, not a choice of one. */
	ck_assert_int_eq(trustfs_verify_chain_opts(t, "127.0.0.1", peer, o,
	    &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_int_eq(trustfs_verify_opts_set_ip(o, NULL), 0);
	/* A server certificate is no client certificate. */
	ck_assert_int_eq(trustfs_verify_opts_set_purpose(o,
	    TRUSTFS_PURPOSE_SSL_CLIENT), 0);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, "server.test", peer, o,
	    &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_BAD_EKU);
	ck_assert_int_eq(trustfs_verify_opts_set_purpose(o,
	    TRUSTFS_PURPOSE_ANY), 0);
	ck_assert_int_eq(trustfs_verify_chain_opts(t, "server.test", peer, o,
	    &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_CHAIN_OK);
	sk_X509_pop_free(peer, X509_free);
	X509_free(x[0]); X509_free(x[1]); X509_free(x[2]);
	trustfs_verify_opts_free(o);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* The functions without options are strict, and chain-or-tofu falls
 * back to tofu saying which rule the chain broke. */
START_TEST(test_default_strict)
{
	struct world w = { 0 };
	struct trustfs_verdict v;
	STACK_OF(X509) *peer;
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	X509 *x[3];

	w.s[LEAF].key = rsa1024;
	x[ROOT] = build(&w.s[ROOT], ROOT, NULL, NULL);
	x[INTER] = build(&w.s[INTER], INTER, x[ROOT], pos_key[ROOT]);
	x[LEAF] = build(&w.s[LEAF], LEAF, x[INTER], pos_key[INTER]);
	ck_assert_int_eq(store_write(t->st, add_root_txn, x[ROOT], NULL), 0);
	peer = tu_stack(x[LEAF], x[INTER], NULL);
	ck_assert_int_eq(trustfs_verify_chain(t, "server.test", peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_WEAK_KEY);
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_CHAIN,
	    "server.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_WEAK_KEY);
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_CHAIN_OR_TOFU,
	    "server.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_FIRST_USE);
	ck_assert_msg(strncmp(v.message, "chain: EE certificate key too weak "
	    "(CN=server.test); first use: ", 60) == 0, "%s", v.message);
	/* The policy decides per pattern: strict=no for this host only. */
	save_policy(t, "legacy.test_443 chain strict=no\n* chain\n");
	ck_assert_int_eq(trustfs_check(t, "server.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_WEAK_KEY);
	save_policy(t, "server.test_443 chain strict=no\n* chain\n");
	ck_assert_int_eq(trustfs_check(t, "server.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_CHAIN_OK);
	ck_assert_str_eq(trustfs_reason_name(TRUSTFS_WEAK_KEY), "weak-key");
	ck_assert_str_eq(trustfs_reason_name(TRUSTFS_NO_CRL), "no-crl");
	/* The numbers of the reasons before issue 13 stay. */
	ck_assert_int_eq(TRUSTFS_BAD_CHAIN, 11);
	ck_assert_int_eq(TRUSTFS_WEAK_KEY, 12);
	sk_X509_pop_free(peer, X509_free);
	X509_free(x[0]); X509_free(x[1]); X509_free(x[2]);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* What status will show: the roots the rules would refuse. */
START_TEST(test_roots_failures)
{
	struct spec good = { 0 }, v1 = { .v1 = 1, .cn = "Old V1" },
	    weak = { .cn = "Weak", .key = rsa1024 }, nobc = { .cn = "No BC",
	    .bc = "" }, noski = { .cn = "No SKI", .no_ski = 1 };
	struct spec *all[] = { &good, &v1, &weak, &nobc, &noski };
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct store_txn *txn = NULL;
	struct buf b = { 0 };
	size_t i;
	X509 *x;

	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(strict_roots_failures(txn, &b), 0);
	store_txn_abort(txn);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "R%zu.pem", i);
		x = build(all[i], ROOT, NULL, all[i]->key);
		{
			STACK_OF(X509) *sk = tu_stack(x, NULL);
			struct entry_result res;
			struct tf_error te = { 0 };

			ck_assert_int_eq(store_txn_begin(t->st, 1, &txn, NULL),
			    0);
			ck_assert_msg(entry_add(txn, STORE_ROOTS, name, sk, 0,
			    NULL, &res, &te) == 0, "%s", te.msg);
			ck_assert_int_eq(store_txn_commit(txn), 0);
			sk_X509_pop_free(sk, X509_free);
		}
		X509_free(x);
	}
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(strict_roots_failures(txn, &b), 4);
	store_txn_abort(txn);
	ck_assert_ptr_nonnull(strstr(b.data, "roots/R1.pem: v1-ca: version 1"));
	ck_assert_ptr_nonnull(strstr(b.data, "roots/R2.pem: weak-key: RSA key "
	    "too small: 1024 bits"));
	ck_assert_ptr_nonnull(strstr(b.data, "roots/R3.pem: bad-extension: CA "
	    "certificate without basicConstraints"));
	ck_assert_ptr_nonnull(strstr(b.data, "roots/R4.pem: bad-extension: CA "
	    "certificate without subjectKeyIdentifier"));
	ck_assert_ptr_null(strstr(b.data, "R0.pem"));
	buf_free(&b);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* The README's numbers: how many bad sets each configuration accepts. */
static void
summary(void)
{
	size_t i, bad = 0, good = 0, lax_ok = 0, strict_ok = 0, good_refused = 0;

	for (i = 0; i < NCASES; i++) {
		if (!ran[i])
			return;
		if (cases[i].bad) {
			bad++;
			lax_ok += lax_trusted[i];
			strict_ok += strict_trusted[i];
		} else {
			good++;
			good_refused += !strict_trusted[i];
		}
	}
	printf("strict corpus: %zu bad sets, %zu good sets; bad sets accepted: "
	    "OpenSSL defaults (strict=no) %zu, trustfs strict %zu; good sets "
	    "refused by trustfs strict: %zu\n", bad, good, lax_ok, strict_ok,
	    good_refused);
	for (i = 0; i < NCASES; i++)
		if (cases[i].bad && lax_trusted[i])
			printf("  accepted by OpenSSL defaults: %s\n",
			    cases[i].rule);
}

int
main(void)
{
	TCase *tc = tcase_create("strict");
	int rc;

	make_keys();
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_rule, 0, NCASES);
	tcase_add_test(tc, test_opts_setters);
	tcase_add_test(tc, test_opts_apply);
	tcase_add_test(tc, test_default_strict);
	tcase_add_test(tc, test_roots_failures);
	/* In this process: the summary counts what the tests saw. */
	rc = tu_run("strict", tc, 1);
	summary();
	free_keys();
	return rc;
}
