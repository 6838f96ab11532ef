/*
 * trustfs_pin_bulk(): many pins at once (a migration from known_hosts, a
 * fleet's list), through the rules every pin follows (entry_add), in
 * large transactions instead of one per pin (issue 9).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "entry.h"
#include "handle.h"
#include "names.h"

extern char *program_invocation_short_name;

/* Pins per transaction: large enough that a commit's fsync is paid
 * rarely, small enough that a transaction's dirty pages stay in LMDB's
 * list (about 128k pages) without spilling. */
#define BULK_BATCH 10000

struct bulk {
	struct trustfs_pin_item *items;
	size_t from, to;
	struct entry_actor who;
	struct tf_error err;
};

static int
bulk_one(struct store_txn *txn, struct bulk *b, struct trustfs_pin_item *it)
{
	struct entry_result res;
	struct tf_error e = { 0 };
	STACK_OF(X509) *one = NULL;
	char name[NAME_MAX_BYTES + 1];
	int rc;

	it->done = 0;
	it->error = 0;
	it->result = TRUSTFS_PIN_REFUSED;
	if (it->host == NULL || it->cert == NULL || it->port == 0 ||
	    it->port > 65535 || name_host_port_make(it->host, it->port, name,
	    sizeof(name)) != 0) {
		it->error = EINVAL;
		return 0;
	}
	one = sk_X509_new_null();
	if (one == NULL || !sk_X509_push(one, it->cert)) {
		sk_X509_free(one);
		return tf_error_set(&b->err, -ENOMEM, "pinning %s", name);
	}
	X509_up_ref(it->cert);
	/* No ENTRY_REPLACE: a host pinned to something else keeps it. */
	rc = entry_add(txn, STORE_PINNED, name, one, 0, &b->who, &res, &e);
	sk_X509_pop_free(one, X509_free);
	if (rc == -EEXIST) {
		it->result = TRUSTFS_PIN_REFUSED;
		return 0;
	}
	if (rc == -EINVAL || rc == -ENAMETOOLONG) {
		/* Nothing written for it: the next one goes on. */
		it->error = -rc;
		return 0;
	}
	if (rc != 0) {
		tf_error_setx(&b->err, rc, "pinning %s: %s", name,
		    tf_error_msg(&e));
		return rc;
	}
	it->result = res.outcome == ENTRY_UNCHANGED ? TRUSTFS_PIN_UNCHANGED :
	    TRUSTFS_PIN_ADDED;
	return 0;
}

static int
bulk_txn(struct store_txn *txn, void *arg)
{
	struct bulk *b = arg;
	size_t i;
	int rc = 0;

	for (i = b->from; i < b->to && rc == 0; i++)
		rc = bulk_one(txn, b, &b->items[i]);
	return rc;
}

int
trustfs_pin_bulk(struct trustfs *t, struct trustfs_pin_item *items,
    size_t n, unsigned int flags)
{
	struct bulk b = { .items = items };
	size_t i, j;
	int rc;

	if (t == NULL)
		return -1;
	if (t->st == NULL) {
		trustfs_set_errorx(t, "%s", t->err.msg[0] ? t->err.msg :
		    "the store is not open");
		return -1;
	}
	if ((items == NULL && n > 0) || flags != 0) {
		trustfs_set_errorx(t, "trustfs_pin_bulk: %s", flags != 0 ?
		    "unknown flags" : "no items");
		return -1;
	}
	for (i = 0; i < n; i++)
		items[i].done = 0;
	b.who.uid = getuid();
	b.who.pid = getpid();
	b.who.comm = program_invocation_short_name;
	for (i = 0; i < n; i += BULK_BATCH) {
		b.from = i;
		b.to = n - i > BULK_BATCH ? i + BULK_BATCH : n;
		memset(&b.err, 0, sizeof(b.err));
		rc = store_write(t->st, bulk_txn, &b, &b.err);
		if (rc != 0) {
			trustfs_set_errorx(t, "%s", b.err.msg[0] ? b.err.msg :
			    "the store could not be written");
			return -1;
		}
		/* Committed: what this batch did is now so. */
		for (j = b.from; j < b.to; j++)
			items[j].done = 1;
	}
	return 0;
}
