/* cert.c's parser: every accepted form and every refusal, with its errno
 * and reason. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#include "cert.h"
#include "testutil.h"

static X509 *a, *b, *c;
static struct buf pem_a, pem_b, pem_c;
static unsigned char *der_a, *der_b;
static size_t der_a_len, der_b_len;

static void
setup(void)
{
	struct gencert_opts o = { .cn = "Parser A", .is_ca = 1 };
	EVP_PKEY *k;

	a = tu_make_cert(&o, &k);
	o = (struct gencert_opts){ .cn = "Parser B", .issuer = a,
	    .issuer_key = k, .is_ca = 1 };
	b = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "Parser C" };
	c = tu_make_cert(&o, NULL);
	EVP_PKEY_free(k);
	tu_pem(&pem_a, a);
	tu_pem(&pem_b, b);
	tu_pem(&pem_c, c);
	cert_der(a, &der_a, &der_a_len);
	cert_der(b, &der_b, &der_b_len);
}

static void
teardown(void)
{
	X509_free(a); X509_free(b); X509_free(c);
	buf_free(&pem_a); buf_free(&pem_b); buf_free(&pem_c);
	OPENSSL_free(der_a); OPENSSL_free(der_b);
}

/* A PKCS#7 SignedData holding a and b, DER or PEM. */
static void
pkcs7(struct buf *out, int pem)
{
	PKCS7 *p7 = PKCS7_new();
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	ck_assert(PKCS7_set_type(p7, NID_pkcs7_signed));
	ck_assert(PKCS7_content_new(p7, NID_pkcs7_data));
	ck_assert(PKCS7_add_certificate(p7, a));
	ck_assert(PKCS7_add_certificate(p7, b));
	ck_assert(pem ? PEM_write_bio_PKCS7(bio, p7) : i2d_PKCS7_bio(bio, p7));
	n = BIO_get_mem_data(bio, &data);
	buf_append(out, data, (size_t)n);
	BIO_free(bio);
	PKCS7_free(p7);
}

static int
parse(const void *p, size_t n, STACK_OF(X509) **sk, char *why)
{
	struct tf_error te = { 0 };
	int rc = cert_parse(p, n, CERT_INPUT_MAX_BUNDLE, sk, &te);

	snprintf(why, 256, "%s", te.msg);
	return rc;
}

static void
want_certs(STACK_OF(X509) *sk, X509 *x0, X509 *x1)
{
	ck_assert_int_eq(sk_X509_num(sk), x1 ? 2 : 1);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 0), x0), 0);
	if (x1)
		ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 1), x1), 0);
}

START_TEST(test_pem_one)
{
	STACK_OF(X509) *sk;
	struct tf_error te = { 0 };
	char *why = te.msg;

	ck_assert_int_eq(parse(pem_a.data, pem_a.len, &sk, why), 0);
	want_certs(sk, a, NULL);
	sk_X509_pop_free(sk, X509_free);
}
END_TEST

START_TEST(test_pem_text_around)
{
	struct buf in = { 0 };
	STACK_OF(X509) *sk;
	struct tf_error te = { 0 };
	char *why = te.msg;

	buf_puts(&in, "Paste everything from \"-----BEGIN CERTIFICATE-----\" "
	    "to \"-----END CERTIFICATE-----\":\nSubject: whatever\n");
	buf_append(&in, pem_a.data, pem_a.len);
	buf_puts(&in, "trailing words\n");
	ck_assert_int_eq(parse(in.data, in.len, &sk, why), 0);
	want_certs(sk, a, NULL);
	sk_X509_pop_free(sk, X509_free);
	/* Text that starts with '0', the first byte of all DER. */
	buf_reset(&in);
	buf_puts(&in, "0 errors; the certificate:\n");
	buf_append(&in, pem_a.data, pem_a.len);
	ck_assert_msg(parse(in.data, in.len, &sk, why) == 0, "%s", why);
	want_certs(sk, a, NULL);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&in);
}
END_TEST

START_TEST(test_pem_bundle_order)
{
	struct buf in = { 0 };
	STACK_OF(X509) *sk;
	struct tf_error te = { 0 };
	char *why = te.msg;

	buf_append(&in, pem_b.data, pem_b.len);
	buf_puts(&in, "\n# the next one\n");
	buf_append(&in, pem_c.data, pem_c.len);
	buf_append(&in, pem_a.data, pem_a.len);
	ck_assert_int_eq(parse(in.data, in.len, &sk, why), 0);
	ck_assert_int_eq(sk_X509_num(sk), 3);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 0), b), 0);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 1), c), 0);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 2), a), 0);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&in);
}
END_TEST

START_TEST(test_der_forms)
{
	STACK_OF(X509) *sk;
	unsigned char *two = malloc(der_a_len + der_b_len);
	struct tf_error te = { 0 };
	char *why = te.msg;

	ck_assert_int_eq(parse(der_a, der_a_len, &sk, why), 0);
	want_certs(sk, a, NULL);
	sk_X509_pop_free(sk, X509_free);
	memcpy(two, der_a, der_a_len);
	memcpy(two + der_a_len, der_b, der_b_len);
	ck_assert_int_eq(parse(two, der_a_len + der_b_len, &sk, why), 0);
	want_certs(sk, a, b);
	sk_X509_pop_free(sk, X509_free);
	free(two);
}
END_TEST

START_TEST(test_pkcs7)
{
	struct buf der = { 0 }, pem = { 0 };
	STACK_OF(X509) *sk;
	struct tf_error te = { 0 };
	char *why = te.msg;

	pkcs7(&der, 0);
	pkcs7(&pem, 1);
	ck_assert_int_eq(parse(der.data, der.len, &sk, why), 0);
	want_certs(sk, a, b);
	sk_X509_pop_free(sk, X509_free);
	ck_assert_int_eq(parse(pem.data, pem.len, &sk, why), 0);
	want_certs(sk, a, b);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&der);
	buf_free(&pem);
}
END_TEST

START_TEST(test_trusted_certificate)
{
	BIO *bio = BIO_new(BIO_s_mem());
	STACK_OF(X509) *sk;
	char *data;
	struct tf_error te = { 0 };
	char *why = te.msg;
	long n;

	ck_assert(PEM_write_bio_X509_AUX(bio, a));
	n = BIO_get_mem_data(bio, &data);
	ck_assert_int_eq(parse(data, (size_t)n, &sk, why), 0);
	want_certs(sk, a, NULL);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
}
END_TEST

START_TEST(test_identrust)
{
	char path[1024], hex[100], *subj;
	struct tf_error te = { 0 };
	char *why = te.msg;
	unsigned char md[32];
	STACK_OF(X509) *sk;
	FILE *f;
	char buf[8192];
	size_t n;

	snprintf(path, sizeof(path), "%s/identrust-commercial-root-ca-1.pem",
	    tu_data_dir());
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* The file is a pasted PEM with Japanese prose around it that
	 * quotes the BEGIN/END lines. */
	ck_assert_msg(parse(buf, n, &sk, why) == 0, "%s", why);
	ck_assert_int_eq(sk_X509_num(sk), 1);
	cert_sha1(sk_X509_value(sk, 0), md);
	cert_hex(md, 20, ':', hex);
	ck_assert_str_eq(hex, "DF:71:7E:AA:4A:D9:4E:C9:55:84:99:60:2D:48:DE:"
	    "5F:BC:F0:3A:25");
	subj = cert_name_str(X509_get_subject_name(sk_X509_value(sk, 0)));
	ck_assert_str_eq(subj, "CN=IdenTrust Commercial Root CA 1,"
	    "O=IdenTrust,C=US");
	free(subj);
	cert_label(sk_X509_value(sk, 0), hex, sizeof(hex));
	ck_assert_str_eq(hex, "IdenTrust_Commercial_Root_CA_1");
	/* What `openssl x509 -hash' prints for it. */
	ck_assert_uint_eq(cert_subject_hash(sk_X509_value(sk, 0)), 0xef954a4eu);
	sk_X509_pop_free(sk, X509_free);
}
END_TEST

/* Bad input: errno and a reason a person understands. */
enum bad { B_EMPTY, B_GARBAGE, B_BINARY, B_TRUNC_PEM, B_BAD_B64,
    B_TRUNC_DER, B_DER_TRAILING, B_KEY, B_CRL, B_P7_EMPTY, B_OVERSIZE,
    B_NO_BLOCK, B_ZERO_TEXT, B_TRUNC_THEN_PEM, B_KEY_ENCRYPTED,
    B_BAD_B64_LINE, B_B64_AFTER_PAD, B_PEM_NOT_DER, B_PEM_TRAILING,
    B_P7_PEM_EMPTY, B_END_MISMATCH, B_LATER_BLOCK_BAD };

static const struct {
	enum bad kind;
	int want;
	const char *why;
} bad_cases[] = {
	{ B_EMPTY, -EINVAL, "empty input" },
	{ B_GARBAGE, -EINVAL, "not a certificate" },
	{ B_BINARY, -EINVAL, "not a certificate" },
	{ B_TRUNC_PEM, -EINVAL, "truncated PEM block (BEGIN CERTIFICATE "
	    "without END) at line 1" },
	{ B_BAD_B64, -EINVAL, "bad base64 in PEM block at line 1" },
	{ B_TRUNC_DER, -EINVAL, "truncated or malformed DER" },
	{ B_DER_TRAILING, -EINVAL, "truncated or malformed DER" },
	{ B_KEY, -EINVAL, "private keys are not accepted" },
	{ B_CRL, -EINVAL, "unsupported PEM block 'X509 CRL'" },
	{ B_P7_EMPTY, -EINVAL, "PKCS#7 bundle holds no certificates" },
	{ B_OVERSIZE, -EFBIG, "the limit is" },
	{ B_NO_BLOCK, -EINVAL, "no certificate found" },
	{ B_ZERO_TEXT, -EINVAL, "not a certificate" },
	{ B_TRUNC_THEN_PEM, -EINVAL, "truncated PEM block (BEGIN CERTIFICATE "
	    "without END) at line 2" },
	{ B_KEY_ENCRYPTED, -EINVAL, "private keys are not accepted" },
	{ B_BAD_B64_LINE, -EINVAL, "bad base64 in PEM block at line 3" },
	{ B_B64_AFTER_PAD, -EINVAL, "bad base64 in PEM block at line 1" },
	{ B_PEM_NOT_DER, -EINVAL, "malformed certificate in PEM block at "
	    "line 2" },
	{ B_PEM_TRAILING, -EINVAL, "malformed certificate in PEM block at "
	    "line 1" },
	{ B_P7_PEM_EMPTY, -EINVAL, "PKCS#7 bundle holds no certificates" },
	{ B_END_MISMATCH, -EINVAL, "truncated PEM block (BEGIN CERTIFICATE "
	    "without END) at line 1" },
	{ B_LATER_BLOCK_BAD, -EINVAL, "bad base64 in PEM block at line " },
};

/* der as one PEM block labelled label. */
static void
pem_wrap(struct buf *out, const char *label, const unsigned char *der,
    size_t len)
{
	char *b64 = malloc(len * 2 + 4);
	int n = EVP_EncodeBlock((unsigned char *)b64, der, (int)len);

	buf_printf(out, "-----BEGIN %s-----\n%.*s\n-----END %s-----\n", label,
	    n, b64, label);
	free(b64);
}

START_TEST(test_bad)
{
	struct buf in = { 0 };
	STACK_OF(X509) *sk = (STACK_OF(X509) *)1;
	struct tf_error te = { 0 };
	char *why = te.msg;
	size_t limit = CERT_INPUT_MAX_BUNDLE;
	int rc, i;

	switch (bad_cases[_i].kind) {
	case B_EMPTY:
		break;
	case B_GARBAGE:
		buf_puts(&in, "hello, this is not a certificate\n");
		break;
	case B_BINARY:
		for (i = 0; i < 300; i++)
			buf_append(&in, &(char){ (char)(i * 7 + 1) }, 1);
		break;
	case B_TRUNC_PEM:
		buf_append(&in, pem_a.data, pem_a.len / 2);
		break;
	case B_BAD_B64:
		buf_append(&in, pem_a.data, pem_a.len);
		in.data[40] = '*';
		break;
	case B_TRUNC_DER:
		buf_append(&in, der_a, der_a_len / 2);
		break;
	case B_DER_TRAILING:
		buf_append(&in, der_a, der_a_len);
		buf_puts(&in, "junk");
		break;
	case B_KEY:
		buf_puts(&in, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
		    "-----END PRIVATE KEY-----\n");
		break;
	case B_CRL:
		buf_puts(&in, "-----BEGIN X509 CRL-----\nAAAA\n"
		    "-----END X509 CRL-----\n");
		break;
	case B_P7_EMPTY: {
		PKCS7 *p7 = PKCS7_new();
		unsigned char *d = NULL;
		int n;

		PKCS7_set_type(p7, NID_pkcs7_signed);
		PKCS7_content_new(p7, NID_pkcs7_data);
		n = i2d_PKCS7(p7, &d);
		buf_append(&in, d, (size_t)n);
		OPENSSL_free(d);
		PKCS7_free(p7);
		break;
	}
	case B_OVERSIZE:
		buf_append(&in, pem_a.data, pem_a.len);
		limit = 100;
		break;
	case B_NO_BLOCK:
		buf_puts(&in, "text that says -----BEGIN CERTIFICATE----- "
		    "in the middle of a line\n");
		break;
	case B_ZERO_TEXT:
		buf_puts(&in, "0 certificates here\n");
		break;
	case B_TRUNC_THEN_PEM:
		/* A paste cut short, then a whole block: the first is
		 * reported, not as bad base64. */
		buf_puts(&in, "first:\n");
		buf_append(&in, pem_a.data, pem_a.len / 2);
		buf_puts(&in, "\n");
		buf_append(&in, pem_b.data, pem_b.len);
		break;
	case B_KEY_ENCRYPTED:
		buf_puts(&in, "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: "
		    "4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
		    "-----END RSA PRIVATE KEY-----\n");
		break;
	case B_BAD_B64_LINE:
		buf_puts(&in, "one\ntwo\n");
		buf_append(&in, pem_a.data, pem_a.len);
		in.data[8 + 30] = '!';
		break;
	case B_B64_AFTER_PAD:
		buf_puts(&in, "-----BEGIN CERTIFICATE-----\nAA==AAAA\n"
		    "-----END CERTIFICATE-----\n");
		break;
	case B_PEM_NOT_DER:
		buf_puts(&in, "\n");
		pem_wrap(&in, "CERTIFICATE", (const unsigned char *)
		    "this is no certificate", 22);
		break;
	case B_PEM_TRAILING: {
		unsigned char *d = malloc(der_a_len + 2);

		memcpy(d, der_a, der_a_len);
		d[der_a_len] = 0;
		d[der_a_len + 1] = 0;
		pem_wrap(&in, "CERTIFICATE", d, der_a_len + 2);
		free(d);
		break;
	}
	case B_P7_PEM_EMPTY: {
		PKCS7 *p7 = PKCS7_new();
		unsigned char *d = NULL;
		int n;

		PKCS7_set_type(p7, NID_pkcs7_signed);
		PKCS7_content_new(p7, NID_pkcs7_data);
		n = i2d_PKCS7(p7, &d);
		pem_wrap(&in, "PKCS7", d, (size_t)n);
		OPENSSL_free(d);
		PKCS7_free(p7);
		break;
	}
	case B_END_MISMATCH:
		buf_puts(&in, "-----BEGIN CERTIFICATE-----\nAAAA\n"
		    "-----END X509 CRL-----\n");
		break;
	case B_LATER_BLOCK_BAD:
		/* Nothing partial: a good block, then a bad one. */
		buf_append(&in, pem_a.data, pem_a.len);
		buf_puts(&in, "-----BEGIN CERTIFICATE-----\nA*AA\n"
		    "-----END CERTIFICATE-----\n");
		break;
	}
	rc = cert_parse(in.data ? in.data : "", in.len, limit, &sk, &te);
	ck_assert_msg(rc == bad_cases[_i].want, "case %d: rc %d (%s)", _i, rc,
	    why);
	ck_assert_ptr_null(sk);
	ck_assert_msg(strstr(why, bad_cases[_i].why) != NULL,
	    "case %d: why '%s'", _i, why);
	ck_assert_int_eq(ERR_peek_error(), 0);	/* no stale OpenSSL errors */
	buf_free(&in);
}
END_TEST

START_TEST(test_label)
{
	struct gencert_opts o = { .cn = "Caf\xc3\xa9 Root/CA v2" };
	X509 *x = tu_make_cert(&o, NULL), *y;
	char l[256];

	cert_label(x, l, sizeof(l));
	ck_assert_str_eq(l, "Caf__Root_CA_v2");
	X509_free(x);
	o = (struct gencert_opts){ .org = "Only Org" };
	x = tu_make_cert(&o, NULL);
	cert_label(x, l, sizeof(l));
	ck_assert_str_eq(l, "Only_Org");
	X509_free(x);
	o = (struct gencert_opts){ .cn = ".hidden" };
	x = tu_make_cert(&o, NULL);
	cert_label(x, l, sizeof(l));
	ck_assert_str_eq(l, "_hidden");
	X509_free(x);
	o = (struct gencert_opts){ 0 };
	y = tu_make_cert(&o, NULL);
	cert_label(y, l, sizeof(l));
	ck_assert_int_eq(strlen(l), 16);	/* SHA-256 prefix */
	X509_free(y);
}
END_TEST

START_TEST(test_der_roundtrip)
{
	STACK_OF(X509) *sk = sk_X509_new_null(), *back;
	unsigned char *der;
	size_t len;

	X509_up_ref(a);
	sk_X509_push(sk, a);
	X509_up_ref(b);
	sk_X509_push(sk, b);
	ck_assert_int_eq(cert_der_all(sk, &der, &len), 0);
	ck_assert_int_eq(cert_decode_der(der, len, &back), 0);
	want_certs(back, a, b);
	sk_X509_pop_free(back, X509_free);
	ck_assert_int_eq(cert_decode_der(der, len - 1, &back), -EINVAL);
	sk_X509_pop_free(sk, X509_free);
	free(der);
}
END_TEST

/* Hostile input, systematically: every truncation and many corruptions of
 * DER, PEM and PKCS#7 either parse or fail with EINVAL and a reason; none
 * crashes (the sanitizer build runs this too). */
START_TEST(test_mangled)
{
	struct buf p7 = { 0 }, in = { 0 };
	const struct { const void *p; size_t n; } inputs[] = {
		{ der_a, der_a_len }, { pem_a.data, pem_a.len }, { NULL, 0 },
	};
	STACK_OF(X509) *sk;
	struct tf_error te = { 0 };
	char *why = te.msg;
	size_t i, k, cut;
	unsigned seed = 12345;
	int rc;

	pkcs7(&p7, 0);
	for (i = 0; i < 3; i++) {
		const unsigned char *src = i < 2 ? inputs[i].p :
		    (const unsigned char *)p7.data;
		size_t n = i < 2 ? inputs[i].n : p7.len;

		for (cut = 0; cut < n; cut++) {
			rc = cert_parse(src, cut, CERT_INPUT_MAX_ONE, &sk, &te);
			ck_assert_msg(rc == -EINVAL || (rc == 0 &&
			    sk_X509_num(sk) > 0), "cut %zu of input %zu: %d",
			    cut, i, rc);
			if (rc == 0)
				sk_X509_pop_free(sk, X509_free);
			else
				ck_assert(why[0] != '\0');
		}
		for (k = 0; k < 2000; k++) {
			buf_reset(&in);
			buf_append(&in, src, n);
			seed = seed * 1103515245u + 12345u;
			in.data[(seed >> 8) % n] ^= (char)(1u << (seed % 8));
			seed = seed * 1103515245u + 12345u;
			in.data[(seed >> 8) % n] = (char)(seed >> 16);
			rc = cert_parse(in.data, in.len, CERT_INPUT_MAX_ONE, &sk,
			    &te);
			ck_assert(rc == 0 || rc == -EINVAL);
			if (rc == 0)
				sk_X509_pop_free(sk, X509_free);
		}
	}
	buf_free(&in);
	buf_free(&p7);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("parse");
	int rc;

	setup();
	tcase_add_test(tc, test_pem_one);
	tcase_add_test(tc, test_pem_text_around);
	tcase_add_test(tc, test_pem_bundle_order);
	tcase_add_test(tc, test_der_forms);
	tcase_add_test(tc, test_pkcs7);
	tcase_add_test(tc, test_trusted_certificate);
	tcase_add_test(tc, test_identrust);
	tcase_add_loop_test(tc, test_bad, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_label);
	tcase_add_test(tc, test_der_roundtrip);
	tcase_add_test(tc, test_mangled);
	tcase_set_timeout(tc, 120);
	rc = tu_run("cert", tc, 1);
	teardown();
	return rc;
}
