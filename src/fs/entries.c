/*
 * The five store directories: pinned/, rejected/, roots/, distrusted/ and
 * chains/.  They share their rules (entry.c in the library decides what a
 * change may do): what ls and stat show, what cat reads, what a closed or
 * renamed file stores, and rm and mv.  The store is used with fs->lock
 * released; staged files are looked at under it (fs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "expiry.h"
#include "fs.h"

int
entry_read(struct fs *fs, enum store_db db, const char *name,
    struct buf *out, time_t *mtime)
{
	struct tf_error err = { 0 };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, &err);
	if (rc == 0)
		rc = store_get(txn, db, name, &rec);
	if (rc == 0) {
		if (mtime != NULL)
			*mtime = (time_t)rec.mtime;
		rc = entry_render(txn, db, name, &rec, time(NULL), out);
	}
	store_txn_abort(txn);
	if (rc != 0 && rc != -ENOENT && err.msg[0])
		fs_log(LOG_ERR, "%s/%s: %s", entry_db_dir(db), name, err.msg);
	return rc;
}

/*
 * An entry's size and mtime, as stat shows them.  The size is its inspect
 * text's: from the expiry index without rendering (issue 9: ls -l of
 * 100,000 entries), rendered only when the index cannot tell (chains/,
 * whose text looks up roots/, and records stored without it).
 */
static int
entry_size(struct store_txn *txn, enum store_db db, const char *name,
    const struct store_rec *rec, time_t now, off_t *size)
{
	struct store_info info;
	struct buf b = { 0 };
	long n = -1;
	int rc;

	if (store_info_get(txn, db, name, &info) == 0)
		n = expiry_text_size(txn, db, name, rec, &info, now);
	if (n >= 0) {
		*size = (off_t)n;
		return 0;
	}
	rc = entry_render(txn, db, name, rec, now, &b);
	if (rc == 0)
		*size = (off_t)b.len;
	buf_free(&b);
	return rc;
}

/* Stats between two store_trim calls: ls -l of a large directory stats
 * every entry, and each reads its record from the map. */
#define TRIM_STATS 4096

static int
entry_stat(struct fs *fs, enum store_db db, const char *name,
    struct stat *st)
{
	static unsigned long stats;
	struct tf_error err = { 0 };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	off_t size = 0;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, &err);
	if (rc == 0)
		rc = store_get(txn, db, name, &rec);
	if (rc == 0)
		rc = entry_size(txn, db, name, &rec, time(NULL), &size);
	if (rc == 0)
		fs_file_stat(fs, st, size, (time_t)rec.mtime,
		    db != STORE_REJECTED);
	store_txn_abort(txn);
	if (__atomic_add_fetch(&stats, 1, __ATOMIC_RELAXED) % TRIM_STATS == 0)
		store_trim(fs->st);
	if (rc != 0 && rc != -ENOENT && err.msg[0])
		fs_log(LOG_ERR, "%s/%s: %s", entry_db_dir(db), name, err.msg);
	return rc;
}

int
entry_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct tf_error err = { 0 };
	struct staged *s;
	char name[256];
	int temp, found = 0;

	if (fs_key_name(n, name, sizeof(name), &temp, &err) != 0)
		return -ENOENT;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, fs_node_db(n), name);
	if (s != NULL) {
		fs_file_stat(fs, st, (off_t)s->data.len, s->mtime,
		    n->type == NODE_TOPTEMP || n->db != STORE_REJECTED);
		found = 1;
	}
	pthread_mutex_unlock(&fs->lock);
	if (found)
		return 0;
	if (temp)
		return -ENOENT;
	return fs_errno(entry_stat(fs, n->db, name, st));
}

/* A listing longer than this leaves the store's pages it read unmapped
 * (store_trim): the daemon's RSS stays its own, not the store's size.
 * (The kernel's dentries for what ls looked up have libfuse's inode
 * table behind them, about 450 bytes a name until the kernel forgets
 * them: that is libfuse's, and it is freed on FORGET.) */
#define TRIM_AFTER 4096

struct readdir_ctx {
	struct fs *fs;
	size_t n;
	struct store_txn *txn;
	enum store_db db;
	time_t now;
	void *buf;
	fuse_fill_dir_t filler;
};

/* Every name with its attributes when the index knows its size (what
 * READDIRPLUS hands the kernel, so that ls -l needs no stat per file);
 * the others are stat'ed when asked. */
static int
readdir_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct readdir_ctx *r = arg;
	struct store_info info;
	struct stat st;
	long n = -1;

	r->n++;
	if (store_info_get(r->txn, r->db, name, &info) == 0)
		n = expiry_text_size(r->txn, r->db, name, rec, &info, r->now);
	if (n < 0) {
		r->filler(r->buf, name, NULL, 0, 0);
		return 0;
	}
	memset(&st, 0, sizeof(st));
	fs_file_stat(r->fs, &st, (off_t)n, (time_t)rec->mtime,
	    r->db != STORE_REJECTED);
	/* The flag is ignored by a plain READDIR (libfuse's fill_dir). */
	r->filler(r->buf, name, &st, 0, FUSE_FILL_DIR_PLUS);
	return 0;
}

int
entry_readdir(struct fs *fs, enum store_db db, void *buf,
    fuse_fill_dir_t filler)
{
	struct readdir_ctx r = { .fs = fs, .db = db, .now = time(NULL),
	    .buf = buf, .filler = filler };
	struct tf_error err = { 0 };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	char **names = NULL;
	size_t n = 0, i;
	int rc;

	/* The staged names are copied under fs->lock, which is released
	 * before the read transaction opens: never both held. */
	rc = staged_names(fs, (int)db, &names, &n);
	if (rc == 0)
		rc = store_txn_begin(fs->st, 0, &txn, &err);
	r.txn = txn;
	if (rc == 0)
		rc = store_foreach(txn, db, readdir_cb, &r);
	/* Files being written or held under a temporary name, unless the
	 * store lists them already. */
	for (i = 0; rc == 0 && i < n; i++)
		if (names[i][0] == 't' ||
		    store_get(txn, db, names[i] + 1, &rec) != 0)
			filler(buf, names[i] + 1, NULL, 0, 0);
	store_txn_abort(txn);
	if (r.n > TRIM_AFTER)
		store_trim(fs->st);
	staged_names_free(names, n);
	if (rc != 0 && err.msg[0])
		fs_log(LOG_ERR, "listing %s/: %s", entry_db_dir(db), err.msg);
	return fs_errno(rc);
}

struct add_args {
	enum store_db db;
	const char *name;
	STACK_OF(X509) *sk;
	unsigned flags;
	struct entry_actor *who;
	struct entry_result res;
	struct tf_error err;
};

static int
add_txn(struct store_txn *txn, void *arg)
{
	struct add_args *a = arg;

	return entry_add(txn, a->db, a->name, a->sk, a->flags, a->who,
	    &a->res, &a->err);
}

/* A dry run: the same rules, in a write transaction that is never
 * committed (store_write aborts on a non-zero return). */
#define DRY_RUN 1

static int
check_txn(struct store_txn *txn, void *arg)
{
	int rc = add_txn(txn, arg);

	return rc != 0 ? rc : DRY_RUN;
}

/* Parses data and stores it (commit) or only says whether it would be
 * stored; refusals are audited when committing, logged otherwise. */
static int
add_data(struct fs *fs, const char *path, enum store_db db, const char *name,
    const char *data, size_t len, unsigned flags, int commit)
{
	struct add_args a = { .db = db, .name = name, .flags = flags };
	struct entry_actor who;
	char comm[64];
	int rc;

	fs_actor(&who, comm, sizeof(comm));
	a.who = &who;
	rc = cert_parse(data, len, fs_input_limit((int)db), &a.sk, &a.err);
	if (rc == 0)
		rc = store_write(fs->st, commit ? add_txn : check_txn, &a,
		    &a.err);
	if (rc == DRY_RUN)
		rc = 0;
	if (rc == 0 && commit && a.res.outcome == ENTRY_UNCHANGED)
		fs_log(LOG_INFO, "%s: unchanged (%s/%s holds that certificate)",
		    path, entry_db_dir(db), a.res.name);
	if (rc != 0)
		fs_add_refused(path, rc, commit, a.err.msg);
	sk_X509_pop_free(a.sk, X509_free);
	return fs_errno(rc);
}

int
entry_commit(struct fs *fs, const char *path, enum store_db db,
    const char *name, const char *data, size_t len, unsigned flags)
{
	return add_data(fs, path, db, name, data, len, flags, 1);
}

int
entry_check(struct fs *fs, const char *path, enum store_db db,
    const char *name, const char *data, size_t len, unsigned flags)
{
	return add_data(fs, path, db, name, data, len, flags, 0);
}

struct remove_args {
	enum store_db db;
	const char *name;
	struct entry_actor *who;
};

static int
remove_txn(struct store_txn *txn, void *arg)
{
	struct remove_args *a = arg;

	return entry_remove(txn, a->db, a->name, a->who);
}

int
fs_unlink(const char *path)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct remove_args a;
	struct entry_actor who;
	struct staged *s;
	struct node n;
	char name[256], comm[64];
	int rc, temp, found;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	rc = fs_may_change(fs, "remove", path);
	if (rc != 0)
		return rc;
	if (n.type == NODE_CERTSFILE ||
	    (n.type == NODE_FILE && n.file == SPECIAL_BUNDLE)) {
		fs_refuse("remove", path, EROFS, "a read-only view");
		return -EROFS;
	}
	if (n.type != NODE_ENTRY && n.type != NODE_TOPTEMP) {
		fs_refuse("remove", path, EACCES, "the top level is fixed");
		return n.type == NODE_FILE ? -EACCES : -EISDIR;
	}
	if (fs_key_name(&n, name, sizeof(name), &temp, &err) != 0)
		return -ENOENT;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, fs_node_db(&n), name);
	found = s != NULL;
	if (s != NULL && s->temp)
		staged_drop(fs, s);
	pthread_mutex_unlock(&fs->lock);
	if (temp)
		return found ? 0 : -ENOENT;
	fs_actor(&who, comm, sizeof(comm));
	a = (struct remove_args){ n.db, name, &who };
	rc = store_write(fs->st, remove_txn, &a, &err);
	if (rc != 0 && rc != -ENOENT)
		fs_refuse("remove", path, -fs_errno(rc), err.msg);
	return fs_errno(rc);
}

struct rename_args {
	const struct node *from, *to;
	const char *fname, *tname;
	int noreplace;
	struct entry_actor *who;
	struct tf_error err;
};

static int
rename_txn(struct store_txn *txn, void *arg)
{
	struct rename_args *a = arg;

	return entry_rename(txn, a->from->db, a->fname, a->to->db, a->tname,
	    a->noreplace, a->who, &a->err);
}

/* A stored entry renamed to a temporary name (an editor's backup): the
 * entry leaves the store and its text stays in memory under that name. */
static int
rename_to_temp(struct fs *fs, const char *from, const struct node *nf,
    const char *fname, const struct node *nt, const char *tname,
    struct entry_actor *who)
{
	struct remove_args a = { nf->db, fname, who };
	struct tf_error err = { 0 };
	struct buf b = { 0 };
	struct staged *s;
	int rc;

	rc = entry_read(fs, nf->db, fname, &b, NULL);
	if (rc == 0)
		rc = store_write(fs->st, remove_txn, &a, &err);
	if (rc != 0) {
		if (rc != -ENOENT)
			fs_refuse("rename", from, -fs_errno(rc), err.msg);
		buf_free(&b);
		return fs_errno(rc);
	}
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, (int)nt->db, tname);
	if (s != NULL)
		staged_drop(fs, s);
	s = staged_new(fs, (int)nt->db, tname, 1);
	if (s != NULL)
		s->data = b;
	else
		buf_free(&b);
	pthread_mutex_unlock(&fs->lock);
	return s ? 0 : -ENOMEM;
}

struct commit_args {
	const char *path;
	enum store_db db;
	const char *name;
	unsigned flags;
};

static int
commit_renamed(struct fs *fs, const void *arg, const char *data, size_t len)
{
	const struct commit_args *c = arg;

	return entry_commit(fs, c->path, c->db, c->name, data, len, c->flags);
}

/* A temporary renamed to another temporary, or over a real name (the
 * editor's or Ansible's finished file replaces the entry). */
static int
rename_from_temp(struct fs *fs, const char *to, const struct node *nf,
    const char *fname, const struct node *nt, const char *tname, int ttemp,
    unsigned int flags)
{
	struct commit_args c;
	struct staged *s, *t;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, (int)nf->db, fname);
	if (s == NULL || !s->temp) {
		rc = -ENOENT;
		goto out;
	}
	s->opens++;	/* keeps s while waiting and committing */
	staged_wait(fs, s);
	if (s->unlinked) {
		rc = -ENOENT;
	} else if (ttemp) {
		t = staged_find(fs, (int)nt->db, tname);
		if (t != NULL && t != s && (flags & RENAME_NOREPLACE))
			rc = -EEXIST;
		else {
			if (t != NULL && t != s)
				staged_drop(fs, t);
			s->db = (int)nt->db;
			snprintf(s->name, sizeof(s->name), "%s", tname);
		}
	} else {
		c = (struct commit_args){ to, nt->db, tname,
		    (flags & RENAME_NOREPLACE) ? 0 : ENTRY_REPLACE };
		rc = staged_commit_renamed(fs, s, commit_renamed, &c);
	}
	(void)staged_unref(fs, s);
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
fs_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = fs_get();
	struct rename_args a = { 0 };
	struct tf_error err = { 0 };
	struct entry_actor who;
	struct node nf, nt;
	char fname[256], tname[256], comm[64];
	int rc, ftemp, ttemp;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	rc = fs_route(from, &nf);
	if (rc == 0)
		rc = fs_route(to, &nt);
	if (rc != 0)
		return rc;
	rc = fs_may_change(fs, "rename", from);
	if (rc != 0)
		return rc;
	if (nf.type == NODE_CERTSFILE || nt.type == NODE_CERTSFILE ||
	    (nf.type == NODE_FILE && nf.file == SPECIAL_BUNDLE) ||
	    (nt.type == NODE_FILE && nt.file == SPECIAL_BUNDLE)) {
		fs_refuse("rename", from, EROFS, "a read-only view");
		return -EROFS;
	}
	if (nf.type == NODE_TOPTEMP && nt.type == NODE_FILE &&
	    special_writable(nt.file))
		return top_rename(fs, from, &nf, &nt);
	if (nf.type == NODE_ENTRY && nt.type != NODE_ENTRY)
		return -EXDEV;	/* mv(1) copies, and says why if it cannot */
	if (nf.type != NODE_ENTRY || nt.type != NODE_ENTRY) {
		fs_refuse("rename", from, EACCES, "the top level is fixed");
		return -EACCES;
	}
	if (fs_key_name(&nf, fname, sizeof(fname), &ftemp, &err))
		return -ENOENT;
	rc = fs_key_name(&nt, tname, sizeof(tname), &ttemp, &err);
	if (rc != 0) {
		fs_refuse("rename", to, -rc, err.msg);
		return rc;
	}
	if (nt.db == STORE_REJECTED && nf.db != STORE_REJECTED) {
		fs_refuse("rename", to, EACCES,
		    "rejected/ is written by TLS clients only");
		return -EACCES;
	}
	fs_actor(&who, comm, sizeof(comm));
	if (ftemp)
		return rename_from_temp(fs, to, &nf, fname, &nt, tname, ttemp,
		    flags);
	if (ttemp)
		return nf.db == nt.db ? rename_to_temp(fs, from, &nf, fname,
		    &nt, tname, &who) : -EXDEV;
	a.from = &nf;
	a.to = &nt;
	a.fname = fname;
	a.tname = tname;
	a.noreplace = (flags & RENAME_NOREPLACE) != 0;
	a.who = &who;
	rc = store_write(fs->st, rename_txn, &a, &a.err);
	if (rc != 0 && rc != -ENOENT && rc != -EXDEV)
		fs_refuse("rename", from, -fs_errno(rc), a.err.msg);
	return fs_errno(rc);
}
