/* The inspect text of DESIGN section 3, line by line, and its round trip
 * through the parser (what cat shows, cp takes back). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "cert.h"
#include "entry.h"
#include "testutil.h"

static X509 *
identrust(void)
{
	char path[1024], buf[8192];
	struct tf_error te = { 0 };
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
	ck_assert_int_eq(cert_parse(buf, n, CERT_INPUT_MAX_ONE, &sk, &te), 0);
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

#define DAY 86400L

static const struct {
	long from, to;		/* validity, seconds from now */
	const char *want;
} status_cases[] = {
	{ -10 * DAY, 400 * DAY, "Status: valid" },
	{ -400 * DAY, -DAY, "Status: expired" },
	{ -400 * DAY, -60, "Status: expired" },
	{ 5 * DAY, 400 * DAY, "Status: not yet valid" },
	{ -10 * DAY, 12 * DAY - 60, "Status: expires in 11 days" },
	{ -10 * DAY, 30 * DAY - 60, "Status: expires in 29 days" },
	{ -10 * DAY, 31 * DAY, "Status: valid" },
	{ -10 * DAY, 2 * DAY - 60, "Status: expires in 1 day" },
	{ -10 * DAY, 3600, "Status: expires today" },
};

START_TEST(test_status)
{
	struct gencert_opts o = { .cn = "status", .not_before =
	    status_cases[_i].from, .not_after = status_cases[_i].to };
	X509 *x = tu_make_cert(&o, NULL);
	struct buf b = { 0 };

	ck_assert_int_eq(cert_render(&b, x, time(NULL), NULL, 0), 0);
	ck_assert_msg(strstr(b.data, status_cases[_i].want) != NULL,
	    "case %d:\n%s", _i, b.data);
	buf_free(&b);
	X509_free(x);
}
END_TEST

/* days_left is floor((notAfter - now) / 1 day), in the past too. */
static const struct {
	long now;		/* seconds relative to notAfter */
	long want_days;
	enum cert_status want;
} days_cases[] = {
	{ -31 * DAY, 31, CERT_VALID },
	{ -30 * DAY, 30, CERT_VALID },
	{ -30 * DAY + 1, 29, CERT_EXPIRING },
	{ -DAY - 1, 1, CERT_EXPIRING },
	{ -1, 0, CERT_EXPIRING },
	{ 0, 0, CERT_EXPIRING },
	{ 1, -1, CERT_EXPIRED },
	{ DAY, -1, CERT_EXPIRED },
	{ DAY + 1, -2, CERT_EXPIRED },
};

START_TEST(test_days_left)
{
	struct gencert_opts o = { .cn = "days", .not_before = -400 * DAY };
	X509 *x = tu_make_cert(&o, NULL);
	long days = 12345;
	enum cert_status st;

	st = cert_status(x, cert_not_after(x) + days_cases[_i].now, &days);
	ck_assert_msg(st == days_cases[_i].want && days ==
	    days_cases[_i].want_days, "case %d: status %d, %ld days", _i,
	    (int)st, days);
	X509_free(x);
}
END_TEST

/* The line of the rendering that starts with key. */
static char *
line_of(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	size_t n;

	ck_assert_msg(p != NULL, "no '%s' in:\n%s", key, text);
	n = strcspn(p, "\n");
	return strndup(p, n);
}

/* What a hostile certificate holds stays on its line, and shows. */
START_TEST(test_hostile_values)
{
	struct gencert_opts o = { .cn = "a\nb\x01" };
	struct cert_field extra[] = { { "Host", "x\nStatus: valid\r" } };
	unsigned char serial[40];
	ASN1_INTEGER *ai;
	BIGNUM *bn;
	EVP_PKEY *k;
	X509 *x = tu_make_cert(&o, &k);
	X509_NAME *bad = X509_NAME_new();
	struct buf b = { 0 };
	STACK_OF(X509) *sk;
	char *l;
	struct tf_error te = { 0 };

	/* A 40-byte negative serial (RFC 5280 allows 20, positive). */
	memset(serial, 0xab, sizeof(serial));
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_set_negative(bn, 1);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	ck_assert(X509_set_serialNumber(x, ai));
	ck_assert(X509_sign(x, k, EVP_sha256()));
	ck_assert_int_eq(cert_render(&b, x, time(NULL), extra, 1), 0);
	l = line_of(b.data, "Subject: ");
	ck_assert_str_eq(l, "Subject: CN=a\\0Ab\\01");
	free(l);
	l = line_of(b.data, "Serial Number: ");
	ck_assert_uint_eq(strlen(l), strlen("Serial Number: -") + 40 * 3 - 1);
	ck_assert_ptr_nonnull(strstr(l, ": -AB:AB:"));
	free(l);
	l = line_of(b.data, "Host: ");
	ck_assert_str_eq(l, "Host: x?Status: valid?");
	free(l);
	/* Still what cp takes back. */
	ck_assert_int_eq(cert_parse(b.data, b.len, CERT_INPUT_MAX_ONE, &sk,
	    &te), 0);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 0), x), 0);
	sk_X509_pop_free(sk, X509_free);
	/* A BMPString with a lone surrogate cannot come out of the parser
	 * (OpenSSL's name canonicalization refuses it), but a name built in
	 * memory can hold one, and OpenSSL's printer gives up on it: it
	 * still prints, as the DER in hex. */
	X509_NAME_add_entry_by_txt(bad, "CN", V_ASN1_BMPSTRING,
	    (const unsigned char *)"\0a\xd8\0", 4, -1, 0);
	l = cert_name_str(bad);
	ck_assert_str_eq(l, "CN=#1E040061D800");
	free(l);
	ck_assert_int_eq(ERR_peek_error(), 0);
	buf_free(&b);
	X509_NAME_free(bad);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	EVP_PKEY_free(k);
	X509_free(x);
}
END_TEST

/* x with its serial set to bytes (sign as given) and signed again. */
static void
set_serial(X509 *x, EVP_PKEY *k, const unsigned char *bytes, size_t n,
    int negative)
{
	BIGNUM *bn = BN_bin2bn(bytes, (int)n, NULL);
	ASN1_INTEGER *ai;

	ck_assert_ptr_nonnull(bn);
	BN_set_negative(bn, negative);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	ck_assert_ptr_nonnull(ai);
	ck_assert(X509_set_serialNumber(x, ai));
	ck_assert(X509_sign(x, k, EVP_sha256()));
	ASN1_INTEGER_free(ai);
	BN_free(bn);
}

/* The serial as the formatter gives it; the inspect text must agree. */
static char *
serial_via_formatter(X509 *x)
{
	struct buf b = { 0 };

	ck_assert_int_eq(cert_serial_append(&b, x), 0);
	ck_assert_ptr_nonnull(b.data);
	return b.data;
}

static void
assert_inspect_line(X509 *x, const char *key, const char *want)
{
	struct buf b = { 0 };
	char *l, *w;

	ck_assert_int_eq(cert_render(&b, x, time(NULL), NULL, 0), 0);
	l = line_of(b.data, key);
	ck_assert_int_ge(asprintf(&w, "%s%s", key, want), 0);
	ck_assert_str_eq(l, w);
	free(w);
	free(l);
	buf_free(&b);
}

/* Issue 8 defect 15: one serial formatter, any length, the sign shown as
 * openssl x509 -serial shows it. */
static const struct {
	unsigned char byte;
	size_t n;
	int negative;
	const char *want;	/* NULL: n times "BYTE" joined by ':' */
} serial_cases[] = {
	{ 0x05, 1, 1, "-05" },
	{ 0x05, 1, 0, "05" },
	{ 0x80, 1, 0, "80" },
	{ 0xff, 1, 1, "-FF" },
	{ 0x00, 1, 0, "00" },
	{ 0x7f, 20, 0, NULL },
	{ 0x7f, 41, 0, NULL },	/* past RFC 5280's 20: every octet shows */
	{ 0x42, 41, 1, NULL },
};

START_TEST(test_serial_formatter)
{
	struct gencert_opts o = { .cn = "serial" };
	unsigned char bytes[64];
	EVP_PKEY *k;
	X509 *x = tu_make_cert(&o, &k);
	char want[256], *got;
	size_t i, n = serial_cases[_i].n;

	memset(bytes, serial_cases[_i].byte, n);
	set_serial(x, k, bytes, n, serial_cases[_i].negative);
	if (serial_cases[_i].want != NULL)
		snprintf(want, sizeof(want), "%s", serial_cases[_i].want);
	else {
		char *p = want;

		if (serial_cases[_i].negative)
			*p++ = '-';
		for (i = 0; i < n; i++)
			p += sprintf(p, "%s%02X", i ? ":" : "",
			    serial_cases[_i].byte);
	}
	got = serial_via_formatter(x);
	ck_assert_str_eq(got, want);
	assert_inspect_line(x, "Serial Number: ", got);
	free(got);
	EVP_PKEY_free(k);
	X509_free(x);
}
END_TEST

/* One name formatter: a 10,000-character subject whole, in the inspect
 * text and from the formatter alike. */
START_TEST(test_long_subject)
{
	struct gencert_opts o = { .cn = NULL };
	struct buf nb = { 0 };
	char *cn = malloc(10001), *want;
	EVP_PKEY *k;
	X509 *x = tu_make_cert(&o, &k);
	X509_NAME *n = X509_NAME_new();

	memset(cn, 'a', 10000);
	cn[10000] = '\0';
	/* A typed string, not MBSTRING_*: OpenSSL's ub-common-name (64)
	 * applies only to the latter, and a hostile certificate has no
	 * such limit. */
	ck_assert(X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_UTF8STRING,
	    (const unsigned char *)cn, 10000, -1, 0));
	ck_assert(X509_set_subject_name(x, n));
	ck_assert(X509_sign(x, k, EVP_sha256()));
	ck_assert_int_eq(cert_name_append(&nb, X509_get_subject_name(x)), 0);
	ck_assert_int_ge(asprintf(&want, "CN=%s", cn), 0);
	ck_assert_str_eq(nb.data, want);
	assert_inspect_line(x, "Subject: ", nb.data);
	free(want);
	buf_free(&nb);
	X509_NAME_free(n);
	free(cn);
	EVP_PKEY_free(k);
	X509_free(x);
}
END_TEST

/* Issue 8 defect 7: an empty subject (and issuer) renders, labels and
 * formats; UBSan saw memcpy(s, NULL, 0) here. */
START_TEST(test_empty_subject)
{
	struct gencert_opts o = { .cn = NULL, .org = NULL };
	X509 *x = tu_make_cert(&o, NULL);
	struct buf b = { 0 }, nb = { 0 };
	char label[256], *s;
	unsigned char sha[32];
	char hex[65];
	STACK_OF(X509) *sk = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	ck_assert_int_eq(cert_render(&b, x, time(NULL), NULL, 0), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "Subject: \nIssuer: \n"
	    "Serial Number: "));
	s = cert_name_str(X509_get_subject_name(x));
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_int_eq(cert_name_append(&nb, X509_get_subject_name(x)), 0);
	ck_assert_uint_eq(nb.len, 0);
	cert_label(x, label, sizeof(label));
	cert_sha256(x, sha);
	cert_hex(sha, 8, 0, hex);
	ck_assert_str_eq(label, hex);
	ck_assert_int_eq(cert_parse(b.data, b.len, CERT_INPUT_MAX_ONE, &sk,
	    &te), 0);
	ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 0), x), 0);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&nb);
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
	struct tf_error te = { 0 };

	ck_assert_int_eq(cert_render(&b, x, time(NULL), NULL, 0), 0);
	ck_assert_int_eq(cert_render(&b, id, time(NULL), NULL, 0), 0);
	ck_assert_int_eq(cert_parse(b.data, b.len, CERT_INPUT_MAX_ONE, &sk,
	    &te), 0);
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

/*
 * Issue 10: pinned mode keeps what an unpinned peer offered in rejected/,
 * with no pin to compare with: the entry says so instead of showing a
 * fingerprint of zeros.  A mismatch still shows the pin's.
 */
START_TEST(test_rejected_no_pin)
{
	struct gencert_opts o = { .cn = "peer.test" };
	X509 *x = tu_make_cert(&o, NULL);
	struct store_key key;
	struct store_rec rec;
	struct buf b = { 0 };
	unsigned char *der;
	size_t len;
	int i;

	ck_assert_int_eq(cert_der(x, &der, &len), 0);
	memset(&rec, 0, sizeof(rec));
	cert_sha256(x, key.sha256);
	key.subject_hash = cert_subject_hash(x);
	rec.keys = &key;
	rec.nkeys = 1;
	rec.der = der;
	rec.der_len = len;
	rec.last_seen = 1767225600;	/* 2026-01-01 */
	ck_assert_int_eq(entry_render(NULL, STORE_REJECTED, "peer.test_443",
	    &rec, time(NULL), &b), 0);
	ck_assert_msg(strstr(b.data, "\nPinned SHA256 Fingerprint: none (no "
	    "pin when it was presented)\n") != NULL, "%s", b.data);
	ck_assert_ptr_nonnull(strstr(b.data, "\nPresented: 2026-01-01 "
	    "00:00:00 UTC\n"));
	buf_reset(&b);
	for (i = 0; i < 32; i++)
		rec.other_sha256[i] = 0xab;
	ck_assert_int_eq(entry_render(NULL, STORE_REJECTED, "peer.test_443",
	    &rec, time(NULL), &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\nPinned SHA256 Fingerprint: "
	    "AB:AB:AB:"));
	buf_free(&b);
	free(der);
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
	tcase_add_loop_test(tc, test_days_left, 0,
	    sizeof(days_cases) / sizeof(days_cases[0]));
	tcase_add_test(tc, test_hostile_values);
	tcase_add_test(tc, test_round_trip);
	tcase_add_loop_test(tc, test_serial_formatter, 0,
	    sizeof(serial_cases) / sizeof(serial_cases[0]));
	tcase_add_test(tc, test_long_subject);
	tcase_add_test(tc, test_empty_subject);
	tcase_add_test(tc, test_ec_key);
	tcase_add_test(tc, test_pem_der);
	tcase_add_test(tc, test_rejected_no_pin);
	rc = tu_run("render", tc, 0);
	return rc;
}
