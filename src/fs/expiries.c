/*
 * status's and metrics' counts and expiry lists (issue 9).  They read
 * the store's expiry index (store.c): the entries in order of expiry, and
 * per UTC day and directory how many expire.  A store whose index is not
 * complete (written before it, or holding records stored without a
 * validity) is brought up to date first (expiry_rebuild); a read-only
 * one that cannot be is walked and parsed as before the index.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "expiries.h"
#include "expiry.h"

#define DAY 86400

/* --- one entry's expiry, from the index or from a walk --------------- */

struct exp_ent {
	enum store_db db;
	char name[STORE_NAME_MAX + 1];
	int64_t when;		/* notAfter, or notBefore for "not yet" */
};

struct exp_list {
	struct exp_ent *e;
	size_t n, cap;
	size_t max;		/* keep at most this many */
	size_t more;		/* and count the rest */
	int dbmask;		/* which directories (1 << db) */
	int stop;		/* stop the walk when full (more is then
				 * counted from the per-day counts) */
};

static int
list_add(struct exp_list *l, enum store_db db, const char *name,
    int64_t when)
{
	struct exp_ent *e;

	if (!(l->dbmask & (1 << db)))
		return 0;
	if (l->n >= l->max) {
		l->more++;
		return l->stop;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		e = realloc(l->e, l->cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		l->e = e;
	}
	e = &l->e[l->n++];
	e->db = db;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->when = when;
	return 0;
}

static int
list_cb(enum store_db db, const char *name, int64_t when, void *arg)
{
	return list_add(arg, db, name, when);
}

/* The entries of [from, to) into l, until it is full. */
static int
scan(struct store_txn *txn, struct exp_list *l, int64_t from, int64_t to)
{
	int rc = store_expiry_range(txn, from, to, list_cb, l);

	return rc == 1 ? 0 : rc;
}

/* Whether the index can answer: it is brought up to date when it is not
 * (a write); 0 when it cannot be (a read-only store). */
static int
index_ready(struct fs *fs)
{
	struct store_txn *txn = NULL;
	struct tf_error err = { 0 };
	uint64_t unknown = 0;
	int ready = 0, pass;

	for (pass = 0; pass < 2; pass++) {
		if (store_txn_begin(fs->st, 0, &txn, NULL) != 0)
			return 0;
		store_expiry_state(txn, &ready, &unknown);
		store_txn_abort(txn);
		if (ready && unknown == 0)
			return 1;
		/* -o ro writes nothing, this bookkeeping included. */
		if (fs->ro)
			break;
		if (pass == 0 && expiry_rebuild(fs->st, NULL, &err) != 0) {
			if (err.msg[0] && -err.code != EROFS)
				fs_log(LOG_WARNING, "the expiry index: %s",
				    err.msg);
			break;
		}
	}
	/* Records the rebuild could not parse stay unknown: walk. */
	return 0;
}

/* The walk of a store without a complete index: every record parsed.
 * Three lists at once: expired (before now), expiring (before `soon')
 * and not yet valid (after now). */
struct walk {
	enum store_db db;
	time_t now, soon;
	struct exp_list *expired, *expiring, *notyet, *all;
	int rc;
};

static int
walk_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct walk *w = arg;
	STACK_OF(X509) *sk = NULL;
	int64_t na = 0, nb = 0;
	int i, n;

	if (entry_certs(rec, &sk) != 0)
		return 0;	/* unreadable: not counted as expiring */
	n = sk_X509_num(sk);
	for (i = 0; i < n; i++) {
		int64_t a = cert_not_after(sk_X509_value(sk, i));
		int64_t b = cert_not_before(sk_X509_value(sk, i));

		if (i == 0 || a < na)
			na = a;
		if (i == 0 || b > nb)
			nb = b;
	}
	sk_X509_pop_free(sk, X509_free);
	if (n <= 0)
		return 0;
	if (w->expired != NULL && na < w->now)
		w->rc = list_add(w->expired, w->db, name, na);
	if (w->rc == 0 && w->expiring != NULL && na >= w->now &&
	    na < w->soon)
		w->rc = list_add(w->expiring, w->db, name, na);
	if (w->rc == 0 && w->notyet != NULL && nb > w->now)
		w->rc = list_add(w->notyet, w->db, name, nb);
	if (w->rc == 0 && w->all != NULL)
		w->rc = list_add(w->all, w->db, name, na);
	return w->rc != 0;
}

static int
by_when(const void *a, const void *b)
{
	const struct exp_ent *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	if (x->db != y->db)
		return x->db < y->db ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
walk_lists(struct fs *fs, struct walk *w)
{
	struct store_txn *txn = NULL;
	struct exp_list *ls[4] = { w->expired, w->expiring, w->notyet,
	    w->all };
	int rc, db, i;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	for (db = 0; rc == 0 && db < STORE_NDBS; db++) {
		w->db = (enum store_db)db;
		rc = store_foreach(txn, w->db, walk_cb, w);
		if (rc > 0)
			rc = w->rc;
	}
	store_txn_abort(txn);
	/* In the index's order, as the other path gives them. */
	for (i = 0; rc == 0 && i < 4; i++)
		if (ls[i] != NULL && ls[i]->n > 1)
			qsort(ls[i]->e, ls[i]->n, sizeof(*ls[i]->e), by_when);
	return rc;
}

/* --- counts per day ---------------------------------------------------- */

struct days {
	int64_t *day;
	uint64_t (*n)[STORE_NDBS];
	size_t len, cap;
};

static int
day_cb(int64_t day, enum store_db db, uint64_t n, void *arg)
{
	struct days *d = arg;

	if (d->len == 0 || d->day[d->len - 1] != day) {
		if (d->len == d->cap) {
			size_t cap = d->cap ? 2 * d->cap : 256;
			int64_t *dd = realloc(d->day, cap * sizeof(*dd));
			uint64_t (*nn)[STORE_NDBS];

			if (dd == NULL)
				return -ENOMEM;
			d->day = dd;
			nn = realloc(d->n, cap * sizeof(*nn));
			if (nn == NULL)
				return -ENOMEM;
			d->n = nn;
			d->cap = cap;
		}
		d->day[d->len] = day;
		memset(d->n[d->len], 0, sizeof(d->n[d->len]));
		d->len++;
	}
	d->n[d->len - 1][db] += n;
	return 0;
}

static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
}

struct tally {
	uint64_t n[STORE_NDBS];
};

static int
tally_cb(enum store_db db, const char *name, int64_t when, void *arg)
{
	(void)name;
	(void)when;
	((struct tally *)arg)->n[db]++;
	return 0;
}

/* How many entries per directory expire before `to' (all before it):
 * whole days from the counts, the day `to' falls in from the index. */
static int
count_before(struct store_txn *txn, const struct days *d, int64_t to,
    uint64_t out[STORE_NDBS])
{
	struct tally t = { { 0 } };
	int64_t day = day_of(to);
	size_t i;
	int db, rc;

	memset(out, 0, STORE_NDBS * sizeof(*out));
	for (i = 0; i < d->len && d->day[i] < day; i++)
		for (db = 0; db < STORE_NDBS; db++)
			out[db] += d->n[i][db];
	rc = store_expiry_range(txn, day * DAY, to, tally_cb, &t);
	for (db = 0; db < STORE_NDBS; db++)
		out[db] += t.n[db];
	return rc;
}

/* --- status ------------------------------------------------------------ */

static int
show_list(struct buf *out, const char *title, const struct exp_list *l,
    time_t now, int kind)
{
	char t[64];
	size_t i;
	long days;
	int rc = 0;

	if (l->n == 0)
		return 0;
	rc = buf_printf(out, "\n%s:\n", title);
	for (i = 0; rc == 0 && i < l->n; i++) {
		const struct exp_ent *e = &l->e[i];

		cert_time_str((time_t)e->when, t, sizeof(t));
		days = (long)((e->when - now) / DAY);
		if (kind == 0)
			rc = buf_printf(out, "%s/%s expired %s\n",
			    entry_db_dir(e->db), e->name, t);
		else if (kind == 1)
			rc = buf_printf(out, "%s/%s expires in %ld day%s "
			    "(%s)\n", entry_db_dir(e->db), e->name, days,
			    days == 1 ? "" : "s", t);
		else
			rc = buf_printf(out, "%s/%s valid from %s\n",
			    entry_db_dir(e->db), e->name, t);
	}
	if (rc == 0 && l->more > 0)
		rc = buf_printf(out, "... and %zu more\n", l->more);
	return rc;
}

int
expiries_counts(struct fs *fs, size_t counts[STORE_NDBS])
{
	struct store_txn *txn = NULL;
	int rc, db;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	for (db = 0; rc == 0 && db < STORE_NDBS; db++)
		rc = store_count(txn, (enum store_db)db, &counts[db]);
	store_txn_abort(txn);
	return rc;
}

int
expiries_status(struct fs *fs, time_t now, struct buf *out)
{
	struct exp_list ex = { .max = EXPIRIES_LIST_MAX, .dbmask = ~0,
	    .stop = 1 };
	struct exp_list soon = ex, ny = ex;
	struct walk w = { .now = now, .soon = now +
	    (time_t)CERT_EXPIRING_DAYS * DAY, .expired = &ex,
	    .expiring = &soon, .notyet = &ny };
	struct store_txn *txn = NULL;
	struct days d = { 0 };
	uint64_t before_now[STORE_NDBS], before_soon[STORE_NDBS];
	int rc, db;

	ny.stop = 0;	/* no counts of these: counted by the walk */
	if (index_ready(fs)) {
		rc = store_txn_begin(fs->st, 0, &txn, NULL);
		if (rc == 0)
			rc = scan(txn, &ex, INT64_MIN, now);
		if (rc == 0)
			rc = scan(txn, &soon, now, w.soon);
		if (rc == 0)
			rc = store_notyet(txn, now, list_cb, &ny);
		/* How many the lists leave out, from the counts. */
		if (rc == 0 && (ex.more || soon.more))
			rc = store_expiry_days(txn, day_cb, &d);
		if (rc == 0 && (ex.more || soon.more))
			rc = count_before(txn, &d, now, before_now);
		if (rc == 0 && soon.more)
			rc = count_before(txn, &d, w.soon, before_soon);
		if (rc == 0 && ex.more) {
			for (ex.more = 0, db = 0; db < STORE_NDBS; db++)
				ex.more += before_now[db];
			ex.more = ex.more > ex.n ? ex.more - ex.n : 0;
		}
		if (rc == 0 && soon.more) {
			for (soon.more = 0, db = 0; db < STORE_NDBS; db++)
				soon.more += before_soon[db] - before_now[db];
			soon.more = soon.more > soon.n ? soon.more - soon.n : 0;
		}
		store_txn_abort(txn);
	} else
		rc = walk_lists(fs, &w);
	/* Expired and not-yet-valid entries stay where they are (an admin
	 * decides), but they are listed here until somebody does. */
	if (rc == 0)
		rc = show_list(out, "Expired", &ex, now, 0);
	if (rc == 0) {
		char title[64];

		snprintf(title, sizeof(title), "Expiring within %d days",
		    CERT_EXPIRING_DAYS);
		rc = show_list(out, title, &soon, now, 1);
	}
	if (rc == 0)
		rc = show_list(out, "Not yet valid", &ny, now, 2);
	free(ex.e);
	free(soon.e);
	free(ny.e);
	free(d.day);
	free(d.n);
	store_trim(fs->st);	/* what the walk or the lists read */
	return rc;
}

/* --- metrics ----------------------------------------------------------- */

/* Prometheus label values escape \, " and newline. */
static int
label(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		if (*s == '\\' || *s == '"')
			rc = buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			rc = buf_puts(b, "\\n");
		else
			rc = buf_append(b, s, 1);
	}
	return rc;
}

/* The buckets of trustfs_expiring_entries: expired, then within these
 * many days (cumulative), then everything ("+Inf"). */
static const struct {
	const char *within;
	long days;
} buckets[] = {
	{ "expired", 0 }, { "1d", 1 }, { "7d", 7 }, { "30d", 30 },
	{ "90d", 90 }, { "365d", 365 },
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/*
 * The series of a large store: the roots, then the pins, that expire
 * within EXPIRIES_WINDOW_DAYS (soonest first), then those that expired
 * within as many days, until EXPIRIES_SERIES_MAX; more says how many of
 * the window's are left out.
 */
static int
window_series(struct store_txn *txn, const struct days *d, time_t now,
    struct exp_list *l)
{
	static const enum store_db order[] = { STORE_ROOTS, STORE_PINNED };
	int64_t from = now - (int64_t)EXPIRIES_WINDOW_DAYS * DAY;
	int64_t to = now + (int64_t)EXPIRIES_WINDOW_DAYS * DAY;
	uint64_t lo[STORE_NDBS], hi[STORE_NDBS];
	size_t i;
	int rc = 0;

	l->stop = 1;
	for (i = 0; rc == 0 && i < 2 && l->n < l->max; i++) {
		l->dbmask = 1 << order[i];
		rc = scan(txn, l, now, to);
		if (rc == 0 && l->n < l->max)
			rc = scan(txn, l, from, now);
	}
	if (rc == 0)
		rc = count_before(txn, d, from, lo);
	if (rc == 0)
		rc = count_before(txn, d, to, hi);
	if (rc == 0) {
		uint64_t in = hi[STORE_ROOTS] - lo[STORE_ROOTS] +
		    hi[STORE_PINNED] - lo[STORE_PINNED];

		l->more = in > l->n ? (size_t)(in - l->n) : 0;
	}
	return rc;
}

static int64_t
bucket_end(size_t b, time_t now)
{
	return buckets[b].days ? now + buckets[b].days * DAY : now;
}

/* The walk's list of every entry: bucket counts, then only what the
 * index path would show (roots/ and pinned/, the window, the limit). */
static int
fallback_series(struct exp_list *l, uint64_t counts[][STORE_NDBS],
    const size_t total[STORE_NDBS], time_t now)
{
	const int mask = 1 << STORE_ROOTS | 1 << STORE_PINNED;
	int window = total[STORE_ROOTS] + total[STORE_PINNED] >
	    EXPIRIES_SERIES_MAX;
	size_t i, b, kept = 0;

	for (i = 0; i < l->n; i++) {
		const struct exp_ent *e = &l->e[i];

		for (b = 0; b < NBUCKETS; b++)
			if (e->when < bucket_end(b, now))
				counts[b][e->db]++;
		if (!(mask & (1 << e->db)) || (window && (e->when < now -
		    (int64_t)EXPIRIES_WINDOW_DAYS * DAY || e->when >= now +
		    (int64_t)EXPIRIES_WINDOW_DAYS * DAY)))
			continue;
		if (kept < EXPIRIES_SERIES_MAX)
			l->e[kept++] = *e;
		else
			l->more++;
	}
	l->n = kept;
	return 0;
}

int
expiries_metrics(struct fs *fs, time_t now, struct buf *out)
{
	const int mask = 1 << STORE_ROOTS | 1 << STORE_PINNED;
	struct exp_list series = { .max = EXPIRIES_SERIES_MAX, .dbmask = mask };
	uint64_t counts[NBUCKETS][STORE_NDBS];
	struct walk w = { .now = now, .all = &series };
	struct store_txn *txn = NULL;
	struct days d = { 0 };
	size_t total[STORE_NDBS], i;
	int rc, db, indexed;

	memset(counts, 0, sizeof(counts));
	rc = expiries_counts(fs, total);
	if (rc != 0)
		return rc;
	indexed = index_ready(fs);
	if (indexed) {
		rc = store_txn_begin(fs->st, 0, &txn, NULL);
		if (rc == 0)
			rc = store_expiry_days(txn, day_cb, &d);
		for (i = 0; rc == 0 && i < NBUCKETS; i++)
			rc = count_before(txn, &d, bucket_end(i, now),
			    counts[i]);
		/* Every root and pin while they are few, in order of
		 * expiry; then only the window's. */
		if (rc == 0 && total[STORE_ROOTS] + total[STORE_PINNED] <=
		    EXPIRIES_SERIES_MAX)
			rc = scan(txn, &series, INT64_MIN, INT64_MAX);
		else if (rc == 0)
			rc = window_series(txn, &d, now, &series);
		store_txn_abort(txn);
	} else {
		/* Every entry, sorted; then counted, and cut as above. */
		series.max = SIZE_MAX;
		series.dbmask = ~0;
		rc = walk_lists(fs, &w);
		rc = rc ? rc : fallback_series(&series, counts, total, now);
	}
	if (rc == 0)
		rc = buf_puts(out, "# HELP trustfs_entries Entries per "
		    "directory of the mount.\n# TYPE trustfs_entries gauge\n");
	for (db = 0; rc == 0 && db < STORE_NDBS; db++)
		rc = buf_printf(out, "trustfs_entries{dir=\"%s\"} %zu\n",
		    entry_db_dir((enum store_db)db), total[db]);
	if (rc == 0)
		rc = buf_printf(out, "# HELP trustfs_expiry_seconds Seconds "
		    "until the certificate expires; negative once expired.  "
		    "Every root and pin up to %d of them, else those within "
		    "%d days of now, at most %d.\n"
		    "# TYPE trustfs_expiry_seconds gauge\n",
		    EXPIRIES_SERIES_MAX, EXPIRIES_WINDOW_DAYS,
		    EXPIRIES_SERIES_MAX);
	for (i = 0; rc == 0 && i < series.n; i++) {
		rc = buf_printf(out, "trustfs_expiry_seconds{path=\"%s/",
		    entry_db_dir(series.e[i].db));
		rc = rc ? rc : label(out, series.e[i].name);
		rc = rc ? rc : buf_printf(out, "\"} %lld\n",
		    (long long)(series.e[i].when - now));
	}
	if (rc == 0)
		rc = buf_printf(out, "# HELP trustfs_expiry_series_omitted "
		    "Entries within the window that trustfs_expiry_seconds "
		    "leaves out (past its limit).\n"
		    "# TYPE trustfs_expiry_series_omitted gauge\n"
		    "trustfs_expiry_series_omitted %zu\n", series.more);
	if (rc == 0)
		rc = buf_puts(out, "# HELP trustfs_expiring_entries Entries "
		    "per directory whose certificate expires within `within' "
		    "(cumulative; \"expired\": already, \"+Inf\": all).\n"
		    "# TYPE trustfs_expiring_entries gauge\n");
	for (db = 0; rc == 0 && db < STORE_NDBS; db++) {
		for (i = 0; rc == 0 && i < NBUCKETS; i++)
			rc = buf_printf(out, "trustfs_expiring_entries"
			    "{dir=\"%s\",within=\"%s\"} %llu\n",
			    entry_db_dir((enum store_db)db), buckets[i].within,
			    (unsigned long long)counts[i][db]);
		if (rc == 0)
			rc = buf_printf(out, "trustfs_expiring_entries"
			    "{dir=\"%s\",within=\"+Inf\"} %zu\n",
			    entry_db_dir((enum store_db)db), total[db]);
	}
	free(series.e);
	free(d.day);
	free(d.n);
	store_trim(fs->st);
	return rc;
}
