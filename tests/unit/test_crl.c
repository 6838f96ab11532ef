/*
 * crl.c (issue 13): CRLs parsed and refused by RFC 5280's rules, kept in
 * the store and found again after a reopen, the revoked / require /
 * prefer verdicts of the chain checks with stored CRLs and CRLs given
 * through the options, and stapled OCSP responses made here.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "crl.h"
#include "entry.h"
#include "handle.h"
#include "import.h"
#include "testutil.h"

static X509 *root, *inter, *leaf, *other_root;
static EVP_PKEY *root_key, *inter_key, *other_key;

static void
make_certs(void)
{
	struct gencert_opts o;

	o = (struct gencert_opts){ .cn = "CRL Root", .is_ca = 1,
	    .not_before = -86400 };
	root = tu_make_cert(&o, &root_key);
	o = (struct gencert_opts){ .cn = "CRL Intermediate", .is_ca = 1,
	    .issuer = root, .issuer_key = root_key, .not_before = -86400 };
	inter = tu_make_cert(&o, &inter_key);
	o = (struct gencert_opts){ .cn = "server.test", .issuer = inter,
	    .issuer_key = inter_key, .not_before = -86400,
	    .san = "DNS:server.test" };
	leaf = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "Other Root", .is_ca = 1,
	    .not_before = -86400 };
	other_root = tu_make_cert(&o, &other_key);
}

static void
free_certs(void)
{
	X509_free(root); X509_free(inter); X509_free(leaf);
	X509_free(other_root);
	EVP_PKEY_free(root_key); EVP_PKEY_free(inter_key);
	EVP_PKEY_free(other_key);
}

#define CRL_NUMBER 0x1
#define CRL_CRITICAL 0x2
#define CRL_STALE 0x4

/* A CRL by issuer/key, revoking `revoke' (may be NULL). */
static X509_CRL *
make_crl(X509 *issuer, EVP_PKEY *key, X509 *revoke, unsigned flags)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *lu = ASN1_TIME_adj(NULL, time(NULL), flags & CRL_STALE ?
	    -30 : 0, -3600);
	ASN1_TIME *nu = ASN1_TIME_adj(NULL, time(NULL), flags & CRL_STALE ?
	    -1 : 30, 0);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509_REVOKED *r;

	ck_assert_ptr_nonnull(crl);
	ck_assert(X509_CRL_set_version(crl, 1));
	ck_assert(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)));
	ck_assert(X509_CRL_set1_lastUpdate(crl, lu));
	ck_assert(X509_CRL_set1_nextUpdate(crl, nu));
	if (revoke != NULL) {
		r = X509_REVOKED_new();
		ck_assert(X509_REVOKED_set_serialNumber(r,
		    X509_get_serialNumber(revoke)));
		ck_assert(X509_REVOKED_set_revocationDate(r, lu));
		ck_assert(X509_CRL_add0_revoked(crl, r));
	}
	if (flags & CRL_NUMBER) {
		ASN1_INTEGER_set(num, 7);
		ck_assert(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
		    0));
	}
	if (flags & CRL_CRITICAL) {
		ASN1_OBJECT *obj = OBJ_txt2obj("1.2.3.4.5", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *ext;

		ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2);
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os);
		ck_assert(X509_CRL_add_ext(crl, ext, -1));
		X509_EXTENSION_free(ext);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	X509_CRL_sort(crl);
	ck_assert(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(lu);
	ASN1_TIME_free(nu);
	return crl;
}

static void
crl_pem(struct buf *b, X509_CRL *crl)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	ck_assert(PEM_write_bio_X509_CRL(bio, crl));
	n = BIO_get_mem_data(bio, &p);
	ck_assert_int_eq(buf_append(b, p, (size_t)n), 0);
	BIO_free(bio);
}

START_TEST(test_parse)
{
	X509_CRL *good = make_crl(inter, inter_key, leaf, CRL_NUMBER);
	X509_CRL *nonum = make_crl(inter, inter_key, NULL, 0);
	X509_CRL *crit = make_crl(inter, inter_key, NULL, CRL_NUMBER |
	    CRL_CRITICAL);
	struct buf b = { 0 };
	struct tf_error e = { 0 };
	unsigned char *der = NULL;
	X509_CRL *out = NULL;
	int len;

	/* PEM with text around it, and DER. */
	buf_puts(&b, "a CRL:\n");
	crl_pem(&b, good);
	ck_assert_int_eq(crl_parse(b.data, b.len, CRL_INPUT_MAX, &out, &e), 0);
	ck_assert_int_eq(X509_CRL_cmp(out, good), 0);
	X509_CRL_free(out);
	len = i2d_X509_CRL(good, &der);
	ck_assert_int_eq(crl_parse(der, (size_t)len, CRL_INPUT_MAX, &out, &e),
	    0);
	X509_CRL_free(out);
	/* Over the limit. */
	ck_assert_int_eq(crl_parse(der, (size_t)len + 0, 10, &out, &e),
	    -EFBIG);
	OPENSSL_free(der);
	/* Two CRLs, a certificate, no number, a critical extension. */
	crl_pem(&b, good);
	ck_assert_int_eq(crl_parse(b.data, b.len, CRL_INPUT_MAX, &out, &e),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "one CRL per file"));
	buf_reset(&b);
	tu_pem(&b, leaf);
	ck_assert_int_eq(crl_parse(b.data, b.len, CRL_INPUT_MAX, &out, &e),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a CRL"));
	buf_reset(&b);
	crl_pem(&b, nonum);
	ck_assert_int_eq(crl_parse(b.data, b.len, CRL_INPUT_MAX, &out, &e),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "no CRL number"));
	buf_reset(&b);
	crl_pem(&b, crit);
	ck_assert_int_eq(crl_parse(b.data, b.len, CRL_INPUT_MAX, &out, &e),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "critical extension"));
	ck_assert_ptr_nonnull(strstr(e.msg, "1.2.3.4.5"));
	ck_assert_ptr_null(out);
	/* The inspect text. */
	buf_reset(&b);
	ck_assert_int_eq(crl_render(good, time(NULL), &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "Issuer: CN=CRL Intermediate\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "CRL Number: 7\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "Revoked: 1\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "Status: current\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "-----BEGIN X509 CRL-----"));
	buf_reset(&b);
	ck_assert_int_eq(crl_render(good, time(NULL) + 60 * 86400, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "Status: expired\n"));
	ck_assert_int_eq(crl_name_check("Lab.crl", &e), 0);
	ck_assert_int_eq(crl_name_check("Lab.pem", &e), -EINVAL);
	ck_assert_int_eq(crl_name_check(".crl", &e), -EINVAL);
	buf_free(&b);
	X509_CRL_free(good);
	X509_CRL_free(nonum);
	X509_CRL_free(crit);
}
END_TEST

static struct trustfs *
open_store(char *dir)
{
	struct trustfs *t = trustfs_open(dir);

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(trustfs_error(t));
	return t;
}

struct add_ctx {
	enum store_db db;
	const char *name;
	X509 *x;
	X509_CRL *crl;
	enum crl_outcome outcome;
	struct tf_error e;
};

static int
add_txn(struct store_txn *txn, void *arg)
{
	struct add_ctx *a = arg;
	struct entry_result res;
	STACK_OF(X509) *sk;
	int rc;

	if (a->crl != NULL)
		return crl_store(txn, a->name, a->crl, NULL, &a->outcome,
		    &a->e);
	sk = tu_stack(a->x, NULL);
	rc = entry_add(txn, a->db, a->name, sk, 0, NULL, &res, &a->e);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int
add(struct trustfs *t, enum store_db db, const char *name, X509 *x,
    X509_CRL *crl, struct add_ctx *out)
{
	struct add_ctx a = { .db = db, .name = name, .x = x, .crl = crl };
	int rc = store_write(t->st, add_txn, &a, NULL);

	if (out != NULL)
		*out = a;
	return rc;
}

static int
rm_txn(struct store_txn *txn, void *arg)
{
	return crl_remove(txn, arg, NULL);
}

static int
mv_txn(struct store_txn *txn, void *arg)
{
	(void)arg;
	return crl_rename(txn, "Int.crl", "Lab.crl", 0, NULL);
}

START_TEST(test_store)
{
	char *dir = tu_mkdtemp(), int_crl[] = "Int.crl", lab_crl[] = "Lab.crl";
	X509_CRL *good = make_crl(inter, inter_key, leaf, CRL_NUMBER);
	X509_CRL *nokey = make_crl(other_root, other_key, NULL, CRL_NUMBER);
	STACK_OF(X509_CRL) *all = sk_X509_CRL_new_null();
	STACK_OF(OPENSSL_STRING) *names = sk_OPENSSL_STRING_new_null();
	struct store_txn *txn;
	struct trustfs *t = open_store(dir);
	struct add_ctx a;
	X509_CRL *got = NULL;
	struct buf b = { 0 };

	/* The issuer must be in the store first. */
	ck_assert_int_eq(add(t, 0, "Int.crl", NULL, good, &a), -EINVAL);
	ck_assert_ptr_nonnull(strstr(a.e.msg, "issuer not in the store"));
	ck_assert_int_eq(add(t, STORE_ROOTS, "Root.pem", root, NULL, NULL), 0);
	ck_assert_int_eq(add(t, STORE_CHAINS, "Int.pem", inter, NULL, NULL),
	    0);
	ck_assert_int_eq(add(t, 0, "Int.crl", NULL, good, &a), 0);
	ck_assert_int_eq(a.outcome, CRL_ADDED);
	ck_assert_int_eq(add(t, 0, "Int.crl", NULL, good, &a), 0);
	ck_assert_int_eq(a.outcome, CRL_UNCHANGED);
	/* A CRL signed by a key that is not its issuer's. */
	ck_assert_int_eq(add(t, 0, "Other.crl", NULL, nokey, &a), -EINVAL);
	ck_assert_ptr_nonnull(strstr(a.e.msg, "issuer not in the store"));
	trustfs_free(t);

	/* Round trip: a new handle on the store finds it. */
	t = open_store(dir);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(crl_load(txn, "Int.crl", &got, NULL), 0);
	ck_assert_int_eq(X509_CRL_cmp(got, good), 0);
	ck_assert_int_eq(crl_load_all(txn, all, names), 0);
	ck_assert_int_eq(sk_X509_CRL_num(all), 1);
	ck_assert_str_eq(sk_OPENSSL_STRING_value(names, 0), "crls/Int.crl");
	ck_assert_int_eq(crl_expired_lines(txn, time(NULL), &b, NULL), 0);
	ck_assert_int_eq(crl_expired_lines(txn, time(NULL) + 60 * 86400, &b,
	    NULL), 1);
	ck_assert_ptr_nonnull(strstr(b.data, "crls/Int.crl next update was"));
	store_txn_abort(txn);
	ck_assert_int_eq(store_write(t->st, mv_txn, NULL, NULL), 0);
	ck_assert_int_eq(store_write(t->st, rm_txn, int_crl, NULL), -ENOENT);
	ck_assert_int_eq(store_write(t->st, rm_txn, lab_crl, NULL), 0);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	X509_CRL_free(got);
	ck_assert_int_eq(crl_load(txn, "Lab.crl", &got, NULL), -ENOENT);
	store_txn_abort(txn);

	buf_free(&b);
	sk_X509_CRL_pop_free(all, X509_CRL_free);
	sk_OPENSSL_STRING_pop_free(names, (void (*)(char *))free);
	X509_CRL_free(good);
	X509_CRL_free(nokey);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* One chain check of leaf+inter with opts; the verdict. */
static void
verify(struct trustfs *t, struct trustfs_verify_opts *o,
    struct trustfs_verdict *v)
{
	STACK_OF(X509) *sk = tu_stack(leaf, inter, NULL);

	ck_assert_int_eq(trustfs_verify_chain_opts(t, "server.test", sk, o, v),
	    0);
	sk_X509_pop_free(sk, X509_free);
}

START_TEST(test_verdicts)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = open_store(dir);
	struct trustfs_verify_opts *o = trustfs_verify_opts_new();
	X509_CRL *rev = make_crl(inter, inter_key, leaf, CRL_NUMBER);
	X509_CRL *clean = make_crl(inter, inter_key, NULL, CRL_NUMBER);
	X509_CRL *stale = make_crl(inter, inter_key, NULL, CRL_NUMBER |
	    CRL_STALE);
	X509_CRL *rootcrl = make_crl(root, root_key, NULL, CRL_NUMBER);
	struct trustfs_verdict v;

	ck_assert_int_eq(add(t, STORE_ROOTS, "Root.pem", root, NULL, NULL), 0);
	ck_assert_int_eq(add(t, STORE_CHAINS, "Int.pem", inter, NULL, NULL),
	    0);
	/* prefer, no CRL: trusted. */
	verify(t, NULL, &v);
	ck_assert_msg(v.trusted, "%s", v.message);
	/* require, no CRL: no-crl. */
	ck_assert_int_eq(trustfs_verify_opts_set_revocation(o,
	    TRUSTFS_REVOCATION_REQUIRE), 0);
	verify(t, o, &v);
	ck_assert(!v.trusted);
	ck_assert_int_eq(v.reason, TRUSTFS_NO_CRL);
	ck_assert_ptr_nonnull(strstr(v.message, "no current CRL"));
	/* A stored CRL that revokes the leaf: revoked, naming both. */
	ck_assert_int_eq(add(t, 0, "Int.crl", NULL, rev, NULL), 0);
	verify(t, NULL, &v);
	ck_assert(!v.trusted);
	ck_assert_int_eq(v.reason, TRUSTFS_REVOKED);
	ck_assert_ptr_nonnull(strstr(v.message, "CN=server.test"));
	ck_assert_ptr_nonnull(strstr(v.message, "crls/Int.crl"));
	/* A clean CRL for the leaf, none for the intermediate: require
	 * refuses at depth 1; with the root's CRL it passes. */
	ck_assert_int_eq(add(t, 0, "Int.crl", NULL, clean, NULL), 0);
	verify(t, NULL, &v);
	ck_assert_msg(v.trusted, "%s", v.message);
	verify(t, o, &v);
	ck_assert_int_eq(v.reason, TRUSTFS_NO_CRL);
	ck_assert_ptr_nonnull(strstr(v.message, "depth 1"));
	ck_assert_int_eq(add(t, 0, "Root.crl", NULL, rootcrl, NULL), 0);
	verify(t, o, &v);
	ck_assert_msg(v.trusted, "%s", v.message);
	/* A CRL given through the options adds to the stored ones. */
	ck_assert_int_eq(trustfs_verify_opts_add_crl(o, rev), 0);
	verify(t, o, &v);
	ck_assert_int_eq(v.reason, TRUSTFS_REVOKED);
	ck_assert_ptr_nonnull(strstr(v.message, "a CRL given to the check"));
	trustfs_verify_opts_free(o);
	/* A stale CRL: prefer passes, require refuses. */
	ck_assert_int_eq(add(t, 0, "Int.crl", NULL, stale, NULL), 0);
	verify(t, NULL, &v);
	ck_assert_msg(v.trusted, "%s", v.message);
	o = trustfs_verify_opts_new();
	ck_assert_int_eq(trustfs_verify_opts_set_revocation(o,
	    TRUSTFS_REVOCATION_REQUIRE), 0);
	verify(t, o, &v);
	ck_assert_int_eq(v.reason, TRUSTFS_NO_CRL);

	trustfs_verify_opts_free(o);
	X509_CRL_free(rev); X509_CRL_free(clean); X509_CRL_free(stale);
	X509_CRL_free(rootcrl);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A DER OCSP response about leaf, signed by signer/key. */
static unsigned char *
make_ocsp(X509 *signer, EVP_PKEY *key, int status, long this_off,
    long next_off, size_t *len)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, inter);
	ASN1_TIME *tu = ASN1_TIME_adj(NULL, time(NULL), 0, this_off);
	ASN1_TIME *nu = ASN1_TIME_adj(NULL, time(NULL), 0, next_off);
	ASN1_TIME *rt = ASN1_TIME_adj(NULL, time(NULL), 0, -7200);
	OCSP_RESPONSE *r;
	unsigned char *der = NULL;
	int n;

	ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id, status,
	    status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE :
	    -1, status == V_OCSP_CERTSTATUS_REVOKED ? rt : NULL, tu, nu));
	ck_assert(OCSP_basic_sign(bs, signer, key, EVP_sha256(), NULL, 0));
	r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	n = i2d_OCSP_RESPONSE(r, &der);
	ck_assert_int_gt(n, 0);
	*len = (size_t)n;
	OCSP_RESPONSE_free(r);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(tu); ASN1_TIME_free(nu); ASN1_TIME_free(rt);
	return der;
}

START_TEST(test_ocsp)
{
	struct gencert_opts go = { .cn = "Responder", .issuer = inter,
	    .issuer_key = inter_key, .not_before = -86400 };
	EVP_PKEY *rkey = NULL;
	X509 *responder = tu_make_cert(&go, &rkey);
	unsigned char *der;
	char why[200];
	size_t len;
	time_t now = time(NULL);

	der = make_ocsp(inter, inter_key, V_OCSP_CERTSTATUS_GOOD, -60, 3600,
	    &len);
	ck_assert_int_eq(crl_ocsp_check(der, len, leaf, inter, now, why,
	    sizeof(why)), CRL_OCSP_GOOD);
	/* The wrong issuer: nothing about this certificate can be read. */
	ck_assert_int_ne(crl_ocsp_check(der, len, leaf, other_root, now, why,
	    sizeof(why)), CRL_OCSP_GOOD);
	OPENSSL_free(der);
	der = make_ocsp(inter, inter_key, V_OCSP_CERTSTATUS_REVOKED, -60, 3600,
	    &len);
	ck_assert_int_eq(crl_ocsp_check(der, len, leaf, inter, now, why,
	    sizeof(why)), CRL_OCSP_REVOKED);
	ck_assert_ptr_nonnull(strstr(why, "keyCompromise"));
	OPENSSL_free(der);
	/* Past its next update. */
	der = make_ocsp(inter, inter_key, V_OCSP_CERTSTATUS_GOOD, -7200, -3600,
	    &len);
	ck_assert_int_eq(crl_ocsp_check(der, len, leaf, inter, now, why,
	    sizeof(why)), CRL_OCSP_STALE);
	OPENSSL_free(der);
	/* Signed by another key, and by a responder without OCSPSigning. */
	der = make_ocsp(other_root, other_key, V_OCSP_CERTSTATUS_GOOD, -60,
	    3600, &len);
	ck_assert_int_eq(crl_ocsp_check(der, len, leaf, inter, now, why,
	    sizeof(why)), CRL_OCSP_BAD);
	OPENSSL_free(der);
	der = make_ocsp(responder, rkey, V_OCSP_CERTSTATUS_GOOD, -60, 3600,
	    &len);
	ck_assert_int_eq(crl_ocsp_check(der, len, leaf, inter, now, why,
	    sizeof(why)), CRL_OCSP_BAD);
	ck_assert_ptr_nonnull(strstr(why, "OCSPSigning"));
	OPENSSL_free(der);
	/* Garbage, and nothing. */
	ck_assert_int_eq(crl_ocsp_check((const unsigned char *)"xx", 2, leaf,
	    inter, now, why, sizeof(why)), CRL_OCSP_BAD);
	ck_assert_int_eq(crl_ocsp_check(NULL, 0, leaf, inter, now, why,
	    sizeof(why)), CRL_OCSP_NONE);
	X509_free(responder);
	EVP_PKEY_free(rkey);
}
END_TEST

static int
mine_txn(struct store_txn *txn, void *arg)
{
	(void)arg;
	return crl_rename(txn, "CRL_Root.crl", "Mine.crl", 1, NULL);
}

/* entry_import_input: a bundle of a root and CRLs imports both in one
 * transaction; refused CRLs are reported and the rest goes on; the same
 * CRL again, PEM or lone DER, is a duplicate. */
START_TEST(test_import)
{
	char *dir = tu_mkdtemp();
	X509_CRL *good = make_crl(root, root_key, inter, CRL_NUMBER);
	X509_CRL *nonum = make_crl(root, root_key, NULL, 0);
	X509_CRL *stranger = make_crl(other_root, other_key, NULL, CRL_NUMBER);
	struct trustfs *t = open_store(dir);
	struct import_result r;
	struct store_txn *txn;
	struct tf_error e = { 0 };
	struct buf b = { 0 };
	X509_CRL *got = NULL;
	unsigned char *der = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int len;

	ck_assert(PEM_write_bio_X509(bio, root));
	n = BIO_get_mem_data(bio, &p);
	buf_puts(&b, "the lab's root and its CRLs\n");
	ck_assert_int_eq(buf_append(&b, p, (size_t)n), 0);
	crl_pem(&b, nonum);
	crl_pem(&b, stranger);
	crl_pem(&b, good);
	ck_assert_int_eq(entry_import_input(t->st, b.data, b.len, NULL, NULL,
	    NULL, &r, &e), 0);
	ck_assert_int_eq(r.count[IMPORT_ADDED], 1);
	ck_assert_int_eq(r.crl_total, 3);
	ck_assert_int_eq(r.crl_count[IMPORT_ADDED], 1);
	ck_assert_int_eq(r.crl_count[IMPORT_REFUSED], 2);
	ck_assert_ptr_nonnull(strstr(r.report.data, "added roots/CRL_Root.pem\n"));
	ck_assert_ptr_nonnull(strstr(r.report.data, "added crls/CRL_Root.crl\n"));
	ck_assert_ptr_nonnull(strstr(r.report.data, "CRLs: 3\nCRLs added: 1\n"
	    "CRLs skipped (duplicate): 0\nCRLs refused: 2\n"));
	ck_assert_ptr_nonnull(strstr(r.report.data, "refused CRL CN=CRL Root: "));
	ck_assert_ptr_nonnull(strstr(r.report.data, "refused CRL CN=Other Root: "
	    "issuer not in the store"));
	import_result_free(&r);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(crl_load(txn, "CRL_Root.crl", &got, NULL), 0);
	ck_assert_int_eq(X509_CRL_cmp(got, good), 0);
	store_txn_abort(txn);

	/* The same CRL again, alone, in DER: a duplicate. */
	len = i2d_X509_CRL(good, &der);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(entry_import_input(t->st, der, (size_t)len, NULL, NULL,
	    NULL, &r, &e), 0);
	ck_assert_int_eq(r.total, 0);
	ck_assert_int_eq(r.crl_count[IMPORT_DUPLICATE], 1);
	ck_assert_ptr_nonnull(strstr(r.report.data,
	    "duplicate crls/CRL_Root.crl\n"));
	import_result_free(&r);

	/* The same CRL under a name of its own: still a duplicate. */
	ck_assert_int_eq(store_write(t->st, mine_txn, NULL, NULL), 0);
	ck_assert_int_eq(entry_import_input(t->st, der, (size_t)len, NULL, NULL,
	    NULL, &r, &e), 0);
	ck_assert_ptr_nonnull(strstr(r.report.data, "duplicate crls/Mine.crl\n"));
	import_result_free(&r);

	/* A CRL block that does not decode refuses the whole input. */
	buf_reset(&b);
	buf_puts(&b, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
	ck_assert_int_eq(entry_import_input(t->st, b.data, b.len, NULL, NULL,
	    NULL, &r, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "CRL block 1 does not decode");
	import_result_free(&r);

	OPENSSL_free(der);
	BIO_free(bio);
	buf_free(&b);
	X509_CRL_free(got);
	X509_CRL_free(good);
	X509_CRL_free(nonum);
	X509_CRL_free(stranger);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("crl");
	int rc;

	make_certs();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_store);
	tcase_add_test(tc, test_verdicts);
	tcase_add_test(tc, test_ocsp);
	tcase_add_test(tc, test_import);
	rc = tu_run("crl", tc, 0);
	free_certs();
	return rc;
}
