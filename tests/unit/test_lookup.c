/*
 * lookup.c: the X509_LOOKUP that finds roots/ by subject over the store's
 * index, as a program sees it through trustfs_x509_store() and
 * X509_verify_cert(): which roots are found, which are not, what a change
 * to the store does to a store made before it, and that the X509_STORE
 * outlives the handle (issue 8 defect 6).  Each case on a fresh store;
 * each test in its own process, so that a use after free fails one test.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "entry.h"
#include "error.h"
#include "handle.h"
#include "store.h"
#include "testutil.h"
#include "trustfs.h"

enum cid {
	C_NONE = 0,
	C_RA,		/* root "Unit Root A" */
	C_RA2,		/* the same subject, a new key (rollover) */
	C_RB,		/* root "Unit Root B" */
	C_INT,		/* intermediate issued by C_RA */
	C_LEAF,		/* server.test, issued by C_INT */
	C_LEAF2,	/* server.test, issued by C_RA2 */
	C_LEAFB,	/* server.test, issued by C_RB */
	C_N
};
static X509 *cert[C_N];
static EVP_PKEY *key[C_N];

#define NO_ISSUER "unable to get local issuer certificate"

static char *dir;
static struct trustfs *t;

static void
make_certs(void)
{
	struct gencert_opts o;

	o = (struct gencert_opts){ .cn = "Unit Root A", .is_ca = 1,
	    .not_before = -86400 };
	cert[C_RA] = tu_make_cert(&o, &key[C_RA]);
	cert[C_RA2] = tu_make_cert(&o, &key[C_RA2]);
	o.cn = "Unit Root B";
	cert[C_RB] = tu_make_cert(&o, &key[C_RB]);
	o = (struct gencert_opts){ .cn = "Unit Intermediate", .is_ca = 1,
	    .issuer = cert[C_RA], .issuer_key = key[C_RA],
	    .not_before = -86400 };
	cert[C_INT] = tu_make_cert(&o, &key[C_INT]);
	o = (struct gencert_opts){ .cn = "server.test", .issuer = cert[C_INT],
	    .issuer_key = key[C_INT], .san = "DNS:server.test",
	    .not_before = -86400 };
	cert[C_LEAF] = tu_make_cert(&o, NULL);
	o.issuer = cert[C_RA2];
	o.issuer_key = key[C_RA2];
	cert[C_LEAF2] = tu_make_cert(&o, NULL);
	o.issuer = cert[C_RB];
	o.issuer_key = key[C_RB];
	cert[C_LEAFB] = tu_make_cert(&o, NULL);
}

static void
free_certs(void)
{
	int i;

	for (i = 0; i < C_N; i++) {
		X509_free(cert[i]);
		EVP_PKEY_free(key[i]);
	}
}

static void
setup(void)
{
	dir = tu_mkdtemp();
	t = trustfs_open(dir);
	ck_assert_ptr_nonnull(t);
	ck_assert_msg(trustfs_error(t) == NULL, "%s", trustfs_error(t));
}

static void
teardown(void)
{
	trustfs_free(t);	/* NULL after a test freed it itself */
	tu_rmrf(dir);
	free(dir);
}

/* One change to the store through entry.c, as the daemon makes it. */
enum op { OP_ADD, OP_REPLACE, OP_REMOVE, OP_DISTRUST };
struct change {
	enum op op;
	enum store_db db;
	const char *name;
	enum cid c;
};

static int
change_txn(struct store_txn *txn, void *arg)
{
	const struct change *ch = arg;
	STACK_OF(X509) *sk;
	struct entry_result res;
	int rc;

	switch (ch->op) {
	case OP_REMOVE:
		return entry_remove(txn, ch->db, ch->name, NULL);
	case OP_DISTRUST:
		return entry_rename(txn, STORE_ROOTS, ch->name,
		    STORE_DISTRUSTED, ch->name, 0, NULL, NULL);
	default:
		sk = tu_stack(cert[ch->c], NULL);
		rc = entry_add(txn, ch->db, ch->name, sk,
		    ch->op == OP_REPLACE ? ENTRY_REPLACE : 0, NULL, &res, NULL);
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
}

static void
change(struct trustfs *h, enum op op, enum store_db db, const char *name,
    enum cid c)
{
	struct change ch = { op, db, name, c };
	struct tf_error e = { 0 };

	ck_assert_msg(store_write(h->st, change_txn, &ch, &e) == 0,
	    "%s %s: %s", entry_db_dir(db), name, tf_error_msg(&e));
}

/*
 * Verifies leaf, with inter (C_NONE: none) as an untrusted intermediate,
 * against xs.  Returns X509_verify_cert()'s answer; *err gets OpenSSL's
 * words for a failure and *top the trust anchor of the chain it built.
 */
static int
verify(X509_STORE *xs, enum cid leaf, enum cid inter, const char **err,
    X509 **top)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = inter != C_NONE ?
	    tu_stack(cert[inter], NULL) : NULL;
	STACK_OF(X509) *chain;
	int ok;

	ck_assert_ptr_nonnull(ctx);
	ck_assert(X509_STORE_CTX_init(ctx, xs, cert[leaf], untrusted));
	ok = X509_verify_cert(ctx);
	*err = ok == 1 ? NULL :
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
	*top = NULL;
	chain = X509_STORE_CTX_get0_chain(ctx);
	if (ok == 1 && chain != NULL && sk_X509_num(chain) > 0) {
		*top = sk_X509_value(chain, sk_X509_num(chain) - 1);
		X509_up_ref(*top);
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	return ok;
}

/* Verifies and checks the answer in one step. */
static void
expect(X509_STORE *xs, enum cid leaf, enum cid inter, int want_ok,
    enum cid want_top, const char *what)
{
	const char *err;
	X509 *top;
	int ok = verify(xs, leaf, inter, &err, &top);

	ck_assert_msg(ok == want_ok, "%s: X509_verify_cert %d (%s), want %d",
	    what, ok, err ? err : "ok", want_ok);
	if (ok == 1 && want_top != C_NONE)
		ck_assert_msg(X509_cmp(top, cert[want_top]) == 0,
		    "%s: anchored in the wrong root", what);
	if (ok != 1)
		ck_assert_msg(strcmp(err, NO_ISSUER) == 0, "%s: '%s'", what,
		    err);
	X509_free(top);
}

struct ent {
	enum store_db db;
	const char *name;
	enum cid c;
};

static const struct {
	const char *what;
	struct ent pre[3];
	enum cid leaf, inter;
	int want_ok;
	enum cid want_top;
} cases[] = {
	{ "a root is found by subject", { { STORE_ROOTS, "A.pem", C_RA } },
	    C_LEAF, C_INT, 1, C_RA },
	{ "a root issuing the leaf itself", { { STORE_ROOTS, "B.pem",
	    C_RB } }, C_LEAFB, C_NONE, 1, C_RB },
	{ "rollover: the old key's chain", { { STORE_ROOTS, "A.pem", C_RA },
	    { STORE_ROOTS, "A_2.pem", C_RA2 } }, C_LEAF, C_INT, 1, C_RA },
	{ "rollover: the new key's chain", { { STORE_ROOTS, "A.pem", C_RA },
	    { STORE_ROOTS, "A_2.pem", C_RA2 } }, C_LEAF2, C_NONE, 1, C_RA2 },
	{ "rollover, names the other way: old key", { { STORE_ROOTS,
	    "A.pem", C_RA2 }, { STORE_ROOTS, "A_2.pem", C_RA } }, C_LEAF,
	    C_INT, 1, C_RA },
	{ "rollover, names the other way: new key", { { STORE_ROOTS,
	    "A.pem", C_RA2 }, { STORE_ROOTS, "A_2.pem", C_RA } }, C_LEAF2,
	    C_NONE, 1, C_RA2 },
	{ "rollover, three roots", { { STORE_ROOTS, "B.pem", C_RB },
	    { STORE_ROOTS, "A.pem", C_RA2 }, { STORE_ROOTS, "A_2.pem",
	    C_RA } }, C_LEAF, C_INT, 1, C_RA },
	{ "only the new key stored: the old chain fails", { { STORE_ROOTS,
	    "A.pem", C_RA2 } }, C_LEAF, C_INT, 0, C_NONE },
	{ "a distrusted root is not used", { { STORE_DISTRUSTED, "A.pem",
	    C_RA } }, C_LEAF, C_INT, 0, C_NONE },
	{ "distrusted old key, trusted new key: the old chain fails", {
	    { STORE_DISTRUSTED, "A.pem", C_RA },
	    { STORE_ROOTS, "A_2.pem", C_RA2 } }, C_LEAF, C_INT, 0, C_NONE },
	{ "a root in chains/ is no anchor", { { STORE_CHAINS, "A.pem",
	    C_RA } }, C_LEAF, C_INT, 0, C_NONE },
	{ "a pinned root is no anchor", { { STORE_PINNED, "h_443", C_RA } },
	    C_LEAF, C_INT, 0, C_NONE },
	{ "another root only", { { STORE_ROOTS, "B.pem", C_RB } }, C_LEAF,
	    C_INT, 0, C_NONE },
	{ "an empty store finds nothing", { { 0 } }, C_LEAF, C_INT, 0,
	    C_NONE },
};

START_TEST(test_case)
{
	X509_STORE *xs;
	int i;

	for (i = 0; i < 3 && cases[_i].pre[i].c != C_NONE; i++)
		change(t, OP_ADD, cases[_i].pre[i].db, cases[_i].pre[i].name,
		    cases[_i].pre[i].c);
	xs = trustfs_x509_store(t);
	ck_assert_ptr_nonnull(xs);
	expect(xs, cases[_i].leaf, cases[_i].inter, cases[_i].want_ok,
	    cases[_i].want_top, cases[_i].what);
	/* The same again: whatever the store keeps from the first look-up
	 * gives the same answer. */
	expect(xs, cases[_i].leaf, cases[_i].inter, cases[_i].want_ok,
	    cases[_i].want_top, cases[_i].what);
	X509_STORE_free(xs);
}
END_TEST

/* A root added after the X509_STORE was made is found: nothing is
 * loaded up front and a miss is not remembered. */
START_TEST(test_added_later)
{
	X509_STORE *xs = trustfs_x509_store(t);

	expect(xs, C_LEAF, C_INT, 0, C_NONE, "before the root is added");
	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	expect(xs, C_LEAF, C_INT, 1, C_RA, "after the root is added");
	X509_STORE_free(xs);
}
END_TEST

/*
 * The tests named x509cache_ are about an X509_STORE made before a change
 * to roots/, as a server's SSL_CTX keeps one for its lifetime.  lookup.c
 * adds every root it finds to the X509_STORE's own object cache, and
 * OpenSSL (X509_STORE_CTX_get_by_subject) asks a look-up only when that
 * cache has nothing of the subject, so the store never sees a later
 * change to a subject it has once looked up.
 */

/* A second root of a subject already looked up (a key rollover). */
START_TEST(x509cache_rollover_root_added_later)
{
	X509_STORE *xs = trustfs_x509_store(t);

	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	expect(xs, C_LEAF, C_INT, 1, C_RA, "the first root");
	change(t, OP_ADD, STORE_ROOTS, "A_2.pem", C_RA2);
	expect(xs, C_LEAF2, C_NONE, 1, C_RA2, "a rollover root added later");
	X509_STORE_free(xs);
}
END_TEST

/* A store made after a root was removed does not find it, however
 * recently the root was decoded. */
START_TEST(test_removed_new_store)
{
	X509_STORE *xs = trustfs_x509_store(t);

	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	expect(xs, C_LEAF, C_INT, 1, C_RA, "stored");
	X509_STORE_free(xs);
	change(t, OP_REMOVE, STORE_ROOTS, "A.pem", C_NONE);
	xs = trustfs_x509_store(t);
	expect(xs, C_LEAF, C_INT, 0, C_NONE, "removed");
	X509_STORE_free(xs);
	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	change(t, OP_DISTRUST, STORE_ROOTS, "A.pem", C_NONE);
	xs = trustfs_x509_store(t);
	expect(xs, C_LEAF, C_INT, 0, C_NONE, "moved to distrusted/");
	X509_STORE_free(xs);
}
END_TEST

/* A removed root must stop anchoring chains in a store made before. */
START_TEST(x509cache_removed_root_not_trusted)
{
	X509_STORE *xs = trustfs_x509_store(t);

	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	expect(xs, C_LEAF, C_INT, 1, C_RA, "stored");
	change(t, OP_REMOVE, STORE_ROOTS, "A.pem", C_NONE);
	expect(xs, C_LEAF, C_INT, 0, C_NONE, "removed, store made before");
	X509_STORE_free(xs);
}
END_TEST

/* So must a root moved to distrusted/. */
START_TEST(x509cache_distrusted_root_not_trusted)
{
	X509_STORE *xs = trustfs_x509_store(t);

	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	expect(xs, C_LEAF, C_INT, 1, C_RA, "stored");
	change(t, OP_DISTRUST, STORE_ROOTS, "A.pem", C_NONE);
	expect(xs, C_LEAF, C_INT, 0, C_NONE,
	    "moved to distrusted/, store made before");
	X509_STORE_free(xs);
}
END_TEST

/* The decoded-root cache is shared by every handle of the process: a
 * name that now holds another certificate gives the new one. */
START_TEST(test_root_cache_not_stale)
{
	struct trustfs *t2;
	X509_STORE *xs = trustfs_x509_store(t);

	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	expect(xs, C_LEAF, C_INT, 1, C_RA, "first root");
	X509_STORE_free(xs);
	change(t, OP_REPLACE, STORE_ROOTS, "A.pem", C_RA2);
	t2 = trustfs_open(dir);
	ck_assert_ptr_null(trustfs_error(t2));
	xs = trustfs_x509_store(t2);
	expect(xs, C_LEAF, C_INT, 0, C_NONE, "replaced: the old key");
	expect(xs, C_LEAF2, C_NONE, 1, C_RA2, "replaced: the new key");
	X509_STORE_free(xs);
	/* The change made through one handle is seen by the other. */
	change(t2, OP_REPLACE, STORE_ROOTS, "A.pem", C_RA);
	xs = trustfs_x509_store(t);
	expect(xs, C_LEAF, C_INT, 1, C_RA, "replaced back");
	expect(xs, C_LEAF2, C_NONE, 0, C_NONE, "replaced back: the new key");
	X509_STORE_free(xs);
	trustfs_free(t2);
}
END_TEST

/*
 * Issue 8 defect 6: the X509_STORE is the caller's (X509_STORE_free) and
 * must stay usable after trustfs_free() of the handle that made it.
 */
START_TEST(defect6_store_outlives_handle)
{
	X509_STORE *xs;

	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	xs = trustfs_x509_store(t);
	ck_assert_ptr_nonnull(xs);
	trustfs_free(t);
	t = NULL;
	expect(xs, C_LEAF, C_INT, 1, C_RA, "after trustfs_free");
	expect(xs, C_LEAFB, C_NONE, 0, C_NONE, "a root that is not there");
	X509_STORE_free(xs);
}
END_TEST

/* The same in the SSL_CTX_set_cert_store(3) pattern the header suggests. */
START_TEST(defect6_ssl_ctx_outlives_handle)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE *xs;

	ck_assert_ptr_nonnull(ctx);
	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	xs = trustfs_x509_store(t);
	ck_assert_ptr_nonnull(xs);
	SSL_CTX_set_cert_store(ctx, xs);	/* the SSL_CTX owns it now */
	trustfs_free(t);
	t = NULL;
	expect(SSL_CTX_get_cert_store(ctx), C_LEAF, C_INT, 1, C_RA,
	    "SSL_CTX after trustfs_free");
	SSL_CTX_free(ctx);
}
END_TEST

/*
 * The tests named shared_open_ are about handles sharing one open store
 * per directory (handle.c's shared_open()), which finds the store by
 * realpath(): that is NULL for a directory that does not exist, and the
 * store must then be opened (or fail to open), never taken from another
 * handle.  The fixture's handle is open during both.
 */

/* A store that cannot be opened hands out no X509_STORE. */
START_TEST(shared_open_failed_open_reports)
{
	struct trustfs *bad = trustfs_open("/proc/no/such/store");

	ck_assert_ptr_nonnull(trustfs_error(bad));
	ck_assert_ptr_null(trustfs_x509_store(bad));
	ck_assert_ptr_null(trustfs_x509_store(NULL));
	trustfs_free(bad);
}
END_TEST

/* A handle on a directory that does not exist yet makes its own store
 * there: its X509_STORE must not find the other store's roots. */
START_TEST(shared_open_new_dir_gets_its_own_store)
{
	char path[4200];
	struct trustfs *t2;
	X509_STORE *xs;

	change(t, OP_ADD, STORE_ROOTS, "A.pem", C_RA);
	snprintf(path, sizeof(path), "%s/new", dir);
	t2 = trustfs_open(path);
	ck_assert_msg(trustfs_error(t2) == NULL, "%s", trustfs_error(t2));
	xs = trustfs_x509_store(t2);
	ck_assert_ptr_nonnull(xs);
	expect(xs, C_LEAF, C_INT, 0, C_NONE, "a new store beside another");
	X509_STORE_free(xs);
	ck_assert_int_eq(access(path, F_OK), 0);
	trustfs_free(t2);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("lookup");
	int rc;

	make_certs();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_case, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_added_later);
	tcase_add_test(tc, test_removed_new_store);
	tcase_add_test(tc, test_root_cache_not_stale);
	tcase_add_test(tc, x509cache_rollover_root_added_later);
	tcase_add_test(tc, x509cache_removed_root_not_trusted);
	tcase_add_test(tc, x509cache_distrusted_root_not_trusted);
	tcase_add_test(tc, defect6_store_outlives_handle);
	tcase_add_test(tc, defect6_ssl_ctx_outlives_handle);
	tcase_add_test(tc, shared_open_failed_open_reports);
	tcase_add_test(tc, shared_open_new_dir_gets_its_own_store);
	rc = tu_run("lookup", tc, 0);
	free_certs();
	return rc;
}
