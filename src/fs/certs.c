/*
 * bundle.pem and certs/: read-only views of roots/, rebuilt only when the
 * store has changed (LMDB's last transaction id tells, across processes).
 * A snapshot is built with fs->lock released and swapped in under it;
 * readers hold a reference for as long as their file is open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "cert.h"
#include "crl.h"
#include "fs.h"
#include "viewfiles.h"

static void
snapshot_free(struct snapshot *s)
{
	buf_free(&s->bundle);
	free(s->ents);
	free(s);
}

void
views_put(struct fs *fs, struct snapshot *s)
{
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&fs->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&fs->lock);
	if (last)
		snapshot_free(s);
}

struct build_ctx {
	struct snapshot *s;
	size_t cap;
	int rc;
	const struct views_sink *sink;	/* NULL: all of it in memory */
};

/* Lists what was appended to the bundle from off on as certs/HASH.N (or
 * HASH.rN: sep "r").  0, or 1 to stop with b->rc set. */
static int
add_ent(struct build_ctx *b, size_t off, uint32_t hash, const char *sep,
    unsigned slot)
{
	struct snapshot *s = b->s;
	struct certs_ent *e;

	if (s->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		e = realloc(s->ents, b->cap * sizeof(*e));
		if (e == NULL) {
			b->rc = -ENOMEM;
			return 1;
		}
		s->ents = e;
	}
	e = &s->ents[s->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%08x.%s%u", (unsigned)hash, sep,
	    slot);
	e->off = off;
	e->len = s->bundle.len - off;
	return 0;
}

static int
build_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct build_ctx *b = arg;
	struct snapshot *s = b->s;
	size_t off = s->bundle.len;

	if (rec->nkeys != 1)
		return 0;	/* a roots/ entry holds one certificate */
	/* The stored DER is the certificate: encode it, no need to decode. */
	b->rc = cert_pem_der(&s->bundle, rec->der, rec->der_len);
	if (b->rc != 0)
		return 1;
	if (add_ent(b, off, rec->keys[0].subject_hash, "",
	    (unsigned)rec->slot) != 0)
		return 1;
	memcpy(s->ents[s->n - 1].sha256, rec->keys[0].sha256, 32);
	if (b->sink != NULL &&
	    (b->rc = b->sink->file(b->sink->arg, s, &s->ents[s->n - 1])) != 0)
		return 1;
	return 0;
}

/* Base64 lines of 64 characters, as PEM has them. */
static int
crl_pem_body(struct buf *out, const unsigned char *der, size_t len);

int
views_crl_pem(struct buf *out, const unsigned char *der, size_t len)
{
	int rc;

	rc = buf_puts(out, "-----BEGIN X509 CRL-----\n");
	if (rc == 0)
		rc = crl_pem_body(out, der, len);
	if (rc == 0)
		rc = buf_puts(out, "-----END X509 CRL-----\n");
	return rc;
}

static int
crl_pem_body(struct buf *out, const unsigned char *der, size_t len)
{
	unsigned char line[65];
	size_t i, n;
	int rc = 0;

	for (i = 0; i < len && rc == 0; i += 48) {
		n = len - i < 48 ? len - i : 48;
		EVP_EncodeBlock(line, der + i, (int)n);
		rc = buf_printf(out, "%s\n", (char *)line);
	}
	return rc;
}

/*
 * certs/HASH.rN: each CRL of crls/ under its issuer's name hash, as
 * c_rehash names them, so that -CApath with -crl_check finds them.  N
 * counts the CRLs of one issuer hash in name order.
 */
struct crl_build {
	struct build_ctx *b;
	uint32_t *hashes;
	size_t n, cap;
};

static int
crl_build_cb(const char *name, const struct store_crl *c, void *arg)
{
	struct crl_build *cb = arg;
	struct build_ctx *b = cb->b;
	struct snapshot *s = b->s;
	const unsigned char *p = c->der;
	X509_CRL *crl;
	unsigned slot = 0;
	uint32_t h, *nh;
	size_t i, off = s->bundle.len;
	int ok = 0;

	(void)name;
	crl = d2i_X509_CRL(NULL, &p, (long)c->der_len);
	if (crl == NULL)
		return 0;	/* damaged: status says so */
	h = (uint32_t)X509_NAME_hash_ex(X509_CRL_get_issuer(crl), NULL, NULL,
	    &ok);
	X509_CRL_free(crl);
	if (!ok)
		return 0;
	for (i = 0; i < cb->n; i++)
		slot += cb->hashes[i] == h;
	if (cb->n == cb->cap) {
		cb->cap = cb->cap ? 2 * cb->cap : 16;
		nh = realloc(cb->hashes, cb->cap * sizeof(*nh));
		if (nh == NULL) {
			b->rc = -ENOMEM;
			return 1;
		}
		cb->hashes = nh;
	}
	cb->hashes[cb->n++] = h;
	b->rc = views_crl_pem(&s->bundle, c->der, c->der_len);
	if (b->rc != 0)
		return 1;
	if (add_ent(b, off, h, "r", slot) != 0)
		return 1;
	/* The file's name in the views directory (viewfiles.c). */
	if (EVP_Digest(c->der, c->der_len, s->ents[s->n - 1].sha256, NULL,
	    EVP_sha256(), NULL) != 1) {
		b->rc = -ENOMEM;
		return 1;
	}
	s->ents[s->n - 1].crl = 1;
	if (b->sink != NULL &&
	    (b->rc = b->sink->file(b->sink->arg, s, &s->ents[s->n - 1])) != 0)
		return 1;
	return 0;
}

/* How far the snapshot's buffer is used: bundle.pem and every certs/
 * file. */
static size_t
snap_extent(const struct snapshot *s)
{
	size_t i, end = s->bundle.len;

	for (i = 0; i < s->n; i++)
		if (s->ents[i].off + s->ents[i].len > end)
			end = s->ents[i].off + s->ents[i].len;
	return end;
}

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct certs_ent *)a)->name,
	    ((const struct certs_ent *)b)->name);
}

/* A snapshot of roots/ at generation gen into *out; 0 or -errno.  With a
 * sink, each certs/ file goes to it as it is made (viewfiles.c). */
int
views_build(struct fs *fs, uint64_t gen, const struct views_sink *sink,
    struct snapshot **out)
{
	struct build_ctx b = { .sink = sink };
	struct crl_build cb = { .b = &b };
	struct store_txn *txn = NULL;
	struct tf_error err = { 0 };
	size_t roots_len = 0;
	int rc;

	*out = NULL;
	b.s = calloc(1, sizeof(*b.s));
	if (b.s == NULL)
		return -ENOMEM;
	b.s->gen = gen;
	rc = store_txn_begin(fs->st, 0, &txn, &err);
	if (rc == 0) {
		b.s->mtime = entry_last_change(txn);
		rc = store_foreach(txn, STORE_ROOTS, build_cb, &b);
		if (rc > 0)
			rc = b.rc;
		if (rc == 0 && sink != NULL)
			rc = sink->roots_done(sink->arg, b.s);
		/* The CRLs follow the roots in the same buffer, past the
		 * length bundle.pem shows (bundle.len): bundle.pem stays the
		 * roots alone and certs/HASH.rN points after them. */
		roots_len = b.s->bundle.len;
		if (rc == 0)
			rc = store_crl_foreach(txn, crl_build_cb, &cb);
		if (rc > 0)
			rc = b.rc;
	}
	store_txn_abort(txn);
	free(cb.hashes);
	if (rc == 0)
		b.s->bundle.len = roots_len;
	if (rc != 0) {
		fs_log(LOG_ERR, "building bundle.pem: %s", err.msg[0] ?
		    err.msg : strerror(-rc));
		snapshot_free(b.s);
		return fs_errno(rc);
	}
	if (b.s->n > 1)
		qsort(b.s->ents, b.s->n, sizeof(*b.s->ents), ent_cmp);
	*out = b.s;
	return 0;
}

int
views_get(struct fs *fs, struct snapshot **out)
{
	struct snapshot *s, *old;
	uint64_t gen = store_generation(fs->st);
	int rc;

	*out = NULL;
	pthread_mutex_lock(&fs->lock);
	s = fs->views;
	/* As files (viewfiles.c): their thread keeps fs->views current. */
	if (s != NULL && (s->gen == gen || s->links)) {
		s->refs++;
		pthread_mutex_unlock(&fs->lock);
		*out = s;
		return 0;
	}
	pthread_mutex_unlock(&fs->lock);

	/* Built with fs->lock released: it reads the store (fs.h). */
	rc = views_build(fs, gen, NULL, &s);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	old = fs->views;
	/* The views thread put files in place meanwhile: this one is only
	 * the caller's. */
	if (old != NULL && old->links) {
		s->refs = 1;
		pthread_mutex_unlock(&fs->lock);
		*out = s;
		return 0;
	}
	/* A change elsewhere (a pin seen again) leaves the views as they
	 * were: keep the old snapshot. */
	if (old != NULL && old->bundle.len == s->bundle.len &&
	    old->mtime == s->mtime && old->n == s->n &&
	    snap_extent(old) == snap_extent(s) && (snap_extent(s) == 0 ||
	    memcmp(old->bundle.data, s->bundle.data, snap_extent(s)) == 0)) {
		if (old->gen < gen)
			old->gen = gen;
		old->refs++;
		pthread_mutex_unlock(&fs->lock);
		snapshot_free(s);
		*out = old;
		return 0;
	}
	s->refs = 2;	/* fs->views and the caller */
	fs->views = s;
	pthread_mutex_unlock(&fs->lock);
	views_put(fs, old);
	*out = s;
	return 0;
}

const struct certs_ent *
views_find(const struct snapshot *s, const char *name)
{
	struct certs_ent key;

	if (strlen(name) >= sizeof(key.name))
		return NULL;
	strcpy(key.name, name);
	return bsearch(&key, s->ents, s->n, sizeof(*s->ents), ent_cmp);
}

int
certs_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	const struct certs_ent *e;
	struct snapshot *s;
	int rc = 0;

	if (n->type == NODE_CERTSFILE &&
	    (rc = views_link_stat(fs, n->name, st)) != 0)
		return rc < 0 ? rc : 0;
	rc = views_get(fs, &s);
	if (rc != 0)
		return rc;
	if (n->type == NODE_CERTSDIR)
		fs_dir_stat(fs, st, 0, s->mtime);
	else if ((e = views_find(s, n->name)) == NULL)
		rc = -ENOENT;
	else
		fs_file_stat(fs, st, (off_t)e->len, s->mtime, 0);
	views_put(fs, s);
	return rc;
}

int
certs_readdir(struct fs *fs, void *buf, fuse_fill_dir_t filler,
    enum fuse_readdir_flags flags)
{
	struct snapshot *s;
	size_t i;
	int rc;

	rc = views_get(fs, &s);
	if (rc != 0)
		return rc;
	/* readdirplus: the snapshot knows every size already, or every
	 * link's target (viewfiles.c). */
	for (i = 0; i < s->n; i++) {
		struct stat st = { 0 };

		if (!s->links)
			fs_file_stat(fs, &st, (off_t)s->ents[i].len, s->mtime,
			    0);
		else if (views_link_stat(fs, s->ents[i].name, &st) != 1)
			continue;	/* gone meanwhile */
		filler(buf, s->ents[i].name, &st, 0,
		    (flags & FUSE_READDIR_PLUS) ? FUSE_FILL_DIR_PLUS : 0);
	}
	views_put(fs, s);
	return 0;
}
