/* The fleet's outbox in store.c (issue 11): in cluster mode every change
 * of an entry's certificates, and of the policy, is queued in the same
 * transaction; a sighting, a transaction marked outbox-off, an aborted
 * transaction and a store outside the fleet queue nothing. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "testutil.h"

static char *dir;
static struct store *st;

static void
setup(void)
{
	struct tf_error te = { 0 };

	dir = tu_mkdtemp();
	ck_assert_msg(store_open(dir, 0, &st, &te) == 0, "%s", te.msg);
}

static void
teardown(void)
{
	store_close(st);
	tu_rmrf(dir);
	free(dir);
}

static const struct store_key key1 = { { 1, 2, 3 }, 0x11223344 };
static const struct store_key key2 = { { 4, 5, 6 }, 0x55667788 };

static struct store_rec
rec_of(const char *der, const struct store_key *k, uint64_t seen)
{
	struct store_rec r = { 0 };

	r.ctime = r.mtime = r.first_seen = 100;
	r.last_seen = 100 + seen;
	r.seen_count = seen;
	r.keys = k;
	r.nkeys = 1;
	r.der = (const unsigned char *)der;
	r.der_len = strlen(der);
	return r;
}

static struct store_txn *
begin(void)
{
	struct store_txn *txn = NULL;

	ck_assert_int_eq(store_txn_begin(st, 1, &txn, NULL), 0);
	return txn;
}

static void
commit(struct store_txn *txn)
{
	ck_assert_int_eq(store_txn_commit(txn), 0);
}

static void
cluster(const char *node)
{
	struct store_txn *txn = begin();

	ck_assert_int_eq(store_cluster_set(txn, node), 0);
	commit(txn);
}

/* The queued keys, in order, joined by spaces. */
struct keys {
	char text[4096];
	uint64_t last;
	int ordered;
};

static int
key_cb(uint64_t seq, const char *key, void *arg)
{
	struct keys *k = arg;

	if (seq <= k->last)
		k->ordered = 0;
	k->last = seq;
	snprintf(k->text + strlen(k->text), sizeof(k->text) - strlen(k->text),
	    "%s%s", k->text[0] ? " " : "", key);
	return 0;
}

static const char *
queued(void)
{
	static struct keys k;
	struct store_txn *txn = NULL;
	size_t n = 0, words = 0;
	const char *p;

	memset(&k, 0, sizeof(k));
	k.ordered = 1;
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_outbox_foreach(txn, key_cb, &k), 0);
	ck_assert_int_eq(store_outbox_count(txn, &n), 0);
	store_txn_abort(txn);
	ck_assert_msg(k.ordered, "the outbox is walked in SEQ order");
	for (p = k.text; *p; p++)
		words += *p == ' ';
	ck_assert_uint_eq(n, k.text[0] ? words + 1 : 0);
	return k.text;
}

static void
put(enum store_db db, const char *name, const struct store_rec *r)
{
	struct store_txn *txn = begin();

	ck_assert_int_eq(store_put(txn, db, name, r), 0);
	commit(txn);
}

START_TEST(test_not_in_fleet)
{
	struct store_rec r = rec_of("cert-one", &key1, 1);
	struct store_txn *txn;

	put(STORE_ROOTS, "A.pem", &r);
	txn = begin();
	ck_assert_int_eq(store_meta_put(txn, "policy", "* tofu\n", 7), 0);
	commit(txn);
	ck_assert_str_eq(queued(), "");
}
END_TEST

START_TEST(test_changes_queued)
{
	struct store_rec r = rec_of("cert-one", &key1, 1);
	struct store_rec seen = rec_of("cert-one", &key1, 7);
	struct store_rec other = rec_of("cert-two", &key2, 1);
	struct store_txn *txn;

	cluster("a");
	put(STORE_PINNED, "h.test_443", &r);
	ck_assert_str_eq(queued(), "pinned/h.test_443");
	/* A sighting changes counters only: nothing for the fleet. */
	put(STORE_PINNED, "h.test_443", &seen);
	ck_assert_str_eq(queued(), "pinned/h.test_443");
	/* Another certificate is a change. */
	put(STORE_PINNED, "h.test_443", &other);
	ck_assert_str_eq(queued(), "pinned/h.test_443 pinned/h.test_443");
	put(STORE_ROOTS, "R.pem", &r);
	txn = begin();
	ck_assert_int_eq(store_del(txn, STORE_PINNED, "h.test_443"), 0);
	ck_assert_int_eq(store_meta_put(txn, "policy", "* chain\n", 8), 0);
	ck_assert_int_eq(store_meta_put(txn, "not-shared", "x", 1), 0);
	commit(txn);
	ck_assert_str_eq(queued(), "pinned/h.test_443 pinned/h.test_443 "
	    "roots/R.pem pinned/h.test_443 policy");
}
END_TEST

START_TEST(test_same_transaction)
{
	struct store_rec r = rec_of("cert-one", &key1, 1);
	struct store_txn *txn;

	cluster("a");
	/* An aborted change leaves no outbox record behind it. */
	txn = begin();
	ck_assert_int_eq(store_put(txn, STORE_ROOTS, "A.pem", &r), 0);
	store_txn_abort(txn);
	ck_assert_str_eq(queued(), "");
	/* What the sync thread applies from etcd is not queued again. */
	txn = begin();
	store_txn_outbox_off(txn);
	ck_assert_int_eq(store_put(txn, STORE_ROOTS, "B.pem", &r), 0);
	ck_assert_int_eq(store_meta_put(txn, "policy", "* tofu\n", 7), 0);
	commit(txn);
	ck_assert_str_eq(queued(), "");
	/* The mark lasts one transaction. */
	put(STORE_ROOTS, "C.pem", &r);
	ck_assert_str_eq(queued(), "roots/C.pem");
}
END_TEST

static int
first_seq(uint64_t seq, const char *key, void *arg)
{
	*(uint64_t *)arg = seq;
	(void)key;
	return 1;
}

START_TEST(test_push_and_leave)
{
	struct store_rec r = rec_of("cert-one", &key1, 1);
	struct store_txn *txn;
	uint64_t seq = 0, rev = 99;

	cluster("a");
	put(STORE_ROOTS, "A.pem", &r);
	put(STORE_DISTRUSTED, "B.pem", &r);
	/* Pushed: the pusher deletes what etcd took, oldest first. */
	txn = begin();
	ck_assert_int_eq(store_outbox_foreach(txn, first_seq, &seq), 1);
	ck_assert_int_eq(store_outbox_del(txn, seq), 0);
	ck_assert_int_eq(store_outbox_del(txn, seq), 0);	/* gone: 0 */
	ck_assert_int_eq(store_cluster_rev_put(txn, "roots/A.pem", 42), 0);
	commit(txn);
	ck_assert_str_eq(queued(), "distrusted/B.pem");
	txn = NULL;
	ck_assert_int_eq(store_txn_begin(st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_cluster_rev_get(txn, "roots/A.pem", &rev), 0);
	ck_assert_uint_eq(rev, 42);
	ck_assert_int_eq(store_cluster_rev_get(txn, "roots/none.pem", &rev),
	    0);
	ck_assert_uint_eq(rev, 0);
	store_txn_abort(txn);
	/* Out of the fleet: changes are no longer queued. */
	cluster(NULL);
	put(STORE_ROOTS, "C.pem", &r);
	ck_assert_str_eq(queued(), "distrusted/B.pem");
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("outbox");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_not_in_fleet);
	tcase_add_test(tc, test_changes_queued);
	tcase_add_test(tc, test_same_transaction);
	tcase_add_test(tc, test_push_and_leave);
	return tu_run("outbox", tc, 0);
}
