/*
 * The validity and inspect-text size that the expiry index keeps for each
 * entry (store.c, issue 9), filled in by whoever stores a record, and the
 * text size read back without parsing or rendering the entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "entry.h"
#include "expiry.h"
#include "origin.h"

void
expiry_validity(X509 *x, struct store_validity *out)
{
	out->not_before = (int64_t)cert_not_before(x);
	out->not_after = (int64_t)cert_not_after(x);
	/* A notAfter that does not convert is 0 (cert_asn1_time): long
	 * expired, as status always showed it, and not "not given". */
	if (out->not_after == 0)
		out->not_after = 1;
}

/* The certificates of the record being sized, decoded already: the
 * render that sizes it decodes none (entry_certs asks expiry_hinted). */
static __thread struct {
	const unsigned char *der;
	size_t len;
	STACK_OF(X509) *sk;
} hint;

int
expiry_hinted(const unsigned char *der, size_t len, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk;
	int i;

	if (hint.sk == NULL || der != hint.der || len != hint.len)
		return 0;
	sk = sk_X509_dup(hint.sk);
	if (sk == NULL)
		return 0;
	for (i = 0; i < sk_X509_num(sk); i++)
		X509_up_ref(sk_X509_value(sk, i));
	*out = sk;
	return 1;
}

/* The length of cert_status_str()'s words for a certificate valid from
 * nb to na, at now (cert_status's rules). */
static size_t
status_len(int64_t nb, int64_t na, time_t now)
{
	char s[64];
	long days;

	if (now > na)
		return strlen("expired");
	if (now < nb)
		return strlen("not yet valid");
	if (na - now >= (int64_t)CERT_EXPIRING_DAYS * 86400)
		return strlen("valid");
	days = (long)((na - now) / 86400);
	if (days == 0)
		return strlen("expires today");
	return (size_t)snprintf(s, sizeof(s), "expires in %ld day%s", days,
	    days == 1 ? "" : "s");
}

/* "Status: WORDS\n", as cert_render writes it. */
static size_t
status_line_len(int64_t nb, int64_t na, time_t now)
{
	return strlen("Status: ") + status_len(nb, na, now) + 1;
}

/* "Source: WHERE\n" when the entry has a source (render.c writes it
 * with the first certificate), else 0. */
static size_t
source_line_len(struct store_txn *txn, enum store_db db, const char *name)
{
	char src[ORIGIN_MAX + 1];

	if (origin_get(txn, db, name, src, sizeof(src)) != 0)
		return 0;
	return strlen("Source: ") + strlen(src) + 1;
}

/*
 * The text of entry_render() for rec, whose certificates sk are decoded
 * already (the hint spares the decode, about 100 us with OpenSSL 3),
 * less its Status lines at now and its Source line (set after the put,
 * by an import): what neither time nor the source changes.
 */
static uint32_t
text_base_of(struct store_txn *txn, enum store_db db, const char *name,
    const struct store_rec *rec, STACK_OF(X509) *sk,
    const struct store_validity *val, time_t now)
{
	struct buf b = { 0 };
	size_t i, n = (size_t)sk_X509_num(sk), minus = 0;
	uint32_t base = 0;
	int rc;

	if (db == STORE_CHAINS || n == 0 || n > STORE_INFO_CERTS)
		return 0;	/* chains/ looks up roots/: rendered */
	hint.der = rec->der;
	hint.len = rec->der_len;
	hint.sk = sk;
	rc = entry_render(txn, db, name, rec, now, &b);
	memset(&hint, 0, sizeof(hint));
	for (i = 0; i < n; i++)
		minus += status_line_len(val[i].not_before, val[i].not_after,
		    now);
	minus += source_line_len(txn, db, name);
	if (rc == 0 && b.len > minus && b.len - minus < UINT32_MAX)
		base = (uint32_t)(b.len - minus);
	buf_free(&b);
	return base;
}

void
expiry_fill_rec(struct store_txn *txn, enum store_db db, const char *name,
    struct store_rec *rec, STACK_OF(X509) *sk,
    struct store_validity val[STORE_INFO_CERTS])
{
	size_t i, n = (size_t)sk_X509_num(sk);

	rec->validity = NULL;
	rec->text_base = 0;
	if (n == 0 || n > STORE_INFO_CERTS || n != rec->nkeys)
		return;		/* listed as unknown: parsed when read */
	for (i = 0; i < n; i++)
		expiry_validity(sk_X509_value(sk, (int)i), &val[i]);
	rec->validity = val;
	rec->text_base = text_base_of(txn, db, name, rec, sk, val,
	    time(NULL));
}

int
expiry_fill_stored(struct store_txn *txn, enum store_db db,
    const char *name, struct store_rec *rec,
    struct store_validity val[STORE_INFO_CERTS])
{
	STACK_OF(X509) *sk = NULL;
	int rc;

	rc = entry_certs(rec, &sk);
	if (rc == 0)
		expiry_fill_rec(txn, db, name, rec, sk, val);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

long
expiry_text_size(struct store_txn *txn, enum store_db db, const char *name,
    const struct store_rec *rec, const struct store_info *info, time_t now)
{
	size_t i;
	long size;

	if (db == STORE_CHAINS || info == NULL || info->text_base == 0 ||
	    info->ncerts == 0 || info->ncerts != rec->nkeys)
		return -1;
	size = (long)info->text_base;
	for (i = 0; i < info->ncerts; i++)
		size += (long)status_line_len(info->not_before[i],
		    info->not_after[i], now);
	return size + (long)source_line_len(txn, db, name);
}

/* --- bringing a store's index up to date ---------------------------- */

/* Records refiled per write transaction when a whole store is indexed:
 * other writers (a TLS client's first use) wait for one batch at most. */
#define REBUILD_BATCH 5000

struct rebuild {
	struct store_txn *txn;
	enum store_db db;	/* the directory being walked */
	char from[STORE_NAME_MAX + 1];	/* and the name to go on from */
	enum store_db batch_db;	/* where this batch began (a transaction
				 * run again after the map grew) */
	char batch_from[STORE_NAME_MAX + 1];
	size_t in_batch;
	int more;		/* a batch ended before the last record */
	size_t done, batch_done;
	char **names;		/* unknown entries: "D" + name, D the db */
	size_t n, cap;
};

static int
refile(struct rebuild *r, enum store_db db, const char *name,
    const struct store_rec *rec)
{
	struct store_validity val[STORE_INFO_CERTS];
	struct store_rec copy = *rec;
	int rc;

	rc = expiry_fill_stored(r->txn, db, name, &copy, val);
	if (rc != 0 || copy.validity == NULL)	/* not decodable, or more
						 * certificates than kept */
		return store_expiry_forget(r->txn, db, name);
	rc = store_expiry_set(r->txn, db, name, copy.validity, copy.nkeys,
	    copy.text_base);
	if (rc == 0)
		r->done++;
	return rc;
}

static int
rebuild_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct rebuild *r = arg;

	if (r->in_batch++ >= REBUILD_BATCH) {
		snprintf(r->from, sizeof(r->from), "%s", name);
		r->more = 1;
		return 1;	/* the next transaction goes on here */
	}
	return refile(r, r->db, name, rec);
}

static int
unknown_cb(enum store_db db, const char *name, void *arg)
{
	struct rebuild *r = arg;
	char **grown, *s;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		grown = realloc(r->names, r->cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		r->names = grown;
	}
	s = malloc(strlen(name) + 2);
	if (s == NULL)
		return -ENOMEM;
	s[0] = (char)('0' + db);
	strcpy(s + 1, name);
	r->names[r->n++] = s;
	return 0;
}

static int
rebuild_txn(struct store_txn *txn, void *arg)
{
	struct rebuild *r = arg;
	struct store_rec rec;
	uint64_t unknown;
	size_t i;
	int rc, ready, db;

	r->txn = txn;
	r->done = r->batch_done;
	r->in_batch = 0;
	r->more = 0;
	r->db = r->batch_db;
	snprintf(r->from, sizeof(r->from), "%s", r->batch_from);
	rc = store_expiry_state(txn, &ready, &unknown);
	if (rc == 0 && !ready) {
		/* Records changed behind the walk were filed by store_put's
		 * hook, so batches may commit one by one. */
		for (db = r->db; rc == 0 && db < STORE_NDBS; db++) {
			r->db = (enum store_db)db;
			rc = store_foreach_from(txn, r->db, db == (int)r->batch_db ?
			    r->from : "", rebuild_cb, r);
			if (rc == 1)
				return 0;	/* commit this batch */
			r->from[0] = '\0';
		}
		if (rc == 0)
			rc = store_expiry_set_ready(txn);
		return rc;
	}
	if (rc != 0 || unknown == 0)
		return rc;
	for (i = 0; i < r->n; i++)
		free(r->names[i]);
	r->n = 0;
	rc = store_expiry_unknown(txn, unknown_cb, r);
	for (i = 0; rc == 0 && i < r->n; i++) {
		enum store_db d = (enum store_db)(r->names[i][0] - '0');

		rc = store_get(txn, d, r->names[i] + 1, &rec);
		if (rc == -ENOENT)
			rc = 0;
		else if (rc == 0)
			rc = refile(r, d, r->names[i] + 1, &rec);
	}
	return rc;
}

int
expiry_rebuild(struct store *st, size_t *done, struct tf_error *e)
{
	struct rebuild r = { 0 };
	size_t i;
	int rc;

	do {
		rc = store_write(st, rebuild_txn, &r, e);
		/* Committed: the next batch begins where this one ended. */
		r.batch_db = r.db;
		snprintf(r.batch_from, sizeof(r.batch_from), "%s", r.from);
		r.batch_done = r.done;
	} while (rc == 0 && r.more);
	if (done != NULL)
		*done = rc == 0 ? r.done : 0;
	for (i = 0; i < r.n; i++)
		free(r.names[i]);
	free(r.names);
	return rc;
}
