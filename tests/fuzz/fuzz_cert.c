/*
 * libFuzzer harness for certificate input: cert_parse on any bytes, and
 * for every certificate it accepts, what the inspect path does with it
 * (the text of `cat', the name and serial formatters behind the extended
 * attributes, LABEL, the status line), plus the DER round trip the store
 * relies on.  Besides crashes, leaks and undefined behaviour it checks the
 * promises of DESIGN sections 2 and 3 and issue 8: a refusal says why; the
 * inspect text is one line per key whatever the certificate holds, and any
 * PEM parser (ours) loads the certificate back from it; a LABEL is a valid
 * name; re-encoding changes nothing.
 */
#include <ctype.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cert.h"
#include "names.h"
#include "fuzz.h"

/* DER of x, malloc'd by OpenSSL. */
static size_t
der_of(X509 *x, unsigned char **der)
{
	size_t len = 0;

	FUZZ_CHECK(cert_der(x, der, &len) == 0);
	FUZZ_CHECK(len > 0);
	return len;
}

/* Parses text and requires exactly the certificate x back. */
static void
same_cert_back(const char *text, size_t len, X509 *x)
{
	STACK_OF(X509) *sk = NULL;
	unsigned char *a, *b;
	size_t alen, blen;

	FUZZ_CHECK(cert_parse(text, len, CERT_INPUT_MAX_BUNDLE, &sk, NULL) == 0);
	FUZZ_CHECK(sk_X509_num(sk) == 1);
	alen = der_of(x, &a);
	blen = der_of(sk_X509_value(sk, 0), &b);
	FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
	OPENSSL_free(a);
	OPENSSL_free(b);
	sk_X509_pop_free(sk, X509_free);
}

/* The one name formatter: one line of UTF-8, the same as a string and
 * appended, never cut (DESIGN section 3, issue 8 defect 15). */
static void
check_name(const X509_NAME *nm)
{
	struct buf b = { 0 };
	char *s = cert_name_str(nm);
	size_t len;
	int i;

	FUZZ_CHECK(s != NULL);
	len = strlen(s);
	FUZZ_CHECK(fuzz_one_line(s, len));
	FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)s, len));
	FUZZ_CHECK((X509_NAME_entry_count(nm) == 0) == (len == 0));
	FUZZ_CHECK(cert_name_append(&b, nm) == 0);
	FUZZ_CHECK(b.len == len && (len == 0 || strcmp(b.data, s) == 0));
	/* Each byte of a one-byte-per-character value shows as at least one
	 * byte: nothing is dropped, however long the value. */
	for (i = 0; i < X509_NAME_entry_count(nm); i++) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(nm, i));
		int t = ASN1_STRING_type(v);

		if (t == V_ASN1_UTF8STRING || t == V_ASN1_PRINTABLESTRING ||
		    t == V_ASN1_IA5STRING || t == V_ASN1_T61STRING)
			FUZZ_CHECK(len >= (size_t)ASN1_STRING_length(v));
	}
	free(s);
	buf_free(&b);
}

/* The one serial formatter: every octet, "-" for a negative serial, the
 * same digits as OpenSSL's own hex (issue 8 defect 15). */
static void
check_serial(X509 *x)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	struct buf b = { 0 };
	BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
	char *hex = NULL, *p, *q;
	int n = ASN1_STRING_length(sn), neg;

	FUZZ_CHECK(cert_serial_append(&b, x) == 0);
	FUZZ_CHECK(b.len > 0 && strlen(b.data) == b.len);
	FUZZ_CHECK(fuzz_one_line(b.data, b.len));
	neg = ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER;
	if (n > 0)
		FUZZ_CHECK(b.len == (size_t)n * 3 - 1 + (size_t)neg);
	if (bn != NULL && !BN_is_zero(bn)) {
		hex = BN_bn2hex(bn);
		FUZZ_CHECK(hex != NULL);
		/* Ours without the colons must read as OpenSSL's digits. */
		for (p = q = b.data; *p; p++)
			if (*p != ':')
				*q++ = *p;
		*q = '\0';
		FUZZ_CHECK(strcmp(b.data, hex) == 0);
	}
	OPENSSL_free(hex);
	BN_free(bn);
	buf_free(&b);
}

/* LABEL (DESIGN section 2): [A-Za-z0-9._-], never hidden, a valid name
 * with ".pem" and any _N, and a cut label is a prefix of the whole. */
static void
check_label(X509 *x)
{
	char label[256], small[8], name[NAME_MAX_BYTES + 1];
	size_t i, n;

	cert_label(x, label, sizeof(label));
	n = strlen(label);
	FUZZ_CHECK(n > 0 && n < sizeof(label) && label[0] != '.');
	for (i = 0; i < n; i++)
		FUZZ_CHECK(isalnum((unsigned char)label[i]) || label[i] == '.' ||
		    label[i] == '_' || label[i] == '-');
	FUZZ_CHECK(name_label_nth(label, 1, name, sizeof(name)) == 0);
	FUZZ_CHECK(name_is_label(name) && !name_is_temporary(name));
	FUZZ_CHECK(name_label_nth(label, 4294967295u, name, sizeof(name)) == 0);
	FUZZ_CHECK(name_is_label(name) && !name_is_temporary(name));
	cert_label(x, small, sizeof(small));
	FUZZ_CHECK(strlen(small) < sizeof(small));
	FUZZ_CHECK(strncmp(small, label, strlen(small)) == 0);
	cert_label(x, small, 1);
	FUZZ_CHECK(small[0] == '\0');
}

static void
check_status(X509 *x)
{
	time_t nb = cert_not_before(x), na = cert_not_after(x);
	const time_t nows[] = { 0, 1700000000, na - 5 * 86400, na - 1, na,
	    na + 3601, nb - 1, nb };
	char s[64], t[64];
	size_t i;
	long days;

	cert_time_str(nb, t, sizeof(t));
	FUZZ_CHECK(t[0] != '\0');
	cert_time_str(na, t, sizeof(t));
	FUZZ_CHECK(t[0] != '\0');
	for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		FUZZ_CHECK((unsigned)cert_status(x, nows[i], &days) <=
		    CERT_NOT_YET_VALID);
		cert_status_str(x, nows[i], s, sizeof(s));
		FUZZ_CHECK(strcmp(s, "valid") == 0 || strcmp(s, "expired") == 0 ||
		    strcmp(s, "not yet valid") == 0 ||
		    strncmp(s, "expires ", 8) == 0);
		cert_status_str(x, nows[i], t, 4);
		FUZZ_CHECK(strlen(t) < 4);
	}
}

/* The inspect text of DESIGN section 3: ten lines of the certificate's,
 * the caller's lines (control characters shown as '?'), then the PEM. */
static void
check_render(X509 *x, const char *value)
{
	/* At the start of a line: a name may end in a boundary's text. */
	static const char pem_begin[] = "\n-----BEGIN CERTIFICATE-----\n";
	const struct cert_field extra[] = {
		{ "Host", value },
		{ "First Seen", "2024-01-01 00:00:00 UTC" },
		{ "Note", "tab\there, newline\nthere, DEL\x7f, ESC\x1b[0m" },
		{ "Empty", NULL },
	};
	const size_t nextra = sizeof(extra) / sizeof(extra[0]);
	struct buf b = { 0 }, head = { 0 }, p1 = { 0 }, p2 = { 0 };
	const char *pem, *line, *nl;
	unsigned char *der;
	size_t len, lines = 0;

	FUZZ_CHECK(buf_puts(&b, "before\n") == 0);
	FUZZ_CHECK(cert_render(&b, x, 1700000000, extra, nextra) == 0);
	/* One name formatter and one serial formatter for the text and the
	 * extended attributes (issue 8 defect 15): the same bytes in both. */
	FUZZ_CHECK(buf_puts(&head, "before\nSubject: ") == 0);
	FUZZ_CHECK(cert_name_append(&head, X509_get_subject_name(x)) == 0);
	FUZZ_CHECK(buf_puts(&head, "\nIssuer: ") == 0);
	FUZZ_CHECK(cert_name_append(&head, X509_get_issuer_name(x)) == 0);
	FUZZ_CHECK(buf_puts(&head, "\nSerial Number: ") == 0);
	FUZZ_CHECK(cert_serial_append(&head, x) == 0);
	FUZZ_CHECK(buf_puts(&head, "\nValidity Start: ") == 0);
	FUZZ_CHECK(b.len > head.len && memcmp(b.data, head.data, head.len) == 0);
	pem = strstr(b.data, pem_begin);
	FUZZ_CHECK(pem != NULL);
	pem++;
	for (line = b.data + 7; line < pem; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(pem - line));
		FUZZ_CHECK(nl != NULL);
		FUZZ_CHECK(fuzz_one_line(line, (size_t)(nl - line)));
		FUZZ_CHECK(memmem(line, (size_t)(nl - line), ": ", 2) != NULL);
		lines++;
	}
	FUZZ_CHECK(lines == 10 + nextra);
	/* "as openssl x509 -text does, so that any PEM parser can load it":
	 * the whole text, and the PEM alone. */
	same_cert_back(b.data, b.len, x);
	same_cert_back(pem, strlen(pem), x);
	/* cert_pem and cert_pem_der write the same PEM. */
	FUZZ_CHECK(cert_pem(&p1, x) == 0);
	len = der_of(x, &der);
	FUZZ_CHECK(cert_pem_der(&p2, der, len) == 0);
	FUZZ_CHECK(p1.len == p2.len && memcmp(p1.data, p2.data, p1.len) == 0);
	FUZZ_CHECK(strcmp(pem, p1.data) == 0);
	OPENSSL_free(der);
	buf_free(&b);
	buf_free(&head);
	buf_free(&p1);
	buf_free(&p2);
}

static void
check_cert(X509 *x, const char *value)
{
	unsigned char md[32];
	char hex[3 * 32];

	check_name(X509_get_subject_name(x));
	check_name(X509_get_issuer_name(x));
	check_serial(x);
	check_label(x);
	check_status(x);
	check_render(x, value);
	cert_sha256(x, md);
	cert_hex(md, 32, ':', hex);
	FUZZ_CHECK(strlen(hex) == 95);
	cert_sha1(x, md);
	cert_hex(md, 20, 0, hex);
	FUZZ_CHECK(strlen(hex) == 40);
	(void)cert_subject_hash(x);
	(void)cert_is_ca(x);
	(void)cert_is_self_signed(x);
}

/* What the store keeps: DER back to back, decoded to the same certs. */
static void
check_roundtrip(STACK_OF(X509) *sk)
{
	STACK_OF(X509) *back = NULL, *again = NULL;
	unsigned char *all = NULL, *a, *b;
	size_t len = 0, alen, blen;
	int i;

	FUZZ_CHECK(cert_der_all(sk, &all, &len) == 0);
	FUZZ_CHECK(cert_decode_der(all, len, &back) == 0);
	FUZZ_CHECK(sk_X509_num(back) == sk_X509_num(sk));
	for (i = 0; i < sk_X509_num(sk); i++) {
		alen = der_of(sk_X509_value(sk, i), &a);
		blen = der_of(sk_X509_value(back, i), &b);
		FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
		OPENSSL_free(a);
		OPENSSL_free(b);
	}
	/* The same bytes written to the mount parse to the same list. */
	FUZZ_CHECK(cert_parse(all, len, CERT_INPUT_MAX_BUNDLE, &again,
	    NULL) == 0);
	FUZZ_CHECK(sk_X509_num(again) == sk_X509_num(sk));
	/* A cut payload is refused, never half decoded. */
	sk_X509_pop_free(back, X509_free);
	back = NULL;
	FUZZ_CHECK(cert_decode_der(all, len - 1, &back) == -EINVAL);
	FUZZ_CHECK(back == NULL);
	sk_X509_pop_free(again, X509_free);
	free(all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *sk = (STACK_OF(X509) *)1;
	struct tf_error e;
	char value[81];
	size_t n;
	int rc, i;

	/* A caller's value for the "Host:" line: the input's first bytes. */
	n = size < sizeof(value) - 1 ? size : sizeof(value) - 1;
	memcpy(value, data, n);
	value[n] = '\0';

	fuzz_error_stale(&e);
	rc = cert_parse(data, size, CERT_INPUT_MAX_BUNDLE, &sk, &e);
	if (rc != 0) {
		FUZZ_CHECK(sk == NULL);
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		fuzz_error_check(&e, rc);
		return 0;
	}
	FUZZ_CHECK(sk != NULL && sk_X509_num(sk) >= 1);
	for (i = 0; i < sk_X509_num(sk); i++)
		check_cert(sk_X509_value(sk, i), value);
	check_roundtrip(sk);
	sk_X509_pop_free(sk, X509_free);

	/* One byte over the limit is -EFBIG, before anything is read. */
	sk = (STACK_OF(X509) *)1;
	FUZZ_CHECK(cert_parse(data, size, size - 1, &sk, &e) == -EFBIG);
	FUZZ_CHECK(sk == NULL && e.code == -EFBIG && e.msg[0] != '\0');
	return 0;
}
