/*
 * An import: a bundle into roots/, in one transaction (import.h).  The
 * one implementation behind the mount's `import' file and trustctl
 * import.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "cert.h"
#include "crl.h"
#include "bundle.h"
#include "import.h"
#include "origin.h"

static const char *const kind_words[IMPORT_NKINDS] = {
	[IMPORT_ADDED] = "added",
	[IMPORT_DUPLICATE] = "duplicate",
	[IMPORT_DISTRUSTED] = "distrusted",
	[IMPORT_REFUSED] = "refused",
	[IMPORT_REPLACED] = "replaced",
	[IMPORT_REMOVED] = "removed",
};

/* store_write's fn returns it to have a dry run's transaction aborted. */
#define IMPORT_DRY_RUN_DONE 1

const char *
import_kind_word(enum import_kind k)
{
	return k < IMPORT_NKINDS ? kind_words[k] : "?";
}

struct import_args {
	STACK_OF(X509) *sk;
	STACK_OF(X509_CRL) *crls;	/* may be NULL */
	const struct entry_actor *who;
	import_progress_fn fn;
	void *arg;
	struct import_result *res;
	struct tf_error *e;
	const struct import_opts *o;
};

static void
items_clear(struct import_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->items[i].subject);
		free(r->items[i].reason);
	}
	r->n = 0;
	memset(r->count, 0, sizeof(r->count));
	memset(r->crl_count, 0, sizeof(r->crl_count));
}

/* Records one outcome of a certificate x or a CRL c; reason only for a
 * refusal. */
static int
item_add2(struct import_result *r, X509 *x, X509_CRL *c,
    enum import_kind kind, const char *dir, const char *name,
    const char *reason)
{
	struct import_item *it;
	unsigned char sha[32];

	if (r->n == r->cap) {
		it = reallocarray(r->items, r->cap + 16, sizeof(*it));
		if (it == NULL)
			return -ENOMEM;
		r->items = it;
		r->cap += 16;
	}
	it = &r->items[r->n];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->crl = c != NULL;
	if (name != NULL)
		snprintf(it->entry, sizeof(it->entry), "%s/%s", dir, name);
	if (c != NULL)
		crl_sha256(c, sha);
	else
		cert_sha256(x, sha);
	cert_hex(sha, 32, ':', it->sha256);
	it->subject = cert_name_str(c != NULL ? X509_CRL_get_issuer(c) :
	    X509_get_subject_name(x));
	if (reason != NULL)
		it->reason = strdup(reason);
	if (it->subject == NULL || (reason != NULL && it->reason == NULL)) {
		free(it->subject);
		free(it->reason);
		it->subject = it->reason = NULL;
		return -ENOMEM;
	}
	r->n++;
	if (c != NULL)
		r->crl_count[kind]++;
	else
		r->count[kind]++;
	return 0;
}

static int
item_add(struct import_result *r, X509 *x, enum import_kind kind,
    const char *dir, const char *name, const char *reason)
{
	return item_add2(r, x, NULL, kind, dir, name, reason);
}

/* One certificate: an entry of its own in roots/, or a reason why not. */
static int
import_one(struct store_txn *txn, struct import_args *a, X509 *x)
{
	STACK_OF(X509) *one = sk_X509_new_null();
	struct entry_result er;
	struct tf_error ce = { 0 };
	int rc;

	if (one == NULL || !sk_X509_push(one, x)) {
		rc = tf_error_set(a->e, -ENOMEM, "import");
		goto out;
	}
	rc = entry_add(txn, STORE_ROOTS, NULL, one, ENTRY_AUTOLABEL, a->who,
	    &er, &ce);
	if (rc == -EINVAL) {
		/* Refused before anything was written: go on. */
		rc = item_add(a->res, x, IMPORT_REFUSED, NULL, NULL,
		    ce.msg[0] ? ce.msg : "refused");
		goto out;
	}
	if (rc != 0) {
		/* A store failure is in a->e already (the transaction's);
		 * otherwise entry_add's reason is. */
		if (a->e != NULL && a->e->code == 0)
			tf_error_setx(a->e, rc, "%s", ce.msg[0] ? ce.msg :
			    strerror(-rc));
		goto out;
	}
	switch (er.outcome) {
	case ENTRY_ADDED:
	case ENTRY_REPLACED:
		rc = item_add(a->res, x, IMPORT_ADDED, "roots", er.name, NULL);
		if (rc == 0 && a->o != NULL && a->o->source != NULL)
			rc = origin_set(txn, STORE_ROOTS, er.name,
			    a->o->source);
		break;
	case ENTRY_UNCHANGED:
		rc = item_add(a->res, x, IMPORT_DUPLICATE, "roots", er.name,
		    NULL);
		break;
	case ENTRY_SKIPPED_DISTRUSTED:
		rc = item_add(a->res, x, IMPORT_DISTRUSTED, "distrusted",
		    er.name, NULL);
		break;
	}
out:
	sk_X509_free(one);
	return rc;
}

/* The report: counts, then one line per certificate in input order. */
static int
report_build(struct import_result *r)
{
	const struct import_item *it;
	char tbuf[64];
	size_t i;
	int rc;

	buf_reset(&r->report);
	r->when = time(NULL);
	cert_time_str(r->when, tbuf, sizeof(tbuf));
	rc = r->dry_run ? buf_puts(&r->report, "Dry run: nothing was "
	    "changed.\n") : 0;
	rc = rc ? rc : buf_printf(&r->report, "Import: %s\nCertificates: %zu\n"
	    "Added: %zu\nSkipped (duplicate): %zu\nSkipped (distrusted): %zu\n"
	    "Refused: %zu\n", tbuf, r->total, r->count[IMPORT_ADDED],
	    r->count[IMPORT_DUPLICATE], r->count[IMPORT_DISTRUSTED],
	    r->count[IMPORT_REFUSED]);
	if (rc == 0 && r->replace)
		rc = buf_printf(&r->report, "Replaced: %zu\nRemoved: %zu\n",
		    r->count[IMPORT_REPLACED], r->count[IMPORT_REMOVED]);
	/* Only when there are CRLs: a certificate bundle's report stays
	 * as it was. */
	if (rc == 0 && r->crl_total > 0)
		rc = buf_printf(&r->report, "CRLs: %zu\nCRLs added: %zu\n"
		    "CRLs skipped (duplicate): %zu\nCRLs refused: %zu\n",
		    r->crl_total, r->crl_count[IMPORT_ADDED],
		    r->crl_count[IMPORT_DUPLICATE],
		    r->crl_count[IMPORT_REFUSED]);
	for (i = 0; rc == 0 && i < r->n; i++) {
		it = &r->items[i];
		if (it->kind == IMPORT_REFUSED)
			rc = buf_printf(&r->report, "refused %s%s: %s\n",
			    it->crl ? "CRL " : "", it->subject, it->reason);
		else
			rc = buf_printf(&r->report, "%s %s\n",
			    kind_words[it->kind], it->entry);
	}
	return rc;
}

/* A CRL's label: its issuer's CN, else O, else the first 16 hex digits
 * of its SHA-256, with cert_label()'s characters. */
static void
crl_label(X509_CRL *c, char *out, size_t outlen)
{
	X509_NAME *n = X509_CRL_get_issuer(c);
	unsigned char sha[32], *u = NULL;
	const unsigned char *p;
	char raw[256];
	size_t o = 0;
	int i;

	raw[0] = '\0';
	i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	if (i < 0)
		i = X509_NAME_get_index_by_NID(n, NID_organizationName, -1);
	if (i >= 0 && ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, i))) > 0)
		snprintf(raw, sizeof(raw), "%s", (char *)u);
	OPENSSL_free(u);
	if (raw[0] == '\0') {
		crl_sha256(c, sha);
		cert_hex(sha, 8, 0, raw);
	}
	for (p = (const unsigned char *)raw; *p && o + 1 < outlen && o < 200;
	    p++) {
		/* One '_' per UTF-8 character outside [A-Za-z0-9._-]. */
		if ((*p & 0xc0) == 0x80)
			continue;
		out[o++] = (*p >= '0' && *p <= '9') || (*p >= 'a' &&
		    *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '.' ||
		    *p == '_' || *p == '-' ? (char)*p : '_';
	}
	out[o] = '\0';
	if (out[0] == '.')
		out[0] = '_';
}

/* -1, 0, 1 as a's CRL number is below, equal to or above b's (a missing
 * one is below any). */
static int
crl_number_cmp(X509_CRL *a, X509_CRL *b)
{
	ASN1_INTEGER *na = X509_CRL_get_ext_d2i(a, NID_crl_number, NULL,
	    NULL);
	ASN1_INTEGER *nb = X509_CRL_get_ext_d2i(b, NID_crl_number, NULL,
	    NULL);
	int c;

	if (na == NULL || nb == NULL)
		c = na != NULL ? 1 : nb != NULL ? -1 : 0;
	else
		c = ASN1_INTEGER_cmp(na, nb);
	ASN1_INTEGER_free(na);
	ASN1_INTEGER_free(nb);
	ERR_clear_error();
	return c < 0 ? -1 : c > 0;
}

struct same_crl {
	const unsigned char *der;
	size_t len;
	char *name;
	size_t namelen;
	int found;
};

static int
same_cb(const char *name, const struct store_crl *c, void *arg)
{
	struct same_crl *s = arg;

	if (c->der_len != s->len || memcmp(c->der, s->der, s->len) != 0)
		return 0;
	snprintf(s->name, s->namelen, "%s", name);
	s->found = 1;
	return 1;	/* stops the walk */
}

/*
 * Where a CRL goes: crls/LABEL.crl, or LABEL_2.crl... when that name
 * holds the CRL of another issuer.  *same is set when a name holds this
 * very CRL (a duplicate, name says which); *older when it holds a later CRL of the same
 * issuer (by CRL number), which an import never replaces.
 */
static int
crl_slot(struct store_txn *txn, X509_CRL *crl, char *name, size_t namelen,
    int *same, int *older)
{
	struct store_crl old;
	struct same_crl sc;
	X509_CRL *prev;
	const unsigned char *p;
	unsigned char *der = NULL;
	char label[210];
	int k, rc = 0, len;

	*same = *older = 0;
	crl_label(crl, label, sizeof(label));
	len = i2d_X509_CRL(crl, &der);
	if (len <= 0)
		return -ENOMEM;
	/* The same CRL under any name (cp'd to crls/ by hand) is a
	 * duplicate. */
	sc = (struct same_crl){ der, (size_t)len, name, namelen, 0 };
	rc = store_crl_foreach(txn, same_cb, &sc);
	if (rc == 1 || sc.found) {
		*same = 1;
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	for (k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(name, namelen, "%s.crl", label);
		else
			snprintf(name, namelen, "%s_%d.crl", label, k);
		rc = store_crl_get(txn, name, &old);
		if (rc == -ENOENT) {
			rc = 0;
			goto out;
		}
		if (rc != 0)
			goto out;
		if (old.der_len == (size_t)len &&
		    memcmp(old.der, der, (size_t)len) == 0) {
			*same = 1;
			goto out;
		}
		p = old.der;
		prev = d2i_X509_CRL(NULL, &p, (long)old.der_len);
		ERR_clear_error();
		/* A record that does not decode is another issuer's name. */
		if (prev != NULL && X509_NAME_cmp(X509_CRL_get_issuer(prev),
		    X509_CRL_get_issuer(crl)) == 0) {
			*older = crl_number_cmp(crl, prev) <= 0;
			X509_CRL_free(prev);
			goto out;
		}
		X509_CRL_free(prev);
	}
	rc = -ENOSPC;
out:
	OPENSSL_free(der);
	return rc;
}

/* One CRL: into crls/ (crl_store's rules: acceptable, issuer in roots/
 * or chains/ with cRLSign), or a reason why not; the import goes on. */
static int
import_crl(struct store_txn *txn, struct import_args *a, X509_CRL *crl)
{
	struct tf_error ce = { 0 };
	enum crl_outcome outcome;
	char name[STORE_NAME_MAX + 1];
	int rc, same, older;

	rc = crl_acceptable(crl, &ce);
	if (rc == -EINVAL)
		return item_add2(a->res, NULL, crl, IMPORT_REFUSED, NULL, NULL,
		    ce.msg[0] ? ce.msg : "refused");
	if (rc != 0)
		return tf_error_set(a->e, rc, "import of a CRL");
	rc = crl_slot(txn, crl, name, sizeof(name), &same, &older);
	if (rc == -ENOSPC)
		return item_add2(a->res, NULL, crl, IMPORT_REFUSED, NULL, NULL,
		    "no free name for it in crls/");
	if (rc != 0) {
		if (a->e != NULL && a->e->code == 0)
			tf_error_set(a->e, rc, "import of a CRL");
		return rc;
	}
	if (same)
		return item_add2(a->res, NULL, crl, IMPORT_DUPLICATE, "crls",
		    name, NULL);
	if (older) {
		snprintf(ce.msg, sizeof(ce.msg), "not newer than crls/%s "
		    "(CRL number)", name);
		return item_add2(a->res, NULL, crl, IMPORT_REFUSED, NULL, NULL,
		    ce.msg);
	}
	rc = crl_store(txn, name, crl, a->who, &outcome, &ce);
	if (rc == -EINVAL)
		return item_add2(a->res, NULL, crl, IMPORT_REFUSED, NULL, NULL,
		    ce.msg[0] ? ce.msg : "refused");
	if (rc != 0) {
		if (a->e != NULL && a->e->code == 0)
			tf_error_setx(a->e, rc, "%s", ce.msg[0] ? ce.msg :
			    strerror(-rc));
		return rc;
	}
	return item_add2(a->res, NULL, crl, outcome == CRL_UNCHANGED ?
	    IMPORT_DUPLICATE : IMPORT_ADDED, "crls", name, NULL);
}

static const char crl_begin[] = "-----BEGIN X509 CRL-----";
static const char crl_end[] = "-----END X509 CRL-----";

/*
 * Splits an import's input: each PEM "X509 CRL" block into crls, the
 * rest to cert_parse() (which knows no CRL block); a lone DER CRL is
 * taken as one.  An input of CRLs only leaves *sk NULL.  A CRL block
 * that does not decode refuses the whole input, as a certificate block
 * does.  0, or -EINVAL / -EFBIG / -ENOMEM with e saying why.
 */
int
import_split(const void *buf, size_t len, STACK_OF(X509) **sk,
    STACK_OF(X509_CRL) **crls, struct tf_error *e)
{
	const char *in = buf, *end = in + len, *pos = in, *b, *q;
	const unsigned char *p = buf;
	char *rest = NULL;
	size_t rlen = 0;
	X509_CRL *c = NULL;
	BIO *bio = NULL;
	int rc = 0, n = 0;

	*sk = NULL;
	*crls = NULL;
	if (len > CERT_INPUT_MAX_BUNDLE)
		return tf_error_setx(e, -EFBIG, "input over the %zu-byte "
		    "limit", (size_t)CERT_INPUT_MAX_BUNDLE);
	*crls = sk_X509_CRL_new_null();
	if (*crls == NULL)
		return tf_error_set(e, -ENOMEM, "import");
	if (len == 0 || memmem(in, len, crl_begin, sizeof(crl_begin) - 1) ==
	    NULL) {
		/* DER: the whole input one CRL, or no CRL at all. */
		if (len > 0 && memmem(in, len, "-----BEGIN ", 11) == NULL &&
		    (c = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
		    p == (const unsigned char *)buf + len) {
			if (!sk_X509_CRL_push(*crls, c))
				rc = tf_error_set(e, -ENOMEM, "import");
			else
				c = NULL;
			goto out;
		}
		ERR_clear_error();
		rc = cert_parse(buf, len, CERT_INPUT_MAX_BUNDLE, sk, e);
		goto out;
	}
	rest = malloc(len);
	if (rest == NULL) {
		rc = tf_error_set(e, -ENOMEM, "import");
		goto out;
	}
	while ((b = memmem(pos, (size_t)(end - pos), crl_begin,
	    sizeof(crl_begin) - 1)) != NULL) {
		n++;
		memcpy(rest + rlen, pos, (size_t)(b - pos));
		rlen += (size_t)(b - pos);
		q = memmem(b, (size_t)(end - b), crl_end, sizeof(crl_end) - 1);
		if (q == NULL) {
			rc = tf_error_setx(e, -EINVAL, "CRL block %d: no END "
			    "line", n);
			goto out;
		}
		for (q += sizeof(crl_end) - 1; q < end && *q != '\n'; q++)
			;
		if (q < end)
			q++;
		BIO_free(bio);
		bio = BIO_new_mem_buf(b, (int)(q - b));
		if (bio == NULL) {
			rc = tf_error_set(e, -ENOMEM, "import");
			goto out;
		}
		c = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		if (c == NULL) {
			rc = tf_error_setx(e, -EINVAL, "CRL block %d does not "
			    "decode", n);
			goto out;
		}
		if (!sk_X509_CRL_push(*crls, c)) {
			rc = tf_error_set(e, -ENOMEM, "import");
			goto out;
		}
		c = NULL;
		pos = q;
	}
	memcpy(rest + rlen, pos, (size_t)(end - pos));
	rlen += (size_t)(end - pos);
	/* Certificates besides the CRLs: cert_parse judges them. */
	if (memmem(rest, rlen, "-----BEGIN ", 11) != NULL)
		rc = cert_parse(rest, rlen, CERT_INPUT_MAX_BUNDLE, sk, e);
out:
	ERR_clear_error();
	X509_CRL_free(c);
	BIO_free(bio);
	free(rest);
	if (rc != 0) {
		sk_X509_pop_free(*sk, X509_free);
		sk_X509_CRL_pop_free(*crls, X509_CRL_free);
		*sk = NULL;
		*crls = NULL;
	}
	return rc;
}

/* --replace: the roots the source added earlier, by name. */
struct stale {
	unsigned char (*shas)[32];	/* the bundle's, sorted */
	size_t nshas;
	struct store_txn *txn;
	char (*names)[STORE_NAME_MAX + 1];
	size_t n, cap;
	int rc;
};

static int
sha_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int
stale_cb(enum store_db db, const char *name, const char *src, void *arg)
{
	struct stale *s = arg;
	struct store_rec rec;
	void *p;
	int rc;

	rc = store_get(s->txn, STORE_ROOTS, name, &rec);
	if (rc == -ENOENT)
		return 0;	/* a record left behind: not a root */
	if (rc != 0)
		return s->rc = rc;
	if (rec.nkeys > 0 && bsearch(rec.keys[0].sha256, s->shas, s->nshas,
	    32, sha_cmp) != NULL)
		return 0;
	if (s->n == s->cap) {
		p = reallocarray(s->names, s->cap + 16, sizeof(*s->names));
		if (p == NULL)
			return s->rc = -ENOMEM;
		s->names = p;
		s->cap += 16;
	}
	snprintf(s->names[s->n++], sizeof(*s->names), "%s", name);
	return 0;
}

/* Removes the source's roots that the bundle lost, before the bundle is
 * added (their names are then free for its renewed roots). */
static int
replace_remove(struct store_txn *txn, struct import_args *a)
{
	struct stale s = { NULL, 0, txn, NULL, 0, 0, 0 };
	STACK_OF(X509) *one = NULL;
	struct store_rec rec;
	size_t i;
	int rc = 0;

	/* One digest per certificate, looked up by bsearch: a bundle of
	 * thousands against as many roots of its source. */
	s.nshas = (size_t)sk_X509_num(a->sk);
	if (s.nshas > 0 && (s.shas = calloc(s.nshas, 32)) == NULL)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < s.nshas; i++)
		cert_sha256(sk_X509_value(a->sk, (int)i), s.shas[i]);
	if (rc == 0 && s.nshas > 0)
		qsort(s.shas, s.nshas, 32, sha_cmp);
	if (rc == 0)
		rc = origin_foreach(txn, STORE_ROOTS, a->o->source, stale_cb,
		    &s);
	if (rc == 0)
		rc = s.rc;
	for (i = 0; i < s.n && rc == 0; i++) {
		rc = store_get(txn, STORE_ROOTS, s.names[i], &rec);
		if (rc == 0)
			rc = entry_certs(&rec, &one);
		if (rc == 0 && sk_X509_num(one) > 0)
			rc = item_add(a->res, sk_X509_value(one, 0),
			    IMPORT_REMOVED, "roots", s.names[i], NULL);
		sk_X509_pop_free(one, X509_free);
		one = NULL;
		if (rc == 0)
			rc = entry_remove(txn, STORE_ROOTS, s.names[i], a->who);
	}
	if (rc != 0 && a->e != NULL && a->e->code == 0)
		tf_error_set(a->e, rc, "removing the roots the source lost");
	free(s.shas);
	free(s.names);
	return rc;
}

/* A root added under the name a removed one had is its replacement: one
 * "replaced" item instead of "removed" and "added". */
static void
replace_pair(struct import_result *r)
{
	size_t i, j, k;

	for (i = 0; i < r->n; i++) {
		if (r->items[i].kind != IMPORT_REMOVED)
			continue;
		for (j = 0; j < r->n; j++)
			if (r->items[j].kind == IMPORT_ADDED &&
			    strcmp(r->items[j].entry, r->items[i].entry) == 0)
				break;
		if (j == r->n)
			continue;
		r->items[j].kind = IMPORT_REPLACED;
		r->count[IMPORT_ADDED]--;
		r->count[IMPORT_REPLACED]++;
		r->count[IMPORT_REMOVED]--;
		free(r->items[i].subject);
		free(r->items[i].reason);
		for (k = i; k + 1 < r->n; k++)
			r->items[k] = r->items[k + 1];
		r->n--;
		i--;
	}
}

/* store_write may run this again after growing the map: it starts from
 * nothing each time. */
static int
import_txn(struct store_txn *txn, void *arg)
{
	struct import_args *a = arg;
	struct import_result *r = a->res;
	size_t i;
	int rc = 0;

	items_clear(r);
	if (a->o != NULL && a->o->replace)
		rc = replace_remove(txn, a);
	for (i = 0; i < r->total && rc == 0; i++) {
		rc = import_one(txn, a, sk_X509_value(a->sk, (int)i));
		if (rc == 0 && a->fn != NULL)
			rc = a->fn(&r->items[r->n - 1], i, r->total, a->arg);
	}
	/* CRLs after the certificates: a CRL's issuer may be among them. */
	for (i = 0; i < r->crl_total && rc == 0; i++)
		rc = import_crl(txn, a, sk_X509_CRL_value(a->crls, (int)i));
	if (rc == 0 && r->replace)
		replace_pair(r);
	if (rc == 0)
		rc = report_build(r);
	if (rc == 0 && r->dry_run)
		return IMPORT_DRY_RUN_DONE;
	if (rc == 0)
		rc = store_meta_put(txn, "import_report", r->report.data,
		    r->report.len);
	if (rc == 0)
		rc = entry_audit(txn, a->who, "import", "import", NULL, NULL);
	return rc;
}

static int
import_run(struct store *st, STACK_OF(X509) *sk, STACK_OF(X509_CRL) *crls,
    const struct import_opts *o, const struct entry_actor *who,
    import_progress_fn fn, void *arg, struct import_result *res,
    struct tf_error *e)
{
	struct import_args a = { sk, crls, who, fn, arg, res, e, o };
	int rc;

	res->dry_run = o != NULL && o->dry_run;
	res->replace = o != NULL && o->replace;
	if (res->replace && (o->source == NULL || o->source[0] == '\0'))
		return tf_error_setx(e, -EINVAL, "replace needs the source "
		    "the bundle comes from");

	res->total = sk != NULL ? (size_t)sk_X509_num(sk) : 0;
	res->crl_total = crls != NULL ? (size_t)sk_X509_CRL_num(crls) : 0;
	if (res->total == 0 && res->crl_total == 0)
		return tf_error_setx(e, -EINVAL, "no certificate found in the "
		    "input");
	res->cap = res->total + res->crl_total;
	res->items = calloc(res->cap, sizeof(*res->items));
	if (res->items == NULL)
		return tf_error_set(e, -ENOMEM, "import");
	rc = store_write(st, import_txn, &a, e);
	if (rc == IMPORT_DRY_RUN_DONE && res->dry_run)
		rc = 0;
	if (rc != 0 && !tf_error_msg(e)[0])
		tf_error_set(e, rc, "import");
	return rc;
}

int
entry_import(struct store *st, STACK_OF(X509) *sk,
    const struct entry_actor *who, import_progress_fn fn, void *arg,
    struct import_result *res, struct tf_error *e)
{
	return entry_import_certs(st, sk, NULL, who, fn, arg, res, e);
}

int
entry_import_input(struct store *st, const void *buf, size_t len,
    const struct entry_actor *who, import_progress_fn fn, void *arg,
    struct import_result *res, struct tf_error *e)
{
	return entry_import_opts(st, buf, len, NULL, who, fn, arg, res, e);
}

int
entry_import_opts(struct store *st, const void *buf, size_t len,
    const struct import_opts *o, const struct entry_actor *who,
    import_progress_fn fn, void *arg, struct import_result *res,
    struct tf_error *e)
{
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *sk = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	tf_error_clear(e);
	rc = import_split(buf, len, &sk, &crls, e);
	if (rc == 0)
		rc = import_run(st, sk, crls, o, who, fn, arg, res, e);
	sk_X509_pop_free(sk, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

int
entry_import_certs(struct store *st, STACK_OF(X509) *sk,
    const struct import_opts *o, const struct entry_actor *who,
    import_progress_fn fn, void *arg, struct import_result *res,
    struct tf_error *e)
{
	memset(res, 0, sizeof(*res));
	tf_error_clear(e);
	return import_run(st, sk, NULL, o, who, fn, arg, res, e);
}

void
import_result_free(struct import_result *res)
{
	if (res == NULL)
		return;
	items_clear(res);
	free(res->items);
	res->items = NULL;
	buf_free(&res->report);
}

static int
refused_txn(struct store_txn *txn, void *arg)
{
	const struct buf *b = arg;

	return store_meta_put(txn, "import_report", b->data, b->len);
}

int
import_report_refused(struct store *st, const char *why, struct tf_error *e)
{
	struct buf b = { 0 };
	char tbuf[64];
	int rc;

	cert_time_str(time(NULL), tbuf, sizeof(tbuf));
	rc = buf_printf(&b, "Import: %s\nRefused: the whole input: %s\n"
	    "Nothing was changed.\n", tbuf, why);
	if (rc != 0)
		tf_error_set(e, rc, "import report");
	else
		rc = store_write(st, refused_txn, &b, e);
	buf_free(&b);
	return rc;
}
