/*
 * The expiry index (store.c) and what expiry.c fills it with (issue 9):
 * every entry filed under its validity as entry_add stores it, kept by a
 * rename and a pin's sighting update, dropped by a remove; per-day counts;
 * records stored without a validity counted as unknown until
 * expiry_rebuild files them; and the inspect text's size computed from the
 * index equal to the rendered text's, at several times and for every
 * directory where it is computed.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "entry.h"
#include "expiry.h"
#include "origin.h"
#include "store.h"
#include "testutil.h"

#define DAY 86400L

static const struct entry_actor who = { 4242, 77, "unit test" };
static char *dir;
static struct store *st;
static X509 *root_a, *root_b, *leaf, *soon, *later;

static void
make_certs(void)
{
	struct gencert_opts o;

	o = (struct gencert_opts){ .cn = "Expiry Root A", .is_ca = 1,
	    .not_after = 400 * DAY };
	root_a = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "Expiry Root B", .is_ca = 1,
	    .not_after = 20 * DAY };
	root_b = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "pin.test", .san = "DNS:pin.test",
	    .not_after = 100 * DAY };
	leaf = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "soon.test", .san = "DNS:soon.test",
	    .not_after = 2 * DAY };
	soon = tu_make_cert(&o, NULL);
	/* Not valid for another ten days. */
	o = (struct gencert_opts){ .cn = "later.test", .san =
	    "DNS:later.test", .not_before = 10 * DAY, .not_after = 50 * DAY };
	later = tu_make_cert(&o, NULL);
}

static void
setup(void)
{
	struct tf_error e = { 0 };

	dir = tu_mkdtemp();
	ck_assert_msg(store_open(dir, 0, &st, &e) == 0, "store_open: %s",
	    tf_error_msg(&e));
}

static void
teardown(void)
{
	store_close(st);
	tu_rmrf(dir);
	free(dir);
}

static struct store_txn *
txn_begin(int write)
{
	struct store_txn *txn = NULL;

	ck_assert_int_eq(store_txn_begin(st, write, &txn, NULL), 0);
	return txn;
}

static void
add(struct store_txn *txn, enum store_db db, const char *name, X509 *x)
{
	STACK_OF(X509) *sk = tu_stack(x, NULL);
	struct entry_result res;
	struct tf_error e = { 0 };

	ck_assert_msg(entry_add(txn, db, name, sk, 0, &who, &res, &e) == 0,
	    "%s: %s", name, tf_error_msg(&e));
	sk_X509_pop_free(sk, X509_free);
}

/* The size stat shows equals the rendered text's, at now and others. */
static void
check_size(struct store_txn *txn, enum store_db db, const char *name)
{
	static const long at[] = { 0, 1 * DAY, 9 * DAY, 19 * DAY, 25 * DAY,
	    70 * DAY, 99 * DAY, 101 * DAY, 380 * DAY, 500 * DAY, -DAY };
	struct store_info info;
	struct store_rec rec;
	struct buf b = { 0 };
	time_t now = time(NULL);
	size_t i;

	ck_assert_int_eq(store_get(txn, db, name, &rec), 0);
	ck_assert_int_eq(store_info_get(txn, db, name, &info), 0);
	ck_assert_uint_ne(info.text_base, 0);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		buf_reset(&b);
		ck_assert_int_eq(entry_render(txn, db, name, &rec, now + at[i],
		    &b), 0);
		ck_assert_msg(expiry_text_size(txn, db, name, &rec, &info,
		    now + at[i]) == (long)b.len, "%s/%s at +%ld s: %ld, "
		    "rendered %zu", entry_db_dir(db), name, at[i],
		    expiry_text_size(txn, db, name, &rec, &info, now + at[i]),
		    b.len);
	}
	buf_free(&b);
}

struct seen {
	char names[8][64];
	int64_t when[8];
	int n;
};

static int
seen_cb(enum store_db db, const char *name, int64_t when, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s/%s",
		    entry_db_dir(db), name);
		s->when[s->n] = when;
	}
	s->n++;
	return 0;
}

START_TEST(test_sizes)
{
	struct store_txn *txn = txn_begin(1);

	add(txn, STORE_ROOTS, "A.pem", root_a);
	add(txn, STORE_ROOTS, "B.pem", root_b);
	add(txn, STORE_PINNED, "pin.test_443", leaf);
	add(txn, STORE_PINNED, "soon.test_8443", soon);
	add(txn, STORE_DISTRUSTED, "L.pem", later);
	/* An import's "Source:" line, recorded after the put. */
	ck_assert_int_eq(origin_set(txn, STORE_ROOTS, "B.pem",
	    "https://example.test/roots.pem"), 0);
	check_size(txn, STORE_ROOTS, "A.pem");
	check_size(txn, STORE_ROOTS, "B.pem");
	check_size(txn, STORE_PINNED, "pin.test_443");
	check_size(txn, STORE_PINNED, "soon.test_8443");
	check_size(txn, STORE_DISTRUSTED, "L.pem");
	ck_assert_int_eq(store_txn_commit(txn), 0);
}
END_TEST

START_TEST(test_lists)
{
	struct store_txn *txn = txn_begin(1);
	struct seen s = { 0 };
	time_t now = time(NULL);

	add(txn, STORE_ROOTS, "A.pem", root_a);
	add(txn, STORE_ROOTS, "B.pem", root_b);
	add(txn, STORE_PINNED, "soon.test_443", soon);
	add(txn, STORE_PINNED, "later.test_443", later);
	ck_assert_int_eq(store_txn_commit(txn), 0);

	txn = txn_begin(0);
	/* In order of expiry: soon (2 days), B (20), later (50), A (400). */
	ck_assert_int_eq(store_expiry_range(txn, INT64_MIN, INT64_MAX,
	    seen_cb, &s), 0);
	ck_assert_int_eq(s.n, 4);
	ck_assert_str_eq(s.names[0], "pinned/soon.test_443");
	ck_assert_str_eq(s.names[1], "roots/B.pem");
	ck_assert_str_eq(s.names[2], "pinned/later.test_443");
	ck_assert_str_eq(s.names[3], "roots/A.pem");
	ck_assert(s.when[0] > now + DAY && s.when[0] <= now + 2 * DAY + 60);
	/* A window: within 30 days. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_expiry_range(txn, now, now + 30 * DAY,
	    seen_cb, &s), 0);
	ck_assert_int_eq(s.n, 2);
	/* Not yet valid: later only. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_notyet(txn, now, seen_cb, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.names[0], "pinned/later.test_443");
	store_txn_abort(txn);

	/* Removed: gone from the index. */
	txn = txn_begin(1);
	ck_assert_int_eq(entry_remove(txn, STORE_PINNED, "soon.test_443",
	    &who), 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_expiry_range(txn, INT64_MIN, INT64_MAX,
	    seen_cb, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.names[0], "roots/B.pem");
	ck_assert_int_eq(store_txn_commit(txn), 0);
}
END_TEST

struct daysum {
	uint64_t n[STORE_NDBS];
	int64_t first;
};

static int
day_cb(int64_t day, enum store_db db, uint64_t n, void *arg)
{
	struct daysum *d = arg;

	if (d->first == 0)
		d->first = day;
	d->n[db] += n;
	return 0;
}

START_TEST(test_days_and_moves)
{
	struct store_txn *txn = txn_begin(1);
	struct daysum d = { { 0 }, 0 };
	struct store_info info;
	struct tf_error e = { 0 };
	uint64_t g0, g1;

	add(txn, STORE_ROOTS, "A.pem", root_a);
	add(txn, STORE_ROOTS, "B.pem", root_b);
	add(txn, STORE_PINNED, "pin.test_443", leaf);
	g0 = store_roots_gen(txn);
	/* roots/ -> distrusted/ keeps the validity and the text. */
	ck_assert_int_eq(entry_rename(txn, STORE_ROOTS, "B.pem",
	    STORE_DISTRUSTED, "B.pem", 0, &who, &e), 0);
	g1 = store_roots_gen(txn);
	ck_assert_uint_gt(g1, g0);
	ck_assert_int_eq(store_info_get(txn, STORE_DISTRUSTED, "B.pem",
	    &info), 0);
	check_size(txn, STORE_DISTRUSTED, "B.pem");
	ck_assert_int_eq(store_info_get(txn, STORE_ROOTS, "B.pem", &info),
	    -ENOENT);
	/* A pin renamed to another host keeps its validity; its text
	 * names the host, so its size is rendered when asked. */
	ck_assert_int_eq(entry_rename(txn, STORE_PINNED, "pin.test_443",
	    STORE_PINNED, "pin.test_8443", 0, &who, &e), 0);
	ck_assert_int_eq(store_info_get(txn, STORE_PINNED, "pin.test_8443",
	    &info), 0);
	ck_assert_uint_eq(info.text_base, 0);
	/* A pin changes nothing that the strict rules read. */
	ck_assert_uint_eq(store_roots_gen(txn), g1);
	ck_assert_int_eq(store_expiry_days(txn, day_cb, &d), 0);
	ck_assert_uint_eq(d.n[STORE_ROOTS], 1);
	ck_assert_uint_eq(d.n[STORE_DISTRUSTED], 1);
	ck_assert_uint_eq(d.n[STORE_PINNED], 1);
	ck_assert_int_eq((long)d.first, (long)((time(NULL) + 20 * DAY) / DAY));
	ck_assert_int_eq(store_txn_commit(txn), 0);
}
END_TEST

/* A record stored by a caller that gives no validity. */
static int
put_bare(struct store_txn *txn, void *arg)
{
	struct store_key key = { { 0 }, 0 };
	struct store_rec r = { 0 };
	unsigned char *der = NULL;
	size_t len;
	int rc;

	(void)arg;
	ck_assert_int_eq(cert_der(leaf, &der, &len), 0);
	cert_sha256(leaf, key.sha256);
	key.subject_hash = cert_subject_hash(leaf);
	r.keys = &key;
	r.nkeys = 1;
	r.der = der;
	r.der_len = len;
	rc = store_put(txn, STORE_PINNED, "bare.test_443", &r);
	free(der);
	/* And one that does not decode: in no list once rebuilt. */
	r.der = (const unsigned char *)"\x30\x03\x02\x01\x01";
	r.der_len = 5;
	if (rc == 0)
		rc = store_put(txn, STORE_PINNED, "junk.test_443", &r);
	return rc;
}

START_TEST(test_unknown_rebuilt)
{
	struct store_txn *txn;
	struct store_info info;
	struct tf_error e = { 0 };
	uint64_t unknown;
	size_t done = 0;
	int ready;

	ck_assert_int_eq(store_write(st, put_bare, NULL, &e), 0);
	txn = txn_begin(0);
	ck_assert_int_eq(store_expiry_state(txn, &ready, &unknown), 0);
	ck_assert_int_eq(ready, 1);
	ck_assert_uint_eq(unknown, 2);
	ck_assert_int_eq(store_info_get(txn, STORE_PINNED, "bare.test_443",
	    &info), -ENOENT);
	store_txn_abort(txn);
	ck_assert_int_eq(expiry_rebuild(st, &done, &e), 0);
	ck_assert_uint_eq(done, 1);
	txn = txn_begin(0);
	ck_assert_int_eq(store_expiry_state(txn, &ready, &unknown), 0);
	ck_assert_uint_eq(unknown, 0);
	ck_assert_int_eq(store_info_get(txn, STORE_PINNED, "junk.test_443",
	    &info), -ENOENT);
	check_size(txn, STORE_PINNED, "bare.test_443");
	store_txn_abort(txn);
	/* Removing it leaves nothing behind. */
	txn = txn_begin(1);
	ck_assert_int_eq(entry_remove(txn, STORE_PINNED, "bare.test_443",
	    &who), 0);
	ck_assert_int_eq(store_info_get(txn, STORE_PINNED, "bare.test_443",
	    &info), -ENOENT);
	ck_assert_int_eq(store_txn_commit(txn), 0);
}
END_TEST

/* A store written before the index: 12,000 records with nothing filed
 * (more than two rebuild batches), indexed by expiry_rebuild, which then
 * marks the store ready; a put between batches is filed by its hook. */
#define LEGACY_N 12000

static int
put_legacy(struct store_txn *txn, void *arg)
{
	struct store_key key = { { 0 }, 0 };
	struct store_rec r = { 0 };
	unsigned char *der = NULL;
	char name[64];
	size_t len;
	int i, rc = 0;

	(void)arg;
	ck_assert_int_eq(cert_der(leaf, &der, &len), 0);
	cert_sha256(leaf, key.sha256);
	key.subject_hash = cert_subject_hash(leaf);
	r.keys = &key;
	r.nkeys = 1;
	r.der = der;
	r.der_len = len;
	for (i = 0; rc == 0 && i < LEGACY_N; i++) {
		snprintf(name, sizeof(name), "h%05d.test_443", i);
		rc = store_put(txn, STORE_PINNED, name, &r);
		/* As an older trustfs left it: nothing filed at all. */
		if (rc == 0)
			rc = store_expiry_forget(txn, STORE_PINNED, name);
	}
	if (rc == 0)
		rc = store_expiry_unready(txn);
	free(der);
	return rc;
}

static int
count_cb(enum store_db db, const char *name, int64_t when, void *arg)
{
	(void)db;
	(void)name;
	(void)when;
	(*(size_t *)arg)++;
	return 0;
}

START_TEST(test_legacy_store)
{
	struct store_txn *txn;
	struct tf_error e = { 0 };
	uint64_t unknown;
	size_t done = 0, n = 0;
	int ready;

	ck_assert_int_eq(store_write(st, put_legacy, NULL, &e), 0);
	txn = txn_begin(0);
	ck_assert_int_eq(store_expiry_state(txn, &ready, &unknown), 0);
	ck_assert_int_eq(ready, 0);
	ck_assert_uint_eq(unknown, 0);
	ck_assert_int_eq(store_expiry_range(txn, INT64_MIN, INT64_MAX,
	    count_cb, &n), 0);
	ck_assert_uint_eq(n, 0);
	store_txn_abort(txn);

	ck_assert_int_eq(expiry_rebuild(st, &done, &e), 0);
	ck_assert_uint_eq(done, LEGACY_N);
	txn = txn_begin(0);
	ck_assert_int_eq(store_expiry_state(txn, &ready, &unknown), 0);
	ck_assert_int_eq(ready, 1);
	ck_assert_int_eq(store_expiry_range(txn, INT64_MIN, INT64_MAX,
	    count_cb, &n), 0);
	ck_assert_uint_eq(n, LEGACY_N);
	check_size(txn, STORE_PINNED, "h11999.test_443");
	store_txn_abort(txn);
}
END_TEST

/* Garbage where the index keeps an entry's validity is "not in the
 * index" (rendered), never a crash or a wrong size. */
START_TEST(test_damaged_entry)
{
	struct store_txn *txn = txn_begin(1);
	struct store_info info;

	add(txn, STORE_ROOTS, "A.pem", root_a);
	ck_assert_int_eq(store_meta_put(txn, "ent:\002A.pem", "\001\377xx",
	    4), 0);
	ck_assert_int_eq(store_info_get(txn, STORE_ROOTS, "A.pem", &info),
	    -ENOENT);
	/* And a remove of it still works. */
	ck_assert_int_eq(entry_remove(txn, STORE_ROOTS, "A.pem", &who), 0);
	store_txn_abort(txn);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("expiry");
	int rc;

	make_certs();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_lists);
	tcase_add_test(tc, test_days_and_moves);
	tcase_add_test(tc, test_unknown_rebuilt);
	tcase_add_test(tc, test_damaged_entry);
	tcase_add_test(tc, test_legacy_store);
	rc = tu_run("expiry", tc, 1);
	X509_free(root_a);
	X509_free(root_b);
	X509_free(leaf);
	X509_free(soon);
	X509_free(later);
	return rc;
}
