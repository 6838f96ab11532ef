/*
 * pins.c and the TOFU check's use of it (issue 14): key pins (pin=key and
 * key-only pins from known_hosts), several certificates per pin, expiry,
 * trustfs_pin_key(), the pinned/ set rule and unpinning.  Table-driven,
 * each case on a fresh store.
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
#include "pins.h"
#include "testutil.h"

#define HP "server.test_443"

/* A and A2 share a key (a renewal); B and C have their own. */
static X509 *a_cert, *a2_cert, *b_cert, *c_cert, *ca, *ca_leaf;
static EVP_PKEY *a_key, *ca_key;

static void
make_certs(void)
{
	struct gencert_opts o = { .cn = "server.test", .not_before = -86400,
	    .san = "DNS:server.test" };

	a_cert = tu_make_cert(&o, &a_key);
	o.key = a_key;
	a2_cert = tu_make_cert(&o, NULL);
	o.key = NULL;
	b_cert = tu_make_cert(&o, NULL);
	c_cert = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "Pin CA", .is_ca = 1,
	    .not_before = -86400 };
	ca = tu_make_cert(&o, &ca_key);
	o = (struct gencert_opts){ .cn = "server.test", .issuer = ca,
	    .issuer_key = ca_key, .not_before = -86400 };
	ca_leaf = tu_make_cert(&o, NULL);
}

static void
free_certs(void)
{
	X509_free(a_cert); X509_free(a2_cert); X509_free(b_cert);
	X509_free(c_cert); X509_free(ca); X509_free(ca_leaf);
	EVP_PKEY_free(a_key); EVP_PKEY_free(ca_key);
}

static void
put_policy(struct trustfs *t, const char *text)
{
	struct store_txn *txn;

	ck_assert_int_eq(store_txn_begin(t->st, 1, &txn, NULL), 0);
	ck_assert_int_eq(store_meta_put(txn, "policy", text, strlen(text)), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
}

/* The pin a case starts from. */
enum setup { S_NONE, S_A, S_AB, S_A_KEYFLAG, S_KEY_A, S_KEY_B,
    S_KEY_A_EXPIRED, S_A_EXPIRED };

struct setup_args {
	enum setup s;
};

static int
setup_txn(struct store_txn *txn, void *arg)
{
	struct setup_args *sa = arg;
	struct entry_result res;
	struct tf_error te = { 0 };
	STACK_OF(X509) *sk = NULL;
	struct store_rec rec;
	struct { struct store_key k; } kb;
	unsigned char key[32], *der = NULL;
	size_t len;
	int rc = 0;

	switch (sa->s) {
	case S_NONE:
		return 0;
	case S_A:
	case S_A_KEYFLAG:
	case S_A_EXPIRED:
		sk = tu_stack(a_cert, NULL);
		break;
	case S_AB:
		sk = tu_stack(a_cert, b_cert, NULL);
		break;
	case S_KEY_A:
	case S_KEY_B:
	case S_KEY_A_EXPIRED:
		memset(&rec, 0, sizeof(rec));
		pin_key_sha256(sa->s == S_KEY_B ? b_cert : a_cert, key);
		rec.flags = PIN_FLAG_KEY;
		memcpy(rec.other_sha256, key, 32);
		rec.slot = sa->s == S_KEY_A_EXPIRED ? (uint32_t)(time(NULL) -
		    10) : 0;
		return store_put(txn, STORE_PINNED, HP, &rec);
	}
	rc = entry_add(txn, STORE_PINNED, HP, sk, 0, NULL, &res, &te);
	sk_X509_pop_free(sk, X509_free);
	if (rc != 0 || (sa->s != S_A_KEYFLAG && sa->s != S_A_EXPIRED))
		return rc;
	/* Flag or expiry set by hand, as known_hosts and a fill leave it. */
	rc = store_get(txn, STORE_PINNED, HP, &rec);
	if (rc != 0)
		return rc;
	ck_assert_int_eq(cert_der(a_cert, &der, &len), 0);
	cert_sha256(a_cert, kb.k.sha256);
	kb.k.subject_hash = cert_subject_hash(a_cert);
	rec.keys = &kb.k;
	rec.der = der;
	if (sa->s == S_A_KEYFLAG)
		rec.flags = PIN_FLAG_KEY;
	else
		rec.slot = (uint32_t)(time(NULL) - 10);
	rc = store_put(txn, STORE_PINNED, HP, &rec);
	free(der);
	return rc;
}

enum presented { P_A, P_A2, P_B, P_C };

static int
audit_line(const char *line, size_t len, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, line, len) || buf_puts(b, "\n");
}

/* audit.log as text, for strstr. */
static void
audit_text(struct trustfs *t, struct buf *b)
{
	struct store_txn *txn;

	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_audit_foreach(txn, audit_line, b), 0);
	store_txn_abort(txn);
	ck_assert_int_eq(buf_puts(b, ""), 0);
}

static X509 *
cert_of(enum presented p)
{
	return p == P_A ? a_cert : p == P_A2 ? a2_cert : p == P_B ? b_cert :
	    c_cert;
}

static const struct {
	const char *what;
	const char *policy;
	enum setup setup;
	enum presented peer;
	int want_trusted;
	enum trustfs_reason want_reason;
	const char *want_message;
	/* after: how many certificates the pin holds, the first two, and
	 * what audit.log says (NULL: nothing to look for) */
	int want_ncerts;
	enum presented want_first, want_second;
	const char *want_action;
} cases[] = {
	{ "pin=cert: a renewal is a mismatch", "* tofu\n", S_A, P_A2, 0,
	    TRUSTFS_PIN_MISMATCH, "different from what was used earlier", 1,
	    P_A, P_A, "action=reject" },
	{ "pin=key: a renewal matches and is stored", "* tofu pin=key\n", S_A,
	    P_A2, 1, TRUSTFS_PIN_MATCH, "renewed certificate with the same key",
	    1, P_A2, P_A2, "action=renew" },
	{ "pin=key: another key is a mismatch", "* tofu pin=key\n", S_A, P_B,
	    0, TRUSTFS_PIN_MISMATCH, "different from what was used earlier", 1,
	    P_A, P_A, "action=reject" },
	{ "pin=key: the pinned certificate itself", "* tofu pin=key\n", S_A,
	    P_A, 1, TRUSTFS_PIN_MATCH, "matches the pin", 1, P_A, P_A, NULL },
	{ "two certificates: the first matches", "* tofu\n", S_AB, P_A, 1,
	    TRUSTFS_PIN_MATCH, "matches the pin", 2, P_A, P_B, NULL },
	{ "two certificates: the second matches", "* tofu\n", S_AB, P_B, 1,
	    TRUSTFS_PIN_MATCH, "matches the pin", 2, P_A, P_B, NULL },
	{ "two certificates: a third is a mismatch", "* tofu\n", S_AB, P_C, 0,
	    TRUSTFS_PIN_MISMATCH, "different", 2, P_A, P_B, "action=reject" },
	{ "two certificates, pin=key: the renewal replaces its own",
	    "* tofu pin=key\n", S_AB, P_A2, 1, TRUSTFS_PIN_MATCH, "renewed", 2,
	    P_A2, P_B, "action=renew" },
	{ "pinned mode, pin=key: a renewal still matches",
	    "* pinned pin=key\n", S_A, P_A2, 1, TRUSTFS_PIN_MATCH, "renewed", 1,
	    P_A2, P_A2, "action=renew" },
	{ "a key pin (known_hosts) matches by key whatever pin= says",
	    "* tofu\n", S_A_KEYFLAG, P_A2, 1, TRUSTFS_PIN_MATCH, "renewed", 1,
	    P_A2, P_A2, "action=renew" },
	{ "a key-only pin: its certificate is filled in", "* tofu\n", S_KEY_A,
	    P_A2, 1, TRUSTFS_PIN_MATCH, "certificate is now stored", 1, P_A2,
	    P_A2, "action=fill" },
	{ "a key-only pin in pinned mode: filled in too", "* pinned\n",
	    S_KEY_A, P_A, 1, TRUSTFS_PIN_MATCH, "certificate is now stored", 1,
	    P_A, P_A, "action=fill" },
	{ "a key-only pin: another key is a mismatch", "* tofu\n", S_KEY_B,
	    P_A, 0, TRUSTFS_PIN_MISMATCH, "different", 0, P_A, P_A,
	    "action=reject" },
	{ "an expired key pin is none: tofu pins afresh", "* tofu\n",
	    S_KEY_A_EXPIRED, P_B, 1, TRUSTFS_FIRST_USE, "first use", 1, P_B,
	    P_B, "action=pin" },
	{ "an expired pin is none: pinned mode refuses", "* pinned\n",
	    S_A_EXPIRED, P_A, 0, TRUSTFS_NO_PIN, "no pin", 1, P_A, P_A,
	    "pin%20expired" },
};

START_TEST(test_check)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct setup_args sa = { cases[_i].setup };
	struct trustfs_verdict v;
	struct store_txn *txn;
	struct store_rec rec;
	STACK_OF(X509) *peer = tu_stack(cert_of(cases[_i].peer), NULL);
	unsigned char sha[32], key[32];
	struct buf log = { 0 };
	int rc;

	ck_assert_ptr_null(trustfs_error(t));
	put_policy(t, cases[_i].policy);
	ck_assert_int_eq(store_write(t->st, setup_txn, &sa, NULL), 0);
	rc = trustfs_check(t, "server.test", 443, peer, &v);
	ck_assert_msg(rc == 0, "%s: %s", cases[_i].what, trustfs_error(t));
	ck_assert_msg(v.trusted == cases[_i].want_trusted &&
	    v.reason == cases[_i].want_reason, "%s: trusted %d, reason %s (%s)",
	    cases[_i].what, v.trusted, trustfs_reason_name(v.reason),
	    v.message);
	ck_assert_msg(strstr(v.message, cases[_i].want_message) != NULL,
	    "%s: message '%s'", cases[_i].what, v.message);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, HP, &rec), 0);
	ck_assert_msg(rec.nkeys == (size_t)cases[_i].want_ncerts,
	    "%s: %zu certificates", cases[_i].what, rec.nkeys);
	if (rec.nkeys > 0) {
		cert_sha256(cert_of(cases[_i].want_first), sha);
		ck_assert_msg(memcmp(rec.keys[0].sha256, sha, 32) == 0,
		    "%s: the first certificate", cases[_i].what);
	}
	if (rec.nkeys > 1) {
		cert_sha256(cert_of(cases[_i].want_second), sha);
		ck_assert(memcmp(rec.keys[1].sha256, sha, 32) == 0);
	}
	/* A mismatch against a key-only pin names the key in rejected/. */
	if (cases[_i].setup == S_KEY_B) {
		ck_assert_int_eq(store_get(txn, STORE_REJECTED, HP, &rec), 0);
		pin_key_sha256(b_cert, key);
		ck_assert_int_eq(memcmp(rec.other_sha256, key, 32), 0);
	}
	store_txn_abort(txn);
	audit_text(t, &log);
	if (cases[_i].want_action != NULL)
		ck_assert_msg(strstr(log.data, cases[_i].want_action) != NULL,
		    "%s: audit.log '%s'", cases[_i].what, log.data);
	buf_free(&log);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* --- trustfs_pin_key ---------------------------------------------- */

static unsigned char *
spki_of(X509 *x, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

	ck_assert_int_gt(n, 0);
	*len = (size_t)n;
	return der;
}

START_TEST(test_pin_key)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	enum trustfs_pin_result r;
	struct store_txn *txn;
	struct store_rec rec;
	unsigned char *ka, *kb, key[32], junk[40];
	size_t la, lb;
	struct buf log = { 0 };

	ka = spki_of(a_cert, &la);
	kb = spki_of(b_cert, &lb);
	ck_assert_int_eq(trustfs_pin_key(t, "Server.Test", 443, ka, la, 0,
	    &r), 0);
	ck_assert_int_eq(r, TRUSTFS_PIN_ADDED);
	ck_assert_int_eq(trustfs_pin_key(t, "server.test", 443, ka, la, 0,
	    &r), 0);
	ck_assert_int_eq(r, TRUSTFS_PIN_UNCHANGED);
	ck_assert_int_eq(trustfs_pin_key(t, "server.test", 443, kb, lb, 0,
	    &r), 0);
	ck_assert_int_eq(r, TRUSTFS_PIN_REFUSED);
	/* The record: key-only, the key's SHA-256, no expiry. */
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, HP, &rec), 0);
	ck_assert(pin_is_key_only(&rec));
	pin_key_sha256(a_cert, key);
	ck_assert_int_eq(memcmp(rec.other_sha256, key, 32), 0);
	ck_assert_uint_eq(rec.slot, 0);
	store_txn_abort(txn);
	audit_text(t, &log);
	ck_assert_ptr_nonnull(strstr(log.data, "action=pin-key path=pinned/"
	    HP));
	buf_free(&log);
	/* Past expirations write nothing; future ones are kept. */
	ck_assert_int_eq(trustfs_pin_key(t, "old.test", 443, ka, la, 1000,
	    &r), 0);
	ck_assert_int_eq(r, TRUSTFS_PIN_EXPIRED);
	ck_assert_int_eq(trustfs_pin_key(t, "new.test", 443, ka, la,
	    time(NULL) + 3600, &r), 0);
	ck_assert_int_eq(r, TRUSTFS_PIN_ADDED);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, "old.test_443", &rec),
	    -ENOENT);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, "new.test_443", &rec),
	    0);
	ck_assert_uint_gt(rec.slot, time(NULL));
	store_txn_abort(txn);
	/* Bad input: -1, a reason, nothing written. */
	memset(junk, 0x30, sizeof(junk));
	ck_assert_int_eq(trustfs_pin_key(t, "x.test", 443, junk,
	    sizeof(junk), 0, &r), -1);
	ck_assert_ptr_nonnull(strstr(trustfs_error(t), "not a DER"));
	ck_assert_int_eq(trustfs_pin_key(t, "x.test", 443, ka, la - 1, 0,
	    &r), -1);
	ck_assert_int_eq(trustfs_pin_key(t, "x.test", 443, ka, 0, 0, &r), -1);
	ck_assert_int_eq(trustfs_pin_key(t, "x.test", 443, NULL, 10, 0, &r),
	    -1);
	ck_assert_int_eq(trustfs_pin_key(t, "../x", 443, ka, la, 0, &r), -1);
	ck_assert_int_eq(trustfs_pin_key(t, "x.test", 0, ka, la, 0, &r), -1);
	ck_assert_int_eq(trustfs_pin_key(t, NULL, 443, ka, la, 0, &r), -1);
	ck_assert_int_eq(trustfs_pin_key(t, "x.test", 443, ka, la, -5, &r),
	    -1);
	ck_assert_int_eq(trustfs_pin_key(t, "x.test", 443, ka, la, 0, NULL),
	    -1);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, "x.test_443", &rec),
	    -ENOENT);
	store_txn_abort(txn);
	/* A host pinned to a certificate with the key: unchanged. */
	ck_assert_int_eq(trustfs_pin_key(t, "new.test", 443, kb, lb, 0, &r), 0);
	ck_assert_int_eq(r, TRUSTFS_PIN_REFUSED);
	OPENSSL_free(ka);
	OPENSSL_free(kb);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* --- pinned/ sets and unpinning --------------------------------------- */

struct add_args {
	STACK_OF(X509) *sk;
	const char *name;
	struct tf_error te;
	const unsigned char *drop;
};

static int
add_txn(struct store_txn *txn, void *arg)
{
	struct add_args *a = arg;
	struct entry_result res;

	return entry_add(txn, STORE_PINNED, a->name, a->sk, ENTRY_REPLACE,
	    NULL, &res, &a->te);
}

static int
drop_txn(struct store_txn *txn, void *arg)
{
	struct add_args *a = arg;

	return pin_drop_cert(txn, a->name, a->drop, NULL, &a->te);
}

static size_t
ncerts(struct trustfs *t, const char *name)
{
	struct store_txn *txn;
	struct store_rec rec;
	size_t n;
	int rc;

	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	rc = store_get(txn, STORE_PINNED, name, &rec);
	n = rc == 0 ? rec.nkeys : 0;
	store_txn_abort(txn);
	return n;
}

START_TEST(test_sets)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct add_args a = { .name = HP };
	unsigned char sha[32];

	/* Two certificates and a duplicate: two stored. */
	a.sk = tu_stack(a_cert, b_cert, a_cert, NULL);
	ck_assert_int_eq(store_write(t->st, add_txn, &a, NULL), 0);
	sk_X509_pop_free(a.sk, X509_free);
	ck_assert_uint_eq(ncerts(t, HP), 2);
	/* A renewal pair (one key, both self-signed) is no chain. */
	a.sk = tu_stack(a_cert, a2_cert, NULL);
	ck_assert_int_eq(store_write(t->st, add_txn, &a, NULL), 0);
	sk_X509_pop_free(a.sk, X509_free);
	ck_assert_uint_eq(ncerts(t, HP), 2);
	/* A leaf with its issuer is a chain: refused, nothing changed. */
	a.sk = tu_stack(ca_leaf, ca, NULL);
	ck_assert_int_eq(store_write(t->st, add_txn, &a, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(a.te.msg, "write bundles to import"));
	ck_assert_ptr_nonnull(strstr(a.te.msg, "CN=Pin CA issued"));
	sk_X509_pop_free(a.sk, X509_free);
	ck_assert_uint_eq(ncerts(t, HP), 2);
	/* Unpin one, then a certificate it does not hold, then the last. */
	cert_sha256(a_cert, sha);
	a.drop = sha;
	ck_assert_int_eq(store_write(t->st, drop_txn, &a, NULL), 0);
	ck_assert_uint_eq(ncerts(t, HP), 1);
	memset(&a.te, 0, sizeof(a.te));
	ck_assert_int_eq(store_write(t->st, drop_txn, &a, NULL), -ENOENT);
	ck_assert_ptr_nonnull(strstr(a.te.msg, "holds no certificate"));
	cert_sha256(a2_cert, sha);
	ck_assert_int_eq(store_write(t->st, drop_txn, &a, NULL), 0);
	ck_assert_uint_eq(ncerts(t, HP), 0);
	memset(&a.te, 0, sizeof(a.te));
	ck_assert_int_eq(store_write(t->st, drop_txn, &a, NULL), -ENOENT);
	ck_assert_ptr_nonnull(strstr(a.te.msg, "no pin"));
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* entry_add over an existing pin (trustctl pin, trustfs_pin_bulk, the
 * mount): what holds the certificates already is unchanged, an expired
 * pin or a key-only pin of the same key gives way, anything else is
 * kept unless ENTRY_REPLACE. */
static const struct {
	const char *what;
	enum setup setup;
	enum presented add;
	unsigned flags;
	int want_rc;
	enum entry_outcome want_outcome;
	size_t want_ncerts;
	uint32_t want_flags;
} over_cases[] = {
	{ "one of the pin's certificates: unchanged", S_AB, P_B, 0, 0,
	    ENTRY_UNCHANGED, 2, 0 },
	{ "another certificate: refused", S_A, P_B, 0, -EEXIST, 0, 1, 0 },
	{ "another certificate with ENTRY_REPLACE: replaced", S_AB, P_A,
	    ENTRY_REPLACE, 0, ENTRY_REPLACED, 1, 0 },
	{ "over an expired pin: replaced", S_A_EXPIRED, P_B, 0, 0,
	    ENTRY_REPLACED, 1, 0 },
	{ "over a key-only pin of its key: filled in, still a key pin",
	    S_KEY_A, P_A2, 0, 0, ENTRY_REPLACED, 1, PIN_FLAG_KEY },
	{ "over a key-only pin of another key: refused", S_KEY_B, P_A, 0,
	    -EEXIST, 0, 0, PIN_FLAG_KEY },
};

struct over_args {
	STACK_OF(X509) *sk;
	unsigned flags;
	struct entry_result res;
	struct tf_error te;
};

static int
over_txn(struct store_txn *txn, void *arg)
{
	struct over_args *a = arg;

	return entry_add(txn, STORE_PINNED, HP, a->sk, a->flags, NULL,
	    &a->res, &a->te);
}

START_TEST(test_add_over)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct setup_args sa = { over_cases[_i].setup };
	struct over_args a = { .flags = over_cases[_i].flags };
	struct store_txn *txn;
	struct store_rec rec;
	int rc;

	ck_assert_int_eq(store_write(t->st, setup_txn, &sa, NULL), 0);
	a.sk = tu_stack(cert_of(over_cases[_i].add), NULL);
	rc = store_write(t->st, over_txn, &a, NULL);
	ck_assert_msg(rc == over_cases[_i].want_rc, "%s: rc %d (%s)",
	    over_cases[_i].what, rc, a.te.msg);
	if (rc == 0)
		ck_assert_msg(a.res.outcome == over_cases[_i].want_outcome,
		    "%s: outcome %d", over_cases[_i].what, a.res.outcome);
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, HP, &rec), 0);
	ck_assert_msg(rec.nkeys == over_cases[_i].want_ncerts &&
	    rec.flags == over_cases[_i].want_flags, "%s: %zu certificates, "
	    "flags %u", over_cases[_i].what, rec.nkeys, rec.flags);
	store_txn_abort(txn);
	sk_X509_pop_free(a.sk, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* pin_spki_sha256 agrees with the key of a certificate. */
START_TEST(test_key_hash)
{
	unsigned char *der = NULL, a[32], b[32];
	struct tf_error te = { 0 };
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(b_cert), &der);

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(pin_spki_sha256(der, (size_t)n, a, &te), 0);
	ck_assert_int_eq(pin_key_sha256(b_cert, b), 0);
	ck_assert_int_eq(memcmp(a, b, 32), 0);
	ck_assert_int_eq(pin_key_sha256(a2_cert, a), 0);
	ck_assert_int_eq(pin_key_sha256(a_cert, b), 0);
	ck_assert_int_eq(memcmp(a, b, 32), 0);
	OPENSSL_free(der);
}
END_TEST

/*
 * Issue 8's rule for the new outcomes: store_write runs tofu_write again
 * when a commit finds the map full, and another process may change the
 * pin in between.  This stands in for LMDB's commit: armed, it lets
 * another writer put hook_pin in pinned/ and answers MDB_MAP_FULL; the
 * verdict must be the committed run's.
 */
static struct trustfs *hook;
static X509 *hook_pin;

int
mdb_txn_commit(MDB_txn *txn)
{
	static int (*real)(MDB_txn *);
	struct trustfs *t = hook;
	struct add_args a = { .name = HP };

	if (real == NULL)
		real = (int (*)(MDB_txn *))dlsym(RTLD_NEXT, "mdb_txn_commit");
	if (t == NULL)
		return real(txn);
	hook = NULL;
	mdb_txn_abort(txn);	/* a failed commit frees the transaction */
	a.sk = tu_stack(hook_pin, NULL);
	ck_assert_int_eq(store_write(t->st, add_txn, &a, NULL), 0);
	sk_X509_pop_free(a.sk, X509_free);
	return MDB_MAP_FULL;
}

static const struct {
	const char *what;
	enum setup setup;	/* the pin the first run sees */
	X509 **other;		/* what the other writer pins meanwhile */
	int want_trusted;
	enum trustfs_reason want_reason;
	const char *want_message;
} rerun_cases[] = {
	{ "a renewal, then the pin changed to another key: mismatch", S_A,
	    &b_cert, 0, TRUSTFS_PIN_MISMATCH, "different" },
	{ "a mismatch, then the pin changed to the same key: renewal", S_NONE,
	    &a_cert, 1, TRUSTFS_PIN_MATCH, "renewed" },
	{ "a fill, then a certificate pinned with another key: mismatch",
	    S_KEY_A, &b_cert, 0, TRUSTFS_PIN_MISMATCH, "different" },
};

START_TEST(test_rerun)
{
	char *dir = tu_mkdtemp();
	struct trustfs *t = trustfs_open(dir);
	struct setup_args sa = { rerun_cases[_i].setup };
	struct trustfs_verdict v;
	STACK_OF(X509) *peer = tu_stack(a2_cert, NULL);
	struct store_txn *txn;
	struct store_rec rec;
	unsigned char sha[32];

	put_policy(t, "* tofu pin=key\n");
	ck_assert_int_eq(store_write(t->st, setup_txn, &sa, NULL), 0);
	if (rerun_cases[_i].setup == S_NONE) {
		/* Pinned to B first: the first run is a mismatch. */
		struct add_args a = { .name = HP };

		a.sk = tu_stack(b_cert, NULL);
		ck_assert_int_eq(store_write(t->st, add_txn, &a, NULL), 0);
		sk_X509_pop_free(a.sk, X509_free);
	}
	hook_pin = *rerun_cases[_i].other;
	hook = t;
	ck_assert_int_eq(trustfs_check(t, "server.test", 443, peer, &v), 0);
	ck_assert_ptr_null(hook);	/* the hook ran */
	ck_assert_msg(v.trusted == rerun_cases[_i].want_trusted &&
	    v.reason == rerun_cases[_i].want_reason, "%s: trusted %d, %s (%s)",
	    rerun_cases[_i].what, v.trusted, trustfs_reason_name(v.reason),
	    v.message);
	ck_assert_ptr_nonnull(strstr(v.message, rerun_cases[_i].want_message));
	/* What was committed agrees with the verdict. */
	ck_assert_int_eq(store_txn_begin(t->st, 0, &txn, NULL), 0);
	ck_assert_int_eq(store_get(txn, STORE_PINNED, HP, &rec), 0);
	ck_assert_uint_eq(rec.nkeys, 1);
	cert_sha256(v.trusted ? a2_cert : *rerun_cases[_i].other, sha);
	ck_assert_int_eq(memcmp(rec.keys[0].sha256, sha, 32), 0);
	ck_assert_int_eq(store_get(txn, STORE_REJECTED, HP, &rec),
	    v.trusted ? -ENOENT : 0);
	store_txn_abort(txn);
	sk_X509_pop_free(peer, X509_free);
	trustfs_free(t);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("pins");
	int rc;

	make_certs();
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_check, 0, sizeof(cases) /
	    sizeof(cases[0]));
	tcase_add_test(tc, test_pin_key);
	tcase_add_test(tc, test_sets);
	tcase_add_test(tc, test_key_hash);
	tcase_add_loop_test(tc, test_add_over, 0, sizeof(over_cases) /
	    sizeof(over_cases[0]));
	tcase_add_loop_test(tc, test_rerun, 0, sizeof(rerun_cases) /
	    sizeof(rerun_cases[0]));
	rc = tu_run("pins", tc, 1);
	free_certs();
	return rc;
}
