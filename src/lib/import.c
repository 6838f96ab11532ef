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

#include "cert.h"
#include "import.h"

static const char *const kind_words[IMPORT_NKINDS] = {
	[IMPORT_ADDED] = "added",
	[IMPORT_DUPLICATE] = "duplicate",
	[IMPORT_DISTRUSTED] = "distrusted",
	[IMPORT_REFUSED] = "refused",
};

const char *
import_kind_word(enum import_kind k)
{
	return k < IMPORT_NKINDS ? kind_words[k] : "?";
}

struct import_args {
	STACK_OF(X509) *sk;
	const struct entry_actor *who;
	import_progress_fn fn;
	void *arg;
	struct import_result *res;
	struct tf_error *e;
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
}

/* Records one outcome; reason only for a refusal. */
static int
item_add(struct import_result *r, X509 *x, enum import_kind kind,
    const char *dir, const char *name, const char *reason)
{
	struct import_item *it = &r->items[r->n];
	unsigned char sha[32];

	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (name != NULL)
		snprintf(it->entry, sizeof(it->entry), "%s/%s", dir, name);
	cert_sha256(x, sha);
	cert_hex(sha, 32, ':', it->sha256);
	it->subject = cert_name_str(X509_get_subject_name(x));
	if (reason != NULL)
		it->reason = strdup(reason);
	if (it->subject == NULL || (reason != NULL && it->reason == NULL)) {
		free(it->subject);
		free(it->reason);
		it->subject = it->reason = NULL;
		return -ENOMEM;
	}
	r->n++;
	r->count[kind]++;
	return 0;
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
	rc = buf_printf(&r->report, "Import: %s\nCertificates: %zu\n"
	    "Added: %zu\nSkipped (duplicate): %zu\nSkipped (distrusted): %zu\n"
	    "Refused: %zu\n", tbuf, r->total, r->count[IMPORT_ADDED],
	    r->count[IMPORT_DUPLICATE], r->count[IMPORT_DISTRUSTED],
	    r->count[IMPORT_REFUSED]);
	for (i = 0; rc == 0 && i < r->n; i++) {
		it = &r->items[i];
		if (it->kind == IMPORT_REFUSED)
			rc = buf_printf(&r->report, "refused %s: %s\n",
			    it->subject, it->reason);
		else
			rc = buf_printf(&r->report, "%s %s\n",
			    kind_words[it->kind], it->entry);
	}
	return rc;
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
	for (i = 0; i < r->total && rc == 0; i++) {
		rc = import_one(txn, a, sk_X509_value(a->sk, (int)i));
		if (rc == 0 && a->fn != NULL)
			rc = a->fn(&r->items[r->n - 1], i, r->total, a->arg);
	}
	if (rc == 0)
		rc = report_build(r);
	if (rc == 0)
		rc = store_meta_put(txn, "import_report", r->report.data,
		    r->report.len);
	if (rc == 0)
		rc = entry_audit(txn, a->who, "import", "import", NULL, NULL);
	return rc;
}

int
entry_import(struct store *st, STACK_OF(X509) *sk,
    const struct entry_actor *who, import_progress_fn fn, void *arg,
    struct import_result *res, struct tf_error *e)
{
	struct import_args a = { sk, who, fn, arg, res, e };
	int rc;

	memset(res, 0, sizeof(*res));
	tf_error_clear(e);
	res->total = (size_t)sk_X509_num(sk);
	if (res->total == 0)
		return tf_error_setx(e, -EINVAL, "no certificate found in the "
		    "input");
	res->items = calloc(res->total, sizeof(*res->items));
	if (res->items == NULL)
		return tf_error_set(e, -ENOMEM, "import");
	rc = store_write(st, import_txn, &a, e);
	if (rc != 0 && !tf_error_msg(e)[0])
		tf_error_set(e, rc, "import");
	return rc;
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
