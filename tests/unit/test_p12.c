/* PKCS#12 trust stores (p12.c): what Java needs in each bag, read back
 * with OpenSSL's own PKCS#12 parser; bad input refused whole. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/pkcs12.h>

#include "cert.h"
#include "p12.h"
#include "testutil.h"

static X509 *root_a, *root_b;
static unsigned char *der_a, *der_b;
static size_t len_a, len_b;

static void
setup(void)
{
	struct gencert_opts a = { .cn = "P12 Root A", .is_ca = 1 };
	struct gencert_opts b = { .cn = "P12 Root B", .org = "trustfs tests",
	    .is_ca = 1 };

	root_a = tu_make_cert(&a, NULL);
	root_b = tu_make_cert(&b, NULL);
	ck_assert_int_eq(cert_der(root_a, &der_a, &len_a), 0);
	ck_assert_int_eq(cert_der(root_b, &der_b, &len_b), 0);
}

static void
teardown(void)
{
	X509_free(root_a);
	X509_free(root_b);
	free(der_a);
	free(der_b);
}

/* The certificate bags of a store, checked for its MAC under pass. */
static STACK_OF(PKCS12_SAFEBAG) *
bags_of(const struct buf *b, const char *pass)
{
	const unsigned char *p = (const unsigned char *)b->data;
	STACK_OF(PKCS12_SAFEBAG) *all = sk_PKCS12_SAFEBAG_new_null();
	STACK_OF(PKCS7) *safes;
	PKCS12 *p12;
	int i, j;

	p12 = d2i_PKCS12(NULL, &p, (long)b->len);
	ck_assert_ptr_nonnull(p12);
	ck_assert_ptr_eq(p, (const unsigned char *)b->data + b->len);
	ck_assert_int_eq(PKCS12_mac_present(p12), 1);
	ck_assert_int_eq(PKCS12_verify_mac(p12, pass, -1), 1);
	ck_assert_int_eq(PKCS12_verify_mac(p12, "wrong", -1), 0);
	safes = PKCS12_unpack_authsafes(p12);
	ck_assert_ptr_nonnull(safes);
	for (i = 0; i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags;

		/* Not encrypted: certificates are public. */
		ck_assert_int_eq(OBJ_obj2nid(p7->type), NID_pkcs7_data);
		bags = PKCS12_unpack_p7data(p7);
		ck_assert_ptr_nonnull(bags);
		for (j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++)
			sk_PKCS12_SAFEBAG_push(all,
			    sk_PKCS12_SAFEBAG_value(bags, j));
		sk_PKCS12_SAFEBAG_free(bags);	/* the bags moved to all */
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	return all;
}

/* A bag as Java reads a trusted certificate entry: a certificate bag, the
 * alias as friendlyName, Oracle's trusted-key-usage attribute holding
 * anyExtendedKeyUsage. */
static void
check_bag(const PKCS12_SAFEBAG *bag, const char *alias, X509 *want)
{
	const STACK_OF(X509_ATTRIBUTE) *attrs;
	const ASN1_TYPE *t = NULL;
	ASN1_OBJECT *oid = OBJ_txt2obj(P12_TRUSTED_KEY_USAGE_OID, 1);
	char *name;
	X509 *x;
	int i;

	ck_assert_int_eq(PKCS12_SAFEBAG_get_nid(bag), NID_certBag);
	ck_assert_int_eq(PKCS12_SAFEBAG_get_bag_nid(bag), NID_x509Certificate);
	name = PKCS12_get_friendlyname((PKCS12_SAFEBAG *)bag);
	ck_assert_str_eq(name, alias);
	OPENSSL_free(name);
	x = PKCS12_SAFEBAG_get1_cert(bag);
	ck_assert_int_eq(X509_cmp(x, want), 0);
	X509_free(x);
	ck_assert_ptr_nonnull(oid);
	/* By OID: OpenSSL before 3.2 has no NID for it. */
	attrs = PKCS12_SAFEBAG_get0_attrs(bag);
	for (i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);

		if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), oid) == 0)
			t = X509_ATTRIBUTE_get0_type(a, 0);
	}
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->type, V_ASN1_OBJECT);
	ck_assert_int_eq(OBJ_obj2nid(t->value.object), NID_anyExtendedKeyUsage);
	ASN1_OBJECT_free(oid);
}

START_TEST(test_two_roots)
{
	struct p12_cert certs[] = {
		{ "Root_A", der_a, len_a },
		{ "Root B (second)", der_b, len_b },
	};
	struct tf_error e = { 0 };
	struct buf b = { 0 };
	STACK_OF(PKCS12_SAFEBAG) *bags;
	STACK_OF(X509) *ca = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	PKCS12 *p12;
	const unsigned char *p;

	ck_assert_int_eq(p12_truststore(certs, 2, P12_PASSWORD, &b, &e), 0);
	ck_assert_uint_gt(b.len, len_a + len_b);
	bags = bags_of(&b, P12_PASSWORD);
	ck_assert_int_eq(sk_PKCS12_SAFEBAG_num(bags), 2);
	check_bag(sk_PKCS12_SAFEBAG_value(bags, 0), "Root_A", root_a);
	check_bag(sk_PKCS12_SAFEBAG_value(bags, 1), "Root B (second)", root_b);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);

	/* What `openssl pkcs12 -passin pass:changeit' reads: no key, two
	 * certificates. */
	p = (const unsigned char *)b.data;
	p12 = d2i_PKCS12(NULL, &p, (long)b.len);
	ck_assert_int_eq(PKCS12_parse(p12, P12_PASSWORD, &key, &cert, &ca), 1);
	ck_assert_ptr_null(key);
	ck_assert_ptr_null(cert);
	ck_assert_int_eq(sk_X509_num(ca), 2);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	buf_free(&b);
}
END_TEST

START_TEST(test_empty)
{
	struct tf_error e = { 0 };
	struct buf b = { 0 };
	STACK_OF(PKCS12_SAFEBAG) *bags;

	ck_assert_int_eq(p12_truststore(NULL, 0, P12_PASSWORD, &b, &e), 0);
	bags = bags_of(&b, P12_PASSWORD);
	ck_assert_int_eq(sk_PKCS12_SAFEBAG_num(bags), 0);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	buf_free(&b);
}
END_TEST

/* The MAC's salt is random: the same roots render to other bytes.  This
 * is why the daemon renders once per change (see p12.h). */
START_TEST(test_salt_differs)
{
	struct p12_cert c = { "Root_A", der_a, len_a };
	struct tf_error e = { 0 };
	struct buf b1 = { 0 }, b2 = { 0 };

	ck_assert_int_eq(p12_truststore(&c, 1, P12_PASSWORD, &b1, &e), 0);
	ck_assert_int_eq(p12_truststore(&c, 1, P12_PASSWORD, &b2, &e), 0);
	ck_assert_uint_eq(b1.len, b2.len);
	ck_assert_int_ne(memcmp(b1.data, b2.data, b1.len), 0);
	buf_free(&b1);
	buf_free(&b2);
}
END_TEST

START_TEST(test_x509_aliases)
{
	STACK_OF(X509) *sk = tu_stack(root_a, root_b, NULL);
	STACK_OF(PKCS12_SAFEBAG) *bags;
	struct tf_error e = { 0 };
	struct buf b = { 0 };

	X509_alias_set1(sk_X509_value(sk, 0), (const unsigned char *)"a", -1);
	X509_alias_set1(sk_X509_value(sk, 1), (const unsigned char *)"b", -1);
	ck_assert_int_eq(p12_truststore_x509(sk, P12_PASSWORD, &b, &e), 0);
	bags = bags_of(&b, P12_PASSWORD);
	ck_assert_int_eq(sk_PKCS12_SAFEBAG_num(bags), 2);
	check_bag(sk_PKCS12_SAFEBAG_value(bags, 0), "a", root_a);
	check_bag(sk_PKCS12_SAFEBAG_value(bags, 1), "b", root_b);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	buf_free(&b);

	/* A certificate without an alias is refused, nothing appended. */
	X509_alias_set1(sk_X509_value(sk, 1), NULL, 0);
	ck_assert_int_eq(p12_truststore_x509(sk, P12_PASSWORD, &b, &e),
	    -EINVAL);
	ck_assert_uint_eq(b.len, 0);
	X509_alias_set1(sk_X509_value(sk, 0), NULL, 0);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&b);
}
END_TEST

/* Bad input: the whole store is refused, the reason names the entry, and
 * the buffer keeps what it held. */
START_TEST(test_bad_input)
{
	static const unsigned char garbage[] = "not a certificate at all";
	/* SEQUENCE { INTEGER 1 }: DER, but not shaped as a certificate. */
	static const unsigned char notcert[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	/* SEQUENCE of indefinite length: BER, not DER. */
	static const unsigned char indef[] = { 0x30, 0x80, 0x30, 0x00, 0x30,
	    0x00, 0x03, 0x01, 0x00, 0x00, 0x00 };
	unsigned char *trailing = malloc(len_a + 2);
	struct {
		const char *alias;
		const unsigned char *der;
		size_t len;
		const char *want;
	} cases[] = {
		{ "garbage", garbage, sizeof(garbage), "garbage: not one DER" },
		{ "cut", der_a, len_a / 2, "cut: not one DER" },
		{ "trailing", trailing, len_a + 2, "trailing: not one DER" },
		{ "empty", der_a, 0, "empty: not one DER" },
		{ "null", NULL, 10, "null: not one DER" },
		{ "seq", notcert, sizeof(notcert), "seq: not one DER" },
		{ "indef", indef, sizeof(indef), "indef: not one DER" },
		{ NULL, der_a, len_a, "needs an alias" },
		{ "", der_a, len_a, "needs an alias" },
	};
	size_t i;

	ck_assert_ptr_nonnull(trailing);
	memcpy(trailing, der_a, len_a);
	trailing[len_a] = 0x05;
	trailing[len_a + 1] = 0x00;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct p12_cert c[] = {
			{ "Good", der_b, len_b },
			{ cases[i].alias, cases[i].der, cases[i].len },
		};
		struct tf_error e = { 0 };
		struct buf b = { 0 };

		ck_assert_int_eq(buf_puts(&b, "kept"), 0);
		ck_assert_int_eq(p12_truststore(c, 2, P12_PASSWORD, &b, &e),
		    -EINVAL);
		ck_assert_msg(strstr(e.msg, cases[i].want) != NULL,
		    "case %zu: '%s'", i, e.msg);
		ck_assert_uint_eq(b.len, 4);
		ck_assert_int_eq(memcmp(b.data, "kept", 4), 0);
		buf_free(&b);
	}
	free(trailing);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("p12");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_two_roots);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_salt_differs);
	tcase_add_test(tc, test_x509_aliases);
	tcase_add_test(tc, test_bad_input);
	return tu_run("p12", tc, 0);
}
