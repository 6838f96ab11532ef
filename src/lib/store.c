/*
 * The LMDB store: the only file that calls mdb_*.  One environment, named
 * databases, versioned records, and a map that grows when it is full.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"

#define MAP_INITIAL (10u << 20)
#define GROW_TRIES 24
/* A commit whose write came up short (LMDB says EIO) on a device with less
 * than this free ran out of space: that is ENOSPC, not an I/O error. */
#define SPACE_LOW (1u << 20)
#define REC_VERSION 1
/* Record layout, little-endian: version(1) pad(3) ctime(8) mtime(8)
 * first_seen(8) last_seen(8) seen_count(8) slot(4) flags(4)
 * other_sha256(32) nkeys(4) der_len(4), then nkeys keys of sha256(32)
 * subject_hash(4), then der_len bytes of DER. */
#define REC_HDR 92
#define KEY_SIZE 36

static const char *const db_names[STORE_NDBS] = {
	"pinned", "rejected", "roots", "distrusted", "chains"
};

struct store {
	MDB_env *env;
	MDB_dbi dbs[STORE_NDBS];
	MDB_dbi idx_sha, idx_subj, audit, meta;
	unsigned flags;
	char *path;
	pthread_rwlock_t resize;	/* map growth: see resize_rdlock() */
	size_t mapsize;
};

/*
 * Map growth.  mdb_env_set_mapsize() may run only while this process has no
 * transaction open on the environment (lmdb.h), so every transaction
 * read-holds st->resize and growth write-holds it.  Two rules keep that
 * from hanging:
 *  - the lock prefers writers (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP):
 *    once growth waits, new transactions wait behind it, so readers that
 *    come and go in a loop cannot starve it (glibc's default prefers
 *    readers);
 *  - a thread takes the lock once, however many transactions it nests
 *    (a per-thread count), so a nested transaction never queues behind a
 *    waiting grower that waits for the outer one; and a thread that holds
 *    a transaction cannot grow the map (it would wait for itself):
 *    store_write fails with -EDEADLK instead.  Callers must not hold a
 *    transaction across store_write.
 * Lock order: st->resize, then LMDB's writer lock (mdb_txn_begin).  Growth
 * takes st->resize alone.
 */
#define HOLD_SLOTS 4
static __thread struct {
	const struct store *st;
	unsigned depth;
} holds[HOLD_SLOTS];

/* This thread's count of transactions on st; NULL if no slot is free (then
 * the lock is taken for every transaction, as without the count). */
static unsigned *
hold_count(const struct store *st, int create)
{
	int i;

	for (i = 0; i < HOLD_SLOTS; i++)
		if (holds[i].st == st && holds[i].depth > 0)
			return &holds[i].depth;
	for (i = 0; create && i < HOLD_SLOTS; i++)
		if (holds[i].depth == 0) {
			holds[i].st = st;
			return &holds[i].depth;
		}
	return NULL;
}

static void
resize_rdlock(struct store *st)
{
	unsigned *n = hold_count(st, 1);

	if (n == NULL || (*n)++ == 0)
		pthread_rwlock_rdlock(&st->resize);
}

static void
resize_unlock(struct store *st)
{
	unsigned *n = hold_count(st, 0);

	if (n == NULL || --*n == 0)
		pthread_rwlock_unlock(&st->resize);
}

static unsigned
resize_depth(const struct store *st)
{
	unsigned *n = hold_count(st, 0);

	return n != NULL ? *n : 0;
}

static void
resize_init(struct store *st)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->resize, &a);
	pthread_rwlockattr_destroy(&a);
}

/* Whether the store's device is (nearly) full: see SPACE_LOW. */
static int
space_low(const struct store *st)
{
	struct statvfs vfs;

	if (statvfs(st->path, &vfs) != 0)
		return 0;
	return (unsigned long long)vfs.f_bavail * vfs.f_frsize < SPACE_LOW;
}

/* An LMDB commit's answer, with a short write on a full device told as
 * the ENOSPC it is (mdb_page_flush reports a short write as EIO). */
static int
commit_rc(const struct store *st, int rc)
{
	return rc == EIO && space_low(st) ? ENOSPC : rc;
}

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int write;
	int map_full;			/* an MDB_MAP_FULL was seen */
	struct tf_error *e;		/* where failures are told; may be NULL */
	struct store_key *keys;		/* decoded keys of the last record */
	size_t nkeys_cap;
	int outbox_off;			/* applying the fleet's changes: no outbox */
	struct exp_stash *exp;		/* expiry index: see its section */
};

const char *
store_path(const struct store *st)
{
	return st->path;
}

/* The one place that turns LMDB's answers into errno and a message. */
static int
lmdb_err(struct tf_error *e, int *map_full, int rc, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
		if (map_full != NULL)
			*map_full = 1;
		return tf_error_setx(e, -ENOSPC, "%s: the store is full", what);
	case ENOSPC:
	case EDQUOT:
		return tf_error_setx(e, -ENOSPC, "%s: no space left on the "
		    "store's device", what);
	case EACCES:
	case EROFS:
	case ENOMEM:
		return tf_error_setx(e, -rc, "%s: %s", what, mdb_strerror(rc));
	default:
		return tf_error_setx(e, -EIO, "%s: %s", what, mdb_strerror(rc));
	}
}

/* The same inside a transaction: told to the transaction's owner. */
static int
map_err(struct store_txn *t, int rc, const char *what)
{
	return lmdb_err(t != NULL ? t->e : NULL, t != NULL ? &t->map_full :
	    NULL, rc, what);
}

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
txn_begin_raw(struct store *st, int write, MDB_txn **out)
{
	int rc, tries;

	for (tries = 0; tries < 3; tries++) {
		rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, out);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		/* Another process grew the map: adopt its size (lmdb.h,
		 * mdb_env_set_mapsize) with no transaction of ours open.
		 * Not from inside another transaction of this thread. */
		if (resize_depth(st) > 1)
			return rc;
		pthread_rwlock_unlock(&st->resize);
		pthread_rwlock_wrlock(&st->resize);
		mdb_env_set_mapsize(st->env, 0);
		pthread_rwlock_unlock(&st->resize);
		pthread_rwlock_rdlock(&st->resize);
	}
	return rc;
}

int
store_txn_begin(struct store *st, int write, struct store_txn **out,
    struct tf_error *e)
{
	struct store_txn *t;
	int rc;

	*out = NULL;
	if (write && (st->flags & STORE_RDONLY))
		return tf_error_setx(e, -EROFS, "the store is open read-only");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return tf_error_set(e, -ENOMEM, "beginning a transaction");
	t->st = st;
	t->e = e;
	t->write = write;
	resize_rdlock(st);
	rc = txn_begin_raw(st, write, &t->txn);
	if (rc != 0) {
		resize_unlock(st);
		free(t);
		return lmdb_err(e, NULL, rc, "beginning a transaction");
	}
	*out = t;
	return 0;
}

static void
txn_free(struct store_txn *t)
{
	resize_unlock(t->st);
	free(t->keys);
	free(t->exp);
	free(t);
}

int
store_txn_commit(struct store_txn *t)
{
	struct tf_error *e = t->e;
	struct store *st = t->st;
	int rc;

	rc = commit_rc(st, mdb_txn_commit(t->txn));
	txn_free(t);
	return lmdb_err(e, NULL, rc, "committing");
}

void
store_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	txn_free(t);
}

static int
grow(struct store *st, struct tf_error *e)
{
	MDB_envinfo info;
	int rc;

	if (resize_depth(st) > 0)
		return tf_error_setx(e, -EDEADLK, "growing the store: this "
		    "thread holds a transaction on it");
	pthread_rwlock_wrlock(&st->resize);
	mdb_env_info(st->env, &info);
	st->mapsize = info.me_mapsize * 2;
	rc = mdb_env_set_mapsize(st->env, st->mapsize);
	pthread_rwlock_unlock(&st->resize);
	return lmdb_err(e, NULL, rc, "growing the store");
}

int
store_write(struct store *st, store_write_fn fn, void *arg,
    struct tf_error *e)
{
	struct store_txn *t;
	int rc, tries, full;

	for (tries = 0; tries < GROW_TRIES; tries++) {
		rc = store_txn_begin(st, 1, &t, e);
		if (rc != 0)
			return rc;
		rc = fn(t, arg);
		full = t->map_full;
		if (rc != 0) {
			store_txn_abort(t);
		} else {
			rc = commit_rc(st, mdb_txn_commit(t->txn));
			full = full || rc == MDB_MAP_FULL;
			txn_free(t);
			rc = lmdb_err(e, NULL, rc, "committing");
		}
		if (!full)
			return rc;
		rc = grow(st, e);
		if (rc != 0)
			return rc;
	}
	return tf_error_setx(e, -ENOSPC, "the store could not grow enough");
}

static int expiry_ready_new(struct store *st, MDB_txn *txn);

static int
open_dbi(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
	return mdb_dbi_open(txn, name, flags, dbi);
}

static int
schema_check(struct store *st, MDB_txn *txn, int write,
    struct tf_error *e)
{
	MDB_val k = { 6, (void *)"schema" }, v;
	char buf[32];
	long ver;
	int rc;

	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		if (!write)
			return 0;
		snprintf(buf, sizeof(buf), "%d", STORE_SCHEMA_VERSION);
		v.mv_size = strlen(buf);
		v.mv_data = buf;
		return mdb_put(txn, st->meta, &k, &v, 0);
	}
	if (rc != 0)
		return rc;
	snprintf(buf, sizeof(buf), "%.*s", (int)(v.mv_size < 31 ? v.mv_size :
	    31), (const char *)v.mv_data);
	ver = strtol(buf, NULL, 10);
	if (ver > STORE_SCHEMA_VERSION || ver < 1) {
		tf_error_setx(e, -EPROTONOSUPPORT, "store at %s has schema "
		    "version %ld; this trustfs understands up to %d", st->path,
		    ver, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

/* Opens every named database in one transaction; a write transaction
 * creates them and the schema record.  LMDB return code, or -1 for a
 * schema this build does not understand (err says so). */
static int
open_dbs(struct store *st, int create, struct tf_error *e)
{
	unsigned fl = create ? MDB_CREATE : 0;
	MDB_txn *txn;
	int rc, i;

	rc = mdb_txn_begin(st->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	for (i = 0; rc == 0 && i < STORE_NDBS; i++)
		rc = open_dbi(txn, db_names[i], fl, &st->dbs[i]);
	if (rc == 0)
		rc = open_dbi(txn, "idx_sha256", fl | MDB_DUPSORT, &st->idx_sha);
	if (rc == 0)
		rc = open_dbi(txn, "idx_subject", fl | MDB_DUPSORT,
		    &st->idx_subj);
	if (rc == 0)
		rc = open_dbi(txn, "audit", fl, &st->audit);
	if (rc == 0)
		rc = open_dbi(txn, "meta", fl, &st->meta);
	if (rc == 0)
		rc = schema_check(st, txn, create, e);
	if (rc == 0 && create)
		rc = expiry_ready_new(st, txn);	/* expiry index section */
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* Handles opened in a read transaction stay valid after it ends
	 * (lmdb.h, mdb_dbi_open). */
	return create ? mdb_txn_commit(txn) : (mdb_txn_commit(txn), 0);
}

int
store_open(const char *dir, unsigned flags, struct store **out,
    struct tf_error *e)
{
	mode_t dmode = (flags & STORE_GROUP) ? 0750 : 0700;
	mode_t fmode = (flags & STORE_GROUP) ? 0640 : 0600;
	struct store *st;
	MDB_envinfo info;
	struct stat sb;
	char path[4096];
	int rc, i, wr = !(flags & STORE_RDONLY);

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(dir)) == NULL) {
		free(st);
		return tf_error_set(e, -ENOMEM, "opening store %s", dir);
	}
	st->flags = flags;
	resize_init(st);
	if (stat(dir, &sb) != 0) {
		if (errno != ENOENT || (flags & STORE_NOCREATE) || !wr) {
			rc = tf_error_set(e, -errno, "store %s", dir);
			goto fail;
		}
		if (mkdir(dir, dmode) != 0 || chmod(dir, dmode) != 0) {
			rc = tf_error_set(e, -errno, "creating store %s", dir);
			goto fail;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = tf_error_setx(e, -ENOTDIR, "store %s is not a directory",
		    dir);
		goto fail;
	}
	rc = mdb_env_create(&st->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(st->env, 16);
	if (rc == 0)
		rc = mdb_env_set_mapsize(st->env, MAP_INITIAL);
	/* MDB_NOTLS: the daemon's threads share read transactions' slots
	 * freely (lmdb.h, MDB_NOTLS). */
	if (rc == 0)
		rc = mdb_env_open(st->env, dir, MDB_NOTLS |
		    (wr ? 0 : MDB_RDONLY), fmode);
	if (rc != 0) {
		rc = tf_error_setx(e, rc == EACCES ? -EACCES : -EIO,
		    "opening store %s: %s", dir, rc == MDB_INVALID ? "not a "
		    "trustfs store (the LMDB files are not valid)" :
		    mdb_strerror(rc));
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, i ? "lock.mdb" :
		    "data.mdb");
		if (wr)
			(void)chmod(path, fmode);
	}
	/* A bigger existing file keeps its size (mapsize 0 adopts it). */
	mdb_env_set_mapsize(st->env, 0);
	mdb_env_info(st->env, &info);
	if (info.me_mapsize < MAP_INITIAL)
		mdb_env_set_mapsize(st->env, MAP_INITIAL);

	/* Opening an existing store needs no write: try a read transaction
	 * first, and write only to create the databases. */
	rc = open_dbs(st, 0, e);
	if (rc == MDB_NOTFOUND && wr)
		rc = open_dbs(st, 1, e);
	if (rc == MDB_NOTFOUND) {
		rc = tf_error_setx(e, -ENOENT, "store %s is empty; open it "
		    "writable once to create it", dir);
		goto fail;
	}
	if (rc == -1) {
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	if (rc != 0) {
		rc = tf_error_setx(e, rc == MDB_INCOMPATIBLE ?
		    -EPROTONOSUPPORT : -EIO, "opening store %s: %s", dir,
		    mdb_strerror(rc));
		goto fail;
	}
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->resize);
	free(st->path);
	free(st);
}

uint64_t
store_generation(struct store *st)
{
	MDB_envinfo info;

	if (mdb_env_info(st->env, &info) != 0)
		return 0;
	return (uint64_t)info.me_last_txnid;
}

static int
check_name(const char *name, MDB_val *k)
{
	size_t n = strlen(name);

	if (n == 0)
		return -EINVAL;
	if (n > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	k->mv_size = n;
	k->mv_data = (void *)name;
	return 0;
}

/* Decodes a record; keys go to the transaction's scratch array. */
static int
decode(struct store_txn *t, const MDB_val *v, struct store_rec *r)
{
	const unsigned char *p = v->mv_data;
	size_t nkeys, der_len, i;

	if (v->mv_size < REC_HDR || p[0] != REC_VERSION) {
		return tf_error_setx(t->e, -EIO, "a record has an unknown "
		    "format (version %d)", v->mv_size ? p[0] : -1);
	}
	memset(r, 0, sizeof(*r));
	r->ctime = get64(p + 4);
	r->mtime = get64(p + 12);
	r->first_seen = get64(p + 20);
	r->last_seen = get64(p + 28);
	r->seen_count = get64(p + 36);
	r->slot = get32(p + 44);
	r->flags = get32(p + 48);
	memcpy(r->other_sha256, p + 52, 32);
	nkeys = get32(p + 84);
	der_len = get32(p + 88);
	if (nkeys > v->mv_size || der_len > v->mv_size ||
	    REC_HDR + nkeys * KEY_SIZE + der_len != v->mv_size) {
		return tf_error_setx(t->e, -EIO, "a record is damaged");
	}
	if (nkeys > t->nkeys_cap) {
		struct store_key *k = realloc(t->keys, nkeys * sizeof(*k));

		if (k == NULL)
			return tf_error_set(t->e, -ENOMEM, "reading a record");
		t->keys = k;
		t->nkeys_cap = nkeys;
	}
	for (i = 0; i < nkeys; i++) {
		memcpy(t->keys[i].sha256, p + REC_HDR + i * KEY_SIZE, 32);
		t->keys[i].subject_hash = get32(p + REC_HDR + i * KEY_SIZE + 32);
	}
	r->keys = t->keys;
	r->nkeys = nkeys;
	r->der = p + REC_HDR + nkeys * KEY_SIZE;
	r->der_len = der_len;
	return 0;
}

static void
encode(const struct store_rec *r, unsigned char *p)
{
	size_t i;

	memset(p, 0, REC_HDR);
	p[0] = REC_VERSION;
	put64(p + 4, r->ctime);
	put64(p + 12, r->mtime);
	put64(p + 20, r->first_seen);
	put64(p + 28, r->last_seen);
	put64(p + 36, r->seen_count);
	put32(p + 44, r->slot);
	put32(p + 48, r->flags);
	memcpy(p + 52, r->other_sha256, 32);
	put32(p + 84, (uint32_t)r->nkeys);
	put32(p + 88, (uint32_t)r->der_len);
	for (i = 0; i < r->nkeys; i++) {
		memcpy(p + REC_HDR + i * KEY_SIZE, r->keys[i].sha256, 32);
		put32(p + REC_HDR + i * KEY_SIZE + 32, r->keys[i].subject_hash);
	}
	if (r->der_len > 0)
		memcpy(p + REC_HDR + r->nkeys * KEY_SIZE, r->der, r->der_len);
}

int
store_get(struct store_txn *t, enum store_db db, const char *name,
    struct store_rec *out)
{
	MDB_val k, v;
	int rc;

	if ((unsigned)db >= STORE_NDBS)
		return -EINVAL;
	rc = check_name(name, &k);
	if (rc != 0)
		return rc;
	rc = mdb_get(t->txn, t->st->dbs[db], &k, &v);
	if (rc != 0)
		return map_err(t, rc, "reading");
	return decode(t, &v, out);
}

/* Index values: one byte of database, then the entry name. */
static int
index_val(enum store_db db, const char *name, unsigned char *buf,
    MDB_val *v)
{
	size_t n = strlen(name);

	buf[0] = (unsigned char)db;
	memcpy(buf + 1, name, n);
	v->mv_size = n + 1;
	v->mv_data = buf;
	return 0;
}

static int
index_change(struct store_txn *t, enum store_db db, const char *name,
    const struct store_key *keys, size_t nkeys, int add)
{
	unsigned char vbuf[STORE_NAME_MAX + 2], hbuf[4];
	MDB_val k, v;
	size_t i;
	int rc = 0;

	index_val(db, name, vbuf, &v);
	for (i = 0; i < nkeys && rc == 0; i++) {
		k.mv_size = 32;
		k.mv_data = (void *)keys[i].sha256;
		rc = add ? mdb_put(t->txn, t->st->idx_sha, &k, &v,
		    MDB_NODUPDATA) : mdb_del(t->txn, t->st->idx_sha, &k, &v);
		if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND)
			rc = 0;
		if (rc != 0)
			break;
		/* Big-endian so that the index sorts by hash. */
		hbuf[0] = (unsigned char)(keys[i].subject_hash >> 24);
		hbuf[1] = (unsigned char)(keys[i].subject_hash >> 16);
		hbuf[2] = (unsigned char)(keys[i].subject_hash >> 8);
		hbuf[3] = (unsigned char)keys[i].subject_hash;
		k.mv_size = 4;
		k.mv_data = hbuf;
		rc = add ? mdb_put(t->txn, t->st->idx_subj, &k, &v,
		    MDB_NODUPDATA) : mdb_del(t->txn, t->st->idx_subj, &k, &v);
		if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND)
			rc = 0;
	}
	return map_err(t, rc, "updating the index");
}

/* Removes an entry's index keys (copied: the record is about to go). */
static int
unindex(struct store_txn *t, enum store_db db, const char *name)
{
	struct store_rec old;
	struct store_key *keys;
	int rc;

	rc = store_get(t, db, name, &old);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	keys = malloc(old.nkeys * sizeof(*keys) + 1);
	if (keys == NULL)
		return -ENOMEM;
	/* A record may hold no keys: memcpy from NULL is undefined. */
	if (old.nkeys > 0)
		memcpy(keys, old.keys, old.nkeys * sizeof(*keys));
	rc = index_change(t, db, name, keys, old.nkeys, 0);
	free(keys);
	return rc;
}

int
store_put(struct store_txn *t, enum store_db db, const char *name,
    const struct store_rec *rec)
{
	MDB_val k, v;
	size_t size;
	int rc;

	if (!t->write)
		return -EROFS;
	if ((unsigned)db >= STORE_NDBS)
		return -EINVAL;
	rc = check_name(name, &k);
	if (rc != 0)
		return rc;
	if (rec->nkeys > 65536 || rec->der_len > (1u << 30))
		return -EFBIG;
	if ((rc = store_outbox_note(t, db, name, rec)) != 0)
		return rc;
	if ((rc = store_expiry_note(t, db, name, rec)) != 0)
		return rc;
	rc = unindex(t, db, name);
	if (rc != 0)
		return rc;
	size = REC_HDR + rec->nkeys * KEY_SIZE + rec->der_len;
	v.mv_size = size;
	/* MDB_RESERVE: LMDB hands us the space and we encode in place. */
	rc = mdb_put(t->txn, t->st->dbs[db], &k, &v, MDB_RESERVE);
	if (rc != 0)
		return map_err(t, rc, "writing");
	encode(rec, v.mv_data);
	return index_change(t, db, name, rec->keys, rec->nkeys, 1);
}

int
store_del(struct store_txn *t, enum store_db db, const char *name)
{
	MDB_val k;
	int rc;

	if (!t->write)
		return -EROFS;
	if ((unsigned)db >= STORE_NDBS)
		return -EINVAL;
	rc = check_name(name, &k);
	if (rc != 0)
		return rc;
	if ((rc = store_outbox_note(t, db, name, NULL)) != 0)
		return rc;
	if ((rc = store_expiry_note(t, db, name, NULL)) != 0)
		return rc;
	rc = unindex(t, db, name);
	if (rc != 0)
		return rc;
	return map_err(t, mdb_del(t->txn, t->st->dbs[db], &k, NULL),
	    "removing");
}

int
store_count(struct store_txn *t, enum store_db db, size_t *n)
{
	MDB_stat ms;
	int rc;

	if ((unsigned)db >= STORE_NDBS)
		return -EINVAL;
	rc = mdb_stat(t->txn, t->st->dbs[db], &ms);
	if (rc != 0)
		return map_err(t, rc, "counting");
	*n = ms.ms_entries;
	return 0;
}

int
store_foreach(struct store_txn *t, enum store_db db, store_iter_fn fn,
    void *arg)
{
	return store_foreach_from(t, db, "", fn, arg);	/* from the first */
}

static int
find(struct store_txn *t, MDB_dbi dbi, void *key, size_t keylen,
    store_ref_fn fn, void *arg)
{
	char name[STORE_NAME_MAX + 1];
	MDB_cursor *c;
	MDB_val k = { keylen, key }, v;
	int rc, ret = 0;

	rc = mdb_cursor_open(t->txn, dbi, &c);
	if (rc != 0)
		return map_err(t, rc, "searching the index");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		const unsigned char *p = v.mv_data;

		if (v.mv_size >= 2 && v.mv_size <= STORE_NAME_MAX + 1 &&
		    p[0] < STORE_NDBS) {
			memcpy(name, p + 1, v.mv_size - 1);
			name[v.mv_size - 1] = '\0';
			ret = fn((enum store_db)p[0], name, arg);
			if (ret != 0)
				break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (ret != 0)
		return ret;
	return rc == MDB_NOTFOUND ? 0 : map_err(t, rc, "searching the index");
}

int
store_find_sha256(struct store_txn *t, const unsigned char sha256[32],
    store_ref_fn fn, void *arg)
{
	unsigned char k[32];

	memcpy(k, sha256, 32);
	return find(t, t->st->idx_sha, k, 32, fn, arg);
}

int
store_find_subject(struct store_txn *t, uint32_t h, store_ref_fn fn,
    void *arg)
{
	unsigned char k[4] = { (unsigned char)(h >> 24),
	    (unsigned char)(h >> 16), (unsigned char)(h >> 8),
	    (unsigned char)h };

	return find(t, t->st->idx_subj, k, 4, fn, arg);
}

int
store_meta_get(struct store_txn *t, const char *key, char **val,
    size_t *len)
{
	MDB_val k, v;
	int rc;

	*val = NULL;
	rc = check_name(key, &k);
	if (rc != 0)
		return rc;
	rc = mdb_get(t->txn, t->st->meta, &k, &v);
	if (rc != 0)
		return map_err(t, rc, "reading meta");
	*val = malloc(v.mv_size + 1);
	if (*val == NULL)
		return -ENOMEM;
	memcpy(*val, v.mv_data, v.mv_size);
	(*val)[v.mv_size] = '\0';
	*len = v.mv_size;
	return 0;
}

int
store_meta_put(struct store_txn *t, const char *key, const void *val,
    size_t len)
{
	MDB_val k, v = { len, (void *)val };
	int rc;

	if (!t->write)
		return -EROFS;
	rc = check_name(key, &k);
	if (rc != 0)
		return rc;
	if ((rc = store_outbox_meta(t, key, val, len)) != 0)
		return rc;
	return map_err(t, mdb_put(t->txn, t->st->meta, &k, &v, 0),
	    "writing meta");
}

int
store_audit_append(struct store_txn *t, const char *line, size_t max_lines)
{
	unsigned char kb[8];
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat ms;
	uint64_t seq = 0;
	int rc, i;

	if (!t->write)
		return -EROFS;
	rc = mdb_cursor_open(t->txn, t->st->audit, &c);
	if (rc != 0)
		return map_err(t, rc, "audit");
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		for (i = 0; i < 8; i++)
			seq = (seq << 8) | ((unsigned char *)k.mv_data)[i];
	/* Big-endian keys keep the lines in order. */
	seq++;
	for (i = 7; i >= 0; i--, seq >>= 8)
		kb[i] = (unsigned char)seq;
	k.mv_size = 8;
	k.mv_data = kb;
	v.mv_size = strlen(line);
	v.mv_data = (void *)line;
	rc = mdb_put(t->txn, t->st->audit, &k, &v, MDB_APPEND);
	if (rc == 0 && max_lines > 0 &&
	    (rc = mdb_stat(t->txn, t->st->audit, &ms)) == 0) {
		size_t n = ms.ms_entries;

		while (rc == 0 && n > max_lines) {
			rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
			if (rc == 0)
				rc = mdb_cursor_del(c, 0);
			n--;
		}
	}
	mdb_cursor_close(c);
	return map_err(t, rc, "writing audit.log");
}

int
store_audit_foreach(struct store_txn *t, store_line_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, op = MDB_FIRST, ret = 0;

	rc = mdb_cursor_open(t->txn, t->st->audit, &c);
	if (rc != 0)
		return map_err(t, rc, "audit");
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		ret = fn(v.mv_data, v.mv_size, arg);
		if (ret != 0)
			break;
	}
	mdb_cursor_close(c);
	if (ret != 0)
		return ret;
	return rc == MDB_NOTFOUND ? 0 : map_err(t, rc, "audit");
}

int
store_backup(struct store *st, const char *dir, struct tf_error *e)
{
	int rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return tf_error_set(e, -errno, "%s", dir);
	/* A read transaction's snapshot, compacted (lmdb.h, MDB_CP_COMPACT):
	 * consistent while others write. */
	resize_rdlock(st);
	rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
	resize_unlock(st);
	return lmdb_err(e, NULL, rc, "backup");
}

int
store_backup_fd(struct store *st, int fd, struct tf_error *e)
{
	int rc;

	resize_rdlock(st);
	rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
	resize_unlock(st);
	return lmdb_err(e, NULL, rc, "backup");
}

int
store_in_use(const char *dir)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };
	char path[4200];
	int fd, rc;

	/* Every process with the environment open holds a shared lock on
	 * the first byte of lock.mdb (LMDB's mdb_env_excl_lock). */
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	rc = fcntl(fd, F_GETLK, &fl);
	close(fd);
	if (rc != 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

void
store_default_dir(char *out, size_t outlen)
{
	const char *env = getenv("TRUSTFS_STORE"), *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && *env)
		snprintf(out, outlen, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, outlen, "/var/lib/trustfs");
	else if (xdg != NULL && *xdg)
		snprintf(out, outlen, "%s/trustfs", xdg);
	else
		snprintf(out, outlen, "%s/.local/share/trustfs", home ? home :
		    ".");
}

/* Backup files (trustctl restore) */

/* One database of a backup: every name well formed, every record decodes,
 * and every certificate of a record is in both indexes, so that look-ups
 * in the restored store find what its directories list. */
static int
backup_check_db(struct store_txn *t, enum store_db db, size_t *nkeys)
{
	unsigned char vbuf[STORE_NAME_MAX + 2], hbuf[4];
	char name[STORE_NAME_MAX + 1];
	struct store_rec rec;
	MDB_cursor *c = NULL, *cs = NULL, *cj = NULL;
	MDB_val k, v, ik, iv;
	size_t i;
	int rc, ret = 0, op = MDB_FIRST;

	rc = mdb_cursor_open(t->txn, t->st->dbs[db], &c);
	if (rc == 0)
		rc = mdb_cursor_open(t->txn, t->st->idx_sha, &cs);
	if (rc == 0)
		rc = mdb_cursor_open(t->txn, t->st->idx_subj, &cj);
	while (rc == 0 && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size == 0 || k.mv_size > STORE_NAME_MAX ||
		    memchr(k.mv_data, '\0', k.mv_size) != NULL ||
		    memchr(k.mv_data, '/', k.mv_size) != NULL) {
			ret = tf_error_setx(t->e, -EINVAL, "%s/ holds a name "
			    "that is not a file name", db_names[db]);
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (decode(t, &v, &rec) != 0) {
			ret = tf_error_setx(t->e, -EINVAL, "%s/%s: the record "
			    "is damaged", db_names[db], name);
			break;
		}
		if (rec.nkeys == 0) {
			ret = tf_error_setx(t->e, -EINVAL, "%s/%s: the record "
			    "holds no certificate", db_names[db], name);
			break;
		}
		index_val(db, name, vbuf, &iv);
		for (i = 0; i < rec.nkeys && ret == 0; i++) {
			MDB_val want = iv;

			ik.mv_size = 32;
			ik.mv_data = (void *)rec.keys[i].sha256;
			rc = mdb_cursor_get(cs, &ik, &want, MDB_GET_BOTH);
			if (rc == 0) {
				hbuf[0] = (unsigned char)(rec.keys[i].subject_hash >> 24);
				hbuf[1] = (unsigned char)(rec.keys[i].subject_hash >> 16);
				hbuf[2] = (unsigned char)(rec.keys[i].subject_hash >> 8);
				hbuf[3] = (unsigned char)rec.keys[i].subject_hash;
				ik.mv_size = 4;
				ik.mv_data = hbuf;
				want = iv;
				rc = mdb_cursor_get(cj, &ik, &want,
				    MDB_GET_BOTH);
			}
			if (rc == MDB_NOTFOUND)
				ret = tf_error_setx(t->e, -EINVAL, "%s/%s: a "
				    "certificate is missing from the index",
				    db_names[db], name);
			else if (rc != 0)
				break;
		}
		if (ret != 0 || rc != 0)
			break;
		*nkeys += rec.nkeys;
	}
	if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND)
		ret = map_err(t, rc, "reading the backup");
	mdb_cursor_close(cj);
	mdb_cursor_close(cs);
	mdb_cursor_close(c);
	return ret;
}

/* An index entry names a record that holds the certificate it is filed
 * under (sha256: is_sha, else a subject hash): nothing stale. */
static int
backup_check_index(struct store_txn *t, MDB_dbi dbi, int is_sha)
{
	char name[STORE_NAME_MAX + 1];
	struct store_rec rec;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	size_t i;
	uint32_t h;
	int rc, ret = 0, hit, op = MDB_FIRST;

	rc = mdb_cursor_open(t->txn, dbi, &c);
	while (rc == 0 && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		const unsigned char *p = v.mv_data, *kp = k.mv_data;

		op = MDB_NEXT;
		if (k.mv_size != (is_sha ? 32u : 4u) || v.mv_size < 2 ||
		    v.mv_size > STORE_NAME_MAX + 1 || p[0] >= STORE_NDBS ||
		    memchr(p + 1, '\0', v.mv_size - 1) != NULL) {
			ret = tf_error_setx(t->e, -EINVAL, "the index holds "
			    "an entry that is not trustfs's");
			break;
		}
		memcpy(name, p + 1, v.mv_size - 1);
		name[v.mv_size - 1] = '\0';
		ret = store_get(t, (enum store_db)p[0], name, &rec);
		if (ret != 0 && ret != -ENOENT)
			break;
		h = is_sha ? 0 : (uint32_t)kp[0] << 24 | (uint32_t)kp[1] << 16 |
		    (uint32_t)kp[2] << 8 | (uint32_t)kp[3];
		for (hit = 0, i = 0; ret == 0 && i < rec.nkeys && !hit; i++)
			hit = is_sha ? memcmp(rec.keys[i].sha256, kp, 32) == 0 :
			    rec.keys[i].subject_hash == h;
		if (ret == -ENOENT || !hit) {
			ret = tf_error_setx(t->e, -EINVAL, "the index names "
			    "%s/%s, which does not hold that certificate",
			    db_names[p[0]], name);
			break;
		}
	}
	if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND)
		ret = map_err(t, rc, "reading the backup");
	mdb_cursor_close(c);
	return ret;
}

/* The schema record must be there (a store without one was never written
 * by trustfs) and name a version this build reads. */
static int
backup_check_schema(struct store_txn *t)
{
	MDB_val k = { 6, (void *)"schema" }, v;
	unsigned long ver = 0;
	size_t i;
	int rc;

	rc = mdb_get(t->txn, t->st->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return tf_error_setx(t->e, -EINVAL, "it has no schema version");
	if (rc != 0)
		return map_err(t, rc, "reading the backup");
	for (i = 0; i < v.mv_size && i < 9; i++) {
		unsigned char ch = ((const unsigned char *)v.mv_data)[i];

		if (ch < '0' || ch > '9')
			break;
		ver = ver * 10 + (ch - '0');
	}
	if (v.mv_size == 0 || i != v.mv_size)
		return tf_error_setx(t->e, -EINVAL, "its schema version is "
		    "not a number");
	if (ver < 1 || ver > STORE_SCHEMA_VERSION)
		return tf_error_setx(t->e, -EPROTONOSUPPORT, "it has schema "
		    "version %lu; this trustfs reads 1 to %d", ver,
		    STORE_SCHEMA_VERSION);
	return 0;
}

/* As open_dbs, read-only, leaving the schema to backup_check_schema: a
 * backup's failures are told as the backup's, not as a store's. */
static int
backup_open_dbs(struct store *st)
{
	MDB_txn *txn;
	int rc, i;

	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return rc;
	for (i = 0; rc == 0 && i < STORE_NDBS; i++)
		rc = mdb_dbi_open(txn, db_names[i], 0, &st->dbs[i]);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "idx_sha256", MDB_DUPSORT, &st->idx_sha);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "idx_subject", MDB_DUPSORT,
		    &st->idx_subj);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "audit", 0, &st->audit);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "meta", 0, &st->meta);
	/* Handles opened in a read transaction stay valid after it ends
	 * (lmdb.h, mdb_dbi_open). */
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	return rc;
}

static int
backup_check(struct store *st, struct tf_error *e)
{
	struct store_txn *t = NULL;
	size_t nkeys = 0, nidx = 0;
	MDB_stat ms;
	int rc, db;

	rc = store_txn_begin(st, 0, &t, e);
	if (rc == 0)
		rc = backup_check_schema(t);
	for (db = 0; rc == 0 && db < STORE_NDBS; db++)
		rc = backup_check_db(t, (enum store_db)db, &nkeys);
	if (rc == 0)
		rc = backup_check_index(t, st->idx_sha, 1);
	if (rc == 0)
		rc = backup_check_index(t, st->idx_subj, 0);
	if (rc == 0 && mdb_stat(t->txn, st->idx_sha, &ms) == 0)
		nidx = ms.ms_entries;
	/* Every index entry was matched to a record above; a record holding
	 * one certificate twice is filed once, hence at most. */
	if (rc == 0 && nidx > nkeys)
		rc = tf_error_setx(e, -EINVAL, "the index holds more "
		    "certificates than the records");
	store_txn_abort(t);
	return rc;
}

int
store_backup_open(const char *file, struct store **out, struct tf_error *e)
{
	struct store *st;
	struct stat sb;
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(file)) == NULL) {
		free(st);
		return tf_error_set(e, -ENOMEM, "%s", file);
	}
	st->flags = STORE_RDONLY | STORE_NOCREATE;
	pthread_rwlock_init(&st->resize, NULL);
	if (stat(file, &sb) != 0) {
		rc = tf_error_set(e, -errno, "%s", file);
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = tf_error_setx(e, -EINVAL, "not a regular file");
		goto fail;
	}
	if (sb.st_size == 0) {
		rc = tf_error_setx(e, -EINVAL, "the file is empty");
		goto fail;
	}
	/* One file, nothing written beside it or into it: no lock file
	 * (MDB_NOLOCK; nobody else has this copy open), read-only. */
	rc = mdb_env_create(&st->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(st->env, 16);
	if (rc == 0)
		rc = mdb_env_open(st->env, file, MDB_NOSUBDIR | MDB_RDONLY |
		    MDB_NOLOCK | MDB_NOTLS, 0600);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
		rc = tf_error_setx(e, -EINVAL, "not a trustfs backup: %s",
		    rc == MDB_INVALID ? "not an LMDB data file" :
		    "written by another version of LMDB");
		goto fail;
	}
	if (rc != 0) {
		rc = lmdb_err(e, NULL, rc, file);
		goto fail;
	}
	/* LMDB maps the file and trusts its meta page: a page past the end
	 * of a truncated file would be SIGBUS, not an error.  So the file
	 * must hold every page the meta page says is in use. */
	if (mdb_env_info(st->env, &info) != 0 ||
	    mdb_env_stat(st->env, &ms) != 0 || ms.ms_psize == 0 ||
	    info.me_last_pgno >= (size_t)sb.st_size / ms.ms_psize) {
		rc = tf_error_setx(e, -EINVAL, "not a trustfs backup: it is "
		    "truncated (%lld bytes, its pages need %llu)",
		    (long long)sb.st_size,
		    (unsigned long long)(info.me_last_pgno + 1) * ms.ms_psize);
		goto fail;
	}
	rc = backup_open_dbs(st);
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
		rc = tf_error_setx(e, -EINVAL, "not a trustfs backup: %s",
		    rc == MDB_NOTFOUND ? "a database of trustfs is missing" :
		    "a database is not of trustfs's kind");
		goto fail;
	}
	if (rc != 0) {
		rc = lmdb_err(e, NULL, rc, file);
		goto fail;
	}
	rc = backup_check(st, e);
	if (rc == -EINVAL) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", tf_error_msg(e));
		rc = tf_error_setx(e, -EINVAL, "not a trustfs backup: %s", why);
	}
	if (rc != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

/* CRLs */
/*
 * The CRLs of MOUNT/crls/ live in the meta database under "crl:NAME",
 * not in a named database of their own: a store made before crls/ opens
 * as it is (read-only opens included, which could not create a new
 * database), its schema version stays 1, backups carry the CRLs with
 * everything else, and an older trustfs simply ignores the keys.
 * Value, little-endian: version(1) pad(3) ctime(8) mtime(8), then the
 * DER CRL.
 */
#define CRL_PREFIX "crl:"
#define CRL_HDR 20

static int
crl_key(const char *name, char *key, size_t keylen, MDB_val *k)
{
	size_t n = strlen(name);

	if (n == 0 || memchr(name, '/', n) != NULL)
		return -EINVAL;
	if (n > STORE_NAME_MAX || n + sizeof(CRL_PREFIX) > keylen)
		return -ENAMETOOLONG;
	snprintf(key, keylen, "%s%s", CRL_PREFIX, name);
	k->mv_size = strlen(key);
	k->mv_data = key;
	return 0;
}

static int
crl_decode(const MDB_val *v, struct store_crl *c)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size <= CRL_HDR || p[0] != 1)
		return -EIO;
	c->ctime = get64(p + 4);
	c->mtime = get64(p + 12);
	c->der = p + CRL_HDR;
	c->der_len = v->mv_size - CRL_HDR;
	return 0;
}

int
store_crl_get(struct store_txn *t, const char *name, struct store_crl *out)
{
	char key[STORE_NAME_MAX + sizeof(CRL_PREFIX) + 1];
	MDB_val k, v;
	int rc;

	rc = crl_key(name, key, sizeof(key), &k);
	if (rc != 0)
		return rc;
	rc = mdb_get(t->txn, t->st->meta, &k, &v);
	if (rc != 0)
		return map_err(t, rc, "reading crls/");
	rc = crl_decode(&v, out);
	if (rc != 0)
		tf_error_setx(t->e, rc, "crls/%s: the record is damaged", name);
	return rc;
}

int
store_crl_put(struct store_txn *t, const char *name,
    const struct store_crl *c)
{
	char key[STORE_NAME_MAX + sizeof(CRL_PREFIX) + 1];
	unsigned char *p;
	MDB_val k, v;
	int rc;

	if (!t->write)
		return -EROFS;
	if (c->der == NULL || c->der_len == 0)
		return -EINVAL;
	rc = crl_key(name, key, sizeof(key), &k);
	if (rc != 0)
		return rc;
	v.mv_size = CRL_HDR + c->der_len;
	v.mv_data = NULL;
	rc = mdb_put(t->txn, t->st->meta, &k, &v, MDB_RESERVE);
	if (rc != 0)
		return map_err(t, rc, "writing crls/");
	p = v.mv_data;
	memset(p, 0, CRL_HDR);
	p[0] = 1;
	put64(p + 4, c->ctime);
	put64(p + 12, c->mtime);
	memcpy(p + CRL_HDR, c->der, c->der_len);
	return 0;
}

int
store_crl_del(struct store_txn *t, const char *name)
{
	char key[STORE_NAME_MAX + sizeof(CRL_PREFIX) + 1];
	MDB_val k;
	int rc;

	if (!t->write)
		return -EROFS;
	rc = crl_key(name, key, sizeof(key), &k);
	if (rc != 0)
		return rc;
	return map_err(t, mdb_del(t->txn, t->st->meta, &k, NULL),
	    "removing from crls/");
}

int
store_crl_foreach(struct store_txn *t, store_crl_fn fn, void *arg)
{
	char name[STORE_NAME_MAX + 1];
	struct store_crl c;
	MDB_cursor *cur;
	MDB_val k = { strlen(CRL_PREFIX), (void *)CRL_PREFIX }, v;
	size_t plen = strlen(CRL_PREFIX);
	int rc, ret = 0, op = MDB_SET_RANGE;

	rc = mdb_cursor_open(t->txn, t->st->meta, &cur);
	if (rc != 0)
		return map_err(t, rc, "listing crls/");
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size <= plen || memcmp(k.mv_data, CRL_PREFIX,
		    plen) != 0)
			break;	/* past the prefix: keys are sorted */
		if (k.mv_size - plen > STORE_NAME_MAX ||
		    crl_decode(&v, &c) != 0)
			continue;	/* not one of ours: skipped, not trusted */
		memcpy(name, (const char *)k.mv_data + plen, k.mv_size - plen);
		name[k.mv_size - plen] = '\0';
		ret = fn(name, &c, arg);
		if (ret != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (ret != 0)
		return ret;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(t, rc,
	    "listing crls/");
}

/* The fleet's outbox (issue 11) */
/*
 * In cluster mode -- meta "cluster:node" holds the node's name, written by
 * the daemon when it starts with --cluster -- every change to the
 * certificates of an entry, and to "policy", is recorded in the change's
 * own transaction: meta "outbox:SEQ" (SEQ 20 decimal digits, so that the
 * keys sort in order) holds the changed key, "DIR/NAME" or "policy".  The
 * daemon's sync thread pushes the key's state at push time and removes the
 * entry; whatever wrote the change (the mount, trustctl, a TLS client
 * through the library) needs to know nothing of etcd.  A record whose
 * certificates and other_sha256 stay the same (a pin's seen counters) is
 * not recorded: those counters are the node's own.  The keys live in meta
 * so that a store from before the fleet opens unchanged.
 */
#define OUTBOX_PREFIX "outbox:"
#define CLUSTER_NODE_KEY "cluster:node"
#define CLUSTER_SEQ_KEY "cluster:seq"
#define CLUSTER_REV_PREFIX "crev:"

static int
meta_raw_get(struct store_txn *t, const char *key, MDB_val *v)
{
	MDB_val k = { strlen(key), (void *)key };

	if (k.mv_size == 0 || k.mv_size > 511)
		return -EINVAL;
	return mdb_get(t->txn, t->st->meta, &k, v);
}

static int
outbox_enabled(struct store_txn *t)
{
	MDB_val v;

	return !t->outbox_off && meta_raw_get(t, CLUSTER_NODE_KEY, &v) == 0;
}

int
store_outbox_add(struct store_txn *t, const char *key)
{
	char kb[sizeof(OUTBOX_PREFIX) + 24], nb[24];
	unsigned long long seq = 0;
	MDB_val k, v;
	int rc;

	if (!t->write)
		return -EROFS;
	if (*key == '\0' || strlen(key) > 300)
		return -EINVAL;
	rc = meta_raw_get(t, CLUSTER_SEQ_KEY, &v);
	if (rc == 0 && v.mv_size < sizeof(nb)) {
		memcpy(nb, v.mv_data, v.mv_size);
		nb[v.mv_size] = '\0';
		seq = strtoull(nb, NULL, 10);
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return map_err(t, rc, "reading the outbox");
	seq++;
	snprintf(nb, sizeof(nb), "%llu", seq);
	k.mv_size = strlen(CLUSTER_SEQ_KEY);
	k.mv_data = (void *)CLUSTER_SEQ_KEY;
	v.mv_size = strlen(nb);
	v.mv_data = nb;
	rc = mdb_put(t->txn, t->st->meta, &k, &v, 0);
	if (rc != 0)
		return map_err(t, rc, "writing the outbox");
	snprintf(kb, sizeof(kb), OUTBOX_PREFIX "%020llu", seq);
	k.mv_size = strlen(kb);
	k.mv_data = kb;
	v.mv_size = strlen(key);
	v.mv_data = (void *)key;
	return map_err(t, mdb_put(t->txn, t->st->meta, &k, &v, 0),
	    "writing the outbox");
}

/* Whether the stored record v holds what rec holds (see REC_HDR). */
static int
rec_same(const MDB_val *v, const struct store_rec *rec)
{
	const unsigned char *p = v->mv_data;
	size_t nkeys, der_len;

	if (v->mv_size < REC_HDR || p[0] != REC_VERSION)
		return 0;
	nkeys = get32(p + 84);
	der_len = get32(p + 88);
	if (nkeys > v->mv_size || REC_HDR + nkeys * KEY_SIZE + der_len !=
	    v->mv_size)
		return 0;
	return der_len == rec->der_len && memcmp(p + 52, rec->other_sha256,
	    32) == 0 && (der_len == 0 || memcmp(p + REC_HDR + nkeys *
	    KEY_SIZE, rec->der, der_len) == 0);
}

int
store_outbox_note(struct store_txn *t, enum store_db db, const char *name,
    const struct store_rec *rec)
{
	char key[STORE_NAME_MAX + 16];
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	if (!t->write || (unsigned)db >= STORE_NDBS || !outbox_enabled(t))
		return 0;
	rc = mdb_get(t->txn, t->st->dbs[db], &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return map_err(t, rc, "reading");
	if (rec == NULL ? rc == MDB_NOTFOUND : rc == 0 && rec_same(&v, rec))
		return 0;
	snprintf(key, sizeof(key), "%s/%s", db_names[db], name);
	return store_outbox_add(t, key);
}

int
store_outbox_meta(struct store_txn *t, const char *key, const void *val,
    size_t len)
{
	MDB_val v;
	int rc;

	if (strcmp(key, "policy") != 0 || !t->write || !outbox_enabled(t))
		return 0;
	rc = meta_raw_get(t, key, &v);
	if (rc == 0 && v.mv_size == len && (len == 0 ||
	    memcmp(v.mv_data, val, len) == 0))
		return 0;
	return store_outbox_add(t, key);
}

void
store_txn_outbox_off(struct store_txn *t)
{
	t->outbox_off = 1;
}

int
store_outbox_foreach(struct store_txn *t, store_outbox_fn fn, void *arg)
{
	char key[320];
	MDB_cursor *c;
	MDB_val k = { strlen(OUTBOX_PREFIX), (void *)OUTBOX_PREFIX }, v;
	size_t n = strlen(OUTBOX_PREFIX);
	int rc, ret = 0;

	rc = mdb_cursor_open(t->txn, t->st->meta, &c);
	if (rc != 0)
		return map_err(t, rc, "reading the outbox");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size > n && memcmp(k.mv_data, OUTBOX_PREFIX,
	    n) == 0) {
		char sb[24];
		size_t sl = k.mv_size - n < sizeof(sb) ? k.mv_size - n :
		    sizeof(sb) - 1;

		memcpy(sb, (char *)k.mv_data + n, sl);
		sb[sl] = '\0';
		if (v.mv_size > 0 && v.mv_size < sizeof(key)) {
			memcpy(key, v.mv_data, v.mv_size);
			key[v.mv_size] = '\0';
			ret = fn(strtoull(sb, NULL, 10), key, arg);
			if (ret != 0)
				break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (ret != 0)
		return ret;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_err(t, rc,
	    "reading the outbox");
}

int
store_outbox_del(struct store_txn *t, uint64_t seq)
{
	char kb[sizeof(OUTBOX_PREFIX) + 24];
	MDB_val k;
	int rc;

	if (!t->write)
		return -EROFS;
	snprintf(kb, sizeof(kb), OUTBOX_PREFIX "%020llu",
	    (unsigned long long)seq);
	k.mv_size = strlen(kb);
	k.mv_data = kb;
	rc = mdb_del(t->txn, t->st->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : map_err(t, rc, "writing the outbox");
}

static int
outbox_count_one(uint64_t seq, const char *key, void *arg)
{
	(void)seq;
	(void)key;
	(*(size_t *)arg)++;
	return 0;
}

int
store_outbox_count(struct store_txn *t, size_t *n)
{
	*n = 0;
	return store_outbox_foreach(t, outbox_count_one, n);
}

int
store_cluster_rev_get(struct store_txn *t, const char *key, uint64_t *rev)
{
	char kb[sizeof(CLUSTER_REV_PREFIX) + 320], nb[24];
	MDB_val v;
	int rc;

	*rev = 0;
	if (strlen(key) > 300)
		return -EINVAL;
	snprintf(kb, sizeof(kb), CLUSTER_REV_PREFIX "%s", key);
	rc = meta_raw_get(t, kb, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return map_err(t, rc, "reading a revision");
	if (v.mv_size >= sizeof(nb))
		return 0;
	memcpy(nb, v.mv_data, v.mv_size);
	nb[v.mv_size] = '\0';
	*rev = strtoull(nb, NULL, 10);
	return 0;
}

int
store_cluster_rev_put(struct store_txn *t, const char *key, uint64_t rev)
{
	char kb[sizeof(CLUSTER_REV_PREFIX) + 320], nb[24];
	MDB_val k, v;

	if (!t->write)
		return -EROFS;
	if (strlen(key) > 300)
		return -EINVAL;
	snprintf(kb, sizeof(kb), CLUSTER_REV_PREFIX "%s", key);
	snprintf(nb, sizeof(nb), "%llu", (unsigned long long)rev);
	k.mv_size = strlen(kb);
	k.mv_data = kb;
	v.mv_size = strlen(nb);
	v.mv_data = nb;
	return map_err(t, mdb_put(t->txn, t->st->meta, &k, &v, 0),
	    "writing a revision");
}

int
store_cluster_set(struct store_txn *t, const char *node)
{
	MDB_val k = { strlen(CLUSTER_NODE_KEY), (void *)CLUSTER_NODE_KEY }, v;
	int rc;

	if (!t->write)
		return -EROFS;
	if (node != NULL) {
		v.mv_size = strlen(node);
		v.mv_data = (void *)node;
		return map_err(t, mdb_put(t->txn, t->st->meta, &k, &v, 0),
		    "writing the node name");
	}
	rc = mdb_del(t->txn, t->st->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : map_err(t, rc, "writing the node name");
}

/* Expiry index and entry sizes (issue 9) */
/*
 * Kept in meta by store_expiry_note, the hook of store_put and store_del,
 * in the change's own transaction (store.h says why meta):
 *   "ent:" DB NAME      -> version(1)=1 ncerts(1) text_base(4), then per
 *                          certificate not_before(8) not_after(8)
 *   "exp:" NA DB NAME   -> empty: NA the earliest notAfter (T below)
 *   "nvb:" NB DB NAME   -> empty: NB the latest notBefore, only when it
 *                          was less than a day ago or later at the put
 *                          (a day for a clock set back)
 *   "expd:" DAY DB      -> how many entries expire that UTC day (u64 LE)
 *   "unk:" DB NAME      -> empty: stored without a validity
 *   "expiry:unknown"    -> how many unk: keys (u64 LE)
 *   "expiry:ready"      -> "1": every record is under ent: or unk:
 *   "gen:roots"         -> u64 LE, one more per change to roots/ or
 *                          distrusted/
 * DB is one byte, T a time as 8 bytes big-endian with the sign bit
 * flipped and DAY as 4 (so that keys sort by time), NAME the entry's name.
 * A put whose keys carry no validity (a copy read back with store_get:
 * a pin's sighting update, a rename) keeps what the entry it replaces or
 * the entry deleted before it in the transaction had, when its
 * certificates are the same (by SHA-256).
 */
#define ENT_PREFIX "ent:"
#define EXP_PREFIX "exp:"
#define NVB_PREFIX "nvb:"
#define EXPD_PREFIX "expd:"
#define UNK_PREFIX "unk:"
#define EXP_UNKNOWN_KEY "expiry:unknown"
#define EXP_READY_KEY "expiry:ready"
#define ROOTS_GEN_KEY "gen:roots"
#define ENT_HDR 6
#define NVB_SLACK 86400

/* The validity of the last entry dropped in this transaction, for the
 * put that follows it under another name (entry_rename). */
struct exp_stash {
	int valid;
	enum store_db db;
	size_t nkeys;
	unsigned char sha[STORE_INFO_CERTS][32];
	struct store_info info;
};

static void
put_time(unsigned char *p, int64_t t)
{
	uint64_t u = (uint64_t)t ^ (1ULL << 63);
	int i;

	for (i = 7; i >= 0; i--, u >>= 8)
		p[i] = (unsigned char)u;
}

static int64_t
get_time(const unsigned char *p)
{
	uint64_t u = 0;
	int i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	return (int64_t)(u ^ (1ULL << 63));
}

static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* prefix, then (when t is not NULL) the time, then DB and name. */
static size_t
exp_key(unsigned char *buf, const char *prefix, const int64_t *t,
    enum store_db db, const char *name)
{
	size_t n = strlen(prefix), len = strlen(name);

	memcpy(buf, prefix, n);
	if (t != NULL) {
		put_time(buf + n, *t);
		n += 8;
	}
	buf[n++] = (unsigned char)db;
	memcpy(buf + n, name, len);
	return n + len;
}

static int
meta_del_raw(struct store_txn *t, const void *key, size_t len)
{
	MDB_val k = { len, (void *)key };
	int rc = mdb_del(t->txn, t->st->meta, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
meta_put_raw(struct store_txn *t, const void *key, size_t len,
    const void *val, size_t vlen)
{
	MDB_val k = { len, (void *)key }, v = { vlen, (void *)val };

	return mdb_put(t->txn, t->st->meta, &k, &v, 0);
}

/* Adds d to the u64 counter under key (removed at zero). */
static int
meta_count_add(struct store_txn *t, const void *key, size_t len, int64_t d)
{
	MDB_val k = { len, (void *)key }, v;
	unsigned char b[8];
	uint64_t n = 0;
	int rc;

	rc = mdb_get(t->txn, t->st->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		n = get64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (d < 0 && n < (uint64_t)-d)
		n = 0;
	else
		n += (uint64_t)d;
	if (n == 0)
		return meta_del_raw(t, key, len);
	put64(b, n);
	return meta_put_raw(t, key, len, b, 8);
}

static int
ent_decode(const MDB_val *v, struct store_info *out)
{
	const unsigned char *p = v->mv_data;
	size_t i, n;

	if (v->mv_size < ENT_HDR || p[0] != 1)
		return -EIO;
	n = p[1];
	if (n == 0 || n > STORE_INFO_CERTS || v->mv_size != ENT_HDR + n * 16)
		return -EIO;
	memset(out, 0, sizeof(*out));
	out->text_base = get32(p + 2);
	out->ncerts = n;
	for (i = 0; i < n; i++) {
		out->not_before[i] = get_time(p + ENT_HDR + i * 16);
		out->not_after[i] = get_time(p + ENT_HDR + i * 16 + 8);
		if (i == 0 || out->not_after[i] < out->min_not_after)
			out->min_not_after = out->not_after[i];
		if (i == 0 || out->not_before[i] > out->max_not_before)
			out->max_not_before = out->not_before[i];
	}
	return 0;
}

int
store_info_get(struct store_txn *t, enum store_db db, const char *name,
    struct store_info *out)
{
	unsigned char kb[16 + STORE_NAME_MAX];
	MDB_val k, v;
	int rc;

	if ((unsigned)db >= STORE_NDBS || strlen(name) > STORE_NAME_MAX)
		return -EINVAL;
	k.mv_size = exp_key(kb, ENT_PREFIX, NULL, db, name);
	k.mv_data = kb;
	rc = mdb_get(t->txn, t->st->meta, &k, &v);
	if (rc != 0)
		return map_err(t, rc, "reading the expiry index");
	return ent_decode(&v, out) == 0 ? 0 : -ENOENT;
}

static size_t
expd_key(unsigned char *kb, int64_t day, enum store_db db)
{
	uint32_t d = (uint32_t)((uint64_t)day ^ 0x80000000u);

	memcpy(kb, EXPD_PREFIX, 5);
	kb[5] = (unsigned char)(d >> 24);
	kb[6] = (unsigned char)(d >> 16);
	kb[7] = (unsigned char)(d >> 8);
	kb[8] = (unsigned char)d;
	kb[9] = (unsigned char)db;
	return 10;
}

/* Removes what is filed for an entry; info gets it (ncerts 0: none). */
static int
expiry_drop(struct store_txn *t, enum store_db db, const char *name,
    struct store_info *info)
{
	unsigned char kb[16 + STORE_NAME_MAX];
	MDB_val k, v;
	size_t n;
	int64_t day;
	int rc;

	memset(info, 0, sizeof(*info));
	k.mv_size = exp_key(kb, ENT_PREFIX, NULL, db, name);
	k.mv_data = kb;
	rc = mdb_get(t->txn, t->st->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		n = exp_key(kb, UNK_PREFIX, NULL, db, name);
		k.mv_size = n;
		rc = mdb_get(t->txn, t->st->meta, &k, &v);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc == 0)
			rc = meta_del_raw(t, kb, n);
		if (rc == 0)
			rc = meta_count_add(t, EXP_UNKNOWN_KEY,
			    strlen(EXP_UNKNOWN_KEY), -1);
		return rc;
	}
	if (rc != 0)
		return rc;
	if (ent_decode(&v, info) != 0)
		memset(info, 0, sizeof(*info));
	rc = meta_del_raw(t, kb, k.mv_size);
	if (rc != 0 || info->ncerts == 0)
		return rc;
	n = exp_key(kb, EXP_PREFIX, &info->min_not_after, db, name);
	rc = meta_del_raw(t, kb, n);
	if (rc == 0) {
		n = exp_key(kb, NVB_PREFIX, &info->max_not_before, db, name);
		rc = meta_del_raw(t, kb, n);
	}
	if (rc == 0) {
		day = day_of(info->min_not_after);
		n = expd_key(kb, day, db);
		rc = meta_count_add(t, kb, n, -1);
	}
	return rc;
}

/* Files info for an entry that has nothing filed. */
static int
expiry_file(struct store_txn *t, enum store_db db, const char *name,
    const struct store_info *info)
{
	unsigned char kb[16 + STORE_NAME_MAX];
	unsigned char vb[ENT_HDR + STORE_INFO_CERTS * 16];
	size_t n, i;
	int rc;

	vb[0] = 1;
	vb[1] = (unsigned char)info->ncerts;
	put32(vb + 2, info->text_base);
	for (i = 0; i < info->ncerts; i++) {
		put_time(vb + ENT_HDR + i * 16, info->not_before[i]);
		put_time(vb + ENT_HDR + i * 16 + 8, info->not_after[i]);
	}
	n = exp_key(kb, ENT_PREFIX, NULL, db, name);
	rc = meta_put_raw(t, kb, n, vb, ENT_HDR + info->ncerts * 16);
	if (rc == 0) {
		n = exp_key(kb, EXP_PREFIX, &info->min_not_after, db, name);
		rc = meta_put_raw(t, kb, n, "", 0);
	}
	if (rc == 0 && info->max_not_before > (int64_t)time(NULL) -
	    NVB_SLACK) {
		n = exp_key(kb, NVB_PREFIX, &info->max_not_before, db, name);
		rc = meta_put_raw(t, kb, n, "", 0);
	}
	if (rc == 0) {
		n = expd_key(kb, day_of(info->min_not_after), db);
		rc = meta_count_add(t, kb, n, 1);
	}
	return rc;
}

static int
info_from(const struct store_validity *val, size_t nkeys,
    uint32_t text_base, struct store_info *info)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	if (val == NULL || nkeys == 0 || nkeys > STORE_INFO_CERTS)
		return -EINVAL;
	for (i = 0; i < nkeys; i++) {
		if (val[i].not_after == 0)
			return -EINVAL;
		info->not_before[i] = val[i].not_before;
		info->not_after[i] = val[i].not_after;
		if (i == 0 || val[i].not_after < info->min_not_after)
			info->min_not_after = val[i].not_after;
		if (i == 0 || val[i].not_before > info->max_not_before)
			info->max_not_before = val[i].not_before;
	}
	info->ncerts = nkeys;
	info->text_base = text_base;
	return 0;
}

int
store_expiry_forget(struct store_txn *t, enum store_db db, const char *name)
{
	struct store_info old;

	if (!t->write)
		return -EROFS;
	if ((unsigned)db >= STORE_NDBS || strlen(name) > STORE_NAME_MAX)
		return -EINVAL;
	return map_err(t, expiry_drop(t, db, name, &old),
	    "writing the expiry index");
}

int
store_expiry_set(struct store_txn *t, enum store_db db, const char *name,
    const struct store_validity *val, size_t n, uint32_t text_base)
{
	struct store_info old, info;
	int rc;

	if (!t->write)
		return -EROFS;
	if ((unsigned)db >= STORE_NDBS || strlen(name) > STORE_NAME_MAX ||
	    info_from(val, n, text_base, &info) != 0)
		return -EINVAL;
	rc = expiry_drop(t, db, name, &old);
	if (rc == 0)
		rc = expiry_file(t, db, name, &info);
	return map_err(t, rc, "writing the expiry index");
}

/* The SHA-256 of each certificate of the stored record v (raw). */
static size_t
raw_shas(const MDB_val *v, unsigned char sha[][32])
{
	const unsigned char *p = v->mv_data;
	size_t nkeys, i;

	if (v->mv_size < REC_HDR || p[0] != REC_VERSION)
		return 0;
	nkeys = get32(p + 84);
	if (nkeys > STORE_INFO_CERTS || REC_HDR + nkeys * KEY_SIZE >
	    v->mv_size)
		return 0;
	for (i = 0; i < nkeys; i++)
		memcpy(sha[i], p + REC_HDR + i * KEY_SIZE, 32);
	return nkeys;
}

static int
stash_matches(const struct exp_stash *s, const struct store_rec *rec)
{
	size_t i;

	if (s == NULL || !s->valid || s->nkeys != rec->nkeys ||
	    s->info.ncerts != rec->nkeys)
		return 0;
	for (i = 0; i < rec->nkeys; i++)
		if (memcmp(s->sha[i], rec->keys[i].sha256, 32) != 0)
			return 0;
	return 1;
}

static int
text_kept(enum store_db from, enum store_db to)
{
	return (from == STORE_ROOTS || from == STORE_DISTRUSTED) &&
	    (to == STORE_ROOTS || to == STORE_DISTRUSTED);
}

int
store_expiry_note(struct store_txn *t, enum store_db db, const char *name,
    const struct store_rec *rec)
{
	unsigned char kb[16 + STORE_NAME_MAX];
	struct exp_stash *s = t->exp;
	struct store_info old, info;
	MDB_val k = { strlen(name), (void *)name }, v;
	size_t n;
	int rc, known;

	if (!t->write || (unsigned)db >= STORE_NDBS)
		return 0;
	if (s == NULL && (s = t->exp = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	/* What the entry had, for a put of the same certificates. */
	rc = mdb_get(t->txn, t->st->dbs[db], &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return map_err(t, rc, "reading");
	rc = expiry_drop(t, db, name, &old);
	if (rc != 0)
		return map_err(t, rc, "updating the expiry index");
	if (old.ncerts > 0) {
		s->nkeys = raw_shas(&v, s->sha);
		s->info = old;
		s->db = db;
		s->valid = s->nkeys > 0;
	}
	if (db == STORE_ROOTS || db == STORE_DISTRUSTED) {
		rc = meta_count_add(t, ROOTS_GEN_KEY, strlen(ROOTS_GEN_KEY), 1);
		if (rc != 0)
			return map_err(t, rc, "updating the expiry index");
	}
	if (rec == NULL || rec->nkeys == 0)
		return 0;
	known = info_from(rec->validity, rec->nkeys, rec->text_base,
	    &info) == 0;
	if (!known && stash_matches(s, rec)) {
		info = s->info;
		/* The text of roots/ and distrusted/ is the certificate's
		 * alone; elsewhere it shows the name and the record's
		 * fields (a pin's sightings): rendered when asked. */
		if (rec->text_base != 0 || !text_kept(s->db, db))
			info.text_base = rec->text_base;
		known = 1;
	}
	if (known)
		rc = expiry_file(t, db, name, &info);
	else {
		n = exp_key(kb, UNK_PREFIX, NULL, db, name);
		rc = meta_put_raw(t, kb, n, "", 0);
		if (rc == 0)
			rc = meta_count_add(t, EXP_UNKNOWN_KEY,
			    strlen(EXP_UNKNOWN_KEY), 1);
	}
	return map_err(t, rc, "updating the expiry index");
}

/* Walks the keys under prefix from start (a key with the prefix), fn
 * getting each whole key; a non-zero return stops, returned. */
static int
meta_range(struct store_txn *t, const char *prefix, const void *start,
    size_t startlen, int (*fn)(const MDB_val *k, const MDB_val *v,
    void *arg), void *arg)
{
	size_t plen = strlen(prefix);
	MDB_cursor *c;
	MDB_val k = { startlen, (void *)start }, v;
	int rc, ret = 0;

	rc = mdb_cursor_open(t->txn, t->st->meta, &c);
	if (rc != 0)
		return map_err(t, rc, "reading the expiry index");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen && memcmp(k.mv_data, prefix,
	    plen) == 0) {
		ret = fn(&k, &v, arg);
		if (ret != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (ret != 0)
		return ret;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_err(t, rc,
	    "reading the expiry index");
}

struct when_walk {
	size_t plen;
	int timed;
	int has_to;
	int ended;		/* stopped at `to' */
	int64_t to;
	store_when_fn fn;
	store_ref_fn ref;
	void *arg;
};

static int
when_cb(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct when_walk *w = arg;
	const unsigned char *p = k->mv_data;
	char name[STORE_NAME_MAX + 1];
	size_t off = w->plen + (w->timed ? 8 : 0), n;
	int64_t when = 0;

	(void)v;
	if (k->mv_size < off + 2 || k->mv_size - off - 1 > STORE_NAME_MAX)
		return 0;	/* not one of ours */
	if (w->timed) {
		when = get_time(p + w->plen);
		if (w->has_to && when >= w->to) {
			w->ended = 1;
			return 1;
		}
	}
	if (p[off] >= STORE_NDBS)
		return 0;
	n = k->mv_size - off - 1;
	memcpy(name, p + off + 1, n);
	name[n] = '\0';
	if (w->ref != NULL)
		return w->ref((enum store_db)p[off], name, w->arg);
	return w->fn((enum store_db)p[off], name, when, w->arg);
}

static int
when_range(struct store_txn *t, struct when_walk *w, const char *prefix,
    int64_t from)
{
	unsigned char kb[16];
	int rc;

	w->plen = strlen(prefix);
	w->timed = 1;
	memcpy(kb, prefix, w->plen);
	put_time(kb + w->plen, from);
	rc = meta_range(t, prefix, kb, w->plen + 8, when_cb, w);
	return w->ended ? 0 : rc;
}

int
store_expiry_range(struct store_txn *t, int64_t from, int64_t to,
    store_when_fn fn, void *arg)
{
	struct when_walk w = { .has_to = 1, .to = to, .fn = fn, .arg = arg };

	if (from >= to)
		return 0;
	return when_range(t, &w, EXP_PREFIX, from);
}

int
store_notyet(struct store_txn *t, int64_t after, store_when_fn fn,
    void *arg)
{
	struct when_walk w = { .fn = fn, .arg = arg };

	return when_range(t, &w, NVB_PREFIX, after + 1);
}

int
store_expiry_unknown(struct store_txn *t, store_ref_fn fn, void *arg)
{
	struct when_walk w = { .plen = strlen(UNK_PREFIX), .ref = fn,
	    .arg = arg };

	return meta_range(t, UNK_PREFIX, UNK_PREFIX, w.plen, when_cb, &w);
}

struct day_walk {
	store_day_fn fn;
	void *arg;
};

static int
day_cb(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct day_walk *w = arg;
	const unsigned char *p = k->mv_data;
	uint32_t d;

	if (k->mv_size != 10 || v->mv_size != 8 || p[9] >= STORE_NDBS)
		return 0;
	d = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 |
	    (uint32_t)p[7] << 8 | p[8];
	return w->fn((int64_t)(int32_t)(d ^ 0x80000000u),
	    (enum store_db)p[9], get64(v->mv_data), w->arg);
}

int
store_expiry_days(struct store_txn *t, store_day_fn fn, void *arg)
{
	struct day_walk w = { fn, arg };

	return meta_range(t, EXPD_PREFIX, EXPD_PREFIX, strlen(EXPD_PREFIX),
	    day_cb, &w);
}

static uint64_t
meta_u64(struct store_txn *t, const char *key, int *found)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_get(t->txn, t->st->meta, &k, &v);

	if (found != NULL)
		*found = rc == 0;
	return rc == 0 && v.mv_size == 8 ? get64(v.mv_data) : 0;
}

int
store_expiry_state(struct store_txn *t, int *ready, uint64_t *unknown)
{
	meta_u64(t, EXP_READY_KEY, ready);
	*unknown = meta_u64(t, EXP_UNKNOWN_KEY, NULL);
	return 0;
}

int
store_expiry_set_ready(struct store_txn *t)
{
	if (!t->write)
		return -EROFS;
	return map_err(t, meta_put_raw(t, EXP_READY_KEY,
	    strlen(EXP_READY_KEY), "1", 1), "writing the expiry index");
}

int
store_expiry_unready(struct store_txn *t)
{
	if (!t->write)
		return -EROFS;
	return map_err(t, meta_del_raw(t, EXP_READY_KEY,
	    strlen(EXP_READY_KEY)), "writing the expiry index");
}

uint64_t
store_roots_gen(struct store_txn *t)
{
	return meta_u64(t, ROOTS_GEN_KEY, NULL);
}

/* A store created now is ready: nothing to index (open_dbs, creating). */
static int
expiry_ready_new(struct store *st, MDB_txn *txn)
{
	MDB_val k = { strlen(EXP_READY_KEY), (void *)EXP_READY_KEY };
	MDB_val v = { 1, (void *)"1" };
	MDB_stat ms;
	int i;

	for (i = 0; i < STORE_NDBS; i++)
		if (mdb_stat(txn, st->dbs[i], &ms) != 0 || ms.ms_entries > 0)
			return 0;
	return mdb_put(txn, st->meta, &k, &v, 0);
}

/* Meta records of entries (issue 12) */
/* Keys are DIR/NAME with a prefix, so they may pass STORE_NAME_MAX; they
 * stay the node's own (no outbox): what added an entry here is local. */
static int
xkey(const char *key, MDB_val *k)
{
	size_t n = strlen(key);

	if (n == 0)
		return -EINVAL;
	if (n > STORE_META_KEY_MAX)
		return -ENAMETOOLONG;
	k->mv_size = n;
	k->mv_data = (void *)key;
	return 0;
}

int
store_meta_xput(struct store_txn *t, const char *key, const void *val,
    size_t len)
{
	MDB_val k, v = { len, (void *)val };
	int rc;

	if (!t->write)
		return -EROFS;
	if ((rc = xkey(key, &k)) != 0)
		return rc;
	return map_err(t, mdb_put(t->txn, t->st->meta, &k, &v, 0),
	    "writing meta");
}

int
store_meta_xget(struct store_txn *t, const char *key, char **val,
    size_t *len)
{
	MDB_val k, v;
	int rc;

	*val = NULL;
	if ((rc = xkey(key, &k)) != 0)
		return rc;
	rc = mdb_get(t->txn, t->st->meta, &k, &v);
	if (rc != 0)
		return map_err(t, rc, "reading meta");
	if ((*val = malloc(v.mv_size + 1)) == NULL)
		return -ENOMEM;
	memcpy(*val, v.mv_data, v.mv_size);
	(*val)[v.mv_size] = '\0';
	*len = v.mv_size;
	return 0;
}

int
store_meta_xdel(struct store_txn *t, const char *key)
{
	MDB_val k;
	int rc;

	if (!t->write)
		return -EROFS;
	if ((rc = xkey(key, &k)) != 0)
		return rc;
	rc = mdb_del(t->txn, t->st->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : map_err(t, rc, "removing from meta");
}

int
store_meta_xforeach(struct store_txn *t, const char *prefix,
    store_meta_fn fn, void *arg)
{
	char key[STORE_META_KEY_MAX + 1];
	size_t plen = strlen(prefix);
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor *cur;
	int rc, ret = 0, op = MDB_SET_RANGE;

	if (plen == 0)
		return -EINVAL;
	rc = mdb_cursor_open(t->txn, t->st->meta, &cur);
	if (rc != 0)
		return map_err(t, rc, "listing meta");
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;	/* past the prefix: keys are sorted */
		if (k.mv_size > STORE_META_KEY_MAX)
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if ((ret = fn(key, v.mv_data, v.mv_size, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (ret != 0)
		return ret;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(t, rc,
	    "listing meta");
}

/* The node a transaction's changes came from, for their audit lines
 * (audit.c reads meta cluster:origin); NULL when they are done.  Set and
 * cleared inside one transaction, so it is never committed. */
int
store_cluster_origin(struct store_txn *t, const char *node)
{
	MDB_val k = { 14, (void *)"cluster:origin" }, v;
	int rc;

	if (!t->write)
		return -EROFS;
	if (node != NULL) {
		v.mv_size = strlen(node);
		v.mv_data = (void *)node;
		return map_err(t, mdb_put(t->txn, t->st->meta, &k, &v, 0),
		    "writing the origin");
	}
	rc = mdb_del(t->txn, t->st->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : map_err(t, rc, "writing the origin");
}

/* The views' generation (issue 9) */
uint64_t
store_txn_generation(struct store_txn *t)
{
	return (uint64_t)mdb_txn_id(t->txn);
}

int
store_foreach_from(struct store_txn *t, enum store_db db, const char *from,
    store_iter_fn fn, void *arg)
{
	char name[STORE_NAME_MAX + 1];
	struct store_rec rec;
	MDB_cursor *c;
	MDB_val k = { strlen(from), (void *)from }, v;
	int rc, op = *from ? MDB_SET_RANGE : MDB_FIRST, ret = 0;

	if ((unsigned)db >= STORE_NDBS || k.mv_size > STORE_NAME_MAX)
		return -EINVAL;
	rc = mdb_cursor_open(t->txn, t->st->dbs[db], &c);
	if (rc != 0)
		return map_err(t, rc, "listing");
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size > STORE_NAME_MAX)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		ret = decode(t, &v, &rec);
		if (ret == 0)
			ret = fn(name, &rec, arg);
		if (ret != 0)
			break;
	}
	mdb_cursor_close(c);
	if (ret != 0)
		return ret;
	return rc == MDB_NOTFOUND ? 0 : map_err(t, rc, "listing");
}

/* The mapping of /proc/self/maps that holds p: LMDB does not tell where
 * its map is (mdb_env_info's me_mapaddr is MDB_FIXEDMAP's address). */
static int
mapping_of(const void *p, uintptr_t *lo, uintptr_t *hi)
{
	unsigned long a, b;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 &&
		    (uintptr_t)p >= a && (uintptr_t)p < b) {
			*lo = a;
			*hi = b;
			found = 1;
		}
	fclose(f);
	return found;
}

void
store_trim(struct store *st)
{
	MDB_txn *txn = NULL;
	MDB_val k = { 6, (void *)"schema" }, v;
	uintptr_t lo, hi;

	/* A value read from the map says where the map is; MADV_DONTNEED
	 * on that shared, read-only file mapping only unmaps: nothing is
	 * lost (madvise(2)).  Under the resize lock and in a read
	 * transaction, so that the map does not move meanwhile. */
	resize_rdlock(st);
	if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) == 0 &&
	    mdb_get(txn, st->meta, &k, &v) == 0 &&
	    mapping_of(v.mv_data, &lo, &hi))
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
	mdb_txn_abort(txn);
	resize_unlock(st);
}
