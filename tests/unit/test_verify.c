/*
 * verify.c: every policy mode, every verdict reason, and the rule that an
 * error never means trust.  Table-driven over certificates made here, each
 * case on a fresh store.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "cert.h"
#include "entry.h"
#include "handle.h"
#include "testutil.h"

static X509 *root, *inter, *leaf, *leaf2, *expired, *future, *other_root,
    *other_leaf;
static EVP_PKEY *root_key, *inter_key, *other_key;

static void
make_certs(void)
{
	struct gencert_opts o;

	o = (struct gencert_opts){ .cn = "Unit Root", .is_ca = 1,
	    .not_before = -86400 };
	root = tu_make_cert(&o, &root_key);
	o = (struct gencert_opts){ .cn = "Unit Intermediate", .is_ca = 1,
	    .issuer = root, .issuer_key = root_key, .not_before = -86400 };
	inter = tu_make_cert(&o, &inter_key);
	o = (struct gencert_opts){ .cn = "server.test", .issuer = inter,
	    .issuer_key = inter_key, .not_before = -86400,
	    .san = "DNS:server.test,IP:127.0.0.1" };
	leaf = tu_make_cert(&o, NULL);
	leaf2 = tu_make_cert(&o, NULL);		/* same subject, new key */
	o.not_before = -30 * 86400;
	o.not_after = -86400;
	expired = tu_make_cert(&o, NULL);
	o.not_before = 10 * 86400;
	o.not_after = 100 * 86400;
	future = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "Other Root", .is_ca = 1,
	    .not_before = -86400 };
	other_root = tu_make_cert(&o, &other_key);
	o = (struct gencert_opts){ .cn = "server.test", .issuer = other_root,
	    .issuer_key = other_key, .not_before = -86400,
	    .san = "DNS:server.test" };
	other_leaf = tu_make_cert(&o, NULL);
}

static void
free_certs(void)
{
	X509_free(root); X509_free(inter); X509_free(leaf); X509_free(leaf2);
	X509_free(expired); X509_free(future); X509_free(other_root);
	X509_free(other_leaf);
	EVP_PKEY_free(root_key); EVP_PKEY_free(inter_key);
	EVP_PKEY_free(other_key);
}

static STACK_OF(X509) *
chain_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	X509_up_ref(a);
	sk_X509_push(sk, a);
	if (b != NULL) {
		X509_up_ref(b);
		sk_X509_push(sk, b);
	}
	return sk;
}

struct add_ctx {
	enum store_db db;
	const char *name;
	X509 *x;
};

static int
add_txn(struct store_txn *txn, void *arg)
{
	struct add_ctx *a = arg;
	struct entry_result res;
	STACK_OF(X509) *sk = chain_of(a->x, NULL);
	struct tf_error te = { 0 };
	int rc;

	rc = entry_add(txn, a->db, a->name, sk, 0, NULL, &res, &te);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static void
add(struct trustfs *t, enum store_db db, const char *name, X509 *x)
{
	struct add_ctx a = { db, name, x };

	ck_assert_int_eq(store_write(t->st, add_txn, &a, NULL), 0);
}

/* Setups a case can ask for. */
#define ROOT_IN_ROOTS 0x1
#define INT_IN_CHAINS 0x2
#define INT_DISTRUSTED 0x4
#define PIN_LEAF 0x8

enum peer { P_LEAF_INT, P_LEAF_ONLY, P_LEAF2, P_EXPIRED, P_FUTURE,
    P_OTHER };

static const struct {
	const char *what;
	unsigned setup;
	enum trustfs_mode mode;
	const char *host;
	enum peer peer;
	int want_trusted;
	enum trustfs_reason want_reason;
	const char *want_message;
} cases[] = {
	{ "tofu first use", 0, TRUSTFS_MODE_TOFU, "server.test",
	    P_LEAF_ONLY, 1, TRUSTFS_FIRST_USE, "first use" },
	{ "tofu pin match", PIN_LEAF, TRUSTFS_MODE_TOFU, "server.test",
	    P_LEAF_ONLY, 1, TRUSTFS_PIN_MATCH, "matches the pin" },
	{ "tofu mismatch", PIN_LEAF, TRUSTFS_MODE_TOFU, "server.test",
	    P_LEAF2, 0, TRUSTFS_PIN_MISMATCH, "Current certificate of the "
	    "remote host is different from what was used earlier - "
	    "CN=server.test" },
	{ "pinned, no pin", 0, TRUSTFS_MODE_PINNED, "server.test",
	    P_LEAF_ONLY, 0, TRUSTFS_NO_PIN, "no pin" },
	{ "pinned, pin", PIN_LEAF, TRUSTFS_MODE_PINNED, "server.test",
	    P_LEAF_ONLY, 1, TRUSTFS_PIN_MATCH, NULL },
	{ "pinned, mismatch", PIN_LEAF, TRUSTFS_MODE_PINNED, "server.test",
	    P_LEAF2, 0, TRUSTFS_PIN_MISMATCH, "different from what was used" },
	{ "chain ok", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN, "server.test",
	    P_LEAF_INT, 1, TRUSTFS_CHAIN_OK, "roots/Unit_Root.pem" },
	{ "chain ok by IP", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN, "127.0.0.1",
	    P_LEAF_INT, 1, TRUSTFS_CHAIN_OK, NULL },
	{ "chain unknown issuer", 0, TRUSTFS_MODE_CHAIN, "server.test",
	    P_LEAF_INT, 0, TRUSTFS_UNKNOWN_ISSUER,
	    "unable to get local issuer certificate" },
	{ "chain name mismatch", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN,
	    "wrong.test", P_LEAF_INT, 0, TRUSTFS_NAME_MISMATCH,
	    "hostname mismatch" },
	{ "chain IP mismatch", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN, "10.9.9.9",
	    P_LEAF_INT, 0, TRUSTFS_NAME_MISMATCH, "hostname mismatch" },
	{ "chain expired", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN, "server.test",
	    P_EXPIRED, 0, TRUSTFS_EXPIRED, "certificate has expired" },
	{ "chain not yet valid", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN,
	    "server.test", P_FUTURE, 0, TRUSTFS_NOT_YET_VALID,
	    "certificate is not yet valid" },
	{ "chain missing intermediate", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN,
	    "server.test", P_LEAF_ONLY, 0, TRUSTFS_UNKNOWN_ISSUER,
	    "unable to get local issuer certificate" },
	{ "chain intermediate from chains/", ROOT_IN_ROOTS | INT_IN_CHAINS,
	    TRUSTFS_MODE_CHAIN, "server.test", P_LEAF_ONLY, 1,
	    TRUSTFS_CHAIN_OK, NULL },
	{ "chain distrusted intermediate", ROOT_IN_ROOTS | INT_DISTRUSTED,
	    TRUSTFS_MODE_CHAIN, "server.test", P_LEAF_INT, 0,
	    TRUSTFS_DISTRUSTED, "distrusted" },
	{ "distrusted from chains/", ROOT_IN_ROOTS | INT_IN_CHAINS |
	    INT_DISTRUSTED, TRUSTFS_MODE_CHAIN, "server.test", P_LEAF_ONLY, 0,
	    TRUSTFS_DISTRUSTED, NULL },
	{ "chain other root", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN,
	    "server.test", P_OTHER, 0, TRUSTFS_UNKNOWN_ISSUER, NULL },
	{ "chain-or-tofu: chain", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN_OR_TOFU,
	    "server.test", P_LEAF_INT, 1, TRUSTFS_CHAIN_OK, NULL },
	{ "chain-or-tofu: tofu", 0, TRUSTFS_MODE_CHAIN_OR_TOFU,
	    "server.test", P_OTHER, 1, TRUSTFS_FIRST_USE, NULL },
	{ "chain-or-tofu: distrust wins", ROOT_IN_ROOTS | INT_DISTRUSTED,
	    TRUSTFS_MODE_CHAIN_OR_TOFU, "server.test", P_LEAF_INT, 0,
	    TRUSTFS_DISTRUSTED, NULL },
};

START_TEST(test_case)
{
	char *dir = tu_mkdtemp(), name[300];
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = NULL;
	struct store_txn *txn;
	struct store_rec rec;
	unsigned s = cases[_i].setup;

	ck_assert_ptr_null(trustfs_error(t));
	if (s & ROOT_IN_ROOTS)
		add(t, STORE_ROOTS, "Unit_Root.pem", root);
	if (s & INT_IN_CHAINS)
		add(t, STORE_CHAINS, "int.pem", inter);
	if (s & INT_DISTRUSTED)
		add(t, STORE_DISTRUSTED, "int.pem", inter);
	if (s & PIN_LEAF)
		add(t, STORE_PINNED, "server.test_443", leaf);
	switch (cases[_i].peer) {
	case P_LEAF_INT: peer = chain_of(leaf, inter); break;
	case P_LEAF_ONLY: peer = chain_of(leaf, NULL); break;
	case P_LEAF2: peer = chain_of(leaf2, inter); break;
	case P_EXPIRED: peer = chain_of(expired, inter); break;
	case P_FUTURE: peer = chain_of(future, inter); break;
	case P_OTHER: peer = chain_of(other_leaf, NULL); break;
	}
	ck_assert_int_eq(trustfs_check_mode(t, cases[_i].mode, cases[_i].host,
	    443, peer, &v), 0);
	ck_assert_msg(v.trusted == cases[_i].want_trusted &&
	    v.reason == cases[_i].want_reason, "%s: trusted %d reason %s: %s",
	    cases[_i].what, v.trusted, trustfs_reason_name(v.reason),
	    v.message);
	if (cases[_i].want_message != NULL)
		ck_assert_msg(strstr(v.message, cases[_i].want_message) != NULL,
		    "%s: message '%s'", cases[_i].what, v.message);
	ck_assert_int_eq(v.mode, cases[_i].mode);
	/* What the store shows afterwards. */
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	snprintf(name, sizeof(name), "%s_443", cases[_i].host);
	if (v.reason == TRUSTFS_FIRST_USE) {
		ck_assert_int_eq(store_get(txn, STORE_PINNED, name, &rec), 0);
		ck_assert_int_eq(rec.seen_count, 1);
		ck_assert(rec.first_seen > 0);
	}
	if (v.reason == TRUSTFS_PIN_MISMATCH) {
		ck_assert_int_eq(store_get(txn, STORE_REJECTED, name, &rec), 0);
		ck_assert_int_eq(memcmp(rec.keys[0].sha256, v.sha256, 32), 0);
	}
	if (v.reason == TRUSTFS_NO_PIN) {
		ck_assert_int_eq(store_get(txn, STORE_PINNED, name, &rec),
		    -ENOENT);
		/* Issue 10: what the peer offered waits in rejected/. */
		ck_assert_int_eq(store_get(txn, STORE_REJECTED, name, &rec), 0);
		ck_assert_int_eq(memcmp(rec.keys[0].sha256, v.sha256, 32), 0);
	}
	store_txn_abort(txn);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* The policy file picks the mode; a mismatch counts in the store. */
START_TEST(test_policy_applies)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(leaf, inter);
	struct store_txn *txn;

	ck_assert_int_eq(store_txn_begin(t->st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_meta_put(txn, "policy",
	    "server.test_443 pinned\n* tofu\n", 30), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_int_eq(trustfs_check(t, "server.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_NO_PIN);
	ck_assert_int_eq(trustfs_check(t, "server.test", 8443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_FIRST_USE);
	ck_assert_int_eq(v.mode, TRUSTFS_MODE_TOFU);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Repeated matches do not write every time, and the count is kept. */
START_TEST(test_seen_batched)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(leaf, NULL);
	struct store_txn *txn;
	struct store_rec rec;
	uint64_t gen;
	int i;

	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_TOFU, "h", 1,
	    peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_FIRST_USE);
	gen = store_generation(t->st);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_TOFU, "h",
		    1, peer, &v), 0);
		ck_assert_int_eq(v.reason, TRUSTFS_PIN_MATCH);
	}
	ck_assert_msg(store_generation(t->st) == gen,
	    "100 matches within a minute must not write");
	trustfs_free(t);	/* writes the pending sightings */
	t = trustfs_open(dir);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, "h_1", &rec), 0);
	ck_assert_int_eq(rec.seen_count, 101);
	store_txn_abort(txn);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* An error never looks like trust: -1, and the verdict says untrusted. */
START_TEST(test_errors_never_trust)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir), *ro;
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(leaf, NULL), *empty = sk_X509_new_null();

	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_check(t, "h", 443, NULL, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_ptr_nonnull(trustfs_error(t));
	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_check(t, "h", 443, empty, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_int_eq(trustfs_check(t, "bad host!", 443, peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_int_eq(trustfs_check(t, "h", 0, peer, &v), -1);
	ck_assert_int_eq(trustfs_check(NULL, "h", 1, peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_int_eq(trustfs_check(t, "h", 1, peer, NULL), -1);

	/* A pin that cannot be written is never trusted. */
	trustfs_free(t);
	ro = trustfs_open_flags(dir, STORE_RDONLY);
	ck_assert_ptr_null(trustfs_error(ro));
	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_check_mode(ro, TRUSTFS_MODE_TOFU, "h", 443,
	    peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_ptr_nonnull(strstr(trustfs_error(ro), "pinned/h_443"));
	trustfs_free(ro);

	/* A store that cannot be opened fails every check. */
	ro = trustfs_open("/proc/no/such/store");
	ck_assert_ptr_nonnull(trustfs_error(ro));
	ck_assert_int_eq(trustfs_check(ro, "h", 443, peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_ptr_null(trustfs_x509_store(ro));
	trustfs_free(ro);
	trustfs_free(NULL);

	sk_X509_pop_free(peer, X509_free);
	sk_X509_free(empty);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* The X509_STORE finds roots by subject, and only on demand. */
START_TEST(test_x509_store_lookup)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	X509_STORE *xs;
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = chain_of(inter, NULL);

	add(t, STORE_ROOTS, "Unit_Root.pem", root);
	add(t, STORE_ROOTS, "Other_Root.pem", other_root);
	xs = trustfs_x509_store(t);
	ck_assert_ptr_nonnull(xs);
	ck_assert_int_eq(sk_X509_OBJECT_num(X509_STORE_get0_objects(xs)), 0);
	ck_assert(X509_STORE_CTX_init(ctx, xs, leaf, untrusted));
	ck_assert_int_eq(X509_verify_cert(ctx), 1);
	/* Roots are read from the store when asked for, never kept in the
	 * X509_STORE's cache, where a removed root would stay trusted. */
	ck_assert_int_eq(sk_X509_OBJECT_num(X509_STORE_get0_objects(xs)), 0);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	sk_X509_pop_free(untrusted, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* --- issue 8: fail closed ------------------------------------------- */

static void
put_policy(struct trustfs *t, const char *text)
{
	struct store_txn *txn;

	ck_assert_int_eq(store_txn_begin(t->st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_meta_put(txn, "policy", text, strlen(text)), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
}

static int
has_pin(struct trustfs *t, const char *name)
{
	struct store_txn *txn;
	struct store_rec rec;
	int rc;

	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	rc = store_get(txn, STORE_PINNED, name, &rec);
	store_txn_abort(txn);
	ck_assert(rc == 0 || rc == -ENOENT);
	return rc == 0;
}

/* Defect 1: a pattern with capitals governs the hosts it names. */
START_TEST(test_policy_case)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(other_leaf, NULL);

	put_policy(t, "*.Lab.Example_443 chain\n* tofu\n");
	ck_assert_int_eq(trustfs_check(t, "host.lab.example", 443, peer, &v),
	    0);
	ck_assert_int_eq(v.mode, TRUSTFS_MODE_CHAIN);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_int_eq(v.reason, TRUSTFS_UNKNOWN_ISSUER);
	ck_assert(!has_pin(t, "host.lab.example_443"));
	/* The host's own case does not matter either. */
	ck_assert_int_eq(trustfs_check(t, "HOST.LAB.EXAMPLE", 443, peer, &v),
	    0);
	ck_assert_int_eq(v.mode, TRUSTFS_MODE_CHAIN);
	ck_assert_int_eq(v.trusted, 0);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Defect 2: when the policy cannot be read or parsed the check could not
 * run: -1, a reason, an untrusted verdict and no pin; never tofu.
 */
enum unreadable { U_BROKEN, U_BROKEN_AFTER_GOOD, U_BROKEN_RDONLY,
    U_READERS_FULL, U_NEWER_SCHEMA };

static const struct {
	const char *what;
	enum unreadable how;
	const char *want_error;
} unreadable_cases[] = {
	{ "a stored line that does not parse", U_BROKEN, "policy" },
	{ "broken after a good one was read", U_BROKEN_AFTER_GOOD, "line 1" },
	{ "broken, read-only handle", U_BROKEN_RDONLY, "unknown mode" },
	{ "readers table full", U_READERS_FULL, "policy" },
	{ "a store of a newer schema", U_NEWER_SCHEMA, "schema" },
};

#define MAX_READERS 1024

START_TEST(test_policy_unreadable)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir), *c = NULL;
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(other_leaf, NULL);
	struct store_txn **readers = calloc(MAX_READERS, sizeof(*readers));
	struct store_txn *txn;
	enum unreadable how = unreadable_cases[_i].how;
	int i, n = 0;

	ck_assert_ptr_nonnull(readers);
	switch (how) {
	case U_BROKEN:
		put_policy(t, "* bogus\n");
		c = t;
		break;
	case U_BROKEN_AFTER_GOOD:
		put_policy(t, "* chain\n");
		ck_assert_int_eq(trustfs_check(t, "a.test", 443, peer, &v), 0);
		ck_assert_int_eq(v.mode, TRUSTFS_MODE_CHAIN);
		put_policy(t, "* tofoo\n");
		c = t;
		break;
	case U_BROKEN_RDONLY:
		put_policy(t, "* chain\n* bogus\n");
		c = trustfs_open_flags(dir, STORE_RDONLY);
		ck_assert_ptr_null(trustfs_error(c));
		break;
	case U_READERS_FULL:
		/* Every slot of LMDB's reader table taken (MDB_READERS_FULL):
		 * the next read transaction cannot begin. */
		while (n < MAX_READERS &&
		    store_txn_begin(t->st, 0, &readers[n], NULL) == 0)
			n++;
		ck_assert_int_lt(n, MAX_READERS);
		c = trustfs_open(dir);	/* no policy read yet */
		ck_assert_ptr_null(trustfs_error(c));
		break;
	case U_NEWER_SCHEMA:
		ck_assert_int_eq(store_txn_begin(t->st, 1, &txn, NULL), 0);
		ck_assert_int_eq(store_meta_put(txn, "schema", "99", 2), 0);
		ck_assert_int_eq(store_txn_commit(txn), 0);
		trustfs_free(t);
		t = NULL;
		c = trustfs_open(dir);
		break;
	}
	memset(&v, 0xff, sizeof(v));
	ck_assert_msg(trustfs_check(c, "b.test", 443, peer, &v) == -1,
	    "%s: the check ran: %s", unreadable_cases[_i].what,
	    trustfs_reason_name(v.reason));
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_ptr_nonnull(trustfs_error(c));
	ck_assert_msg(strstr(trustfs_error(c), unreadable_cases[_i].want_error)
	    != NULL, "%s: error '%s'", unreadable_cases[_i].what,
	    trustfs_error(c));
	for (i = 0; i < n; i++)
		store_txn_abort(readers[i]);
	free(readers);
	if (c != t)
		trustfs_free(c);
	if (t != NULL) {
		ck_assert(!has_pin(t, "b.test_443"));
		trustfs_free(t);
	}
	sk_X509_pop_free(peer, X509_free);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Defect 3: store_write runs its callback again when a commit finds the
 * map full.  This stands in for LMDB's commit: armed, it lets another
 * writer pin the host with another certificate (as another process can
 * between the two attempts) and answers MDB_MAP_FULL, as a commit that
 * needed pages the map did not have.  The committed attempt is a
 * mismatch, and that is the verdict.
 */
static struct trustfs *commit_hook;
static X509 *commit_hook_pin;

int
mdb_txn_commit(MDB_txn *txn)
{
	static int (*real)(MDB_txn *);
	struct trustfs *t = commit_hook;

	if (real == NULL)
		real = (int (*)(MDB_txn *))dlsym(RTLD_NEXT, "mdb_txn_commit");
	if (t == NULL)
		return real(txn);
	commit_hook = NULL;
	mdb_txn_abort(txn);	/* a failed commit frees the transaction */
	add(t, STORE_PINNED, "server.test_443", commit_hook_pin);
	return MDB_MAP_FULL;
}

START_TEST(test_tofu_rerun)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(leaf2, NULL);
	struct store_txn *txn;
	struct store_rec rec;
	unsigned char sha[32];

	commit_hook_pin = leaf;
	commit_hook = t;
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_TOFU,
	    "server.test", 443, peer, &v), 0);
	ck_assert_ptr_null(commit_hook);	/* the hook ran */
	ck_assert_msg(v.reason == TRUSTFS_PIN_MISMATCH && v.trusted == 0,
	    "trusted %d, reason %s", v.trusted, trustfs_reason_name(v.reason));
	ck_assert_ptr_nonnull(strstr(v.message, "different from what was "
	    "used earlier"));
	ck_assert_str_eq(v.entry, "rejected/server.test_443");
	/* What was committed: the other writer's pin, and the rejection. */
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, "server.test_443", &rec),
	    0);
	cert_sha256(leaf, sha);
	ck_assert_int_eq(memcmp(rec.keys[0].sha256, sha, 32), 0);
	ck_assert_int_eq(store_get(txn, STORE_REJECTED, "server.test_443",
	    &rec), 0);
	store_txn_abort(txn);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Defect 4: an empty host is a usage error, never a skipped name check. */
START_TEST(test_empty_host)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(leaf, inter);

	add(t, STORE_ROOTS, "Unit_Root.pem", root);
	ck_assert_int_eq(trustfs_verify_chain(t, "server.test", peer, &v), 0);
	ck_assert_int_eq(v.trusted, 1);
	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_verify_chain(t, "", peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_ptr_nonnull(trustfs_error(t));
	ck_assert_ptr_nonnull(strstr(trustfs_error(t), "empty"));
	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_CHAIN, "", 443,
	    peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_check(t, "", 443, peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_check(t, NULL, 443, peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	/* NULL is the documented "no name check" of the offline verify. */
	ck_assert_int_eq(trustfs_verify_chain(t, NULL, peer, &v), 0);
	ck_assert_int_eq(v.trusted, 1);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Defect 6: the X509_STORE outlives the handle (SSL_CTX_set_cert_store
 * keeps it as long as the context), and the store closes with its last
 * user. */
START_TEST(test_x509_store_outlives_handle)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	X509_STORE *xs;
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = chain_of(inter, NULL);

	add(t, STORE_ROOTS, "Unit_Root.pem", root);
	xs = trustfs_x509_store(t);
	ck_assert_ptr_nonnull(xs);
	trustfs_free(t);
	ck_assert(X509_STORE_CTX_init(ctx, xs, leaf, untrusted));
	ck_assert_int_eq(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	/* Two stores from one handle, freed in either order. */
	t = trustfs_open(dir);
	ck_assert_ptr_null(trustfs_error(t));
	xs = trustfs_x509_store(t);
	ck_assert_ptr_nonnull(xs);
	X509_STORE_free(trustfs_x509_store(t));
	trustfs_free(t);
	X509_STORE_free(xs);
	sk_X509_pop_free(untrusted, X509_free);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Defect 7: a peer with an empty subject is judged like any other. */
START_TEST(test_empty_subject_peer)
{
	struct gencert_opts o = { .cn = NULL };
	X509 *anon = tu_make_cert(&o, NULL);
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(anon, NULL);

	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_TOFU, "anon.test",
	    443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_FIRST_USE);
	ck_assert_str_eq(v.subject, "");
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_CHAIN, "anon.test",
	    443, peer, &v), 0);
	ck_assert_int_eq(v.trusted, 0);
	sk_X509_pop_free(peer, X509_free);
	X509_free(anon);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Defect 12 (entry.c): in roots/ and distrusted/ a certificate lives
 * under one name.  X holds A, Y holds B; what adding B does.
 */
static const struct {
	const char *what;
	enum store_db db;
	const char *name;		/* NULL: ENTRY_AUTOLABEL */
	unsigned flags;
	int want_rc;
	enum entry_outcome want_outcome;
	const char *want_error;
} one_name_cases[] = {
	{ "roots: B over X", STORE_ROOTS, "X.pem", 0, -EEXIST, 0,
	    "already in roots/Y.pem" },
	{ "roots: B replacing X", STORE_ROOTS, "X.pem", ENTRY_REPLACE,
	    -EEXIST, 0, "already in roots/Y.pem" },
	{ "roots: B as Z", STORE_ROOTS, "Z.pem", 0, -EEXIST, 0,
	    "already in roots/Y.pem" },
	{ "roots: B as Y again", STORE_ROOTS, "Y.pem", 0, 0, ENTRY_UNCHANGED,
	    NULL },
	{ "roots: B as Y, replace", STORE_ROOTS, "Y.pem", ENTRY_REPLACE, 0,
	    ENTRY_UNCHANGED, NULL },
	{ "roots: B imported", STORE_ROOTS, NULL, ENTRY_AUTOLABEL, 0,
	    ENTRY_UNCHANGED, NULL },
	{ "distrusted: B over X", STORE_DISTRUSTED, "X.pem", ENTRY_REPLACE,
	    -EEXIST, 0, "already in distrusted/Y.pem" },
	{ "distrusted: B as Z", STORE_DISTRUSTED, "Z.pem", 0, -EEXIST, 0,
	    "already in distrusted/Y.pem" },
	{ "distrusted: B as Y again", STORE_DISTRUSTED, "Y.pem", 0, 0,
	    ENTRY_UNCHANGED, NULL },
	{ "pinned: an HA pair shares B", STORE_PINNED, "z.test_443", 0, 0,
	    ENTRY_ADDED, NULL },
	{ "chains: B twice", STORE_CHAINS, "Z.pem", 0, 0, ENTRY_ADDED, NULL },
};

struct one_add {
	enum store_db db;
	const char *name;
	X509 *x;
	unsigned flags;
	struct entry_result res;
	struct tf_error e;
};

static int
one_add_txn(struct store_txn *txn, void *arg)
{
	struct one_add *a = arg;
	STACK_OF(X509) *sk = chain_of(a->x, NULL);
	int rc;

	rc = entry_add(txn, a->db, a->name, sk, a->flags, NULL, &a->res,
	    &a->e);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

START_TEST(test_one_name_per_root)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	enum store_db db = one_name_cases[_i].db;
	int host = db == STORE_PINNED;
	struct one_add a = { .db = db, .name = one_name_cases[_i].name,
	    .x = other_root, .flags = one_name_cases[_i].flags };
	struct store_txn *txn;
	struct store_rec rec;
	unsigned char sha[32];
	uint64_t gen;
	size_t n;
	int rc;

	add(t, db, host ? "x.test_443" : "X.pem", root);
	add(t, db, host ? "y.test_443" : "Y.pem", other_root);
	gen = store_generation(t->st);
	rc = store_write(t->st, one_add_txn, &a, NULL);
	ck_assert_msg(rc == one_name_cases[_i].want_rc, "%s: %d (%s)",
	    one_name_cases[_i].what, rc, a.e.msg);
	if (rc == 0)
		ck_assert_msg(a.res.outcome == one_name_cases[_i].want_outcome,
		    "%s: outcome %d", one_name_cases[_i].what, a.res.outcome);
	if (one_name_cases[_i].want_error != NULL) {
		ck_assert_msg(strstr(a.e.msg, one_name_cases[_i].want_error) !=
		    NULL, "%s: '%s'", one_name_cases[_i].what, a.e.msg);
		ck_assert_int_eq(a.e.code, -EEXIST);
		ck_assert_msg(store_generation(t->st) == gen, "%s: committed",
		    one_name_cases[_i].what);
	}
	if (a.res.outcome == ENTRY_UNCHANGED)
		ck_assert_str_eq(a.res.name, "Y.pem");
	/* X still holds A, whatever happened. */
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, db, host ? "x.test_443" : "X.pem",
	    &rec), 0);
	cert_sha256(root, sha);
	ck_assert_int_eq(memcmp(rec.keys[0].sha256, sha, 32), 0);
	ck_assert_int_eq(store_count(txn, db, &n), 0);
	ck_assert_uint_eq(n, one_name_cases[_i].want_outcome == ENTRY_ADDED &&
	    rc == 0 ? 3 : 2);
	store_txn_abort(txn);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(trustfs_reason_name(TRUSTFS_PIN_MISMATCH),
	    "pin-mismatch");
	ck_assert_str_eq(trustfs_mode_name(TRUSTFS_MODE_CHAIN_OR_TOFU),
	    "chain-or-tofu");
	ck_assert_str_eq(trustfs_reason_name((enum trustfs_reason)999), "?");
}
END_TEST

/* --- issue 10: messages that name the cause ------------------------- */

static const struct {
	const char *what;
	unsigned setup;
	enum trustfs_mode mode;
	enum peer peer;
	enum trustfs_reason want_reason;
	const char *want_start;		/* the message starts so */
	const char *want[3];		/* and holds these */
} cause_cases[] = {
	{ "no root: the missing issuer is named", 0, TRUSTFS_MODE_CHAIN,
	    P_LEAF_INT, TRUSTFS_UNKNOWN_ISSUER,
	    "unable to get local issuer certificate",
	    { "issuer CN=Unit Root ", "chains/ (an intermediate)",
	    "roots/ (a root)" } },
	{ "no intermediate: the intermediate is named", ROOT_IN_ROOTS,
	    TRUSTFS_MODE_CHAIN, P_LEAF_ONLY, TRUSTFS_UNKNOWN_ISSUER,
	    "unable to get local issuer certificate",
	    { "issuer CN=Unit Intermediate ", "chains/ (an intermediate)" } },
	{ "another root: that root is named", ROOT_IN_ROOTS,
	    TRUSTFS_MODE_CHAIN, P_OTHER, TRUSTFS_UNKNOWN_ISSUER,
	    "unable to get local issuer certificate",
	    { "issuer CN=Other Root " } },
	{ "not yet valid: from when", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN,
	    P_FUTURE, TRUSTFS_NOT_YET_VALID, "certificate is not yet valid",
	    { "depth 0: CN=server.test", "valid from @NB" } },
	{ "expired: since when", ROOT_IN_ROOTS, TRUSTFS_MODE_CHAIN,
	    P_EXPIRED, TRUSTFS_EXPIRED, "certificate has expired",
	    { "depth 0: CN=server.test", "expired @NA" } },
	{ "chain-or-tofu: first use says why the chain failed", 0,
	    TRUSTFS_MODE_CHAIN_OR_TOFU, P_LEAF_INT, TRUSTFS_FIRST_USE,
	    "chain: unable to get local issuer certificate",
	    { "CN=Unit Root", "; first use: pinned CN=server.test as "
	    "pinned/server.test_443" } },
	{ "chain-or-tofu: a pin match says it too", PIN_LEAF,
	    TRUSTFS_MODE_CHAIN_OR_TOFU, P_LEAF_INT, TRUSTFS_PIN_MATCH,
	    "chain: unable to get local issuer certificate",
	    { "; matches the pin pinned/server.test_443" } },
	{ "chain-or-tofu: a mismatch keeps Cisco's words", PIN_LEAF,
	    TRUSTFS_MODE_CHAIN_OR_TOFU, P_LEAF2, TRUSTFS_PIN_MISMATCH,
	    "chain: unable to get local issuer certificate",
	    { "; Current certificate of the remote host is different from "
	    "what was used earlier - CN=server.test" } },
	{ "chain-or-tofu: an expired chain", ROOT_IN_ROOTS,
	    TRUSTFS_MODE_CHAIN_OR_TOFU, P_EXPIRED, TRUSTFS_FIRST_USE,
	    "chain: certificate has expired", { "expired @NA",
	    "; first use: pinned" } },
};

START_TEST(issue10_cause)
{
	char *dir = tu_mkdtemp(), want[256], t[64];
	struct trustfs *tf = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = NULL;
	X509 *pl = NULL;
	unsigned s = cause_cases[_i].setup;
	int i;

	if (s & ROOT_IN_ROOTS)
		add(tf, STORE_ROOTS, "Unit_Root.pem", root);
	if (s & PIN_LEAF)
		add(tf, STORE_PINNED, "server.test_443", leaf);
	switch (cause_cases[_i].peer) {
	case P_LEAF_INT: pl = leaf; peer = chain_of(leaf, inter); break;
	case P_LEAF_ONLY: pl = leaf; peer = chain_of(leaf, NULL); break;
	case P_LEAF2: pl = leaf2; peer = chain_of(leaf2, inter); break;
	case P_EXPIRED: pl = expired; peer = chain_of(expired, inter); break;
	case P_FUTURE: pl = future; peer = chain_of(future, inter); break;
	case P_OTHER: pl = other_leaf; peer = chain_of(other_leaf, NULL);
		break;
	}
	ck_assert_int_eq(trustfs_check_mode(tf, cause_cases[_i].mode,
	    "server.test", 443, peer, &v), 0);
	ck_assert_msg(v.reason == cause_cases[_i].want_reason, "%s: %s: %s",
	    cause_cases[_i].what, trustfs_reason_name(v.reason), v.message);
	ck_assert_msg(strncmp(v.message, cause_cases[_i].want_start,
	    strlen(cause_cases[_i].want_start)) == 0, "%s: '%s'",
	    cause_cases[_i].what, v.message);
	for (i = 0; i < 3 && cause_cases[_i].want[i] != NULL; i++) {
		const char *w = cause_cases[_i].want[i], *at = strchr(w, '@');

		snprintf(want, sizeof(want), "%s", w);
		if (at != NULL) {
			cert_time_str(at[2] == 'B' ? cert_not_before(pl) :
			    cert_not_after(pl), t, sizeof(t));
			snprintf(want + (at - w), sizeof(want) - (size_t)(at - w),
			    "%s", t);
		}
		ck_assert_msg(strstr(v.message, want) != NULL,
		    "%s: '%s' lacks '%s'", cause_cases[_i].what, v.message,
		    want);
	}
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(tf);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

struct audit_lines {
	int n;
	char last[1024];
};

static int
audit_cb(const char *line, size_t len, void *arg)
{
	struct audit_lines *l = arg;

	l->n++;
	snprintf(l->last, sizeof(l->last), "%.*s", (int)len, line);
	return 0;
}

static struct audit_lines
audit_of(struct trustfs *t)
{
	struct audit_lines l = { 0 };
	struct store_txn *txn;

	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_audit_foreach(txn, audit_cb, &l), 0);
	store_txn_abort(txn);
	return l;
}

static int
rename_txn(struct store_txn *txn, void *arg)
{
	(void)arg;
	return entry_rename(txn, STORE_REJECTED, "server.test_443",
	    STORE_PINNED, "server.test_443", 1, NULL, NULL);
}

/*
 * Issue 10: pinned mode with no pin keeps what the peer offered in
 * rejected/HOST_PORT, says so, and `mv rejected/H pinned/H' then trusts
 * the host.  A first-use pin of that certificate clears rejected/H.
 */
START_TEST(issue10_pinned_no_pin_records)
{
	char *dir = tu_mkdtemp(), hex[65], want[300];
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(leaf, inter);
	static const unsigned char zero[32];
	struct audit_lines l;
	struct store_txn *txn;
	struct store_rec rec;

	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_PINNED,
	    "Server.Test", 443, peer, &v), 0);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_int_eq(v.reason, TRUSTFS_NO_PIN);
	ck_assert_str_eq(v.entry, "rejected/server.test_443");
	ck_assert_msg(strstr(v.message, "no pin for server.test_443") != NULL
	    && strstr(v.message, "mv rejected/server.test_443 "
	    "pinned/server.test_443") != NULL, "'%s'", v.message);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_REJECTED, "server.test_443",
	    &rec), 0);
	ck_assert_int_eq(memcmp(rec.keys[0].sha256, v.sha256, 32), 0);
	/* No pin to compare with. */
	ck_assert_int_eq(memcmp(rec.other_sha256, zero, 32), 0);
	ck_assert_uint_eq(rec.nkeys, 1);
	store_txn_abort(txn);
	l = audit_of(t);
	cert_hex(v.sha256, 32, 0, hex);
	snprintf(want, sizeof(want), " action=reject "
	    "path=rejected/server.test_443 sha256=%s refused=no%%20pin", hex);
	ck_assert_msg(strstr(l.last, want) != NULL, "'%s'", l.last);

	/* The admin accepts it with mv; the next handshake is trusted. */
	ck_assert_int_eq(store_write(t->st, rename_txn, NULL, NULL), 0);
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_PINNED,
	    "server.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.trusted, 1);
	ck_assert_int_eq(v.reason, TRUSTFS_PIN_MATCH);

	/* Another host: recorded, then pinned on first use under tofu,
	 * which clears the rejected entry in the same change. */
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_PINNED,
	    "other.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_NO_PIN);
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_TOFU,
	    "other.test", 443, peer, &v), 0);
	ck_assert_int_eq(v.reason, TRUSTFS_FIRST_USE);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_REJECTED, "other.test_443",
	    &rec), -ENOENT);
	store_txn_abort(txn);
	l = audit_of(t);
	snprintf(want, sizeof(want), " action=pin path=pinned/other.test_443 "
	    "sha256=%s cleared=rejected/other.test_443", hex);
	ck_assert_msg(strstr(l.last, want) != NULL, "'%s'", l.last);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Recording what an unpinned peer offered is a write like a pin: when it
 * cannot be made the check could not run, and nothing reads as trust. */
START_TEST(issue10_no_pin_rdonly)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = chain_of(leaf, NULL);

	trustfs_free(t);
	t = trustfs_open_flags(dir, STORE_RDONLY);
	ck_assert_ptr_null(trustfs_error(t));
	memset(&v, 0xff, sizeof(v));
	ck_assert_int_eq(trustfs_check_mode(t, TRUSTFS_MODE_PINNED, "h", 443,
	    peer, &v), -1);
	ck_assert_int_eq(v.trusted, 0);
	ck_assert_ptr_nonnull(strstr(trustfs_error(t), "rejected/h_443"));
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("verify");
	int rc;

	make_certs();
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_case, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_policy_applies);
	tcase_add_test(tc, test_seen_batched);
	tcase_add_test(tc, test_errors_never_trust);
	tcase_add_test(tc, test_x509_store_lookup);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_policy_case);
	tcase_add_loop_test(tc, test_policy_unreadable, 0,
	    sizeof(unreadable_cases) / sizeof(unreadable_cases[0]));
	tcase_add_test(tc, test_tofu_rerun);
	tcase_add_test(tc, test_empty_host);
	tcase_add_test(tc, test_x509_store_outlives_handle);
	tcase_add_test(tc, test_empty_subject_peer);
	tcase_add_loop_test(tc, test_one_name_per_root, 0,
	    sizeof(one_name_cases) / sizeof(one_name_cases[0]));
	tcase_add_loop_test(tc, issue10_cause, 0,
	    sizeof(cause_cases) / sizeof(cause_cases[0]));
	tcase_add_test(tc, issue10_pinned_no_pin_records);
	tcase_add_test(tc, issue10_no_pin_rdonly);
	rc = tu_run("verify", tc, 1);
	free_certs();
	return rc;
}
