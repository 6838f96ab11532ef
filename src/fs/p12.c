/*
 * MOUNT/truststore.p12: roots/ as a PKCS#12 trust store for Java
 * (-Djavax.net.ssl.trustStore=/trust/truststore.p12, password changeit),
 * read-only, distrusted certificates absent (they are never in roots/).
 *
 * A PKCS#12 MAC has a random salt, so every rendering has other bytes:
 * the store is rendered once per change of roots/ and every reader of
 * that version gets the same bytes (a copy taken at open, read through,
 * never from the kernel's page cache, as bundle.pem).  A change elsewhere
 * in the store (a pin seen again) moves the generation but not roots/: the
 * walk's digest tells, and the old bytes stay.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "fs.h"
#include "p12.h"

#define P12_FILE "truststore.p12"

/* One rendering, immutable once built; freed by its last reference. */
struct p12_view {
	int refs;		/* under fs->lock */
	uint64_t gen;		/* store generation it was checked at */
	unsigned char digest[32];	/* SHA-256 over roots/' names and DER */
	time_t mtime;
	struct buf data;
};

/* roots/ as walked in one read transaction. */
struct p12_walk {
	struct p12_cert *certs;
	size_t n, cap;
	EVP_MD_CTX *md;
	int rc;
};

static void
view_free(struct p12_view *v)
{
	if (v == NULL)
		return;
	buf_free(&v->data);
	free(v);
}

static void
view_put(struct fs *fs, struct p12_view *v)
{
	int last;

	if (v == NULL)
		return;
	pthread_mutex_lock(&fs->lock);
	last = --v->refs == 0;
	pthread_mutex_unlock(&fs->lock);
	if (last)
		view_free(v);
}

int
p12_path(const char *path)
{
	return path != NULL && strcmp(path, "/" P12_FILE) == 0;
}

static int
walk_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct p12_walk *w = arg;
	struct p12_cert *c;
	size_t len = strlen(name);
	char *alias;

	if (rec->nkeys != 1)
		return 0;	/* a roots/ entry holds one certificate */
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		c = realloc(w->certs, w->cap * sizeof(*c));
		if (c == NULL)
			goto nomem;
		w->certs = c;
	}
	/* The alias is the label: roots/NAME.pem is NAME. */
	if (len > 4 && strcmp(name + len - 4, ".pem") == 0)
		len -= 4;
	alias = strndup(name, len);
	if (alias == NULL)
		goto nomem;
	c = &w->certs[w->n++];
	c->alias = alias;
	c->der = rec->der;	/* valid while the transaction is open */
	c->der_len = rec->der_len;
	if (!EVP_DigestUpdate(w->md, name, strlen(name) + 1) ||
	    !EVP_DigestUpdate(w->md, rec->der, rec->der_len)) {
		w->rc = -ENOMEM;
		return 1;
	}
	return 0;
nomem:
	w->rc = -ENOMEM;
	return 1;
}

static int
alias_cmp(const void *a, const void *b)
{
	const struct p12_cert *const *x = a, *const *y = b;
	int r = strcasecmp((*x)->alias, (*y)->alias);

	/* Ties in store order: the first keeps its name. */
	return r != 0 ? r : (*x > *y) - (*x < *y);
}

/*
 * Java keys entries by the lowercased alias: a second "ca" after "CA"
 * would replace the first root.  Labels that differ only in case get
 * _2, _3... in store order (the first keeps its name; a suffix that
 * is taken too moves on to the next number).
 */
static int
unique_aliases(struct p12_walk *w)
{
	struct p12_cert **by = NULL;
	size_t i, j;
	int rc = 0;

	if (w->n < 2)
		return 0;
	by = malloc(w->n * sizeof(*by));
	if (by == NULL)
		return -ENOMEM;
	for (i = 0; i < w->n; i++)
		by[i] = &w->certs[i];
	qsort(by, w->n, sizeof(*by), alias_cmp);
	for (i = 1; i < w->n && rc == 0; i++) {
		unsigned k = 2;

		if (strcasecmp(by[i - 1]->alias, by[i]->alias) != 0)
			continue;
		for (;;) {
			char *a = NULL;
			int taken = 0;

			if (asprintf(&a, "%s_%u", by[i]->alias, k++) < 0) {
				rc = -ENOMEM;
				break;
			}
			for (j = 0; j < w->n && !taken; j++)
				taken = strcasecmp(w->certs[j].alias, a) == 0;
			if (!taken) {
				free((char *)by[i]->alias);
				by[i]->alias = a;
				break;
			}
			free(a);
		}
	}
	free(by);
	return rc;
}

static void
walk_free(struct p12_walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free((char *)w->certs[i].alias);
	free(w->certs);
	EVP_MD_CTX_free(w->md);
}

/*
 * The view at generation gen: old again (referenced) when roots/ is what
 * it rendered, else a new rendering.  With fs->lock released (it reads
 * the store).  0 or -errno.
 */
static int
view_build(struct fs *fs, uint64_t gen, struct p12_view *old,
    struct p12_view **out)
{
	struct p12_walk w = { 0 };
	struct store_txn *txn = NULL;
	struct tf_error err = { 0 };
	struct p12_view *v;
	int rc;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	w.md = EVP_MD_CTX_new();
	if (v == NULL || w.md == NULL ||
	    !EVP_DigestInit_ex(w.md, EVP_sha256(), NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	v->gen = gen;
	rc = store_txn_begin(fs->st, 0, &txn, &err);
	if (rc != 0)
		goto out;
	v->mtime = entry_last_change(txn);
	rc = store_foreach(txn, STORE_ROOTS, walk_cb, &w);
	if (rc > 0)
		rc = w.rc;
	if (rc == 0 && !EVP_DigestFinal_ex(w.md, v->digest, NULL))
		rc = -ENOMEM;
	if (rc == 0 && old != NULL && old->mtime == v->mtime &&
	    memcmp(old->digest, v->digest, sizeof(v->digest)) == 0) {
		/* roots/ as rendered: the same bytes for every reader. */
		view_free(v);
		v = NULL;
		goto out;
	}
	if (rc == 0)
		rc = unique_aliases(&w);
	if (rc == 0)
		rc = p12_truststore(w.certs, w.n, P12_PASSWORD, &v->data,
		    &err);
out:
	store_txn_abort(txn);
	walk_free(&w);
	if (rc != 0) {
		fs_log(LOG_ERR, "building " P12_FILE ": %s", err.msg[0] ?
		    err.msg : strerror(-rc));
		view_free(v);
		return fs_errno(rc);
	}
	*out = v;	/* NULL: keep old */
	return 0;
}

/*
 * One build at a time: readers that arrive together after a change wait
 * for the first one's build and share it.  Lock order: p12_build, then
 * the store's locks (view_build's read transaction), then fs->lock; it is
 * never taken with fs->lock held or a transaction open.
 */
static pthread_mutex_t p12_build = PTHREAD_MUTEX_INITIALIZER;

/* fs->p12, referenced, and the generation it is current at. */
static struct p12_view *
current(struct fs *fs, uint64_t *gen)
{
	struct p12_view *v;

	pthread_mutex_lock(&fs->lock);
	v = fs->p12;
	if (v != NULL) {
		v->refs++;
		*gen = v->gen;
	}
	pthread_mutex_unlock(&fs->lock);
	return v;
}

/* The current view, referenced (view_put drops it): 0 or -errno. */
static int
view_get(struct fs *fs, struct p12_view **out)
{
	uint64_t gen = store_generation(fs->st), old_gen = 0;
	struct p12_view *v, *old;
	int rc;

	*out = NULL;
	old = current(fs, &old_gen);
	if (old != NULL && old_gen >= gen) {
		*out = old;
		return 0;
	}
	view_put(fs, old);
	pthread_mutex_lock(&p12_build);
	/* Built meanwhile by the reader this one waited for? */
	old = current(fs, &old_gen);
	if (old != NULL && old_gen >= gen) {
		pthread_mutex_unlock(&p12_build);
		*out = old;
		return 0;
	}
	rc = view_build(fs, gen, old, &v);
	if (rc != 0) {
		pthread_mutex_unlock(&p12_build);
		view_put(fs, old);
		return rc;
	}
	if (v == NULL) {
		/* roots/ unchanged: old is current at gen. */
		pthread_mutex_lock(&fs->lock);
		if (old->gen < gen)
			old->gen = gen;
		pthread_mutex_unlock(&fs->lock);
		pthread_mutex_unlock(&p12_build);
		*out = old;
		return 0;
	}
	v->refs = 2;	/* fs->p12 and the caller */
	pthread_mutex_lock(&fs->lock);
	fs->p12 = v;	/* old (if any) loses fs->p12's reference */
	pthread_mutex_unlock(&fs->lock);
	pthread_mutex_unlock(&p12_build);
	view_put(fs, old);	/* fs->p12's */
	view_put(fs, old);	/* this caller's */
	*out = v;
	return 0;
}

int
p12_getattr(struct stat *st)
{
	struct fs *fs = fs_get();
	struct p12_view *v;
	int rc;

	rc = view_get(fs, &v);
	if (rc != 0)
		return rc;
	fs_file_stat(fs, st, (off_t)v->data.len, v->mtime, 0);
	view_put(fs, v);
	return 0;
}

int
p12_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct p12_view *v;
	struct handle *h;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return rov_refuse("write", path, 1);
	rc = view_get(fs, &v);
	if (rc != 0)
		return rc;
	rc = handle_new(fs, fi, &h);
	if (rc == 0) {
		/* The reader's own copy of this version. */
		rc = buf_append(&h->own, v->data.data, v->data.len);
		if (rc != 0) {
			handle_free(fs, h);
			fi->fh = 0;
		} else {
			h->data = h->own.data;
			h->len = h->own.len;
		}
	}
	view_put(fs, v);
	/* Same length, other bytes: never serve another version's pages. */
	fi->direct_io = 1;
	return rc;
}

void
p12_top_readdir(void *buf, fuse_fill_dir_t filler)
{
	filler(buf, P12_FILE, NULL, 0, 0);
}

void
p12_stop(struct fs *fs)
{
	/* At a stop no reader is left: the last reference is fs->p12's. */
	if (fs->p12 != NULL && --fs->p12->refs == 0)
		view_free(fs->p12);
	fs->p12 = NULL;
}
