/*
 * Trust entries: what a change to pinned/, roots/, distrusted/, chains/
 * or rejected/ means, whoever makes it (the mount, trustctl, a TLS client).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "cert.h"
#include "entry.h"
#include "expiry.h"
#include "names.h"
#include "origin.h"
#include "pins.h"

static const char *const db_dirs[STORE_NDBS] = {
	[STORE_PINNED] = "pinned",
	[STORE_REJECTED] = "rejected",
	[STORE_ROOTS] = "roots",
	[STORE_DISTRUSTED] = "distrusted",
	[STORE_CHAINS] = "chains",
};

const char *
entry_db_dir(enum store_db db)
{
	if ((int)db < 0 || db >= STORE_NDBS)
		return "?";
	return db_dirs[db];
}

int
entry_db_from_dir(const char *dir)
{
	int i;

	for (i = 0; i < STORE_NDBS; i++)
		if (strcmp(dir, db_dirs[i]) == 0)
			return i;
	return -1;
}

static int
is_host_db(enum store_db db)
{
	return db == STORE_PINNED || db == STORE_REJECTED;
}

int
entry_name(enum store_db db, const char *in, char *out, size_t outlen,
    struct tf_error *e)
{
	int rc;

	if (is_host_db(db)) {
		rc = name_host_port(in, out, outlen);
		if (rc != 0)
			tf_error_setx(e, rc, "'%s' is not HOST_PORT "
			    "(a host, '_', and a port from 1 to 65535)", in);
		return rc;
	}
	rc = name_check_file(in);
	if (rc != 0) {
		tf_error_setx(e, rc, "'%s' is not a valid file name", in);
		return rc;
	}
	if (!name_is_label(in)) {
		tf_error_setx(e, -EINVAL, "names in %s/ end in .pem", db_dirs[db]);
		return -EINVAL;
	}
	if (strlen(in) + 1 > outlen)
		return tf_error_setx(e, -ENAMETOOLONG, "'%s' is too long", in);
	strcpy(out, in);
	return 0;
}

int
entry_certs(const struct store_rec *rec, STACK_OF(X509) **out)
{
	if (expiry_hinted(rec->der, rec->der_len, out))	/* issue 9 */
		return 0;
	return cert_decode_der(rec->der, rec->der_len, out);
}

/* A record's keys and payload, built from certificates; free with rec_free. */
struct recbuf {
	struct store_rec rec;
	struct store_key *keys;
	unsigned char *der;
};

static void
recbuf_free(struct recbuf *r)
{
	free(r->keys);
	free(r->der);
	memset(r, 0, sizeof(*r));
}

static int
recbuf_build(struct recbuf *r, STACK_OF(X509) *sk)
{
	size_t n = (size_t)sk_X509_num(sk), i, len;
	int rc;

	memset(r, 0, sizeof(*r));
	r->keys = calloc(n ? n : 1, sizeof(*r->keys));
	if (r->keys == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(sk, (int)i);

		cert_sha256(x, r->keys[i].sha256);
		r->keys[i].subject_hash = cert_subject_hash(x);
	}
	rc = cert_der_all(sk, &r->der, &len);
	if (rc != 0) {
		recbuf_free(r);
		return rc;
	}
	r->rec.keys = r->keys;
	r->rec.nkeys = n;
	r->rec.der = r->der;
	r->rec.der_len = len;
	return 0;
}

/* Copies a record that points into the map, so that it survives a write. */
static int
recbuf_copy(struct recbuf *r, const struct store_rec *src)
{
	memset(r, 0, sizeof(*r));
	r->rec = *src;
	r->keys = malloc(src->nkeys ? src->nkeys * sizeof(*r->keys) : 1);
	r->der = malloc(src->der_len ? src->der_len : 1);
	if (r->keys == NULL || r->der == NULL) {
		recbuf_free(r);
		return -ENOMEM;
	}
	/* A record without keys has keys == NULL: never memcpy from it. */
	if (src->nkeys > 0)
		memcpy(r->keys, src->keys, src->nkeys * sizeof(*r->keys));
	if (src->der_len > 0)
		memcpy(r->der, src->der, src->der_len);
	r->rec.keys = r->keys;
	r->rec.der = r->der;
	return 0;
}

/* First entry of `db' holding a certificate with this SHA-256. */
struct find_ctx {
	enum store_db want;
	const char *self;	/* skip this name, noting that it holds it */
	char name[256];
	int found, self_found;
};

static int
find_cb(enum store_db db, const char *name, void *arg)
{
	struct find_ctx *f = arg;

	if (db != f->want)
		return 0;
	if (f->self != NULL && strcmp(name, f->self) == 0) {
		f->self_found = 1;
		return 0;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->found = 1;
	return 1;
}

static int
find_sha(struct store_txn *txn, enum store_db db, const unsigned char *sha,
    char *name, size_t namelen)
{
	struct find_ctx f = { .want = db };
	int rc;

	rc = store_find_sha256(txn, sha, find_cb, &f);
	if (rc < 0)
		return rc;
	if (!f.found)
		return -ENOENT;
	if (name != NULL)
		snprintf(name, namelen, "%s", f.name);
	return 0;
}

/* The smallest N not used by another root with the same subject hash, so
 * that certs/HASH.N names never clash and never move (c_rehash numbering). */
struct slot_ctx {
	struct store_txn *txn;
	const char *self;
	unsigned char used[64];	/* bitmap of slots 0..511 */
};

static int
slot_cb(enum store_db db, const char *name, void *arg)
{
	struct slot_ctx *s = arg;
	struct store_rec rec;

	if (db != STORE_ROOTS || (s->self && strcmp(name, s->self) == 0))
		return 0;
	if (store_get(s->txn, db, name, &rec) == 0 && rec.slot < 512)
		s->used[rec.slot / 8] |= (unsigned char)(1u << (rec.slot % 8));
	return 0;
}

static int
free_slot(struct store_txn *txn, uint32_t hash, const char *self,
    uint32_t *slot)
{
	struct slot_ctx s = { .txn = txn, .self = self };
	uint32_t i;
	int rc;

	rc = store_find_subject(txn, hash, slot_cb, &s);
	if (rc < 0)
		return rc;
	for (i = 0; i < 512; i++)
		if (!(s.used[i / 8] & (1u << (i % 8)))) {
			*slot = i;
			return 0;
		}
	return -ENOSPC;
}

/*
 * Chains are kept leaf side first: each certificate is followed by its
 * issuer when the issuer is in the chain (RFC 5246 7.4.2 order).  The
 * leaf-side end is the one certificate that issued nothing else here.
 */
static int
chain_order(STACK_OF(X509) *in, STACK_OF(X509) **out)
{
	int n = sk_X509_num(in), i, j, start = -1, first;
	STACK_OF(X509) *sk;
	char *used;
	X509 *cur;

	sk = sk_X509_new_null();
	used = calloc((size_t)n + 1, 1);
	if (sk == NULL || used == NULL)
		goto err;
	/* An unrelated certificate also issues nothing here: a leaf-side
	 * end that another certificate of the set issued comes first. */
	for (i = 0, first = -1; i < n && start < 0; i++) {
		int issues_other = 0, issued = 0;

		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			if (X509_check_issued(sk_X509_value(in, i),
			    sk_X509_value(in, j)) == X509_V_OK)
				issues_other = 1;
			if (X509_check_issued(sk_X509_value(in, j),
			    sk_X509_value(in, i)) == X509_V_OK)
				issued = 1;
		}
		if (!issues_other && first < 0)
			first = i;
		if (!issues_other && issued)
			start = i;
	}
	if (start < 0)
		start = first >= 0 ? first : 0;
	for (cur = sk_X509_value(in, start), used[start] = 1; cur != NULL;) {
		X509 *next = NULL;

		if (!sk_X509_push(sk, cur))
			goto err;
		X509_up_ref(cur);
		for (j = 0; j < n; j++)
			if (!used[j] && X509_check_issued(sk_X509_value(in, j),
			    cur) == X509_V_OK) {
				used[j] = 1;
				next = sk_X509_value(in, j);
				break;
			}
		cur = next;
	}
	/* Whatever is not linked keeps its input order, after the path. */
	for (j = 0; j < n; j++)
		if (!used[j]) {
			if (!sk_X509_push(sk, sk_X509_value(in, j)))
				goto err;
			X509_up_ref(sk_X509_value(in, j));
		}
	free(used);
	*out = sk;
	return 0;
err:
	free(used);
	sk_X509_pop_free(sk, X509_free);
	return -ENOMEM;
}

void
entry_mark_changed(struct store_txn *txn)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", (long long)time(NULL));
	(void)store_meta_put(txn, "changed", v, strlen(v));
}

time_t
entry_last_change(struct store_txn *txn)
{
	char *v = NULL;
	size_t len;
	time_t t = 0;

	if (store_meta_get(txn, "changed", &v, &len) == 0)
		t = (time_t)strtoll(v, NULL, 10);
	free(v);
	return t;
}

static void
entry_path(enum store_db db, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", db_dirs[db], name);
}

/* Removes roots/ entries holding this certificate (it was distrusted). */
static int
drop_from_roots(struct store_txn *txn, const unsigned char *sha,
    const struct entry_actor *who)
{
	char name[256];
	int rc;

	while ((rc = find_sha(txn, STORE_ROOTS, sha, name, sizeof(name))) == 0) {
		rc = entry_remove(txn, STORE_ROOTS, name, who);
		if (rc != 0)
			return rc;
	}
	return rc == -ENOENT ? 0 : rc;
}

/*
 * rejected/H says what H presented against its pin.  It goes with the pin
 * (only = NULL: the pin was replaced, removed or renamed) or when H is
 * pinned to the very certificate it holds (only = that SHA-256); anything
 * else would keep reporting a host that is fine (issue 10).  The names
 * cleared are appended to `cleared' for the change's audit line.
 */
int
entry_clear_rejected(struct store_txn *txn, const char *host,
    const unsigned char *only, char *cleared, size_t clearedlen)
{
	struct store_rec rec;
	size_t n;
	int rc;

	rc = store_get(txn, STORE_REJECTED, host, &rec);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (only != NULL && (rec.nkeys == 0 ||
	    memcmp(rec.keys[0].sha256, only, 32) != 0))
		return 0;
	rc = store_del(txn, STORE_REJECTED, host);
	if (rc != 0)
		return rc;
	n = strlen(cleared);
	snprintf(cleared + n, clearedlen - n, "%srejected/%s", n ? "," : "",
	    host);
	return 0;
}

/* Self-signed whatever its key usage says: the subject is the issuer and
 * its own key verifies the signature.  (X509_check_issued also wants
 * keyCertSign, which a self-signed server certificate rarely has.) */
static int
is_self_signed(X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	int ok;

	if (k == NULL || X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)) != 0)
		return 0;
	ok = X509_verify(x, k) == 1;
	ERR_clear_error();
	return ok;
}

/*
 * The one rule for roots/, whoever adds to it (cp, import, mv from
 * distrusted/): an anchor is a CA certificate or a self-signed one.  Any
 * other end-entity certificate would be trusted to issue nothing, yet
 * would sit in bundle.pem as if it did; its place is a pin.
 */
static int
anchor_check(X509 *x, struct tf_error *e)
{
	char *subj;

	if (cert_is_ca(x) || is_self_signed(x))
		return 0;
	subj = cert_name_str(X509_get_subject_name(x));
	tf_error_setx(e, -EINVAL, "%s is an end-entity certificate (CA: no); "
	    "pin it in pinned/HOST_PORT instead (roots/ holds CA and "
	    "self-signed certificates)", subj && *subj ? subj :
	    "the certificate");
	free(subj);
	return -EINVAL;
}

static int
is_distrusted(struct store_txn *txn, STACK_OF(X509) *sk, char *name,
    size_t namelen, X509 **which)
{
	unsigned char sha[32];
	int i, rc;

	for (i = 0; i < sk_X509_num(sk); i++) {
		cert_sha256(sk_X509_value(sk, i), sha);
		rc = find_sha(txn, STORE_DISTRUSTED, sha, name, namelen);
		if (rc == 0) {
			*which = sk_X509_value(sk, i);
			return 1;
		}
		if (rc != -ENOENT)
			return rc;
	}
	return 0;
}

int
entry_add(struct store_txn *txn, enum store_db db, const char *name,
    STACK_OF(X509) *certs, unsigned flags, const struct entry_actor *who,
    struct entry_result *res, struct tf_error *e)
{
	STACK_OF(X509) *sk = NULL;
	struct recbuf rb = { 0 };
	struct store_rec old;
	struct store_validity val[STORE_INFO_CERTS];
	char path[300], dname[256], base[256], cleared[300] = "";
	unsigned char old_sha[32];
	X509 *leaf, *bad = NULL;
	time_t now = time(NULL);
	int rc, n = sk_X509_num(certs), have_old = 0, have_old_sha = 0;
	unsigned i;

	memset(res, 0, sizeof(*res));
	if (n <= 0) {
		tf_error_setx(e, -EINVAL, "no certificate");
		return -EINVAL;
	}
	if (db != STORE_CHAINS && db != STORE_PINNED && n > 1) {
		tf_error_setx(e, -EINVAL, "%s/ holds one certificate per file; this "
		    "input has %d (write bundles to import)", db_dirs[db], n);
		return -EINVAL;
	}
	if (db == STORE_CHAINS)
		rc = chain_order(certs, &sk);
	else if (db == STORE_PINNED)
		rc = pin_set(certs, &sk, e);	/* several: issue 14 */
	else {
		sk = sk_X509_dup(certs);
		rc = sk == NULL ? -ENOMEM : 0;
		if (rc == 0)
			for (i = 0; i < (unsigned)n; i++)
				X509_up_ref(sk_X509_value(sk, (int)i));
	}
	if (rc != 0)
		goto out;
	leaf = sk_X509_value(sk, 0);
	cert_sha256(leaf, res->sha256);
	if (db == STORE_ROOTS) {
		rc = anchor_check(leaf, e);
		if (rc != 0)
			goto out;
	}

	if (db == STORE_ROOTS || db == STORE_CHAINS) {
		rc = is_distrusted(txn, sk, dname, sizeof(dname), &bad);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			if (flags & ENTRY_AUTOLABEL) {
				res->outcome = ENTRY_SKIPPED_DISTRUSTED;
				snprintf(res->name, sizeof(res->name), "%s", dname);
				rc = 0;
				goto out;
			}
			tf_error_setx(e, -EINVAL, "the certificate is distrusted "
			    "(distrusted/%s); remove it there first", dname);
			rc = -EINVAL;
			goto out;
		}
	}
	/*
	 * In roots/ and distrusted/ a certificate lives under one name: the
	 * same name again changes nothing, another name is refused and told
	 * which one it has (a silent success would leave the old anchor in
	 * place), and an import skips it as a duplicate.  Nothing is written
	 * before this point, so a refusal leaves the transaction clean.
	 */
	if (db == STORE_ROOTS || db == STORE_DISTRUSTED) {
		struct find_ctx f = { .want = db };

		if (!(flags & ENTRY_AUTOLABEL)) {
			rc = entry_name(db, name, base, sizeof(base), e);
			if (rc != 0)
				goto out;
			f.self = base;
		}
		rc = store_find_sha256(txn, res->sha256, find_cb, &f);
		if (rc < 0)
			goto out;
		if (f.self_found || f.found) {
			snprintf(res->name, sizeof(res->name), "%s",
			    f.self_found ? base : f.name);
			res->outcome = ENTRY_UNCHANGED;
			rc = 0;
			if (!f.self_found && !(flags & ENTRY_AUTOLABEL))
				rc = tf_error_setx(e, -EEXIST, "the certificate "
				    "is already in %s/%s (one name per "
				    "certificate there; mv it to rename)",
				    db_dirs[db], f.name);
			goto out;
		}
	}

	if (flags & ENTRY_AUTOLABEL) {
		cert_label(leaf, base, sizeof(base));
		for (i = 1;; i++) {
			rc = name_label_nth(base, i, res->name, sizeof(res->name));
			if (rc != 0)
				goto out;
			rc = store_get(txn, db, res->name, &old);
			if (rc == -ENOENT)
				break;
			if (rc != 0)
				goto out;
		}
	} else {
		rc = entry_name(db, name, res->name, sizeof(res->name), e);
		if (rc != 0)
			goto out;
		rc = store_get(txn, db, res->name, &old);
		if (rc == 0)
			have_old = 1;
		else if (rc != -ENOENT)
			goto out;
		/* Copied now: `old' points into the map until a write. */
		if (have_old && old.nkeys > 0) {
			memcpy(old_sha, old.keys[0].sha256, 32);
			have_old_sha = 1;
		}
	}

	rc = recbuf_build(&rb, sk);
	if (rc != 0)
		goto out;
	if (have_old) {
		if (old.der_len == rb.rec.der_len &&
		    memcmp(old.der, rb.rec.der, old.der_len) == 0) {
			res->outcome = ENTRY_UNCHANGED;
			rc = 0;
			goto out;
		}
		/* A pin that holds these already, or has expired (pins.c). */
		i = db == STORE_PINNED && !(flags & ENTRY_REPLACE) ?
		    (unsigned)pin_add_over(&old, sk, now) : PIN_OVER_CONFLICT;
		if (i == PIN_OVER_SAME) {
			res->outcome = ENTRY_UNCHANGED;
			rc = 0;
			goto out;
		}
		if (!(flags & ENTRY_REPLACE) && i != PIN_OVER_REPLACE) {
			tf_error_setx(e, -EEXIST, "%s/%s holds a different "
			    "certificate; remove it first or rename over it",
			    db_dirs[db], res->name);
			rc = -EEXIST;
			goto out;
		}
		rb.rec.ctime = old.ctime;
		if (db == STORE_PINNED)
			pin_keep_history(&old, &rb.rec, sk, now);
	} else
		rb.rec.ctime = (uint64_t)now;
	rb.rec.mtime = (uint64_t)now;
	if (db == STORE_ROOTS) {
		rc = free_slot(txn, rb.keys[0].subject_hash, res->name,
		    &rb.rec.slot);
		if (rc != 0)
			goto out;
	}
	expiry_fill_rec(txn, db, res->name, &rb.rec, sk, val);	/* issue 9 */
	rc = store_put(txn, db, res->name, &rb.rec);
	if (rc == 0)
		rc = origin_forget(txn, db, res->name);
	if (rc != 0)
		goto out;
	if (db == STORE_DISTRUSTED) {
		rc = drop_from_roots(txn, res->sha256, who);
		if (rc != 0)
			goto out;
	}
	if (db == STORE_PINNED) {
		rc = have_old ? entry_clear_rejected(txn, res->name, NULL,
		    cleared, sizeof(cleared)) : pin_clear_rejected(txn,
		    res->name, &rb.rec, cleared, sizeof(cleared));
		if (rc != 0)
			goto out;
	}
	res->outcome = have_old ? ENTRY_REPLACED : ENTRY_ADDED;
	entry_path(db, res->name, path, sizeof(path));
	/* DESIGN section 8: a replacement names what it replaced. */
	rc = entry_audit_change(txn, who, have_old ? "replace" : "add", path,
	    res->sha256, have_old_sha ? old_sha : NULL,
	    cleared[0] ? cleared : NULL, NULL);
	entry_mark_changed(txn);
out:
	recbuf_free(&rb);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int
entry_remove(struct store_txn *txn, enum store_db db, const char *name,
    const struct entry_actor *who)
{
	struct store_rec rec;
	unsigned char sha[32];
	char path[300], cleared[300] = "";
	int rc, have_sha = 0;

	rc = store_get(txn, db, name, &rec);
	if (rc != 0)
		return rc;
	if (rec.nkeys > 0) {
		memcpy(sha, rec.keys[0].sha256, 32);
		have_sha = 1;
	}
	rc = store_del(txn, db, name);
	if (rc == 0)
		rc = origin_forget(txn, db, name);
	if (rc == 0 && db == STORE_PINNED)
		rc = entry_clear_rejected(txn, name, NULL, cleared,
		    sizeof(cleared));
	if (rc != 0)
		return rc;
	entry_path(db, name, path, sizeof(path));
	entry_mark_changed(txn);
	return entry_audit_change(txn, who, "remove", path, have_sha ? sha :
	    NULL, NULL, cleared[0] ? cleared : NULL, NULL);
}

static int
rename_allowed(enum store_db from, enum store_db to)
{
	if (from == to)
		return 1;
	return (from == STORE_REJECTED && to == STORE_PINNED) ||
	    (from == STORE_ROOTS && to == STORE_DISTRUSTED) ||
	    (from == STORE_DISTRUSTED && to == STORE_ROOTS);
}

int
entry_rename(struct store_txn *txn, enum store_db from_db, const char *from,
    enum store_db to_db, const char *to, int noreplace,
    const struct entry_actor *who, struct tf_error *e)
{
	struct recbuf rb = { 0 };
	struct store_rec src, dst;
	STACK_OF(X509) *sk = NULL;
	char fname[256], tname[256], path[620], p1[300], p2[300];
	char cleared[600] = "";
	unsigned char old_sha[32];
	time_t now = time(NULL);
	int rc, have_dst = 0, have_old_sha = 0;

	if (!rename_allowed(from_db, to_db)) {
		tf_error_setx(e, -EXDEV, "moving %s/ entries to %s/ has no meaning",
		    db_dirs[from_db], db_dirs[to_db]);
		return -EXDEV;
	}
	rc = entry_name(from_db, from, fname, sizeof(fname), e);
	if (rc == 0)
		rc = entry_name(to_db, to, tname, sizeof(tname), e);
	if (rc != 0)
		return rc;
	rc = store_get(txn, from_db, fname, &src);
	if (rc != 0)
		return rc;
	if (from_db == to_db && strcmp(fname, tname) == 0)
		return 0;
	rc = recbuf_copy(&rb, &src);
	if (rc != 0)
		return rc;
	/* A move into roots/ is an add there: the same anchor rule. */
	if (to_db == STORE_ROOTS && from_db != STORE_ROOTS) {
		rc = entry_certs(&rb.rec, &sk);
		if (rc == 0 && sk_X509_num(sk) < 1)
			rc = -EINVAL;
		if (rc == 0)
			rc = anchor_check(sk_X509_value(sk, 0), e);
		if (rc != 0)
			goto out;
	}
	rc = store_get(txn, to_db, tname, &dst);
	if (rc == 0) {
		if (noreplace) {
			tf_error_setx(e, -EEXIST, "%s/%s exists", db_dirs[to_db],
			    tname);
			rc = -EEXIST;
			goto out;
		}
		have_dst = 1;
		if (dst.nkeys > 0) {
			memcpy(old_sha, dst.keys[0].sha256, 32);
			have_old_sha = 1;
		}
		rc = store_del(txn, to_db, tname);
	} else if (rc == -ENOENT)
		rc = 0;
	if (rc != 0)
		goto out;
	if (from_db != to_db) {
		rb.rec.mtime = (uint64_t)now;
		memset(rb.rec.other_sha256, 0, sizeof(rb.rec.other_sha256));
	}
	if (to_db == STORE_PINNED && from_db == STORE_REJECTED) {
		/* An accepted certificate starts a new pin history. */
		rb.rec.ctime = (uint64_t)now;
		rb.rec.seen_count = rb.rec.seen_count ? rb.rec.seen_count : 1;
	}
	if (to_db == STORE_ROOTS && from_db != STORE_ROOTS) {
		rc = free_slot(txn, rb.keys[0].subject_hash, tname,
		    &rb.rec.slot);
		if (rc != 0)
			goto out;
	}
	rc = store_del(txn, from_db, fname);
	if (rc == 0)
		rc = origin_forget(txn, from_db, fname);
	if (rc == 0)
		rc = origin_forget(txn, to_db, tname);
	if (rc == 0)
		rc = store_put(txn, to_db, tname, &rb.rec);
	/* The host a pin leaves has no pin now; the host it lands on has
	 * a new one (issue 10: no stale rejected/). */
	if (rc == 0 && from_db == STORE_PINNED)
		rc = entry_clear_rejected(txn, fname, NULL, cleared,
		    sizeof(cleared));
	if (rc == 0 && to_db == STORE_PINNED)
		rc = entry_clear_rejected(txn, tname, have_dst || rb.rec.nkeys == 0 ?
		    NULL : rb.keys[0].sha256, cleared, sizeof(cleared));
	if (rc != 0)
		goto out;
	entry_path(from_db, fname, p1, sizeof(p1));
	entry_path(to_db, tname, p2, sizeof(p2));
	snprintf(path, sizeof(path), "%s->%s", p1, p2);
	entry_mark_changed(txn);
	rc = entry_audit_change(txn, who, "rename", path,
	    rb.rec.nkeys ? rb.keys[0].sha256 : NULL,
	    have_old_sha ? old_sha : NULL, cleared[0] ? cleared : NULL, NULL);
out:
	sk_X509_pop_free(sk, X509_free);
	recbuf_free(&rb);
	return rc;
}

/* The roots/ entry that anchors a certificate: the root itself, or a root
 * that issued it.  name gets the file name; -ENOENT if none. */
struct anchor_ctx {
	struct store_txn *txn;
	X509 *x;
	char name[256];
	int found;
};

static int
anchor_cb(enum store_db db, const char *name, void *arg)
{
	struct anchor_ctx *a = arg;
	STACK_OF(X509) *sk = NULL;
	struct store_rec rec;
	int hit = 0;

	if (db != STORE_ROOTS || store_get(a->txn, db, name, &rec) != 0)
		return 0;
	if (entry_certs(&rec, &sk) == 0 && sk_X509_num(sk) > 0 &&
	    X509_check_issued(sk_X509_value(sk, 0), a->x) == X509_V_OK) {
		snprintf(a->name, sizeof(a->name), "%s", name);
		a->found = hit = 1;
	}
	sk_X509_pop_free(sk, X509_free);
	return hit;
}

int
entry_anchor(struct store_txn *txn, X509 *x, char *name, size_t namelen)
{
	struct anchor_ctx a = { .txn = txn, .x = x };
	unsigned char sha[32];
	int ok, rc;
	uint32_t h;

	cert_sha256(x, sha);
	rc = find_sha(txn, STORE_ROOTS, sha, name, namelen);
	if (rc != -ENOENT)
		return rc;
	h = (uint32_t)X509_NAME_hash_ex(X509_get_issuer_name(x), NULL, NULL,
	    &ok);
	if (!ok)
		return -ENOENT;
	rc = store_find_subject(txn, h, anchor_cb, &a);
	if (rc < 0)
		return rc;
	if (!a.found)
		return -ENOENT;
	snprintf(name, namelen, "%s", a.name);
	return 0;
}
