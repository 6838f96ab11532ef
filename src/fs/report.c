/*
 * status and metrics: what the store holds, what has expired or soon will,
 * for people (status) and for Prometheus (metrics, text exposition format
 * 0.0.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "crl.h"
#include "expiries.h"
#include "fs.h"
#include "policy.h"
#include "strict.h"

/*
 * The strict rules run on every root, so status keeps their result for
 * the store generation it was computed at and reruns them only after a
 * change.  The generation is read before the transaction opens: a change
 * in between makes the result newer than its tag, never older, and the
 * next read computes it again.  Bookkeeping only under fs->lock (fs.h).
 */
struct status_extra;
static void strict_cached(struct fs *fs, struct status_extra *x);
static void strict_keep(struct fs *fs, const struct status_extra *x);

/* What status reads besides the walk, in the same read transaction:
 * the roots the strict rules refuse, and the policy text. */
struct status_extra {
	struct buf strict;	/* strict_roots_failures()'s lines */
	int nstrict;		/* how many, or -errno */
	int cached;		/* strict and nstrict came from fs's cache */
	uint64_t gen;		/* the store generation they are for */
	char *policy;		/* NULL: none saved (the default) */
	size_t policy_len;
};

/* counts[] (the store's own, issue 9: no walk), and x (may be NULL) in
 * the same transaction. */
static int
walk_all(struct fs *fs, size_t counts[STORE_NDBS], time_t *changed,
    struct status_extra *x)
{
	struct store_txn *txn = NULL;
	int rc, db;

	if (x != NULL)
		strict_cached(fs, x);
	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	for (db = 0; rc == 0 && db < STORE_NDBS; db++)
		rc = store_count(txn, (enum store_db)db, &counts[db]);
	if (rc == 0 && changed != NULL)
		*changed = entry_last_change(txn);
	if (rc == 0 && x != NULL) {
		if (!x->cached)
			x->nstrict = strict_roots_failures(txn, &x->strict);
		if (store_meta_get(txn, "policy", &x->policy,
		    &x->policy_len) != 0)
			x->policy = NULL;
	}
	store_txn_abort(txn);
	return rc;
}

/* The strict rules read roots/ (and distrusted/) only: their result is
 * kept across other changes, a pin's sightings among them (issue 9). */
static uint64_t
roots_gen(struct fs *fs)
{
	struct store_txn *txn = NULL;
	uint64_t gen = 0;

	if (store_txn_begin(fs->st, 0, &txn, NULL) == 0)
		gen = store_roots_gen(txn) + 1;	/* 0 is "none yet" */
	store_txn_abort(txn);
	return gen;
}

static void
strict_cached(struct fs *fs, struct status_extra *x)
{
	x->gen = roots_gen(fs);
	pthread_mutex_lock(&fs->lock);
	if (fs->strict_n >= 0 && fs->strict_gen == x->gen &&
	    (fs->strict_lines.len == 0 || buf_append(&x->strict,
	    fs->strict_lines.data, fs->strict_lines.len) == 0)) {
		x->nstrict = fs->strict_n;
		x->cached = 1;
	}
	pthread_mutex_unlock(&fs->lock);
}

static void
strict_keep(struct fs *fs, const struct status_extra *x)
{
	if (x->cached || x->nstrict < 0)
		return;
	pthread_mutex_lock(&fs->lock);
	buf_reset(&fs->strict_lines);
	if (x->strict.len == 0 || buf_append(&fs->strict_lines,
	    x->strict.data, x->strict.len) == 0) {
		fs->strict_n = x->nstrict;
		fs->strict_gen = x->gen;
	} else
		fs->strict_n = -1;
	pthread_mutex_unlock(&fs->lock);
}

static void
status_extra_free(struct status_extra *x)
{
	buf_free(&x->strict);
	free(x->policy);
}

/*
 * Policy lines that can never match (parsed here, after the transaction:
 * the policy was checked when it was saved) and the roots the strict
 * rules refuse as anchors.  Warnings for a person; they change nothing.
 */
static int
status_extra_show(struct status_extra *x, struct buf *out)
{
	struct policy *p = NULL;
	struct buf sh = { 0 };
	int rc = 0, n = 0;

	if (x->policy != NULL)
		rc = policy_parse(x->policy, x->policy_len, &p, NULL);
	else
		rc = policy_parse(POLICY_DEFAULT_TEXT,
		    strlen(POLICY_DEFAULT_TEXT), &p, NULL);
	if (rc == 0)
		n = policy_shadowed(p, &sh);
	policy_free(p);
	rc = 0;
	if (n > 0)
		rc = buf_printf(out, "\nPolicy lines that can never match:\n"
		    "%s", sh.data);
	buf_free(&sh);
	if (rc == 0 && x->nstrict >= 0)
		rc = buf_printf(out, "\nRoots failing the strict rules: %d\n",
		    x->nstrict);
	else if (rc == 0)
		rc = buf_printf(out, "\nRoots failing the strict rules: "
		    "unknown (%s)\n", strerror(-x->nstrict));
	if (rc == 0 && x->nstrict > 0)
		rc = buf_append(out, x->strict.data, x->strict.len);
	return rc;
}

/* crls/: how many, and the lines of those past their next update (in
 * a read transaction of its own, issue 13).  0 or a negative errno. */
static int
crls_status(struct fs *fs, time_t now, size_t *total, struct buf *lines)
{
	struct store_txn *txn = NULL;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = crl_expired_lines(txn, now, lines, total);
	store_txn_abort(txn);
	return rc < 0 ? rc : 0;
}

int
report_status(struct fs *fs, struct buf *out)
{
	struct buf crl_lines = { 0 };
	size_t ncrls = 0;
	size_t counts[STORE_NDBS];
	struct status_extra x = { 0 };
	time_t now = time(NULL), changed = 0;
	char t[64];
	int rc, db;

	rc = walk_all(fs, counts, &changed, &x);
	if (rc != 0) {
		status_extra_free(&x);
		return fs_errno(rc);
	}
	rc = buf_printf(out, "Store: %s\n", fs->store_dir);
	if (changed) {
		cert_time_str(changed, t, sizeof(t));
		rc = rc ? rc : buf_printf(out, "Last Change: %s\n", t);
	}
	for (db = 0; rc == 0 && db < STORE_NDBS; db++)
		rc = buf_printf(out, "%s: %zu\n", entry_db_dir((enum store_db)db),
		    counts[db]);
	if (rc == 0)
		rc = crls_status(fs, now, &ncrls, &crl_lines);
	if (rc == 0)
		rc = buf_printf(out, "crls: %zu\n", ncrls);
	/* The expired, expiring and not yet valid entries (expiries.c). */
	if (rc == 0)
		rc = expiries_status(fs, now, out);
	/* CRLs are not replaced by anybody but the admin (or update):
	 * one past its next update is stale revocation data. */
	if (rc == 0 && crl_lines.len > 0)
		rc = buf_printf(out, "\nCRLs past their next update:\n%s",
		    crl_lines.data);
	if (rc == 0)
		rc = sources_report(fs, 0, out);
	strict_keep(fs, &x);
	if (rc == 0)
		rc = status_extra_show(&x, out);
	if (rc == 0 && fs->sync != NULL)
		rc = sync_report(fs->sync, fs->st, 0, out);
	buf_free(&crl_lines);
	status_extra_free(&x);
	return rc;
}

static unsigned long long
counter(struct store_txn *txn, const char *key)
{
	unsigned long long n = 0;
	char *v = NULL;
	size_t len;

	if (store_meta_get(txn, key, &v, &len) == 0)
		n = strtoull(v, NULL, 10);
	free(v);
	return n;
}

void
report_mounted(struct fs *fs)
{
	struct store_txn *txn;

	if (store_txn_begin(fs->st, 0, &txn, NULL) != 0)
		return;
	fs->first_use_at_mount = counter(txn, "tofu_first_use");
	fs->mismatch_at_mount = counter(txn, "tofu_mismatch");
	store_txn_abort(txn);
}

int
report_metrics(struct fs *fs, struct buf *out)
{
	struct store_txn *txn = NULL;
	unsigned long long first = 0, mism = 0;
	time_t now = time(NULL), changed = 0;
	int rc;

	if (store_txn_begin(fs->st, 0, &txn, NULL) == 0) {
		first = counter(txn, "tofu_first_use");
		mism = counter(txn, "tofu_mismatch");
		changed = entry_last_change(txn);
		store_txn_abort(txn);
	}
	/* Entries, expiry series and buckets (expiries.c, issue 9). */
	rc = expiries_metrics(fs, now, out);
	if (rc != 0)
		return fs_errno(rc);
	if (rc == 0)
		rc = buf_printf(out, "# HELP trustfs_tofu_first_use_total TOFU "
		    "first-use pins since the mount.\n"
		    "# TYPE trustfs_tofu_first_use_total counter\n"
		    "trustfs_tofu_first_use_total %llu\n"
		    "# HELP trustfs_tofu_mismatch_total TOFU pin mismatches "
		    "since the mount.\n"
		    "# TYPE trustfs_tofu_mismatch_total counter\n"
		    "trustfs_tofu_mismatch_total %llu\n"
		    "# HELP trustfs_last_change_timestamp_seconds When the "
		    "store last changed.\n"
		    "# TYPE trustfs_last_change_timestamp_seconds gauge\n"
		    "trustfs_last_change_timestamp_seconds %lld\n",
		    first - (first >= fs->first_use_at_mount ?
		    fs->first_use_at_mount : first),
		    mism - (mism >= fs->mismatch_at_mount ?
		    fs->mismatch_at_mount : mism), (long long)changed);
	if (rc == 0)
		rc = sources_report(fs, 1, out);
	if (rc == 0 && fs->sync != NULL)
		rc = sync_report(fs->sync, fs->st, 1, out);
	return rc;
}
