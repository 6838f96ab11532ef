/*
 * An X509_LOOKUP over the store's subject index: OpenSSL asks for an
 * issuer by name, and only the roots with that subject are decoded
 * (DESIGN section 6: never parse every root).  X509_LOOKUP_METHOD(3).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "entry.h"
#include "handle.h"

static X509_LOOKUP_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

/* What a look-up holds: a reference to the store (handle.h), so that an
 * X509_STORE handed to SSL_CTX_set_cert_store() may outlive the handle
 * it came from. */
struct lookup_data {
	struct store *st;
	int *failed;
};

/*
 * Decoded roots, shared by every handle in the process and keyed by the
 * SHA-256 of their DER: a root's bytes never change under its
 * fingerprint, so a cached copy is always right, and the index decides on
 * every look-up whether the root is still in roots/.  Decoding a root (its
 * key, its extensions) costs about as much as a signature check; this
 * keeps "open the store and verify" close to verifying against a store
 * already in memory.
 */
#define ROOT_CACHE 256
static struct {
	unsigned char sha256[32];
	X509 *x;
} root_cache[ROOT_CACHE];
static unsigned root_cache_next;
static pthread_mutex_t root_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* A referenced X509 for this record, from the cache or decoded. */
static X509 *
root_get(const struct store_rec *rec)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL;
	unsigned i;

	if (rec->nkeys == 0)
		return NULL;
	pthread_mutex_lock(&root_cache_lock);
	for (i = 0; i < ROOT_CACHE && x == NULL; i++)
		if (root_cache[i].x != NULL &&
		    memcmp(root_cache[i].sha256, rec->keys[0].sha256, 32) == 0) {
			x = root_cache[i].x;
			X509_up_ref(x);
		}
	pthread_mutex_unlock(&root_cache_lock);
	if (x != NULL)
		return x;
	if (entry_certs(rec, &sk) != 0 || sk_X509_num(sk) < 1) {
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	x = sk_X509_value(sk, 0);
	X509_up_ref(x);
	sk_X509_pop_free(sk, X509_free);
	/* Computed now, once, rather than on each verification. */
	X509_check_purpose(x, -1, 0);
	(void)X509_get0_pubkey(x);
	pthread_mutex_lock(&root_cache_lock);
	i = root_cache_next++ % ROOT_CACHE;
	X509_free(root_cache[i].x);
	memcpy(root_cache[i].sha256, rec->keys[0].sha256, 32);
	root_cache[i].x = x;
	X509_up_ref(x);
	pthread_mutex_unlock(&root_cache_lock);
	return x;
}

struct found {
	struct store_txn *txn;
	const X509_NAME *name;
	STACK_OF(X509) *out;
	int failed;
};

static int
found_cb(enum store_db db, const char *name, void *arg)
{
	struct found *f = arg;
	struct store_rec rec;
	X509 *x;
	int rc;

	if (db != STORE_ROOTS)
		return 0;
	rc = store_get(f->txn, db, name, &rec);
	if (rc != 0) {
		/* The index names it: gone meanwhile is no failure. */
		f->failed |= rc != -ENOENT;
		return 0;
	}
	x = root_get(&rec);
	/* The hash can collide: compare the names themselves.  Every match
	 * is kept: two roots may share a subject (a key rollover). */
	if (x != NULL && X509_NAME_cmp(X509_get_subject_name(x), f->name) == 0 &&
	    sk_X509_push(f->out, x))
		x = NULL;
	X509_free(x);
	return 0;
}

/* The roots/ certificates with this subject, read now: 0 with *out (maybe
 * empty), or -1 when the store could not be read (d->failed is set). */
static int
roots_named(struct lookup_data *d, const X509_NAME *name,
    STACK_OF(X509) **out)
{
	struct found f = { .name = name };
	uint32_t h;
	int ok = 0;

	*out = NULL;
	f.out = sk_X509_new_null();
	h = (uint32_t)X509_NAME_hash_ex(name, NULL, NULL, &ok);
	if (f.out == NULL || !ok ||
	    store_txn_begin(d->st, 0, &f.txn, NULL) != 0)
		f.failed = 1;
	else {
		if (store_find_subject(f.txn, h, found_cb, &f) < 0)
			f.failed = 1;
		store_txn_abort(f.txn);
	}
	ERR_clear_error();
	if (f.failed) {
		/* OpenSSL hears "not found"; the caller hears why. */
		if (d->failed != NULL)
			*d->failed = 1;
		sk_X509_pop_free(f.out, X509_free);
		return -1;
	}
	*out = f.out;
	return 0;
}

static int ex_index = -1;

static struct lookup_data *
data_of(X509_STORE_CTX *ctx)
{
	X509_STORE *xs = X509_STORE_CTX_get0_store(ctx);

	return xs != NULL && ex_index >= 0 ?
	    X509_STORE_get_ex_data(xs, ex_index) : NULL;
}

/*
 * OpenSSL's own get_issuer and lookup_certs consult the X509_STORE's
 * object cache first and ask a look-up only when it holds nothing of the
 * subject: a root removed from roots/ or moved to distrusted/ would stay
 * trusted, and a rollover root added later would never be found, for as
 * long as an SSL_CTX keeps the store.  These two read roots/ on every
 * call instead (X509_STORE_set_get_issuer(3)).
 */
static int
get_issuer(X509 **issuer, X509_STORE_CTX *ctx, X509 *x)
{
	struct lookup_data *d = data_of(ctx);
	STACK_OF(X509) *sk = NULL;
	X509 *c, *pick = NULL;
	int i;

	*issuer = NULL;
	if (d == NULL || roots_named(d, X509_get_issuer_name(x), &sk) != 0)
		return 0;
	/* The first that issued x, one valid now before any other. */
	for (i = 0; i < sk_X509_num(sk); i++) {
		c = sk_X509_value(sk, i);
		if (X509_check_issued(c, x) != X509_V_OK)
			continue;
		if (pick == NULL)
			pick = c;
		if (X509_cmp_current_time(X509_get0_notBefore(c)) < 0 &&
		    X509_cmp_current_time(X509_get0_notAfter(c)) > 0) {
			pick = c;
			break;
		}
	}
	if (pick != NULL) {
		X509_up_ref(pick);
		*issuer = pick;
	}
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return pick != NULL;
}

static STACK_OF(X509) *
lookup_certs(X509_STORE_CTX *ctx, const X509_NAME *name)
{
	struct lookup_data *d = data_of(ctx);
	STACK_OF(X509) *sk = NULL;

	if (d == NULL || roots_named(d, name, &sk) != 0)
		return NULL;
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

/* For callers of X509_STORE_CTX_get_by_subject() (OpenSSL's own chain
 * building uses get_issuer above): every match goes into the store's
 * cache so that OpenSSL can try each. */
static int
by_subject(X509_LOOKUP *ctx, X509_LOOKUP_TYPE type, const X509_NAME *name,
    X509_OBJECT *ret)
{
	struct lookup_data *d = X509_LOOKUP_get_method_data(ctx);
	X509_STORE *xs = X509_LOOKUP_get_store(ctx);
	STACK_OF(X509) *sk = NULL;
	X509_OBJECT *o;
	X509 *x;
	int i;

	if (type != X509_LU_X509 || d == NULL ||
	    roots_named(d, name, &sk) != 0)
		return 0;
	for (i = 0; i < sk_X509_num(sk); i++)
		X509_STORE_add_cert(xs, sk_X509_value(sk, i));
	ERR_clear_error();	/* a duplicate add is not an error here */
	i = sk_X509_num(sk);
	sk_X509_pop_free(sk, X509_free);
	if (i == 0)
		return 0;
	/*
	 * X509_STORE_CTX_get_by_subject() takes its own reference on what we
	 * return, as by_dir's lookup expects: hand back the store's copy
	 * (which the store keeps alive) without adding one of ours.
	 */
	o = X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(xs),
	    X509_LU_X509, name);
	x = o ? X509_OBJECT_get0_X509(o) : NULL;
	if (x == NULL || !X509_OBJECT_set1_X509(ret, x))
		return 0;
	X509_free(x);
	return 1;
}

static void
lookup_free(X509_LOOKUP *ctx)
{
	struct lookup_data *d = X509_LOOKUP_get_method_data(ctx);

	if (d == NULL)
		return;
	X509_LOOKUP_set_method_data(ctx, NULL);
	handle_store_release(d->st);
	free(d);
}

static void
method_init(void)
{
	X509_LOOKUP_METHOD *m = X509_LOOKUP_meth_new("trustfs roots");

	ex_index = X509_STORE_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ex_index < 0) {
		X509_LOOKUP_meth_free(m);
		return;
	}

	if (m == NULL || !X509_LOOKUP_meth_set_get_by_subject(m, by_subject) ||
	    !X509_LOOKUP_meth_set_free(m, lookup_free)) {
		X509_LOOKUP_meth_free(m);
		return;
	}
	method = m;
}

int
lookup_add(X509_STORE *xs, struct store *st, int *failed)
{
	struct lookup_data *d;
	X509_LOOKUP *lu;

	pthread_once(&method_once, method_init);
	if (method == NULL)
		return -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->failed = failed;
	d->st = handle_store_hold(st);
	lu = d->st != NULL ? X509_STORE_add_lookup(xs, method) : NULL;
	if (lu == NULL) {
		handle_store_release(d->st);
		free(d);
		return -ENOMEM;
	}
	/* X509_STORE_add_lookup gives back a look-up xs already has. */
	if (X509_LOOKUP_get_method_data(lu) != NULL) {
		handle_store_release(d->st);
		free(d);
		return 0;
	}
	/* From here the look-up owns d: X509_STORE_free -> lookup_free,
	 * after which nothing asks xs for an issuer. */
	X509_LOOKUP_set_method_data(lu, d);
	if (!X509_STORE_set_ex_data(xs, ex_index, d))
		return -ENOMEM;
	X509_STORE_set_get_issuer(xs, get_issuer);
	X509_STORE_set_lookup_certs(xs, lookup_certs);
	return 0;
}
