/*
 * Certificates: the one parser for certificate input (PEM, DER, PKCS#7),
 * fingerprints and labels.  The inspect text is in render.c.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "cert.h"

/* Takes the certificates out of a PKCS#7 SignedData (RFC 2315 9.1). */
static int
pkcs7_certs(PKCS7 *p7, STACK_OF(X509) *out)
{
	STACK_OF(X509) *certs = NULL;
	int i, n = 0;

	if (p7 != NULL && PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
		certs = p7->d.sign->cert;
	else if (p7 != NULL && OBJ_obj2nid(p7->type) ==
	    NID_pkcs7_signedAndEnveloped && p7->d.signed_and_enveloped != NULL)
		certs = p7->d.signed_and_enveloped->cert;
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		X509_up_ref(x);
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			return -ENOMEM;
		}
		n++;
	}
	return n;
}

/* Decodes DER certificates back to back; every byte must be used. */
static int
der_certs(const unsigned char *p, size_t len, STACK_OF(X509) *out)
{
	const unsigned char *end = p + len;
	X509 *x;

	while (p < end) {
		x = d2i_X509(NULL, &p, (long)(end - p));
		if (x == NULL)
			return -EINVAL;
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			return -ENOMEM;
		}
	}
	return 0;
}

static int
der_pkcs7(const unsigned char *p, size_t len, STACK_OF(X509) *out,
    struct tf_error *e)
{
	const unsigned char *q = p;
	PKCS7 *p7 = d2i_PKCS7(NULL, &q, (long)len);
	int n;

	if (p7 == NULL || q != p + len) {
		PKCS7_free(p7);
		return -EINVAL;
	}
	n = pkcs7_certs(p7, out);
	PKCS7_free(p7);
	if (n == 0) {
		tf_error_setx(e, -EINVAL, "PKCS#7 bundle holds no certificates");
		return -EINVAL;
	}
	return n < 0 ? n : 0;
}

/* Line numbers for messages, counted on from the last place asked about
 * so that a bundle of thousands of blocks is read once, not once each. */
struct lines {
	const char *at;
	size_t line;
};

static size_t
line_of(struct lines *l, const char *p)
{
	for (; l->at < p; l->at++)
		if (*l->at == '\n')
			l->line++;
	return l->line;
}

/* Base64 of a PEM body (RFC 7468 section 3): whitespace ignored, any
 * other character outside the alphabet is an error. */
static int
b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
	char *clean;
	unsigned char *buf;
	size_t i, n = 0, pad = 0;
	int got;

	clean = malloc(len + 1);
	buf = malloc(len + 1);
	if (clean == NULL || buf == NULL)
		goto err;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isspace(c))
			continue;
		if (!isalnum(c) && c != '+' && c != '/' && c != '=')
			goto err;
		if (c == '=')
			pad++;
		else if (pad)
			goto err;	/* data after padding */
		clean[n++] = (char)c;
	}
	if (n == 0 || n % 4 != 0 || pad > 2)
		goto err;
	got = EVP_DecodeBlock(buf, (unsigned char *)clean, (int)n);
	if (got < 0)
		goto err;
	free(clean);
	*out = buf;
	*outlen = (size_t)got - pad;
	return 0;
err:
	free(clean);
	free(buf);
	return -EINVAL;
}

/* Labels longer than this are not boundaries (RFC 7468 labels are short). */
#define PEM_LABEL_MAX 64

/* What a PEM label holds, decided before its body is decoded, so that a
 * private key is refused as such even when its body is unreadable. */
enum pem_kind { PEM_X509, PEM_X509_AUX, PEM_PKCS7, PEM_KEY, PEM_OTHER };

static enum pem_kind
pem_kind(const char *label)
{
	if (strcmp(label, "CERTIFICATE") == 0 ||
	    strcmp(label, "X509 CERTIFICATE") == 0)
		return PEM_X509;
	if (strcmp(label, "TRUSTED CERTIFICATE") == 0)
		return PEM_X509_AUX;
	/* CMS (RFC 5652) SignedData has the PKCS#7 encoding. */
	if (strcmp(label, "PKCS7") == 0 || strcmp(label, "CMS") == 0)
		return PEM_PKCS7;
	if (strstr(label, "PRIVATE KEY") != NULL)
		return PEM_KEY;
	return PEM_OTHER;
}

static int
pem_block(enum pem_kind kind, const unsigned char *der, size_t len,
    STACK_OF(X509) *out, size_t line, struct tf_error *e)
{
	const unsigned char *p = der;
	X509 *x;
	int rc;

	if (kind == PEM_PKCS7) {
		rc = der_pkcs7(der, len, out, e);
		if (rc == -EINVAL && !tf_error_msg(e)[0])
			tf_error_setx(e, -EINVAL, "malformed PKCS#7 in PEM block at "
			    "line %zu", line);
		return rc;
	}
	x = kind == PEM_X509_AUX ? d2i_X509_AUX(NULL, &p, (long)len) :
	    d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		X509_free(x);
		tf_error_setx(e, -EINVAL, "malformed certificate in PEM block at "
		    "line %zu", line);
		return -EINVAL;
	}
	if (!sk_X509_push(out, x)) {
		X509_free(x);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The next encapsulation boundary "-----WHAT LABEL-----" that stands on a
 * line of its own (RFC 7468 section 2; spaces around it allowed), from p.
 * Mentions of a boundary inside prose are text, and ignored.  whole: the
 * line's newline must be there too (input still arriving); otherwise the
 * end of the input ends the line.  label (may be NULL) gets the label;
 * *after is past the line's newline, or at end.
 */
static const char *
boundary(const char *buf, const char *p, const char *end, const char *what,
    int whole, char *label, size_t labellen, const char **after)
{
	size_t wl = strlen(what), ll;
	const char *b, *q, *lend;

	for (; (b = memmem(p, (size_t)(end - p), what, wl)) != NULL; p = b + 1) {
		for (q = b; q > buf && (q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		if (q != buf && q[-1] != '\n')
			continue;
		lend = memmem(b + wl, (size_t)(end - b - wl), "-----", 5);
		if (lend == NULL)
			continue;
		ll = (size_t)(lend - b - wl);
		if (ll == 0 || ll >= labellen || memchr(b + wl, '\n', ll))
			continue;
		for (q = lend + 5; q < end && (*q == ' ' || *q == '\t' ||
		    *q == '\r'); q++)
			;
		/* Not a boundary, or not a complete one yet. */
		if (q < end ? *q != '\n' : whole)
			continue;
		if (label != NULL) {
			memcpy(label, b + wl, ll);
			label[ll] = '\0';
		}
		*after = q < end ? q + 1 : q;
		return b;
	}
	return NULL;
}

size_t
cert_pem_piece(const char *buf, size_t len, int *begin)
{
	const char *end = buf + len, *eol, *dummy;

	*begin = 0;
	if (boundary(buf, buf, end, "-----END ", 1, NULL, PEM_LABEL_MAX,
	    &eol) == NULL)
		return 0;
	*begin = boundary(buf, buf, eol, "-----BEGIN ", 1, NULL, PEM_LABEL_MAX,
	    &dummy) != NULL;
	return (size_t)(eol - buf);
}

/* Every BEGIN/END pair in order; text outside them is ignored. */
static int
pem_parse(const char *buf, size_t len, STACK_OF(X509) *out,
    struct tf_error *err)
{
	const char *end = buf + len, *p = buf, *b, *body, *eb, *after, *next;
	struct lines lines = { buf, 1 };
	enum pem_kind kind;
	char label[PEM_LABEL_MAX], elabel[PEM_LABEL_MAX];
	unsigned char *der;
	size_t dlen, line;
	int rc;

	while ((b = boundary(buf, p, end, "-----BEGIN ", 0, label,
	    sizeof(label), &body)) != NULL) {
		line = line_of(&lines, b);
		eb = boundary(buf, body, end, "-----END ", 0, elabel,
		    sizeof(elabel), &after);
		/* A BEGIN before the END: this block was cut short. */
		if (eb != NULL && boundary(buf, body, eb, "-----BEGIN ", 0, NULL,
		    PEM_LABEL_MAX, &next) != NULL)
			eb = NULL;
		if (eb == NULL || strcmp(label, elabel) != 0) {
			tf_error_setx(err, -EINVAL, "truncated PEM block (BEGIN %s "
			    "without END) at line %zu", label, line);
			return -EINVAL;
		}
		kind = pem_kind(label);
		if (kind == PEM_KEY) {
			tf_error_setx(err, -EINVAL, "private keys are not accepted "
			    "(PEM block '%s' at line %zu); write only "
			    "certificates", label, line);
			return -EINVAL;
		}
		if (kind == PEM_OTHER) {
			tf_error_setx(err, -EINVAL, "unsupported PEM block '%s' at "
			    "line %zu", label, line);
			return -EINVAL;
		}
		if (b64_decode(body, (size_t)(eb - body), &der, &dlen) != 0) {
			tf_error_setx(err, -EINVAL, "bad base64 in PEM block at line "
			    "%zu", line);
			return -EINVAL;
		}
		rc = pem_block(kind, der, dlen, out, line, err);
		free(der);
		if (rc != 0)
			return rc;
		p = after;
	}
	return 0;
}

/* DER: certificates back to back, or a PKCS#7 SignedData.  On -EINVAL
 * sk is left empty. */
static int
der_parse(const unsigned char *p, size_t len, STACK_OF(X509) *sk,
    struct tf_error *e)
{
	int rc = der_certs(p, len, sk);

	if (rc != -EINVAL)
		return rc;
	while (sk_X509_num(sk) > 0)
		X509_free(sk_X509_pop(sk));
	rc = der_pkcs7(p, len, sk, e);
	if (rc == -EINVAL && !tf_error_msg(e)[0])
		tf_error_setx(e, -EINVAL, "truncated or malformed DER");
	return rc;
}

/* Printable ASCII at the start: prose, not binary that failed to decode. */
static int
is_text(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 64; i++)
		if ((p[i] < 0x20 || p[i] > 0x7e) && !isspace(p[i]))
			return 0;
	return 1;
}

int
cert_parse(const void *buf, size_t len, size_t limit, STACK_OF(X509) **out,
    struct tf_error *e)
{
	STACK_OF(X509) *sk = NULL;
	const unsigned char *p = buf;
	int rc, pem;

	*out = NULL;
	tf_error_clear(e);
	if (len > limit) {
		return tf_error_setx(e, -EFBIG, "input is %zu bytes; the limit "
		    "is %zu", len, limit);
	}
	if (len == 0) {
		tf_error_setx(e, -EINVAL, "empty input");
		return -EINVAL;
	}
	sk = sk_X509_new_null();
	if (sk == NULL)
		return tf_error_set(e, -ENOMEM, "reading certificates");
	pem = memmem(buf, len, "-----BEGIN ", 11) != NULL;
	rc = -EINVAL;
	/* Every DER form starts with a SEQUENCE; text may start with '0'
	 * too, so PEM gets its turn whenever DER did not work. */
	if (p[0] == 0x30)
		rc = der_parse(p, len, sk, e);
	if (rc == -EINVAL && pem) {
		tf_error_clear(e);
		rc = pem_parse(buf, len, sk, e);
	} else if (rc == -EINVAL && (p[0] != 0x30 || is_text(p, len)))
		tf_error_setx(e, -EINVAL, "not a certificate: expected PEM, DER or "
		    "PKCS#7");
	if (rc == 0 && sk_X509_num(sk) == 0) {
		tf_error_setx(e, -EINVAL, "no certificate found in the input");
		rc = -EINVAL;
	}
	ERR_clear_error();
	if (rc != 0) {
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	*out = sk;
	return 0;
}

int
cert_decode_der(const unsigned char *der, size_t len, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int rc;

	*out = NULL;
	if (sk == NULL)
		return -ENOMEM;
	rc = der_certs(der, len, sk);
	ERR_clear_error();
	if (rc != 0) {
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	*out = sk;
	return 0;
}

int
cert_der(X509 *x, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_X509(x, der);
	if (n <= 0) {
		ERR_clear_error();
		return -EINVAL;
	}
	*len = (size_t)n;
	return 0;
}

int
cert_der_all(STACK_OF(X509) *sk, unsigned char **der, size_t *len)
{
	unsigned char *all = NULL, *one, *grown;
	size_t total = 0, n;
	int i, rc;

	for (i = 0; i < sk_X509_num(sk); i++) {
		rc = cert_der(sk_X509_value(sk, i), &one, &n);
		if (rc != 0) {
			free(all);
			return rc;
		}
		grown = realloc(all, total + n);
		if (grown == NULL) {
			OPENSSL_free(one);
			free(all);
			return -ENOMEM;
		}
		all = grown;
		memcpy(all + total, one, n);
		total += n;
		OPENSSL_free(one);
	}
	*der = all;
	*len = total;
	return 0;
}

/*
 * Digests fetched once: OpenSSL 3 looks EVP_sha256() up in its provider
 * tables, under a lock, on every use (EVP_MD_fetch(3), "Performance").
 * Fingerprints are taken several times per verification.
 */
static EVP_MD *md_sha256, *md_sha1;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void
md_init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void
cert_sha256(X509 *x, unsigned char out[32])
{
	unsigned int n = 32;

	pthread_once(&md_once, md_init);
	X509_digest(x, md_sha256 ? md_sha256 : EVP_sha256(), out, &n);
}

void
cert_sha1(X509 *x, unsigned char out[20])
{
	unsigned int n = 20;

	pthread_once(&md_once, md_init);
	X509_digest(x, md_sha1 ? md_sha1 : EVP_sha1(), out, &n);
}

uint32_t
cert_subject_hash(X509 *x)
{
	int ok = 0;
	unsigned long h = X509_NAME_hash_ex(X509_get_subject_name(x), NULL,
	    NULL, &ok);

	return ok ? (uint32_t)h : 0;
}

void
cert_hex(const unsigned char *p, size_t n, char sep, char *out)
{
	static const char up[] = "0123456789ABCDEF", lo[] = "0123456789abcdef";
	const char *d = sep ? up : lo;
	size_t i;

	for (i = 0; i < n; i++) {
		if (sep && i > 0)
			*out++ = sep;
		*out++ = d[p[i] >> 4];
		*out++ = d[p[i] & 15];
	}
	*out = '\0';
}

int
cert_is_ca(X509 *x)
{
	return X509_check_ca(x) != 0;
}

int
cert_is_self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

time_t
cert_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

time_t
cert_not_before(X509 *x)
{
	return cert_asn1_time(X509_get0_notBefore(x));
}

time_t
cert_not_after(X509 *x)
{
	return cert_asn1_time(X509_get0_notAfter(x));
}

enum cert_status
cert_status(X509 *x, time_t now, long *days_left)
{
	time_t na = cert_not_after(x), nb = cert_not_before(x);

	if (days_left != NULL) {
		/* floor(), also for the past: an hour ago is day -1. */
		*days_left = (long)((na - now) / 86400);
		if (na < now && (now - na) % 86400 != 0)
			(*days_left)--;
	}
	if (now > na)
		return CERT_EXPIRED;
	if (now < nb)
		return CERT_NOT_YET_VALID;
	if (na - now < (time_t)CERT_EXPIRING_DAYS * 86400)
		return CERT_EXPIRING;
	return CERT_VALID;
}

void
cert_status_str(X509 *x, time_t now, char *out, size_t outlen)
{
	long days;

	switch (cert_status(x, now, &days)) {
	case CERT_EXPIRED:
		snprintf(out, outlen, "expired");
		break;
	case CERT_NOT_YET_VALID:
		snprintf(out, outlen, "not yet valid");
		break;
	case CERT_EXPIRING:
		if (days == 0)
			snprintf(out, outlen, "expires today");
		else
			snprintf(out, outlen, "expires in %ld day%s", days,
			    days == 1 ? "" : "s");
		break;
	default:
		snprintf(out, outlen, "valid");
	}
}

void
cert_time_str(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The first value of a name attribute, as UTF-8. */
static int
name_entry(X509 *x, int nid, char *out, size_t outlen)
{
	X509_NAME *n = X509_get_subject_name(x);
	unsigned char *utf8 = NULL;
	int i = X509_NAME_get_index_by_NID(n, nid, -1), len;

	if (i < 0)
		return -1;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, i)));
	if (len <= 0) {
		OPENSSL_free(utf8);
		return -1;
	}
	snprintf(out, outlen, "%.*s", len, utf8);
	OPENSSL_free(utf8);
	return out[0] ? 0 : -1;
}

void
cert_label(X509 *x, char *out, size_t outlen)
{
	unsigned char sha[32];
	char raw[256];
	size_t i, o = 0;
	const unsigned char *p;

	if (name_entry(x, NID_commonName, raw, sizeof(raw)) != 0 &&
	    name_entry(x, NID_organizationName, raw, sizeof(raw)) != 0) {
		cert_sha256(x, sha);
		cert_hex(sha, 8, 0, raw);
	}
	/* One '_' per character outside [A-Za-z0-9._-], UTF-8 aware. */
	for (p = (const unsigned char *)raw; *p && o + 1 < outlen && o < 200;) {
		if (isalnum(*p) || *p == '.' || *p == '_' || *p == '-') {
			out[o++] = (char)*p++;
			continue;
		}
		out[o++] = '_';
		if (*p >= 0xc0)
			for (p++, i = 0; (*p & 0xc0) == 0x80 && i < 3; i++)
				p++;
		else
			p++;
	}
	out[o] = '\0';
	/* Never a hidden or temporary name. */
	if (out[0] == '.')
		out[0] = '_';
}
