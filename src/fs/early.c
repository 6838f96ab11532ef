/*
 * Checks of what a writer writes, as it arrives (issue 10).  bash ignores
 * the close() errors of its own redirections, so a refusal that waits for
 * the close is never seen: `echo '* bogus' > policy' would return 0.
 * Whatever can be judged already is judged at the write() that completes
 * it, and that write() fails:
 *   policy: every complete line (ending in '\n'), parsed as policy text;
 *   certificates (pinned/, roots/, distrusted/, chains/, import): every
 *     complete PEM block (its END line and newline are there), and in DER
 *     input every complete DER structure, with the length of a structure
 *     checked as soon as its header is there.
 * Each piece is checked once: *checked is how far the input has been
 * judged, *lines how many lines that was (so that messages name the line
 * of the whole input, as the check at close does).  These checks never
 * refuse what the check at close would accept; anything they cannot
 * judge yet waits for more data or for the close.
 * Runs with fs->lock released (fs.h): the caller has marked the file
 * busy, so nobody changes data meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cert.h"
#include "fs.h"
#include "policy.h"

int
early_kind(int db, const char *name, int temp)
{
	if (temp || db == STAGED_TOP)
		return EARLY_NONE;
	if (db >= 0)
		return db == STORE_REJECTED ? EARLY_NONE : EARLY_CERTS;
	if (strcmp(name, "policy") == 0)
		return EARLY_POLICY;
	return strcmp(name, "import") == 0 ? EARLY_CERTS : EARLY_NONE;
}

/* Newlines in p[0..len). */
static size_t
newlines(const char *p, size_t len)
{
	const char *end = p + len, *q;
	size_t n = 0;

	while (p < end && (q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p = q + 1;
	}
	return n;
}

/* A message about a piece names its line within the piece: make that
 * the line of the whole input (the last "line N" is the one). */
static void
renumber(struct tf_error *e, size_t base)
{
	char *p, *at = NULL, rest[sizeof(e->msg)], head[sizeof(e->msg)];
	unsigned long n;

	if (e == NULL || base == 0)
		return;
	for (p = e->msg; (p = strstr(p, "line ")) != NULL; p++)
		if (p[5] >= '0' && p[5] <= '9')
			at = p;
	if (at == NULL)
		return;
	n = strtoul(at + 5, &p, 10);
	snprintf(rest, sizeof(rest), "%s", p);
	snprintf(head, sizeof(head), "%.*s", (int)(at - e->msg), e->msg);
	snprintf(e->msg, sizeof(e->msg), "%sline %lu%s", head,
	    n + (unsigned long)base, rest);
}

static int
check_policy(const char *data, size_t len, size_t *checked, size_t *lines,
    struct tf_error *e)
{
	const char *from = data + *checked, *nl;
	struct policy *p = NULL;
	size_t n;
	int rc;

	nl = memrchr(from, '\n', len - *checked);
	if (nl == NULL)
		return 0;	/* no complete line yet */
	n = (size_t)(nl + 1 - from);
	rc = policy_parse(from, n, &p, e);
	policy_free(p);
	if (rc != 0) {
		renumber(e, *lines);
		return rc;
	}
	*lines += newlines(from, n);
	*checked += n;
	return 0;
}

/* Text and PEM blocks: each piece up to a complete END line. */
static int
check_pem(const char *data, size_t len, size_t limit, int crls,
    size_t *checked, size_t *lines, struct tf_error *e)
{
	const char *from;
	STACK_OF(X509) *sk = NULL;
	size_t n;
	int rc, begin;

	for (;;) {
		from = data + *checked;
		n = cert_pem_piece(from, len - *checked, &begin);
		if (n == 0)
			return 0;
		/* Text with an END line but no BEGIN: ignored, as at close. */
		/* The import file takes CRLs too: entry_import_input
		 * judges them at close. */
		if (begin && !(crls && memmem(from, n,
		    "-----BEGIN X509 CRL-----", 24) != NULL)) {
			rc = cert_parse(from, n, limit, &sk, e);
			sk_X509_pop_free(sk, X509_free);
			sk = NULL;
			if (rc != 0) {
				renumber(e, *lines);
				return rc;
			}
		}
		*lines += newlines(from, n);
		*checked += n;
	}
}

/* The length of the DER structure at p (header included): 1 and *total,
 * 0 if the header is not all there yet, -1 if p holds no structure with
 * a long-form length (every certificate and PKCS#7 has one). */
static int
der_header(const unsigned char *p, size_t avail, size_t *total)
{
	size_t k, i, l = 0;

	if (avail < 1)
		return 0;
	if (p[0] != 0x30)
		return -1;
	if (avail < 2)
		return 0;
	if (p[1] < 0x81 || p[1] > 0x84)
		return -1;
	k = p[1] & 0x7f;
	if (avail < 2 + k)
		return 0;
	for (i = 0; i < k; i++)
		l = (l << 8) | p[2 + i];
	*total = 2 + k + l;
	return 1;
}

/* A DER CRL, whole. */
static int
early_is_crl(const unsigned char *p, size_t len)
{
	X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)len);

	X509_CRL_free(c);
	ERR_clear_error();
	return c != NULL;
}

/* DER: structures back to back, each judged once it is whole. */
static int
check_der(const unsigned char *data, size_t len, size_t limit, int crls,
    size_t *checked, struct tf_error *e)
{
	STACK_OF(X509) *sk = NULL;
	size_t total = 0;
	int rc, h;

	while (*checked < len) {
		h = der_header(data + *checked, len - *checked, &total);
		if (h <= 0)
			return 0;	/* wait, or let the close judge */
		if (total > limit)
			return tf_error_setx(e, -EFBIG, "a DER structure of %zu "
			    "bytes; the limit is %zu", total, limit);
		if (total > len - *checked)
			return 0;
		if (crls && early_is_crl(data + *checked, total)) {
			*checked += total;
			continue;
		}
		rc = cert_parse(data + *checked, total, limit, &sk, e);
		sk_X509_pop_free(sk, X509_free);
		sk = NULL;
		if (rc != 0)
			return rc;
		*checked += total;
	}
	return 0;
}

int
early_check(int kind, int db, const char *data, size_t len,
    size_t *checked, size_t *lines, struct tf_error *e)
{
	const unsigned char *u = (const unsigned char *)data;
	size_t limit = fs_input_limit(db);

	if (kind == EARLY_NONE || *checked >= len)
		return 0;
	if (kind == EARLY_POLICY)
		return check_policy(data, len, checked, lines, e);
	/* DER when the input opens with a SEQUENCE and a long-form length;
	 * text that starts with '0' is not DER. */
	if (len >= 2 && u[0] == 0x30 && u[1] >= 0x81 && u[1] <= 0x84)
		return check_der(u, len, limit, db < 0, checked, e);
	if (len < 2 && u[0] == 0x30)
		return 0;
	return check_pem(data, len, limit, db < 0, checked, lines, e);
}
