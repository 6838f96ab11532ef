/* The inspect text of DESIGN section 3, line by line, and its round trip
 * through the parser (what cat shows, cp takes back). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "testutil.h"

static X509 *
identrust(void)
{
	char path[1024], why[256], buf[8192];
	STACK_OF(X509) *sk;
	X509 *x;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/identrust-commercial-root-ca-1.pem",
	    tu_data_dir());
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_int_eq(cert_parse(buf, n, CERT_INPUT_MAX_ONE, &sk, why,
	    sizeof(why)), 0);
	x = sk_X509_value(sk, 0);
	X509_up_ref(x);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

static const char *const want_lines[] = {
	"Subject: CN=IdenTrust Commercial Root CA 1,O=IdenTrust,C=US",
	"Issuer: CN=IdenTrust Commercial Root CA 1,O=IdenTrust,C=US",
	"Serial Number: 0A:01:42:80:00:00:01:45:23:C8:44:B5:00:00:00:02",
	"Validity Start: 2014-01-16 18:12:23 UTC",
	"Validity End: 2034-01-16 18:12:23 UTC",
	"SHA1 Fingerprint: DF:71:7E:AA:4A:D9:4E:C9:55:84:99:60:2D:48:DE:5F:"
	    "BC:F0:3A:25",
	"SHA256 Fingerprint: 5D:56:49:9B:E4:D2:E0:8B:CF:CA:D0:8A:3E:38:72:3D:"
	    "50:50:3B:DE:70:69:48:E4:2F:55:60:30:19:E5:28:AE",
	"Public Key: RSA 4096",
	"CA: yes",
	"Status: valid",
	"Host: 10.1.2.3:8082",
	"First Seen: 2026-01-01 00:00:00 UTC",
	"-----BEGIN CERTIFICATE-----",
};

START_TEST(test_identrust_lines)
{
	struct cert_field extra[] = {
		{ "Host", "10.1.2.3:8082" },
		{ "First Seen", "2026-01-01 00:00:00 UTC" },
	};
	struct buf b = { 0 };
	X509 *x = identrust();
	char *line, *save = NULL;
	size_t i;

	/* 2026-01-01: valid, more than 30 days left. */
	ck_assert_int_eq(cert_render(&b, x, 1767225600, extra, 2), 0);
	line = strtok_r(b.data, "\n", &save);
	for (i = 0; i < sizeof(want_lines) / sizeof(want_lines[0]); i++) {
		ck_assert_ptr_nonnull(line);
		ck_assert_str_eq(line, want_lines[i]);
		line = strtok_r(NULL, "\n", &save);
	}
	buf_free(&b);
	X509_free(x);
}
END_TEST

static const struct {
	long from, to;		/* validity, days from now */
	const char *want;
} status_cases[] = {
	{ -10, 400, "Status: valid" },
	{ -400, -1, "Status: expired" },
	{ 5, 400, "Status: not yet valid" },
	{ -10, 12, "Status: expires in 11 days" },
	{ -10, 2, "Status: expires in 1 day" },
};

START_TEST(test_status)
{
	struct gencert_opts o = { .cn = "status", .not_before =
	    status_cases[_i].from * 86400, .not_after =
	    status_cases[_i].to * 86400 - 60 };
	X509 *x = tu_make_cert(&o, NULL);
	struct buf b = { 0 };

	ck_assert_int_eq(cert_render(&b, x, time(NULL), NULL, 0), 0);
	ck_assert_msg(strstr(b.data, status_cases[_i].want) != NULL,
	    "case %d:\n%s", _i, b.data);
	buf_free(&b);
	X509_free(x);
}
END_TEST

/* What cat shows parses back to the same certificate. */
START_TEST(test_round_trip)
{
	struct gencert_opts o = { .cn = "round trip", .san = "DNS:a.test" };
	X509 *x = tu_make_cert(&o, NULL), *id = identrust();
	struct buf b = { 0 };
	STACK_OF(X509) *sk;
	char why[256];

	ck_assert_int_eq(cert_render(&b, x, time(NULL), NULL, 0), 0);
	ck_assert_int_eq(cert_render(&b, id, time(NULL), NULL, 0), 0);
	ck_assert_int_eq(cert_parse(b.data, b.len, CERT_INPUT_MAX_ONE, &sk,
	    why, sizeof(why)), 0);
	ck_assert_int_eq(sk_X509_num(sk), 2);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 0), x), 0);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 1), id), 0);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&b);
	X509_free(x);
	X509_free(id);
}
END_TEST

START_TEST(test_ec_key)
{
	struct gencert_opts o = { .cn = "ec" };
	X509 *x = tu_make_cert(&o, NULL);
	struct buf b = { 0 };

	ck_assert_int_eq(cert_render(&b, x, time(NULL), NULL, 0), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\nPublic Key: EC 256 "
	    "(prime256v1)\nCA: no\n"));
	buf_free(&b);
	X509_free(x);
}
END_TEST

/* The bundle's PEM, encoded straight from DER, is OpenSSL's PEM. */
START_TEST(test_pem_der)
{
	X509 *x = identrust();
	struct buf a = { 0 }, b = { 0 };
	unsigned char *der;
	size_t len;

	ck_assert_int_eq(cert_pem(&a, x), 0);
	ck_assert_int_eq(cert_der(x, &der, &len), 0);
	ck_assert_int_eq(cert_pem_der(&b, der, len), 0);
	ck_assert_str_eq(a.data, b.data);
	free(der);
	buf_free(&a);
	buf_free(&b);
	X509_free(x);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("render");
	int rc;

	tcase_add_test(tc, test_identrust_lines);
	tcase_add_loop_test(tc, test_status, 0,
	    sizeof(status_cases) / sizeof(status_cases[0]));
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_ec_key);
	tcase_add_test(tc, test_pem_der);
	rc = tu_run("render", tc, 0);
	return rc;
}
