/*
 * trustfs_pin_bulk(): many pins in one call, under the rules of one pin
 * (issue 9).  New hosts are added, the same certificate again is
 * unchanged, a host pinned to another certificate keeps it, bad hosts and
 * ports and missing certificates are refused one by one while the rest
 * goes on, bad arguments fail the call, more than one transaction's worth
 * is all committed, and every pin has its audit line and its place in the
 * expiry index.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "handle.h"
#include "store.h"
#include "testutil.h"
#include "trustfs.h"

static X509 *cert_a, *cert_b;
static EVP_PKEY *key;
static char *dir;

static void
setup(void)
{
	dir = tu_mkdtemp();
}

static void
teardown(void)
{
	tu_rmrf(dir);
	free(dir);
}

static size_t
count(struct trustfs *t, enum store_db db)
{
	struct store_txn *txn = NULL;
	size_t n = 0;

	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_count(txn, db, &n), 0);
	store_txn_abort(txn);
	return n;
}

static int
audit_cb(const char *line, size_t len, void *arg)
{
	(void)line;
	(void)len;
	(*(size_t *)arg)++;
	return 0;
}

START_TEST(test_outcomes)
{
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_pin_item it[] = {
		{ .host = "a.test", .port = 443, .cert = cert_a },
		{ .host = "B.Test", .port = 8443, .cert = cert_b },
		{ .host = "[2001:db8::1]", .port = 443, .cert = cert_a },
		{ .host = "bad host", .port = 443, .cert = cert_a },
		{ .host = "c.test", .port = 0, .cert = cert_a },
		{ .host = "c.test", .port = 70000, .cert = cert_a },
		{ .host = "d.test", .port = 443, .cert = NULL },
		{ .host = NULL, .port = 443, .cert = cert_a },
	};
	struct trustfs_pin_item again[] = {
		{ .host = "a.test", .port = 443, .cert = cert_a },
		{ .host = "b.test", .port = 8443, .cert = cert_a },
	};
	struct store_txn *txn = NULL;
	struct store_info info;
	size_t i, lines = 0;

	ck_assert_ptr_null(trustfs_error(t));
	ck_assert_int_eq(trustfs_pin_bulk(t, it, 8, 0), 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(it[i].done, 1);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(it[i].error, 0);
		ck_assert_int_eq(it[i].result, TRUSTFS_PIN_ADDED);
	}
	for (i = 3; i < 8; i++)
		ck_assert_int_eq(it[i].error, EINVAL);
	ck_assert_uint_eq(count(t, STORE_PINNED), 3);

	/* The same certificate: unchanged; another one: the pin stays. */
	ck_assert_int_eq(trustfs_pin_bulk(t, again, 2, 0), 0);
	ck_assert_int_eq(again[0].result, TRUSTFS_PIN_UNCHANGED);
	ck_assert_int_eq(again[1].error, 0);
	ck_assert_int_eq(again[1].result, TRUSTFS_PIN_REFUSED);
	ck_assert_uint_eq(count(t, STORE_PINNED), 3);

	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	/* One audit line per pin added, none for the others. */
	ck_assert_int_eq(store_audit_foreach(txn, audit_cb, &lines), 0);
	ck_assert_uint_eq(lines, 3);
	/* Normalized names, each in the expiry index. */
	ck_assert_int_eq(store_info_get(txn, STORE_PINNED, "b.test_8443",
	    &info), 0);
	ck_assert_int_eq(store_info_get(txn, STORE_PINNED, "2001:db8::1_443",
	    &info), 0);
	ck_assert_uint_ne(info.text_base, 0);
	store_txn_abort(txn);
	trustfs_free(t);
}
END_TEST

START_TEST(test_bad_calls)
{
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_pin_item it = { .host = "a.test", .port = 443,
	    .cert = cert_a };

	ck_assert_int_eq(trustfs_pin_bulk(t, &it, 1, 1), -1);
	ck_assert_ptr_nonnull(trustfs_error(t));
	ck_assert_int_eq(trustfs_pin_bulk(t, NULL, 1, 0), -1);
	ck_assert_int_eq(trustfs_pin_bulk(t, NULL, 0, 0), 0);
	ck_assert_int_eq(trustfs_pin_bulk(NULL, &it, 1, 0), -1);
	ck_assert_uint_eq(count(t, STORE_PINNED), 0);
	trustfs_free(t);
}
END_TEST

/* A read-only store: -1, nothing done. */
START_TEST(test_read_only)
{
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_pin_item it = { .host = "a.test", .port = 443,
	    .cert = cert_a };

	trustfs_free(t);
	t = trustfs_open_flags(dir, STORE_RDONLY);
	ck_assert_int_eq(trustfs_pin_bulk(t, &it, 1, 0), -1);
	ck_assert_int_eq(it.done, 0);
	ck_assert_ptr_nonnull(trustfs_error(t));
	trustfs_free(t);
}
END_TEST

/* More than one transaction's worth (10,000 a transaction). */
START_TEST(test_batches)
{
	enum { N = 10050 };
	static struct trustfs_pin_item it[N];
	static char hosts[N][32];
	struct trustfs *t = trustfs_open(dir);
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(hosts[i], sizeof(hosts[i]), "h%05zu.test", i);
		it[i] = (struct trustfs_pin_item){ .host = hosts[i],
		    .port = 443, .cert = cert_a };
	}
	ck_assert_int_eq(trustfs_pin_bulk(t, it, N, 0), 0);
	for (i = 0; i < N; i++)
		ck_assert(it[i].done && it[i].error == 0 &&
		    it[i].result == TRUSTFS_PIN_ADDED);
	ck_assert_uint_eq(count(t, STORE_PINNED), N);
	trustfs_free(t);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("bulk");
	struct gencert_opts o = { .cn = "bulk.test", .san = "DNS:bulk.test" };
	int rc;

	cert_a = tu_make_cert(&o, &key);
	o.key = key;
	cert_b = tu_make_cert(&o, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_bad_calls);
	tcase_add_test(tc, test_read_only);
	tcase_add_test(tc, test_batches);
	rc = tu_run("bulk", tc, 1);
	X509_free(cert_a);
	X509_free(cert_b);
	EVP_PKEY_free(key);
	return rc;
}
