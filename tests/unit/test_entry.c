/*
 * entry.c: the change rules of DESIGN section 2 (one certificate per
 * pinned/, roots/ and distrusted/ file, names, replacing, distrust,
 * labels, renames), the audit line every change writes in its own
 * transaction, certs/ slots, anchors and counters.  Table-driven, each
 * case on a fresh temporary store.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "entry.h"
#include "error.h"
#include "store.h"
#include "testutil.h"

/* The certificates, made once before the suite runs. */
enum cid {
	C_NONE = 0,	/* no certificate; "absent" in a want */
	C_RA,		/* root "Unit Root A" */
	C_RA2,		/* the same subject, a new key (rollover) */
	C_RA3,		/* and a third */
	C_RB,		/* root "Unit Root B" */
	C_INT,		/* intermediate issued by C_RA */
	C_LEAF,		/* server.test, issued by C_INT */
	C_LEAF2,	/* the same subject, a new key */
	C_ORG,		/* a root with an O and no CN */
	C_ODD,		/* a root whose CN needs '_' in its label */
	C_SELF,		/* a self-signed end-entity certificate */
	C_N
};
static X509 *cert[C_N];
static EVP_PKEY *key[C_N];

static const struct entry_actor who = { 4242, 77, "unit test" };
/* As the audit line shows the actor; a printf format (%% is %). */
#define WHO_TOKENS "uid=4242 pid=77 comm=unit%%20test"

static char *dir;
static struct store *st;

static void
make_certs(void)
{
	struct gencert_opts o;

	o = (struct gencert_opts){ .cn = "Unit Root A", .is_ca = 1 };
	cert[C_RA] = tu_make_cert(&o, &key[C_RA]);
	cert[C_RA2] = tu_make_cert(&o, &key[C_RA2]);
	cert[C_RA3] = tu_make_cert(&o, &key[C_RA3]);
	o.cn = "Unit Root B";
	cert[C_RB] = tu_make_cert(&o, &key[C_RB]);
	o = (struct gencert_opts){ .cn = "Unit Intermediate", .is_ca = 1,
	    .issuer = cert[C_RA], .issuer_key = key[C_RA] };
	cert[C_INT] = tu_make_cert(&o, &key[C_INT]);
	o = (struct gencert_opts){ .cn = "server.test", .issuer = cert[C_INT],
	    .issuer_key = key[C_INT], .san = "DNS:server.test" };
	cert[C_LEAF] = tu_make_cert(&o, NULL);
	cert[C_LEAF2] = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .org = "Only Org", .is_ca = 1 };
	cert[C_ORG] = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "Odd CA/\xc3\x9cn\xc3\xaf x",
	    .is_ca = 1 };
	cert[C_ODD] = tu_make_cert(&o, NULL);
	o = (struct gencert_opts){ .cn = "self.test", .san = "DNS:self.test" };
	cert[C_SELF] = tu_make_cert(&o, NULL);
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
	struct tf_error e = { 0 };
	struct store_txn *txn = NULL;

	ck_assert_msg(store_txn_begin(st, write, &txn, &e) == 0,
	    "store_txn_begin: %s", tf_error_msg(&e));
	return txn;
}

/* A stack of up to four certificates; C_NONE ends it. */
static STACK_OF(X509) *
stack_of(const enum cid *ids, size_t n)
{
	STACK_OF(X509) *sk = tu_stack(NULL);
	size_t i;

	for (i = 0; i < n && ids[i] != C_NONE; i++) {
		X509_up_ref(cert[ids[i]]);
		sk_X509_push(sk, cert[ids[i]]);
	}
	return sk;
}

static void
hex_of(enum cid c, char out[65])
{
	unsigned char sha[32];

	cert_sha256(cert[c], sha);
	cert_hex(sha, 32, 0, out);
}

/* Which certificate the entry holds first: C_NONE if there is no entry,
 * -1 if it is none of ours.  *rec_out (optional) gets the record. */
static int
holds(struct store_txn *txn, enum store_db db, const char *name,
    struct store_rec *rec_out)
{
	struct store_rec rec;
	unsigned char sha[32];
	int rc, i;

	rc = store_get(txn, db, name, &rec);
	if (rc == -ENOENT)
		return C_NONE;
	ck_assert_msg(rc == 0, "store_get %s: %d", name, rc);
	if (rec_out != NULL)
		*rec_out = rec;
	for (i = 1; i < C_N; i++) {
		cert_sha256(cert[i], sha);
		if (rec.nkeys > 0 && memcmp(rec.keys[0].sha256, sha, 32) == 0)
			return i;
	}
	return -1;
}

struct lines {
	int n;
	char last[1024];
	char all[8192];
};

static int
line_cb(const char *line, size_t len, void *arg)
{
	struct lines *l = arg;
	size_t have = strlen(l->all);

	l->n++;
	snprintf(l->last, sizeof(l->last), "%.*s", (int)len, line);
	snprintf(l->all + have, sizeof(l->all) - have, "%.*s\n", (int)len,
	    line);
	return 0;
}

static struct lines
audit(void)
{
	struct store_txn *txn = txn_begin(0);
	struct lines l = { 0 };

	ck_assert_int_eq(store_audit_foreach(txn, line_cb, &l), 0);
	store_txn_abort(txn);
	return l;
}

/* Adds c under name (NULL: a label) in its own transaction. */
static void
pre_add(enum store_db db, const char *name, enum cid c, char *got,
    size_t gotlen)
{
	struct store_txn *txn = txn_begin(1);
	STACK_OF(X509) *sk = stack_of(&c, 1);
	struct entry_result res;
	struct tf_error e = { 0 };
	int rc;

	rc = entry_add(txn, db, name, sk, name ? 0 : ENTRY_AUTOLABEL, &who,
	    &res, &e);
	ck_assert_msg(rc == 0 && res.outcome == ENTRY_ADDED,
	    "set-up add %s/%s: %d %s", entry_db_dir(db), name ? name : "-",
	    rc, tf_error_msg(&e));
	ck_assert_int_eq(store_txn_commit(txn), 0);
	if (got != NULL)
		snprintf(got, gotlen, "%s", res.name);
	sk_X509_pop_free(sk, X509_free);
}

/* Dates an entry and the store's last change back to 1 (1970), so that
 * "nothing changed" can be seen without waiting for the clock. */
static void
backdate(enum store_db db, const char *name)
{
	struct store_txn *txn = txn_begin(1);
	struct store_rec rec;
	struct store_key *k;
	unsigned char *der;

	ck_assert_int_eq(store_get(txn, db, name, &rec), 0);
	k = malloc(rec.nkeys * sizeof(*k) + 1);
	der = malloc(rec.der_len);
	ck_assert(k != NULL && der != NULL);
	memcpy(k, rec.keys, rec.nkeys * sizeof(*k));
	memcpy(der, rec.der, rec.der_len);
	rec.keys = k;
	rec.der = der;
	rec.ctime = rec.mtime = 1;
	ck_assert_int_eq(store_put(txn, db, name, &rec), 0);
	ck_assert_int_eq(store_meta_put(txn, "changed", "1", 1), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	free(k);
	free(der);
}

/* Entries a case starts with, and what it wants afterwards. */
struct ent {
	enum store_db db;
	const char *name;	/* pre: NULL means a label (ENTRY_AUTOLABEL) */
	enum cid c;		/* C_NONE ends a list; in `after': absent */
};
#define NOENT(d, n) { d, n, (enum cid)-2 }	/* want: no such entry */

struct add_case {
	const char *what;
	struct ent pre[3];
	enum store_db db;
	const char *name;
	enum cid in[4];
	unsigned flags;
	int want_rc;
	enum entry_outcome want_outcome;
	const char *want_name;
	const char *want_msg;	/* a part of the reason */
	int want_audit;		/* lines added */
	struct ent after[3];
};

#define S10 "abcdefghij"
#define S100 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
#define S300 S100 S100 S100

static const struct add_case add_cases[] = {
	{ "roots: one certificate is added", { { 0 } }, STORE_ROOTS,
	    "A.pem", { C_RA }, 0, 0, ENTRY_ADDED, "A.pem", NULL, 1,
	    { { STORE_ROOTS, "A.pem", C_RA } } },
	{ "pinned: HOST_PORT lowercased", { { 0 } }, STORE_PINNED,
	    "Server.TEST_443", { C_LEAF }, 0, 0, ENTRY_ADDED,
	    "server.test_443", NULL, 1,
	    { { STORE_PINNED, "server.test_443", C_LEAF } } },
	{ "pinned: IPv6 compressed, brackets dropped", { { 0 } },
	    STORE_PINNED, "[2001:DB8:0:0::1]_8443", { C_LEAF }, 0, 0,
	    ENTRY_ADDED, "2001:db8::1_8443", NULL, 1,
	    { { STORE_PINNED, "2001:db8::1_8443", C_LEAF } } },
	{ "rejected: HOST_PORT lowercased", { { 0 } }, STORE_REJECTED,
	    "Host.Example_1", { C_LEAF }, 0, 0, ENTRY_ADDED,
	    "host.example_1", NULL, 1, { { 0 } } },
	{ "distrusted: one certificate is added", { { 0 } },
	    STORE_DISTRUSTED, "d.pem", { C_RB }, 0, 0, ENTRY_ADDED, "d.pem",
	    NULL, 1, { { STORE_DISTRUSTED, "d.pem", C_RB } } },
	{ "chains: stored leaf side first", { { 0 } }, STORE_CHAINS, "c.pem",
	    { C_RA, C_LEAF, C_INT }, 0, 0, ENTRY_ADDED, "c.pem", NULL, 1,
	    { { STORE_CHAINS, "c.pem", C_LEAF } } },
	{ "roots: a bundle is refused", { { 0 } }, STORE_ROOTS, "A.pem",
	    { C_RA, C_RB }, 0, -EINVAL, 0, NULL, "write bundles to import", 0,
	    { NOENT(STORE_ROOTS, "A.pem") } },
	{ "pinned: a bundle is refused", { { 0 } }, STORE_PINNED, "h_443",
	    { C_LEAF, C_INT }, 0, -EINVAL, 0, NULL, "write bundles to import",
	    0, { NOENT(STORE_PINNED, "h_443") } },
	{ "distrusted: a bundle is refused", { { 0 } }, STORE_DISTRUSTED,
	    "d.pem", { C_RA, C_RB }, ENTRY_REPLACE, -EINVAL, 0, NULL,
	    "write bundles to import", 0,
	    { NOENT(STORE_DISTRUSTED, "d.pem") } },
	{ "no certificate", { { 0 } }, STORE_CHAINS, "c.pem", { C_NONE }, 0,
	    -EINVAL, 0, NULL, "no certificate", 0, { { 0 } } },
	{ "roots: a name without .pem", { { 0 } }, STORE_ROOTS, "A.crt",
	    { C_RA }, 0, -EINVAL, 0, NULL, ".pem", 0, { { 0 } } },
	{ "pinned: a port out of range", { { 0 } }, STORE_PINNED,
	    "h_65536", { C_LEAF }, 0, -EINVAL, 0, NULL, "HOST_PORT", 0,
	    { { 0 } } },
	{ "pinned: no port", { { 0 } }, STORE_PINNED, "server.test",
	    { C_LEAF }, 0, -EINVAL, 0, NULL, "HOST_PORT", 0, { { 0 } } },
	{ "pinned: a name over 255 bytes", { { 0 } }, STORE_PINNED,
	    S300 "_443", { C_LEAF }, 0, -ENAMETOOLONG, 0, NULL, NULL, 0,
	    { { 0 } } },
	{ "roots: a name over 255 bytes", { { 0 } }, STORE_ROOTS,
	    S300 ".pem", { C_RA }, 0, -ENAMETOOLONG, 0, NULL, NULL, 0,
	    { { 0 } } },
	{ "roots: the same certificate again", { { STORE_ROOTS, "A.pem",
	    C_RA } }, STORE_ROOTS, "A.pem", { C_RA }, 0, 0, ENTRY_UNCHANGED,
	    "A.pem", NULL, 0, { { STORE_ROOTS, "A.pem", C_RA } } },
	{ "pinned: the same certificate again", { { STORE_PINNED, "h_443",
	    C_LEAF } }, STORE_PINNED, "H_443", { C_LEAF }, ENTRY_REPLACE, 0,
	    ENTRY_UNCHANGED, "h_443", NULL, 0,
	    { { STORE_PINNED, "h_443", C_LEAF } } },
	{ "chains: the same chain again", { { STORE_CHAINS, "c.pem",
	    C_INT } }, STORE_CHAINS, "c.pem", { C_INT }, 0, 0,
	    ENTRY_UNCHANGED, "c.pem", NULL, 0, { { 0 } } },
	{ "roots: another certificate under a taken name", { { STORE_ROOTS,
	    "A.pem", C_RA } }, STORE_ROOTS, "A.pem", { C_RB }, 0, -EEXIST, 0,
	    NULL, "roots/A.pem", 0, { { STORE_ROOTS, "A.pem", C_RA } } },
	{ "roots: ENTRY_REPLACE replaces", { { STORE_ROOTS, "A.pem",
	    C_RA } }, STORE_ROOTS, "A.pem", { C_RB }, ENTRY_REPLACE, 0,
	    ENTRY_REPLACED, "A.pem", NULL, 1,
	    { { STORE_ROOTS, "A.pem", C_RB } } },
	{ "pinned: another certificate under a taken name", {
	    { STORE_PINNED, "h_443", C_LEAF } }, STORE_PINNED, "H_443",
	    { C_LEAF2 }, 0, -EEXIST, 0, NULL, "pinned/h_443", 0,
	    { { STORE_PINNED, "h_443", C_LEAF } } },
	{ "pinned: ENTRY_REPLACE replaces", { { STORE_PINNED, "h_443",
	    C_LEAF } }, STORE_PINNED, "h_443", { C_LEAF2 }, ENTRY_REPLACE, 0,
	    ENTRY_REPLACED, "h_443", NULL, 1,
	    { { STORE_PINNED, "h_443", C_LEAF2 } } },
	{ "chains: another chain under a taken name", { { STORE_CHAINS,
	    "c.pem", C_INT } }, STORE_CHAINS, "c.pem", { C_LEAF, C_INT }, 0,
	    -EEXIST, 0, NULL, "chains/c.pem", 0,
	    { { STORE_CHAINS, "c.pem", C_INT } } },
	{ "roots: a distrusted certificate is refused", {
	    { STORE_DISTRUSTED, "d.pem", C_RA } }, STORE_ROOTS, "A.pem",
	    { C_RA }, 0, -EINVAL, 0, NULL, "distrusted/d.pem", 0,
	    { NOENT(STORE_ROOTS, "A.pem") } },
	{ "chains: a distrusted certificate in the chain is refused", {
	    { STORE_DISTRUSTED, "d.pem", C_INT } }, STORE_CHAINS, "c.pem",
	    { C_LEAF, C_INT }, 0, -EINVAL, 0, NULL, "distrusted/d.pem", 0,
	    { NOENT(STORE_CHAINS, "c.pem") } },
	{ "distrusted: adding removes it from roots/", { { STORE_ROOTS,
	    "A.pem", C_RA } }, STORE_DISTRUSTED, "d.pem", { C_RA }, 0, 0,
	    ENTRY_ADDED, "d.pem", NULL, 2, { NOENT(STORE_ROOTS, "A.pem"),
	    { STORE_DISTRUSTED, "d.pem", C_RA } } },
	{ "autolabel: from the CN", { { 0 } }, STORE_ROOTS, NULL, { C_RA },
	    ENTRY_AUTOLABEL, 0, ENTRY_ADDED, "Unit_Root_A.pem", NULL, 1,
	    { { STORE_ROOTS, "Unit_Root_A.pem", C_RA } } },
	{ "autolabel: a clash gets _2", { { STORE_ROOTS, NULL, C_RA } },
	    STORE_ROOTS, NULL, { C_RA2 }, ENTRY_AUTOLABEL, 0, ENTRY_ADDED,
	    "Unit_Root_A_2.pem", NULL, 1,
	    { { STORE_ROOTS, "Unit_Root_A.pem", C_RA },
	    { STORE_ROOTS, "Unit_Root_A_2.pem", C_RA2 } } },
	{ "autolabel: the next clash gets _3", { { STORE_ROOTS, NULL, C_RA },
	    { STORE_ROOTS, NULL, C_RA2 } }, STORE_ROOTS, NULL, { C_RA3 },
	    ENTRY_AUTOLABEL, 0, ENTRY_ADDED, "Unit_Root_A_3.pem", NULL, 1,
	    { { STORE_ROOTS, "Unit_Root_A_3.pem", C_RA3 } } },
	{ "autolabel: O when there is no CN", { { 0 } }, STORE_ROOTS, NULL,
	    { C_ORG }, ENTRY_AUTOLABEL, 0, ENTRY_ADDED, "Only_Org.pem", NULL,
	    1, { { 0 } } },
	{ "autolabel: one '_' per odd character", { { 0 } }, STORE_ROOTS,
	    NULL, { C_ODD }, ENTRY_AUTOLABEL, 0, ENTRY_ADDED,
	    "Odd_CA__n__x.pem", NULL, 1, { { 0 } } },
	{ "autolabel: a known root is unchanged", { { STORE_ROOTS, "A.pem",
	    C_RA } }, STORE_ROOTS, NULL, { C_RA }, ENTRY_AUTOLABEL, 0,
	    ENTRY_UNCHANGED, "A.pem", NULL, 0,
	    { NOENT(STORE_ROOTS, "Unit_Root_A.pem") } },
	{ "autolabel: a distrusted certificate is skipped", {
	    { STORE_DISTRUSTED, "d.pem", C_RA } }, STORE_ROOTS, NULL,
	    { C_RA }, ENTRY_AUTOLABEL, 0, ENTRY_SKIPPED_DISTRUSTED, "d.pem",
	    NULL, 0, { NOENT(STORE_ROOTS, "Unit_Root_A.pem") } },
	{ "pinned: one certificate may pin two names", { { STORE_PINNED,
	    "a_443", C_LEAF } }, STORE_PINNED, "b_443", { C_LEAF }, 0, 0,
	    ENTRY_ADDED, "b_443", NULL, 1, { { STORE_PINNED, "a_443", C_LEAF },
	    { STORE_PINNED, "b_443", C_LEAF } } },
	{ "pinned: replaced by the certificate of another pin", {
	    { STORE_PINNED, "a_443", C_LEAF },
	    { STORE_PINNED, "b_443", C_LEAF2 } }, STORE_PINNED, "a_443",
	    { C_LEAF2 }, ENTRY_REPLACE, 0, ENTRY_REPLACED, "a_443", NULL, 1,
	    { { STORE_PINNED, "a_443", C_LEAF2 },
	    { STORE_PINNED, "b_443", C_LEAF2 } } },
	{ "chains: one chain under two names", { { STORE_CHAINS, "a.pem",
	    C_INT } }, STORE_CHAINS, "b.pem", { C_INT }, 0, 0, ENTRY_ADDED,
	    "b.pem", NULL, 1, { { STORE_CHAINS, "a.pem", C_INT },
	    { STORE_CHAINS, "b.pem", C_INT } } },
};

/*
 * Issue 8 defect 12: in roots/ and distrusted/ a certificate lives under
 * one name.  Adding it under another name, or replacing another entry
 * with it, is EEXIST with a reason naming where it is, and changes
 * nothing (it used to return 0, change nothing and audit nothing).
 */
static const struct add_case defect12_cases[] = {
	{ "defect12: roots/X replaced by the certificate of roots/Y", {
	    { STORE_ROOTS, "X.pem", C_RA }, { STORE_ROOTS, "Y.pem", C_RB } },
	    STORE_ROOTS, "X.pem", { C_RB }, ENTRY_REPLACE, -EEXIST, 0, NULL,
	    "roots/Y.pem", 0, { { STORE_ROOTS, "X.pem", C_RA },
	    { STORE_ROOTS, "Y.pem", C_RB } } },
	{ "defect12: roots/X added with the certificate of roots/Y", {
	    { STORE_ROOTS, "Y.pem", C_RB } }, STORE_ROOTS, "X.pem", { C_RB },
	    0, -EEXIST, 0, NULL, "roots/Y.pem", 0,
	    { NOENT(STORE_ROOTS, "X.pem"), { STORE_ROOTS, "Y.pem", C_RB } } },
	{ "defect12: the same with ENTRY_REPLACE", { { STORE_ROOTS, "Y.pem",
	    C_RB } }, STORE_ROOTS, "X.pem", { C_RB }, ENTRY_REPLACE, -EEXIST,
	    0, NULL, "roots/Y.pem", 0, { NOENT(STORE_ROOTS, "X.pem") } },
	{ "defect12: distrusted/X replaced by the certificate of "
	    "distrusted/Y", { { STORE_DISTRUSTED, "X.pem", C_RA },
	    { STORE_DISTRUSTED, "Y.pem", C_RB } }, STORE_DISTRUSTED, "X.pem",
	    { C_RB }, ENTRY_REPLACE, -EEXIST, 0, NULL, "distrusted/Y.pem", 0,
	    { { STORE_DISTRUSTED, "X.pem", C_RA },
	    { STORE_DISTRUSTED, "Y.pem", C_RB } } },
	{ "defect12: distrusted/X added with the certificate of "
	    "distrusted/Y", { { STORE_DISTRUSTED, "Y.pem", C_RB } },
	    STORE_DISTRUSTED, "X.pem", { C_RB }, 0, -EEXIST, 0, NULL,
	    "distrusted/Y.pem", 0, { NOENT(STORE_DISTRUSTED, "X.pem") } },
	/* What must keep working beside the rule. */
	{ "defect12: the same name and certificate is still unchanged", {
	    { STORE_ROOTS, "Y.pem", C_RB } }, STORE_ROOTS, "Y.pem", { C_RB },
	    ENTRY_REPLACE, 0, ENTRY_UNCHANGED, "Y.pem", NULL, 0, { { 0 } } },
};

static void
run_add_case(const struct add_case *c)
{
	struct entry_result res;
	struct tf_error e = { 0 };
	struct store_txn *txn;
	struct store_rec rec;
	STACK_OF(X509) *sk;
	struct lines before, after;
	char pre_name[3][256], want[512], hex[65], path[300];
	uint64_t gen;
	int i, rc, changed, h;

	for (i = 0; i < 3 && c->pre[i].c != C_NONE; i++) {
		pre_add(c->pre[i].db, c->pre[i].name, c->pre[i].c, pre_name[i],
		    sizeof(pre_name[i]));
		backdate(c->pre[i].db, pre_name[i]);
	}
	before = audit();
	gen = store_generation(st);

	sk = stack_of(c->in, 4);
	txn = txn_begin(1);
	memset(&res, 0xa5, sizeof(res));
	rc = entry_add(txn, c->db, c->name, sk, c->flags, &who, &res, &e);
	/* Committed even after a refusal: a refusal must not have changed
	 * anything in the caller's transaction either. */
	ck_assert_int_eq(store_txn_commit(txn), 0);
	sk_X509_pop_free(sk, X509_free);

	ck_assert_msg(rc == c->want_rc, "%s: returned %d (%s), want %d",
	    c->what, rc, tf_error_msg(&e), c->want_rc);
	if (rc != 0 && c->want_msg != NULL) {
		ck_assert_msg(strstr(tf_error_msg(&e), c->want_msg) != NULL,
		    "%s: reason '%s' does not say '%s'", c->what,
		    tf_error_msg(&e), c->want_msg);
		ck_assert_msg(e.code == rc, "%s: e.code %d", c->what, e.code);
	}
	if (rc == 0) {
		ck_assert_msg(res.outcome == c->want_outcome,
		    "%s: outcome %d, want %d", c->what, res.outcome,
		    c->want_outcome);
		ck_assert_msg(strcmp(res.name, c->want_name) == 0,
		    "%s: name '%s', want '%s'", c->what, res.name,
		    c->want_name);
	}
	after = audit();
	ck_assert_msg(after.n - before.n == c->want_audit,
	    "%s: %d audit lines, want %d:\n%s", c->what, after.n - before.n,
	    c->want_audit, after.all);
	changed = rc == 0 && (res.outcome == ENTRY_ADDED ||
	    res.outcome == ENTRY_REPLACED);
	if (changed) {
		/* The last line is this change, by this actor, with the
		 * leaf-side certificate's SHA-256. */
		cert_hex(res.sha256, 32, 0, hex);
		snprintf(path, sizeof(path), "%s/%s", entry_db_dir(c->db),
		    res.name);
		snprintf(want, sizeof(want), " " WHO_TOKENS " action=%s "
		    "path=%s sha256=%s", res.outcome == ENTRY_ADDED ? "add" :
		    "replace", path, hex);
		ck_assert_msg(strstr(after.last, want) != NULL,
		    "%s: audit line '%s' lacks '%s'", c->what, after.last,
		    want);
	}

	txn = txn_begin(0);
	for (i = 0; i < 3 && c->after[i].c != C_NONE; i++) {
		int wantc = (int)c->after[i].c == -2 ? C_NONE :
		    (int)c->after[i].c;

		h = holds(txn, c->after[i].db, c->after[i].name, &rec);
		ck_assert_msg(h == wantc, "%s: %s/%s holds %d, want %d",
		    c->what, entry_db_dir(c->after[i].db), c->after[i].name,
		    h, wantc);
	}
	if (!changed) {
		/* Nothing written at all: no mtime, no last change. */
		ck_assert_msg(store_generation(st) == gen,
		    "%s: the store was written", c->what);
		ck_assert_msg(entry_last_change(txn) == (c->pre[0].c ? 1 : 0),
		    "%s: last change moved", c->what);
		for (i = 0; i < 3 && c->pre[i].c != C_NONE; i++) {
			ck_assert_int_eq(holds(txn, c->pre[i].db, pre_name[i],
			    &rec), c->pre[i].c);
			ck_assert_msg(rec.mtime == 1, "%s: mtime of %s changed",
			    c->what, pre_name[i]);
		}
	} else {
		ck_assert(entry_last_change(txn) > 1);
		ck_assert_int_ge(holds(txn, c->db, res.name, &rec), 1);
		ck_assert(memcmp(rec.keys[0].sha256, res.sha256, 32) == 0);
		ck_assert(rec.mtime > 1);
		/* A replaced entry keeps its creation time. */
		ck_assert_msg(res.outcome == ENTRY_REPLACED ? rec.ctime == 1 :
		    rec.ctime > 1, "%s: ctime %llu", c->what,
		    (unsigned long long)rec.ctime);
	}
	store_txn_abort(txn);
}

START_TEST(test_add)
{
	run_add_case(&add_cases[_i]);
}
END_TEST

START_TEST(defect12_one_name_per_certificate)
{
	run_add_case(&defect12_cases[_i]);
}
END_TEST


/* entry_name: HOST_PORT for pinned/ and rejected/, LABEL.pem elsewhere. */
static const struct {
	enum store_db db;
	const char *in;
	int want_rc;
	const char *want;
} name_cases[] = {
	{ STORE_PINNED, "Server.Test_443", 0, "server.test_443" },
	{ STORE_REJECTED, "HOST_8082", 0, "host_8082" },
	{ STORE_PINNED, "10.1.2.3_8082", 0, "10.1.2.3_8082" },
	{ STORE_PINNED, "[2001:DB8::0:1]_443", 0, "2001:db8::1_443" },
	{ STORE_PINNED, "2001:db8:0:0:0:0:0:1_443", 0, "2001:db8::1_443" },
	{ STORE_PINNED, "_srv.host_1", 0, "_srv.host_1" },
	{ STORE_PINNED, "h_65535", 0, "h_65535" },
	{ STORE_PINNED, "h_0", -EINVAL, NULL },
	{ STORE_PINNED, "h_65536", -EINVAL, NULL },
	{ STORE_PINNED, "h_080", -EINVAL, NULL },
	{ STORE_PINNED, "h_", -EINVAL, NULL },
	{ STORE_PINNED, "h", -EINVAL, NULL },
	{ STORE_PINNED, "_443", -EINVAL, NULL },
	{ STORE_PINNED, "bad host_443", -EINVAL, NULL },
	{ STORE_PINNED, "a..b_443", -EINVAL, NULL },
	{ STORE_PINNED, "[10.1.2.3]_443", -EINVAL, NULL },
	{ STORE_PINNED, "2001:db8::g_443", -EINVAL, NULL },
	{ STORE_REJECTED, "256.1.2.3_443", -EINVAL, NULL },
	{ STORE_PINNED, S100 "_443", -EINVAL, NULL },	/* a 100-byte label */
	{ STORE_PINNED, S300 "_443", -ENAMETOOLONG, NULL },
	{ STORE_ROOTS, "My CA.pem", 0, "My CA.pem" },
	{ STORE_ROOTS, "Caf\xc3\xa9.pem", 0, "Caf\xc3\xa9.pem" },
	{ STORE_DISTRUSTED, "X.pem", 0, "X.pem" },
	{ STORE_CHAINS, "c.pem", 0, "c.pem" },
	{ STORE_ROOTS, "A.crt", -EINVAL, NULL },
	{ STORE_ROOTS, ".pem", -EINVAL, NULL },
	{ STORE_ROOTS, ".hidden.pem", -EINVAL, NULL },
	{ STORE_ROOTS, "a/b.pem", -EINVAL, NULL },
	{ STORE_ROOTS, "", -EINVAL, NULL },
	{ STORE_ROOTS, "..", -EINVAL, NULL },
	{ STORE_CHAINS, "bad\x01.pem", -EINVAL, NULL },
	{ STORE_DISTRUSTED, "\xff.pem", -EINVAL, NULL },
	{ STORE_ROOTS, "\xc0\xaf.pem", -EINVAL, NULL },	/* overlong '/' */
	{ STORE_ROOTS, S300 ".pem", -ENAMETOOLONG, NULL },
};

START_TEST(test_name)
{
	char out[256];
	struct tf_error e = { 0 };
	int rc;

	rc = entry_name(name_cases[_i].db, name_cases[_i].in, out, sizeof(out),
	    &e);
	ck_assert_msg(rc == name_cases[_i].want_rc, "'%s': %d, want %d",
	    name_cases[_i].in, rc, name_cases[_i].want_rc);
	if (rc == 0)
		ck_assert_str_eq(out, name_cases[_i].want);
	else
		ck_assert_msg(tf_error_msg(&e)[0] != '\0',
		    "'%s' refused without a reason", name_cases[_i].in);
	/* A buffer too small for the name. */
	if (rc == 0)
		ck_assert_int_eq(entry_name(name_cases[_i].db,
		    name_cases[_i].in, out, 4, NULL), -ENAMETOOLONG);
}
END_TEST

/* Chains are stored leaf side first, unlinked certificates after. */
static const struct {
	const char *what;
	enum cid in[4];
	enum cid want[4];
} order_cases[] = {
	{ "root, leaf, intermediate", { C_RA, C_LEAF, C_INT },
	    { C_LEAF, C_INT, C_RA } },
	{ "in order", { C_INT, C_RA }, { C_INT, C_RA } },
	{ "reversed", { C_RA, C_INT }, { C_INT, C_RA } },
	/* entry.c: "whatever is not linked keeps its input order, after
	 * the path" -- even when it comes first. */
	{ "an unrelated root first", { C_RB, C_INT, C_LEAF },
	    { C_LEAF, C_INT, C_RB } },
};

START_TEST(test_chain_order)
{
	STACK_OF(X509) *sk = stack_of(order_cases[_i].in, 4), *got = NULL;
	struct store_txn *txn = txn_begin(1);
	struct entry_result res;
	struct store_rec rec;
	int i;

	ck_assert_int_eq(entry_add(txn, STORE_CHAINS, "c.pem", sk, 0, &who,
	    &res, NULL), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	txn = txn_begin(0);
	ck_assert_int_eq(store_get(txn, STORE_CHAINS, "c.pem", &rec), 0);
	ck_assert_int_eq(entry_certs(&rec, &got), 0);
	store_txn_abort(txn);
	ck_assert_int_eq(sk_X509_num(got), sk_X509_num(sk));
	for (i = 0; i < sk_X509_num(got); i++)
		ck_assert_msg(X509_cmp(sk_X509_value(got, i),
		    cert[order_cases[_i].want[i]]) == 0, "%s: position %d",
		    order_cases[_i].what, i);
	sk_X509_pop_free(sk, X509_free);
	sk_X509_pop_free(got, X509_free);
}
END_TEST

static const struct {
	struct ent pre;
	enum store_db db;
	const char *name;
	int want_rc;
} remove_cases[] = {
	{ { STORE_ROOTS, "A.pem", C_RA }, STORE_ROOTS, "A.pem", 0 },
	{ { STORE_PINNED, "h_443", C_LEAF }, STORE_PINNED, "h_443", 0 },
	{ { STORE_CHAINS, "c.pem", C_INT }, STORE_CHAINS, "c.pem", 0 },
	{ { 0 }, STORE_ROOTS, "A.pem", -ENOENT },
	{ { STORE_ROOTS, "A.pem", C_RA }, STORE_DISTRUSTED, "A.pem",
	    -ENOENT },
};

START_TEST(test_remove)
{
	struct store_txn *txn;
	struct lines before, after;
	char want[512], hex[65], name[256];
	uint64_t gen;
	int rc;

	if (remove_cases[_i].pre.c != C_NONE)
		pre_add(remove_cases[_i].pre.db, remove_cases[_i].pre.name,
		    remove_cases[_i].pre.c, NULL, 0);
	before = audit();
	gen = store_generation(st);
	txn = txn_begin(1);
	rc = entry_remove(txn, remove_cases[_i].db, remove_cases[_i].name,
	    &who);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_int_eq(rc, remove_cases[_i].want_rc);
	after = audit();
	txn = txn_begin(0);
	ck_assert_int_eq(holds(txn, remove_cases[_i].db, remove_cases[_i].name,
	    NULL), C_NONE);
	if (rc == 0) {
		ck_assert_int_eq(after.n, before.n + 1);
		hex_of(remove_cases[_i].pre.c, hex);
		snprintf(want, sizeof(want), " " WHO_TOKENS " action=remove "
		    "path=%s/%s sha256=%s", entry_db_dir(remove_cases[_i].db),
		    remove_cases[_i].name, hex);
		ck_assert_msg(strstr(after.last, want) != NULL, "'%s'",
		    after.last);
		/* The indexes forget it too. */
		ck_assert_int_eq(entry_anchor(txn, cert[remove_cases[_i].pre.c],
		    name, sizeof(name)), -ENOENT);
	} else {
		ck_assert_int_eq(after.n, before.n);
		ck_assert(store_generation(st) == gen);
	}
	store_txn_abort(txn);
}
END_TEST

struct rename_case {
	const char *what;
	struct ent pre[3];
	enum store_db from_db;
	const char *from;
	enum store_db to_db;
	const char *to;
	int noreplace;
	int want_rc;
	const char *want_msg;
	const char *want_path;	/* in the audit line; NULL: no line */
	enum cid moved;
	struct ent after[3];
};

static const struct rename_case rename_cases[] = {
	{ "relabel in roots/", { { STORE_ROOTS, "A.pem", C_RA } },
	    STORE_ROOTS, "A.pem", STORE_ROOTS, "B.pem", 0, 0, NULL,
	    "roots/A.pem->roots/B.pem", C_RA, { NOENT(STORE_ROOTS, "A.pem"),
	    { STORE_ROOTS, "B.pem", C_RA } } },
	{ "relabel over an entry replaces it", { { STORE_ROOTS, "A.pem",
	    C_RA }, { STORE_ROOTS, "B.pem", C_RB } }, STORE_ROOTS, "A.pem",
	    STORE_ROOTS, "B.pem", 0, 0, NULL, "roots/A.pem->roots/B.pem",
	    C_RA, { NOENT(STORE_ROOTS, "A.pem"),
	    { STORE_ROOTS, "B.pem", C_RA } } },
	{ "noreplace over an entry", { { STORE_ROOTS, "A.pem", C_RA },
	    { STORE_ROOTS, "B.pem", C_RB } }, STORE_ROOTS, "A.pem",
	    STORE_ROOTS, "B.pem", 1, -EEXIST, "roots/B.pem", NULL, C_NONE,
	    { { STORE_ROOTS, "A.pem", C_RA },
	    { STORE_ROOTS, "B.pem", C_RB } } },
	{ "relabel a pin, names normalized", { { STORE_PINNED,
	    "server.test_443", C_LEAF } }, STORE_PINNED, "SERVER.test_443",
	    STORE_PINNED, "Other.Test_8443", 0, 0, NULL,
	    "pinned/server.test_443->pinned/other.test_8443", C_LEAF,
	    { NOENT(STORE_PINNED, "server.test_443"),
	    { STORE_PINNED, "other.test_8443", C_LEAF } } },
	{ "rejected/ -> pinned/ accepts the new certificate", {
	    { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, STORE_REJECTED, "h_443",
	    STORE_PINNED, "h_443", 0, 0, NULL, "rejected/h_443->pinned/h_443",
	    C_LEAF2, { NOENT(STORE_REJECTED, "h_443"),
	    { STORE_PINNED, "h_443", C_LEAF2 } } },
	{ "roots/ -> distrusted/ decommissions", { { STORE_ROOTS, "A.pem",
	    C_RA } }, STORE_ROOTS, "A.pem", STORE_DISTRUSTED, "A.pem", 0, 0,
	    NULL, "roots/A.pem->distrusted/A.pem", C_RA,
	    { NOENT(STORE_ROOTS, "A.pem"),
	    { STORE_DISTRUSTED, "A.pem", C_RA } } },
	{ "distrusted/ -> roots/ reinstates", { { STORE_DISTRUSTED, "A.pem",
	    C_RA } }, STORE_DISTRUSTED, "A.pem", STORE_ROOTS, "R.pem", 0, 0,
	    NULL, "distrusted/A.pem->roots/R.pem", C_RA,
	    { NOENT(STORE_DISTRUSTED, "A.pem"),
	    { STORE_ROOTS, "R.pem", C_RA } } },
	{ "pinned/ -> roots/ has no meaning", { { STORE_PINNED, "h_443",
	    C_RA } }, STORE_PINNED, "h_443", STORE_ROOTS, "A.pem", 0, -EXDEV,
	    NULL, NULL, C_NONE, { { STORE_PINNED, "h_443", C_RA },
	    NOENT(STORE_ROOTS, "A.pem") } },
	{ "roots/ -> chains/ has no meaning", { { STORE_ROOTS, "A.pem",
	    C_RA } }, STORE_ROOTS, "A.pem", STORE_CHAINS, "A.pem", 0, -EXDEV,
	    NULL, NULL, C_NONE, { { STORE_ROOTS, "A.pem", C_RA } } },
	{ "chains/ -> roots/ has no meaning", { { STORE_CHAINS, "A.pem",
	    C_RA } }, STORE_CHAINS, "A.pem", STORE_ROOTS, "A.pem", 0, -EXDEV,
	    NULL, NULL, C_NONE, { { STORE_CHAINS, "A.pem", C_RA } } },
	{ "pinned/ -> rejected/ has no meaning", { { STORE_PINNED, "h_443",
	    C_LEAF } }, STORE_PINNED, "h_443", STORE_REJECTED, "h_443", 0,
	    -EXDEV, NULL, NULL, C_NONE, { { STORE_PINNED, "h_443", C_LEAF } } },
	{ "a missing source", { { 0 } }, STORE_ROOTS, "A.pem", STORE_ROOTS,
	    "B.pem", 0, -ENOENT, NULL, NULL, C_NONE, { { 0 } } },
	{ "a bad target name", { { STORE_ROOTS, "A.pem", C_RA } },
	    STORE_ROOTS, "A.pem", STORE_ROOTS, "B.crt", 0, -EINVAL, ".pem",
	    NULL, C_NONE, { { STORE_ROOTS, "A.pem", C_RA } } },
	{ "onto itself", { { STORE_ROOTS, "A.pem", C_RA } }, STORE_ROOTS,
	    "A.pem", STORE_ROOTS, "A.pem", 0, 0, NULL, NULL, C_NONE,
	    { { STORE_ROOTS, "A.pem", C_RA } } },
	/* Issue 10: roots/ takes anchors only, however they arrive. */
	{ "distrusted/ -> roots/ refuses an end-entity certificate", {
	    { STORE_DISTRUSTED, "L.pem", C_LEAF } }, STORE_DISTRUSTED,
	    "L.pem", STORE_ROOTS, "L.pem", 0, -EINVAL, "end-entity", NULL,
	    C_NONE, { { STORE_DISTRUSTED, "L.pem", C_LEAF },
	    NOENT(STORE_ROOTS, "L.pem") } },
};

START_TEST(test_rename)
{
	const struct rename_case *c = &rename_cases[_i];
	struct tf_error e = { 0 };
	struct store_txn *txn;
	struct store_rec rec;
	struct lines before, after;
	char want[600], hex[65];
	uint64_t gen;
	int i, rc, h;

	for (i = 0; i < 3 && c->pre[i].c != C_NONE; i++) {
		pre_add(c->pre[i].db, c->pre[i].name, c->pre[i].c, NULL, 0);
		backdate(c->pre[i].db, c->pre[i].name);
	}
	before = audit();
	gen = store_generation(st);
	txn = txn_begin(1);
	rc = entry_rename(txn, c->from_db, c->from, c->to_db, c->to,
	    c->noreplace, &who, &e);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_msg(rc == c->want_rc, "%s: %d (%s), want %d", c->what, rc,
	    tf_error_msg(&e), c->want_rc);
	if (c->want_msg != NULL)
		ck_assert_msg(strstr(tf_error_msg(&e), c->want_msg) != NULL,
		    "%s: reason '%s'", c->what, tf_error_msg(&e));
	if (rc == -EXDEV)
		ck_assert_msg(tf_error_msg(&e)[0] != '\0', "%s: no reason",
		    c->what);
	after = audit();
	if (c->want_path != NULL) {
		ck_assert_int_eq(after.n, before.n + 1);
		hex_of(c->moved, hex);
		snprintf(want, sizeof(want), " " WHO_TOKENS " action=rename "
		    "path=%s sha256=%s", c->want_path, hex);
		ck_assert_msg(strstr(after.last, want) != NULL,
		    "%s: '%s' lacks '%s'", c->what, after.last, want);
	} else {
		ck_assert_msg(after.n == before.n, "%s: audited", c->what);
		ck_assert_msg(store_generation(st) == gen, "%s: written",
		    c->what);
	}
	txn = txn_begin(0);
	for (i = 0; i < 3 && c->after[i].c != C_NONE; i++) {
		int wantc = (int)c->after[i].c == -2 ? C_NONE :
		    (int)c->after[i].c;

		h = holds(txn, c->after[i].db, c->after[i].name, &rec);
		ck_assert_msg(h == wantc, "%s: %s/%s holds %d, want %d",
		    c->what, entry_db_dir(c->after[i].db), c->after[i].name,
		    h, wantc);
	}
	/* An accepted certificate starts a new pin history. */
	if (rc == 0 && c->from_db == STORE_REJECTED) {
		ck_assert_int_eq(holds(txn, STORE_PINNED, "h_443", &rec),
		    C_LEAF2);
		ck_assert(rec.ctime > 1);
		ck_assert(rec.seen_count >= 1);
	}
	store_txn_abort(txn);
}
END_TEST

static uint32_t
slot_of(const char *name)
{
	struct store_txn *txn = txn_begin(0);
	struct store_rec rec;
	uint32_t slot;

	ck_assert_msg(store_get(txn, STORE_ROOTS, name, &rec) == 0, "%s",
	    name);
	slot = rec.slot;
	store_txn_abort(txn);
	return slot;
}

static void
do_rename(enum store_db fdb, const char *from, enum store_db tdb,
    const char *to)
{
	struct store_txn *txn = txn_begin(1);

	ck_assert_int_eq(entry_rename(txn, fdb, from, tdb, to, 0, &who, NULL),
	    0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
}

/* certs/HASH.N: the smallest free N per subject, and N never moves. */
START_TEST(test_slots)
{
	STACK_OF(X509) *sk = tu_stack(cert[C_RA], NULL);
	struct entry_result res;
	struct store_txn *txn;

	pre_add(STORE_ROOTS, "A.pem", C_RA, NULL, 0);
	pre_add(STORE_ROOTS, "A2.pem", C_RA2, NULL, 0);
	pre_add(STORE_ROOTS, "B.pem", C_RB, NULL, 0);
	ck_assert_uint_eq(slot_of("A.pem"), 0);
	ck_assert_uint_eq(slot_of("A2.pem"), 1);
	ck_assert_uint_eq(slot_of("B.pem"), 0);	/* another subject */
	txn = txn_begin(1);
	ck_assert_int_eq(entry_remove(txn, STORE_ROOTS, "A.pem", &who), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_uint_eq(slot_of("A2.pem"), 1);
	pre_add(STORE_ROOTS, "A3.pem", C_RA3, NULL, 0);
	ck_assert_uint_eq(slot_of("A3.pem"), 0);
	do_rename(STORE_ROOTS, "A2.pem", STORE_ROOTS, "Z.pem");
	ck_assert_uint_eq(slot_of("Z.pem"), 1);
	do_rename(STORE_ROOTS, "Z.pem", STORE_DISTRUSTED, "Z.pem");
	do_rename(STORE_DISTRUSTED, "Z.pem", STORE_ROOTS, "Z.pem");
	ck_assert_uint_eq(slot_of("Z.pem"), 1);
	txn = txn_begin(1);
	ck_assert_int_eq(entry_add(txn, STORE_ROOTS, "A3.pem", sk,
	    ENTRY_REPLACE, &who, &res, NULL), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_int_eq(res.outcome, ENTRY_REPLACED);
	ck_assert_uint_eq(slot_of("A3.pem"), 0);
	ck_assert_uint_eq(slot_of("Z.pem"), 1);
	sk_X509_pop_free(sk, X509_free);
}
END_TEST

/* entry_anchor: the root itself, or the root that issued it. */
static const struct {
	struct ent pre[2];
	enum cid x;
	int want_rc;
	const char *want_name;
} anchor_cases[] = {
	{ { { STORE_ROOTS, "A.pem", C_RA } }, C_RA, 0, "A.pem" },
	{ { { STORE_ROOTS, "A.pem", C_RA } }, C_INT, 0, "A.pem" },
	{ { { STORE_ROOTS, "A.pem", C_RA } }, C_LEAF, -ENOENT, NULL },
	{ { { STORE_ROOTS, "A.pem", C_RA } }, C_RB, -ENOENT, NULL },
	{ { { STORE_ROOTS, "A2.pem", C_RA2 } }, C_INT, -ENOENT, NULL },
	{ { { STORE_ROOTS, "A.pem", C_RA2 }, { STORE_ROOTS, "B.pem", C_RA } },
	    C_INT, 0, "B.pem" },
	{ { { STORE_DISTRUSTED, "A.pem", C_RA } }, C_INT, -ENOENT, NULL },
	{ { { STORE_CHAINS, "A.pem", C_RA } }, C_INT, -ENOENT, NULL },
	{ { { 0 } }, C_INT, -ENOENT, NULL },
};

START_TEST(test_anchor)
{
	struct store_txn *txn;
	char name[256];
	int i, rc;

	for (i = 0; i < 2 && anchor_cases[_i].pre[i].c != C_NONE; i++)
		pre_add(anchor_cases[_i].pre[i].db,
		    anchor_cases[_i].pre[i].name, anchor_cases[_i].pre[i].c,
		    NULL, 0);
	txn = txn_begin(0);
	rc = entry_anchor(txn, cert[anchor_cases[_i].x], name, sizeof(name));
	store_txn_abort(txn);
	ck_assert_int_eq(rc, anchor_cases[_i].want_rc);
	if (rc == 0)
		ck_assert_str_eq(name, anchor_cases[_i].want_name);
}
END_TEST

START_TEST(test_counter)
{
	struct store_txn *txn = txn_begin(1);
	char *v = NULL;
	size_t len;

	ck_assert_int_eq(entry_counter_add(txn, "tofu_first_use"), 0);
	ck_assert_int_eq(entry_counter_add(txn, "tofu_first_use"), 0);
	ck_assert_int_eq(entry_counter_add(txn, "tofu_mismatch"), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	txn = txn_begin(1);
	ck_assert_int_eq(entry_counter_add(txn, "tofu_first_use"), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	txn = txn_begin(0);
	ck_assert_int_eq(store_meta_get(txn, "tofu_first_use", &v, &len), 0);
	ck_assert_int_eq(len, 1);
	ck_assert_int_eq(v[0], '3');
	free(v);
	ck_assert_int_eq(store_meta_get(txn, "tofu_mismatch", &v, &len), 0);
	ck_assert_int_eq(v[0], '1');
	free(v);
	store_txn_abort(txn);
}
END_TEST

/* DESIGN section 7: time, uid, pid, command, action, path, SHA-256 and,
 * for a refusal, the reason; one token each. */
static const struct entry_actor who_cp = { 1000, 42, "cp" },
    who_nocomm = { 0, 1, NULL }, who_space = { 5, 6, "my tool" };
static const struct {
	const struct entry_actor *who;
	const char *action, *path;
	int with_sha;
	const char *refused;
	const char *want;	/* the line after its time and a space */
} audit_cases[] = {
	{ &who_cp, "add", "roots/A.pem", 1, NULL, "uid=1000 pid=42 comm=cp "
	    "action=add path=roots/A.pem sha256=000102030405060708090a0b0c0d"
	    "0e0f101112131415161718191a1b1c1d1e1f" },
	{ NULL, "remove", "pinned/h_443", 0, NULL, "uid=-1 pid=-1 comm=? "
	    "action=remove path=pinned/h_443 sha256=-" },
	{ &who_nocomm, "rename", "roots/a b.pem->roots/c%d.pem", 0, NULL,
	    "uid=0 pid=1 comm=? action=rename "
	    "path=roots/a%20b.pem->roots/c%25d.pem sha256=-" },
	{ &who_space, "add", "roots/A.pem", 0, "not a \"CA\"\n",
	    "uid=5 pid=6 comm=my%20tool action=add path=roots/A.pem sha256=- "
	    "refused=not%20a%20%22CA%22%0A" },
};

START_TEST(test_audit_line)
{
	unsigned char sha[32];
	struct store_txn *txn = txn_begin(1);
	struct lines l;
	struct tm tm = { 0 };
	time_t t0 = time(NULL), t1, t;
	const char *end;
	int i;

	for (i = 0; i < 32; i++)
		sha[i] = (unsigned char)i;
	ck_assert_int_eq(entry_audit(txn, audit_cases[_i].who,
	    audit_cases[_i].action, audit_cases[_i].path,
	    audit_cases[_i].with_sha ? sha : NULL, audit_cases[_i].refused), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	t1 = time(NULL);
	l = audit();
	ck_assert_int_eq(l.n, 1);
	end = strptime(l.last, "%Y-%m-%dT%H:%M:%SZ", &tm);
	ck_assert_msg(end == l.last + 20, "time in '%s'", l.last);
	t = timegm(&tm);
	ck_assert(t >= t0 && t <= t1);
	ck_assert_int_eq(*end, ' ');
	ck_assert_str_eq(end + 1, audit_cases[_i].want);
}
END_TEST

/* A change and its audit line commit together: an aborted transaction
 * leaves neither, a committed one both, in order. */
START_TEST(test_audit_same_transaction)
{
	STACK_OF(X509) *sk = tu_stack(cert[C_RB], NULL);
	struct entry_result res;
	struct store_txn *txn;
	struct lines before, after;
	uint64_t gen;
	int commit;

	pre_add(STORE_ROOTS, "A.pem", C_RA, NULL, 0);
	backdate(STORE_ROOTS, "A.pem");
	for (commit = 0; commit <= 1; commit++) {
		before = audit();
		gen = store_generation(st);
		txn = txn_begin(1);
		ck_assert_int_eq(entry_add(txn, STORE_ROOTS, "B.pem", sk, 0,
		    &who, &res, NULL), 0);
		ck_assert_int_eq(entry_remove(txn, STORE_ROOTS, "A.pem", &who),
		    0);
		ck_assert_int_eq(entry_rename(txn, STORE_ROOTS, "B.pem",
		    STORE_DISTRUSTED, "C.pem", 0, &who, NULL), 0);
		ck_assert_int_eq(entry_audit(txn, &who, "policy", "policy",
		    NULL, NULL), 0);
		if (!commit) {
			store_txn_abort(txn);
			after = audit();
			ck_assert_int_eq(after.n, before.n);
			ck_assert(store_generation(st) == gen);
			txn = txn_begin(0);
			ck_assert_int_eq(holds(txn, STORE_ROOTS, "A.pem", NULL),
			    C_RA);
			ck_assert_int_eq(holds(txn, STORE_ROOTS, "B.pem", NULL),
			    C_NONE);
			ck_assert_int_eq(entry_last_change(txn), 1);
			store_txn_abort(txn);
			continue;
		}
		ck_assert_int_eq(store_txn_commit(txn), 0);
		after = audit();
		ck_assert_int_eq(after.n, before.n + 4);
		ck_assert_ptr_nonnull(strstr(after.all, "action=add "
		    "path=roots/B.pem"));
		ck_assert(strstr(after.all, "action=add path=roots/B.pem") <
		    strstr(after.all, "action=remove path=roots/A.pem"));
		ck_assert(strstr(after.all, "action=remove path=roots/A.pem") <
		    strstr(after.all, "action=rename "
		    "path=roots/B.pem->distrusted/C.pem"));
		ck_assert_ptr_nonnull(strstr(after.last, "action=policy"));
		txn = txn_begin(0);
		ck_assert_int_eq(holds(txn, STORE_DISTRUSTED, "C.pem", NULL),
		    C_RB);
		ck_assert(entry_last_change(txn) > 1);
		store_txn_abort(txn);
	}
	sk_X509_pop_free(sk, X509_free);
}
END_TEST

/* audit_max bounds the log: the oldest lines go first. */
START_TEST(test_audit_max)
{
	struct store_txn *txn = txn_begin(1);
	struct lines l;

	ck_assert_int_eq(store_meta_put(txn, "audit_max", "2", 1), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	pre_add(STORE_ROOTS, "A.pem", C_RA, NULL, 0);
	pre_add(STORE_ROOTS, "B.pem", C_RB, NULL, 0);
	pre_add(STORE_CHAINS, "c.pem", C_INT, NULL, 0);
	l = audit();
	ck_assert_int_eq(l.n, 2);
	ck_assert_ptr_null(strstr(l.all, "roots/A.pem"));
	ck_assert_ptr_nonnull(strstr(l.all, "roots/B.pem"));
	ck_assert_ptr_nonnull(strstr(l.last, "chains/c.pem"));
}
END_TEST

START_TEST(test_db_dirs)
{
	static const char *const dirs[] = { "pinned", "rejected", "roots",
	    "distrusted", "chains" };
	int i;

	for (i = 0; i < STORE_NDBS; i++) {
		ck_assert_str_eq(entry_db_dir((enum store_db)i), dirs[i]);
		ck_assert_int_eq(entry_db_from_dir(dirs[i]), i);
	}
	ck_assert_str_eq(entry_db_dir(STORE_NDBS), "?");
	ck_assert_int_eq(entry_db_from_dir("certs"), -1);
	ck_assert_int_eq(entry_db_from_dir(""), -1);
}
END_TEST

/*
 * Issue 10: roots/ holds anchors.  A CA certificate or a self-signed one
 * may be a root; any other end-entity certificate is refused, by hand or
 * by import, with a reason that points to pinned/.  distrusted/ takes
 * anything.
 */
static const struct add_case anchor_rule_cases[] = {
	{ "roots: an end-entity certificate is refused", { { 0 } },
	    STORE_ROOTS, "L.pem", { C_LEAF }, 0, -EINVAL, 0, NULL,
	    "CN=server.test is an end-entity certificate (CA: no); pin it "
	    "in pinned/HOST_PORT instead", 0,
	    { NOENT(STORE_ROOTS, "L.pem") } },
	{ "roots: an import refuses it too", { { 0 } }, STORE_ROOTS, NULL,
	    { C_LEAF }, ENTRY_AUTOLABEL, -EINVAL, 0, NULL,
	    "end-entity certificate (CA: no)", 0,
	    { NOENT(STORE_ROOTS, "server.test.pem") } },
	{ "roots: a root is not replaced by an end-entity certificate", {
	    { STORE_ROOTS, "A.pem", C_RA } }, STORE_ROOTS, "A.pem", { C_LEAF },
	    ENTRY_REPLACE, -EINVAL, 0, NULL, "pinned/HOST_PORT", 0,
	    { { STORE_ROOTS, "A.pem", C_RA } } },
	{ "roots: a self-signed end-entity certificate is an anchor", {
	    { 0 } }, STORE_ROOTS, "S.pem", { C_SELF }, 0, 0, ENTRY_ADDED,
	    "S.pem", NULL, 1, { { STORE_ROOTS, "S.pem", C_SELF } } },
	{ "roots: an intermediate CA is an anchor", { { 0 } }, STORE_ROOTS,
	    "I.pem", { C_INT }, 0, 0, ENTRY_ADDED, "I.pem", NULL, 1,
	    { { STORE_ROOTS, "I.pem", C_INT } } },
	{ "distrusted: an end-entity certificate may be distrusted", {
	    { 0 } }, STORE_DISTRUSTED, "L.pem", { C_LEAF }, 0, 0, ENTRY_ADDED,
	    "L.pem", NULL, 1, { { STORE_DISTRUSTED, "L.pem", C_LEAF } } },
	{ "pinned: an end-entity certificate is a pin", { { 0 } },
	    STORE_PINNED, "h_443", { C_LEAF }, 0, 0, ENTRY_ADDED, "h_443",
	    NULL, 1, { { STORE_PINNED, "h_443", C_LEAF } } },
};

START_TEST(issue10_anchor_rule)
{
	run_add_case(&anchor_rule_cases[_i]);
}
END_TEST

/*
 * Issue 10: a rejected/HOST_PORT entry goes, in the change's own
 * transaction, when the host's pin is replaced, removed or renamed, or
 * when the host is pinned to the certificate it holds; the change's one
 * audit line says so (cleared=rejected/H).  A replacement is audited
 * with the old and the new SHA-256 (DESIGN section 8).
 */
enum stale_op { OP_ADD, OP_REMOVE, OP_RENAME };

static const struct stale_case {
	const char *what;
	struct ent pre[3];
	enum stale_op op;
	enum store_db db;
	const char *name;
	enum cid c;			/* OP_ADD: the certificate */
	unsigned flags;			/* OP_ADD */
	enum store_db to_db;		/* OP_RENAME */
	const char *to;
	const char *want_action;	/* NULL: no audit line */
	const char *want_path;
	enum cid want_sha, want_old;	/* C_NONE: no old_sha256= */
	const char *want_cleared;	/* NULL: no cleared= */
	struct ent after[3];
} stale_cases[] = {
	{ "replacing a pin clears rejected/H", {
	    { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, OP_ADD, STORE_PINNED,
	    "h_443", C_LEAF2, ENTRY_REPLACE, 0, NULL, "replace",
	    "pinned/h_443", C_LEAF2, C_LEAF, "rejected/h_443",
	    { { STORE_PINNED, "h_443", C_LEAF2 },
	    NOENT(STORE_REJECTED, "h_443") } },
	{ "replacing a pin with a third certificate clears it too", {
	    { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, OP_ADD, STORE_PINNED,
	    "H_443", C_SELF, ENTRY_REPLACE, 0, NULL, "replace",
	    "pinned/h_443", C_SELF, C_LEAF, "rejected/h_443",
	    { { STORE_PINNED, "h_443", C_SELF },
	    NOENT(STORE_REJECTED, "h_443") } },
	{ "another host's rejected entry stays", {
	    { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "g_443", C_LEAF2 } }, OP_ADD, STORE_PINNED,
	    "h_443", C_LEAF2, ENTRY_REPLACE, 0, NULL, "replace",
	    "pinned/h_443", C_LEAF2, C_LEAF, NULL,
	    { { STORE_REJECTED, "g_443", C_LEAF2 } } },
	{ "removing a pin clears rejected/H", {
	    { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, OP_REMOVE, STORE_PINNED,
	    "h_443", C_NONE, 0, 0, NULL, "remove", "pinned/h_443", C_LEAF,
	    C_NONE, "rejected/h_443", { NOENT(STORE_PINNED, "h_443"),
	    NOENT(STORE_REJECTED, "h_443") } },
	{ "pinning the rejected certificate clears rejected/H", {
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, OP_ADD, STORE_PINNED,
	    "h_443", C_LEAF2, 0, 0, NULL, "add", "pinned/h_443", C_LEAF2,
	    C_NONE, "rejected/h_443", { { STORE_PINNED, "h_443", C_LEAF2 },
	    NOENT(STORE_REJECTED, "h_443") } },
	{ "pinning another certificate keeps rejected/H", {
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, OP_ADD, STORE_PINNED,
	    "h_443", C_LEAF, 0, 0, NULL, "add", "pinned/h_443", C_LEAF,
	    C_NONE, NULL, { { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "h_443", C_LEAF2 } } },
	{ "the same pin again changes nothing", {
	    { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, OP_ADD, STORE_PINNED,
	    "h_443", C_LEAF, ENTRY_REPLACE, 0, NULL, NULL, NULL, C_NONE,
	    C_NONE, NULL, { { STORE_REJECTED, "h_443", C_LEAF2 } } },
	{ "relabelling a pin clears the old host's rejected entry", {
	    { STORE_PINNED, "a_443", C_LEAF },
	    { STORE_REJECTED, "a_443", C_LEAF2 } }, OP_RENAME, STORE_PINNED,
	    "a_443", C_NONE, 0, STORE_PINNED, "b_443", "rename",
	    "pinned/a_443->pinned/b_443", C_LEAF, C_NONE, "rejected/a_443",
	    { NOENT(STORE_REJECTED, "a_443"),
	    { STORE_PINNED, "b_443", C_LEAF } } },
	{ "renaming over a pin clears the target's rejected entry", {
	    { STORE_PINNED, "a_443", C_LEAF },
	    { STORE_PINNED, "b_443", C_LEAF2 },
	    { STORE_REJECTED, "b_443", C_SELF } }, OP_RENAME, STORE_PINNED,
	    "a_443", C_NONE, 0, STORE_PINNED, "b_443", "rename",
	    "pinned/a_443->pinned/b_443", C_LEAF, C_LEAF2, "rejected/b_443",
	    { NOENT(STORE_REJECTED, "b_443"),
	    { STORE_PINNED, "b_443", C_LEAF } } },
	{ "mv rejected/H pinned/H moves it, old SHA-256 audited", {
	    { STORE_PINNED, "h_443", C_LEAF },
	    { STORE_REJECTED, "h_443", C_LEAF2 } }, OP_RENAME,
	    STORE_REJECTED, "h_443", C_NONE, 0, STORE_PINNED, "h_443",
	    "rename", "rejected/h_443->pinned/h_443", C_LEAF2, C_LEAF, NULL,
	    { NOENT(STORE_REJECTED, "h_443"),
	    { STORE_PINNED, "h_443", C_LEAF2 } } },
	{ "replacing a root: old and new SHA-256", {
	    { STORE_ROOTS, "A.pem", C_RA } }, OP_ADD, STORE_ROOTS, "A.pem",
	    C_RB, ENTRY_REPLACE, 0, NULL, "replace", "roots/A.pem", C_RB,
	    C_RA, NULL, { { STORE_ROOTS, "A.pem", C_RB } } },
	{ "replacing a chain: old and new leaf-side SHA-256", {
	    { STORE_CHAINS, "c.pem", C_INT } }, OP_ADD, STORE_CHAINS,
	    "c.pem", C_RB, ENTRY_REPLACE, 0, NULL, "replace", "chains/c.pem",
	    C_RB, C_INT, NULL, { { STORE_CHAINS, "c.pem", C_RB } } },
	{ "removing a root clears nothing", {
	    { STORE_ROOTS, "A.pem", C_RA } }, OP_REMOVE, STORE_ROOTS, "A.pem",
	    C_NONE, 0, 0, NULL, "remove", "roots/A.pem", C_RA, C_NONE, NULL,
	    { NOENT(STORE_ROOTS, "A.pem") } },
};

START_TEST(issue10_stale_rejected)
{
	const struct stale_case *c = &stale_cases[_i];
	struct entry_result res;
	struct tf_error e = { 0 };
	struct store_txn *txn;
	STACK_OF(X509) *sk;
	struct lines before, after;
	char want[1024], hex[65], ohex[65];
	int i, rc = 0, h;

	for (i = 0; i < 3 && c->pre[i].c != C_NONE; i++)
		pre_add(c->pre[i].db, c->pre[i].name, c->pre[i].c, NULL, 0);
	before = audit();
	txn = txn_begin(1);
	switch (c->op) {
	case OP_ADD:
		sk = stack_of(&c->c, 1);
		rc = entry_add(txn, c->db, c->name, sk, c->flags, &who, &res,
		    &e);
		sk_X509_pop_free(sk, X509_free);
		break;
	case OP_REMOVE:
		rc = entry_remove(txn, c->db, c->name, &who);
		break;
	case OP_RENAME:
		rc = entry_rename(txn, c->db, c->name, c->to_db, c->to, 0, &who,
		    &e);
		break;
	}
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_msg(rc == 0, "%s: %d %s", c->what, rc, tf_error_msg(&e));
	after = audit();
	if (c->want_action == NULL)
		ck_assert_msg(after.n == before.n, "%s: audited:\n%s", c->what,
		    after.all);
	else {
		/* One line for the whole change, the old fields first. */
		ck_assert_msg(after.n == before.n + 1, "%s: %d lines:\n%s",
		    c->what, after.n - before.n, after.all);
		hex_of(c->want_sha, hex);
		snprintf(want, sizeof(want), " " WHO_TOKENS " action=%s "
		    "path=%s sha256=%s", c->want_action, c->want_path, hex);
		if (c->want_old != C_NONE) {
			hex_of(c->want_old, ohex);
			snprintf(want + strlen(want), sizeof(want) -
			    strlen(want), " old_sha256=%s", ohex);
		}
		if (c->want_cleared != NULL)
			snprintf(want + strlen(want), sizeof(want) -
			    strlen(want), " cleared=%s", c->want_cleared);
		ck_assert_msg(strstr(after.last, want) != NULL &&
		    strcmp(strstr(after.last, want), want) == 0,
		    "%s: audit line '%s', want it to end in '%s'", c->what,
		    after.last, want);
	}
	txn = txn_begin(0);
	for (i = 0; i < 3 && c->after[i].c != C_NONE; i++) {
		int wantc = (int)c->after[i].c == -2 ? C_NONE :
		    (int)c->after[i].c;

		h = holds(txn, c->after[i].db, c->after[i].name, NULL);
		ck_assert_msg(h == wantc, "%s: %s/%s holds %d, want %d",
		    c->what, entry_db_dir(c->after[i].db), c->after[i].name,
		    h, wantc);
	}
	store_txn_abort(txn);
}
END_TEST

/* The audit line's extra fields come after the ones DESIGN section 7
 * lists, each one token, and a refusal's reason stays last. */
START_TEST(issue10_audit_change_line)
{
	static const char want[] = " action=replace path=pinned/h_443 "
	    "sha256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
	    "1c1d1e1f old_sha256=fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebea"
	    "e9e8e7e6e5e4e3e2e1e0 cleared=rejected/h_443\n";
	unsigned char sha[32], old[32];
	struct store_txn *txn = txn_begin(1);
	struct lines l;
	const char *p;
	int i;

	for (i = 0; i < 32; i++) {
		sha[i] = (unsigned char)i;
		old[i] = (unsigned char)(0xff - i);
	}
	ck_assert_int_eq(entry_audit_change(txn, &who, "replace",
	    "pinned/h_443", sha, old, "rejected/h_443", NULL), 0);
	ck_assert_int_eq(entry_audit_change(txn, &who, "remove",
	    "pinned/h_443", sha, NULL, NULL, NULL), 0);
	ck_assert_int_eq(entry_audit_change(txn, &who, "add", "roots/A.pem",
	    NULL, NULL, NULL, "a reason"), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	l = audit();
	ck_assert_int_eq(l.n, 3);
	p = strstr(l.all, " action=replace");
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "'%s'", p);
	ck_assert_ptr_nonnull(strstr(l.all, "action=remove path=pinned/h_443 "
	    "sha256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c"
	    "1d1e1f\n"));
	ck_assert_ptr_nonnull(strstr(l.last, "action=add path=roots/A.pem "
	    "sha256=- refused=a%20reason"));
}
END_TEST

#define NCASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	TCase *tc = tcase_create("entry");
	int rc;

	make_certs();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_add, 0, NCASES(add_cases));
	tcase_add_loop_test(tc, defect12_one_name_per_certificate, 0,
	    NCASES(defect12_cases));
	tcase_add_loop_test(tc, test_name, 0, NCASES(name_cases));
	tcase_add_loop_test(tc, test_chain_order, 0, NCASES(order_cases));
	tcase_add_loop_test(tc, test_remove, 0, NCASES(remove_cases));
	tcase_add_loop_test(tc, test_rename, 0, NCASES(rename_cases));
	tcase_add_test(tc, test_slots);
	tcase_add_loop_test(tc, test_anchor, 0, NCASES(anchor_cases));
	tcase_add_test(tc, test_counter);
	tcase_add_loop_test(tc, test_audit_line, 0, NCASES(audit_cases));
	tcase_add_test(tc, test_audit_same_transaction);
	tcase_add_test(tc, test_audit_max);
	tcase_add_test(tc, test_db_dirs);
	tcase_add_loop_test(tc, issue10_anchor_rule, 0,
	    NCASES(anchor_rule_cases));
	tcase_add_loop_test(tc, issue10_stale_rejected, 0,
	    NCASES(stale_cases));
	tcase_add_test(tc, issue10_audit_change_line);
	rc = tu_run("entry", tc, 0);
	free_certs();
	return rc;
}
