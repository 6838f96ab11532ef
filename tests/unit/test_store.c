/* store.c: records, indexes, growth, schema, read-only stores, audit and
 * backup; every test on a fresh temporary store. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"
#include "testutil.h"

static char *dir;
static struct store *st;

static void
setup(void)
{
	struct tf_error te = { 0 };
	char *err = te.msg;

	dir = tu_mkdtemp();
	ck_assert_msg(store_open(dir, 0, &st, &te) == 0, "%s",
	    err);
}

static void
teardown(void)
{
	store_close(st);
	tu_rmrf(dir);
	free(dir);
}

static struct store_key keys2[2] = {
	{ { 1, 2, 3 }, 0x11223344 },
	{ { 9, 8, 7 }, 0x55667788 },
};

static struct store_rec
rec_of(const void *der, size_t len, const struct store_key *k, size_t nk)
{
	struct store_rec r = { 0 };

	r.ctime = 100;
	r.mtime = 200;
	r.first_seen = 300;
	r.last_seen = 400;
	r.seen_count = 5;
	r.slot = 2;
	memset(r.other_sha256, 0xab, 32);
	r.keys = k;
	r.nkeys = nk;
	r.der = der;
	r.der_len = len;
	return r;
}

struct put_args {
	enum store_db db;
	const char *name;
	struct store_rec rec;
};

static int
put_txn(struct store_txn *txn, void *arg)
{
	struct put_args *a = arg;

	return store_put(txn, a->db, a->name, &a->rec);
}

static void
put(enum store_db db, const char *name, struct store_rec r)
{
	struct put_args a = { db, name, r };

	ck_assert_int_eq(store_write(st, put_txn, &a, NULL), 0);
}

struct hits {
	int n;
	enum store_db db;
	char name[256];
};

static int
hit_cb(enum store_db db, const char *name, void *arg)
{
	struct hits *h = arg;

	h->n++;
	h->db = db;
	snprintf(h->name, sizeof(h->name), "%s", name);
	return 0;
}

START_TEST(test_round_trip)
{
	struct store_txn *txn;
	struct store_rec r;

	put(STORE_CHAINS, "c.pem", rec_of("DERDER", 6, keys2, 2));
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_CHAINS, "c.pem", &r), 0);
	ck_assert_uint_eq(r.ctime, 100);
	ck_assert_uint_eq(r.mtime, 200);
	ck_assert_uint_eq(r.first_seen, 300);
	ck_assert_uint_eq(r.last_seen, 400);
	ck_assert_uint_eq(r.seen_count, 5);
	ck_assert_uint_eq(r.slot, 2);
	ck_assert_uint_eq(r.other_sha256[31], 0xab);
	ck_assert_uint_eq(r.nkeys, 2);
	ck_assert_uint_eq(r.keys[1].subject_hash, 0x55667788);
	ck_assert_uint_eq(r.keys[1].sha256[0], 9);
	ck_assert_uint_eq(r.der_len, 6);
	ck_assert_int_eq(memcmp(r.der, "DERDER", 6), 0);
	ck_assert_int_eq(store_get(txn, STORE_ROOTS, "c.pem", &r), -ENOENT);
	store_txn_abort(txn);
}
END_TEST

START_TEST(test_indexes_follow)
{
	struct store_key k1 = { { 1 }, 7 }, k2 = { { 2 }, 8 };
	struct store_txn *txn;
	struct hits h;
	struct put_args a;

	put(STORE_ROOTS, "r.pem", rec_of("x", 1, &k1, 1));
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	h = (struct hits){ 0 };
	ck_assert_int_eq(store_find_sha256(txn, k1.sha256, hit_cb, &h), 0);
	ck_assert_int_eq(h.n, 1);
	ck_assert_int_eq(h.db, STORE_ROOTS);
	ck_assert_str_eq(h.name, "r.pem");
	h = (struct hits){ 0 };
	ck_assert_int_eq(store_find_subject(txn, 7, hit_cb, &h), 0);
	ck_assert_int_eq(h.n, 1);
	store_txn_abort(txn);

	/* Replacing moves the index entries. */
	put(STORE_ROOTS, "r.pem", rec_of("y", 1, &k2, 1));
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	h = (struct hits){ 0 };
	store_find_sha256(txn, k1.sha256, hit_cb, &h);
	ck_assert_int_eq(h.n, 0);
	store_find_subject(txn, 7, hit_cb, &h);
	ck_assert_int_eq(h.n, 0);
	store_find_subject(txn, 8, hit_cb, &h);
	ck_assert_int_eq(h.n, 1);
	store_txn_abort(txn);

	/* Deleting drops them. */
	ck_assert_int_eq(store_txn_begin(st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_del(txn, STORE_ROOTS, "r.pem"), 0);
	ck_assert_int_eq(store_del(txn, STORE_ROOTS, "r.pem"), -ENOENT);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	h = (struct hits){ 0 };
	store_find_subject(txn, 8, hit_cb, &h);
	ck_assert_int_eq(h.n, 0);
	store_txn_abort(txn);
	(void)a;
}
END_TEST

static int
collect_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s,", name);
	return strcmp(name, "c") == 0 ? 42 : 0;
}

START_TEST(test_foreach_count)
{
	struct store_txn *txn;
	struct buf b = { 0 };
	size_t n;

	put(STORE_PINNED, "d", rec_of("1", 1, keys2, 1));
	put(STORE_PINNED, "b", rec_of("1", 1, keys2, 1));
	put(STORE_PINNED, "a", rec_of("1", 1, keys2, 1));
	put(STORE_PINNED, "c", rec_of("1", 1, keys2, 1));
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_count(txn, STORE_PINNED, &n), 0);
	ck_assert_uint_eq(n, 4);
	/* Name order, and the callback's non-zero return stops the walk. */
	ck_assert_int_eq(store_foreach(txn, STORE_PINNED, collect_cb, &b), 42);
	ck_assert_str_eq(b.data, "a,b,c,");
	store_txn_abort(txn);
	buf_free(&b);
}
END_TEST

static int
fail_txn(struct store_txn *txn, void *arg)
{
	struct store_rec r = rec_of("z", 1, keys2, 1);

	ck_assert_int_eq(store_put(txn, STORE_ROOTS, "half.pem", &r), 0);
	return -EINVAL;
}

START_TEST(test_write_all_or_nothing)
{
	struct store_txn *txn;
	struct store_rec r;

	ck_assert_int_eq(store_write(st, fail_txn, NULL, NULL), -EINVAL);
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_ROOTS, "half.pem", &r), -ENOENT);
	store_txn_abort(txn);
}
END_TEST

/* The map grows past its first 10 MiB instead of failing. */
struct big_args {
	int from, to;
	unsigned char *blob;
};

static int
big_txn(struct store_txn *txn, void *arg)
{
	struct big_args *a = arg;
	struct store_key k = { { 0 }, 1 };
	struct store_rec r;
	char name[32];
	int i, rc = 0;

	for (i = a->from; i < a->to && rc == 0; i++) {
		snprintf(name, sizeof(name), "r%05d.pem", i);
		memcpy(k.sha256, &i, sizeof(i));
		r = rec_of(a->blob, 100000, &k, 1);
		rc = store_put(txn, STORE_ROOTS, name, &r);
	}
	return rc;
}

START_TEST(test_map_grows)
{
	struct big_args a = { 0, 150, calloc(1, 100000) };
	struct store_txn *txn;
	struct store_rec r;
	size_t n;
	int i;

	/* 15 MB in one transaction, then 15 MB more in many. */
	ck_assert_int_eq(store_write(st, big_txn, &a, NULL), 0);
	for (i = 150; i < 300; i += 10) {
		a.from = i;
		a.to = i + 10;
		ck_assert_int_eq(store_write(st, big_txn, &a, NULL), 0);
	}
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_count(txn, STORE_ROOTS, &n), 0);
	ck_assert_uint_eq(n, 300);
	ck_assert_int_eq(store_get(txn, STORE_ROOTS, "r00299.pem", &r), 0);
	ck_assert_uint_eq(r.der_len, 100000);
	store_txn_abort(txn);
	free(a.blob);
}
END_TEST

START_TEST(test_persist_and_generation)
{
	struct store *other;
	struct store_txn *txn;
	struct store_rec r;
	struct tf_error te = { 0 };
	uint64_t g0, g1;

	ck_assert_int_eq(store_open(dir, 0, &other, &te), 0);
	g0 = store_generation(other);
	put(STORE_PINNED, "h_1", rec_of("p", 1, keys2, 1));
	g1 = store_generation(other);
	ck_assert_msg(g1 > g0, "a second handle sees the commit");
	ck_assert_int_eq(store_txn_begin(other, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, "h_1", &r), 0);
	store_txn_abort(txn);
	store_close(other);
	store_close(st);
	ck_assert_int_eq(store_open(dir, 0, &st, &te), 0);
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, "h_1", &r), 0);
	store_txn_abort(txn);
}
END_TEST

START_TEST(test_schema_too_new)
{
	struct store_txn *txn;
	struct tf_error te = { 0 };
	char *err = te.msg;

	ck_assert_int_eq(store_txn_begin(st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_meta_put(txn, "schema", "99", 2), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(store_open(dir, 0, &st, &te),
	    -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "schema version 99"));
}
END_TEST

START_TEST(test_readonly)
{
	struct store *ro;
	struct store_txn *txn;
	struct store_rec r = rec_of("x", 1, keys2, 1);
	struct tf_error te = { 0 };

	put(STORE_ROOTS, "a.pem", r);
	ck_assert_int_eq(store_open(dir, STORE_RDONLY, &ro, &te),
	    0);
	ck_assert_int_eq(store_txn_begin(ro, 1, &txn, NULL), -EROFS);
	ck_assert_int_eq(store_txn_begin(ro, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_put(txn, STORE_ROOTS, "b.pem", &r), -EROFS);
	ck_assert_int_eq(store_meta_put(txn, "k", "v", 1), -EROFS);
	store_txn_abort(txn);
	store_close(ro);
}
END_TEST

START_TEST(test_names)
{
	struct store_txn *txn;
	struct store_rec r = rec_of("x", 1, keys2, 1), out;
	char longname[300];

	memset(longname, 'a', 256);
	longname[256] = '\0';
	ck_assert_int_eq(store_txn_begin(st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_put(txn, STORE_ROOTS, longname, &r),
	    -ENAMETOOLONG);
	ck_assert_int_eq(store_get(txn, STORE_ROOTS, longname, &out),
	    -ENAMETOOLONG);
	ck_assert_int_eq(store_put(txn, STORE_ROOTS, "", &r), -EINVAL);
	store_txn_abort(txn);
}
END_TEST

START_TEST(test_meta)
{
	struct store_txn *txn;
	char *v;
	size_t len;

	ck_assert_int_eq(store_txn_begin(st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_meta_get(txn, "policy", &v, &len), -ENOENT);
	ck_assert_int_eq(store_meta_put(txn, "policy", "* tofu\n", 7), 0);
	ck_assert_int_eq(store_meta_get(txn, "policy", &v, &len), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(v, "* tofu\n");
	free(v);
	ck_assert_int_eq(store_txn_commit(txn), 0);
}
END_TEST

static int
line_cb(const char *line, size_t len, void *arg)
{
	struct buf *b = arg;

	buf_append(b, line, len);
	buf_puts(b, "|");
	return 0;
}

START_TEST(test_audit_bounded)
{
	struct store_txn *txn;
	struct buf b = { 0 };
	char line[32];
	int i;

	ck_assert_int_eq(store_txn_begin(st, 1, &txn, NULL), 0);
	for (i = 1; i <= 7; i++) {
		snprintf(line, sizeof(line), "l%d", i);
		ck_assert_int_eq(store_audit_append(txn, line, 3), 0);
	}
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_audit_foreach(txn, line_cb, &b), 0);
	ck_assert_str_eq(b.data, "l5|l6|l7|");	/* oldest dropped, in order */
	store_txn_abort(txn);
	buf_free(&b);
}
END_TEST

START_TEST(test_backup)
{
	struct store *copy;
	struct store_txn *txn;
	struct store_rec r;
	struct tf_error te = { 0 };
	char path[4200];

	put(STORE_ROOTS, "a.pem", rec_of("abc", 3, keys2, 2));
	snprintf(path, sizeof(path), "%s/backup", dir);
	ck_assert_int_eq(store_backup(st, path, NULL), 0);
	ck_assert_int_eq(store_open(path, 0, &copy, &te), 0);
	ck_assert_int_eq(store_txn_begin(copy, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_ROOTS, "a.pem", &r), 0);
	ck_assert_int_eq(memcmp(r.der, "abc", 3), 0);
	store_txn_abort(txn);
	store_close(copy);
}
END_TEST

START_TEST(test_modes)
{
	struct stat sb;
	struct tf_error te = { 0 };
	char path[4200];
	struct store *g;

	ck_assert_int_eq(stat(dir, &sb), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/grp", dir);
	ck_assert_int_eq(store_open(path, STORE_GROUP, &g, &te),
	    0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0750);
	store_close(g);
	snprintf(path, sizeof(path), "%s/grp/data.mdb", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0640);
	snprintf(path, sizeof(path), "%s/none", dir);
	ck_assert_int_eq(store_open(path, STORE_NOCREATE, &g, &te), -ENOENT);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("store");
	int rc;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_indexes_follow);
	tcase_add_test(tc, test_foreach_count);
	tcase_add_test(tc, test_write_all_or_nothing);
	tcase_add_test(tc, test_map_grows);
	tcase_add_test(tc, test_persist_and_generation);
	tcase_add_test(tc, test_schema_too_new);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_meta);
	tcase_add_test(tc, test_audit_bounded);
	tcase_add_test(tc, test_backup);
	tcase_add_test(tc, test_modes);
	rc = tu_run("store", tc, 0);
	return rc;
}
