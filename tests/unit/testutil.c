/* Helpers shared by the unit suites. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "testutil.h"

/* Usable outside a running test too (suite set-up), unlike ck_assert. */
#define REQUIRE(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: test set-up failed: %s\n", __FILE__, \
		    __LINE__, #c); \
		abort(); \
	} \
} while (0)

static void
ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	REQUIRE(e);
	REQUIRE(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

X509 *
tu_make_cert(const struct tu_cert_opts *o, EVP_PKEY **key_out)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned char rnd[12];
	BIGNUM *bn;

	REQUIRE(key);
	REQUIRE(x);
	RAND_bytes(rnd, sizeof(rnd));
	rnd[0] &= 0x7f;
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), o->not_before);
	X509_gmtime_adj(X509_getm_notAfter(x), o->not_after ? o->not_after :
	    365L * 86400);
	n = X509_get_subject_name(x);
	if (o->org)
		X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
		    (const unsigned char *)o->org, -1, -1, 0);
	if (o->cn)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)o->cn, -1, -1, 0);
	X509_set_issuer_name(x, o->issuer ? X509_get_subject_name(o->issuer) :
	    n);
	X509_set_pubkey(x, key);
	ext(x, o->issuer, NID_basic_constraints, o->is_ca ? "critical,CA:TRUE" :
	    "critical,CA:FALSE");
	if (o->is_ca)
		ext(x, o->issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	ext(x, o->issuer, NID_subject_key_identifier, "hash");
	if (o->issuer)
		ext(x, o->issuer, NID_authority_key_identifier, "keyid:always");
	if (o->san)
		ext(x, o->issuer, NID_subject_alt_name, o->san);
	REQUIRE(X509_sign(x, o->issuer_key ? o->issuer_key : key,
	    EVP_sha256()));
	if (key_out)
		*key_out = key;
	else
		EVP_PKEY_free(key);
	return x;
}

void
tu_pem(struct buf *b, X509 *x)
{
	REQUIRE(cert_pem(b, x) == 0);
}

char *
tu_mkdtemp(void)
{
	char *p = strdup("/tmp/trustfs-unit.XXXXXX");

	REQUIRE(p);
	REQUIRE(mkdtemp(p));
	return p;
}

void
tu_rmrf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

const char *
tu_data_dir(void)
{
	const char *d = getenv("TEST_DATA_DIR");

	return d ? d : "tests/data";
}

int
tu_run(const char *name, TCase *tc, int nofork)
{
	Suite *s = suite_create(name);
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	if (nofork)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
