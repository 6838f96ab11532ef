/*
 * MOUNT/crls/: `cp ca.crl crls/Lab.crl' stores a CRL when the file is
 * closed, `cat' shows what it says, `rm' removes it.  The rules are those
 * of the other directories (DESIGN section 2): parsed at close, nothing
 * partial stored, EINVAL with an audit line for what is refused, editors'
 * temporary names kept in memory until renamed.  Locks as fs.h says:
 * fs->lock for the staged bookkeeping only, never while parsing or in a
 * transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crl.h"
#include "crls.h"
#include "names.h"

int
crls_path(const char *path)
{
	return path != NULL && strncmp(path, "/crls", 5) == 0 &&
	    (path[5] == '\0' || path[5] == '/');
}

int
crls_handle(struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	int yes;

	pthread_mutex_lock(&fs->lock);
	yes = h != NULL && h->stg != NULL && h->stg->db == STAGED_CRLS;
	pthread_mutex_unlock(&fs->lock);
	return yes;
}

/* The file name of a crls/ path; NULL for the directory itself, and for
 * anything deeper (*bad set). */
static const char *
crls_name(const char *path, int *bad)
{
	const char *n = path + 5;

	*bad = 0;
	if (*n == '\0')
		return NULL;
	n++;
	if (*n == '\0' || strchr(n, '/') != NULL)
		*bad = 1;
	return n;
}

/* The name a crls/ file is kept under: LABEL.crl, or a temporary. */
static int
key_name(const char *name, int *temp, struct tf_error *e)
{
	int rc = name_check_file(name);

	*temp = 0;
	if (rc != 0)
		return tf_error_setx(e, rc, "'%s' is not a valid file name",
		    name);
	if (name_is_temporary(name)) {
		*temp = 1;
		return 0;
	}
	return crl_name_check(name, e);
}

/* The inspect text of a stored CRL: 0, -ENOENT, or an errno. */
static int
crl_read(struct fs *fs, const char *name, struct buf *out, time_t *mtime)
{
	struct store_txn *txn = NULL;
	X509_CRL *crl = NULL;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = crl_load(txn, name, &crl, mtime);
	store_txn_abort(txn);
	if (rc == 0)
		rc = crl_render(crl, time(NULL), out);
	X509_CRL_free(crl);
	return rc;
}

/*
 * The file of crls/ that a change (`action') names, in the order of the
 * refusals (trustfs(8)): ENOENT below a file, then fs_may_change's, then
 * EISDIR for crls/ itself, audited with dirwhy when that is not NULL.
 */
static int
change_name(struct fs *fs, const char *action, const char *path,
    const char *dirwhy, const char **name)
{
	int rc, bad;

	*name = crls_name(path, &bad);
	if (bad)
		return -ENOENT;
	rc = fs_may_change(fs, action, path);
	if (rc != 0)
		return rc;
	if (*name == NULL) {
		if (dirwhy != NULL)
			fs_refuse(action, path, EACCES, dirwhy);
		return -EISDIR;
	}
	return 0;
}

int
crls_getattr(const char *path, struct stat *st)
{
	struct fs *fs = fs_get();
	struct buf b = { 0 };
	struct staged *s;
	const char *name;
	time_t mtime = 0;
	off_t size = 0;
	int rc, bad, found = 0;

	name = crls_name(path, &bad);
	if (bad)
		return -ENOENT;
	if (name == NULL) {
		struct store_txn *txn;

		if (store_txn_begin(fs->st, 0, &txn, NULL) == 0) {
			mtime = entry_last_change(txn);
			store_txn_abort(txn);
		}
		fs_dir_stat(fs, st, 1, mtime);
		return 0;
	}
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_CRLS, name);
	if (s != NULL) {
		found = 1;
		size = (off_t)s->data.len;
		mtime = s->mtime;
	}
	pthread_mutex_unlock(&fs->lock);
	if (!found) {
		rc = crl_read(fs, name, &b, &mtime);
		size = (off_t)b.len;
		buf_free(&b);
		if (rc != 0)
			return fs_errno(rc);
	}
	fs_file_stat(fs, st, size, mtime, 1);
	return 0;
}

struct list_ctx {
	void *buf;
	fuse_fill_dir_t filler;
	char **staged;
	size_t nstaged;
};

static int
list_cb(const char *name, const struct store_crl *c, void *arg)
{
	struct list_ctx *l = arg;
	size_t i;

	(void)c;
	for (i = 0; i < l->nstaged; i++)
		if (strcmp(l->staged[i], name) == 0)
			return 0;	/* listed once, below */
	l->filler(l->buf, name, NULL, 0, 0);
	return 0;
}

int
crls_readdir(const char *path, void *buf, fuse_fill_dir_t filler)
{
	struct fs *fs = fs_get();
	struct list_ctx l = { .buf = buf, .filler = filler };
	struct store_txn *txn = NULL;
	size_t i;
	int rc, bad;

	if (crls_name(path, &bad) != NULL || bad)
		return -ENOTDIR;
	/* Staged names first, copied under fs->lock; then the store with
	 * the lock released (fs.h). */
	rc = staged_names(fs, STAGED_CRLS, &l.staged, &l.nstaged);
	if (rc != 0)
		return fs_errno(rc);
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	for (i = 0; i < l.nstaged; i++)
		filler(buf, l.staged[i], NULL, 0, 0);
	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = store_crl_foreach(txn, list_cb, &l);
	store_txn_abort(txn);
	staged_names_free(l.staged, l.nstaged);
	return fs_errno(rc);
}

/* A writer on crls/NAME, as io.c's open_writer does for entries. */
static int
open_writer(struct fs *fs, const char *name, int temp, int trunc,
    int must_exist, struct fuse_file_info *fi)
{
	struct buf init = { 0 };
	struct staged *s;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_CRLS, name);
	pthread_mutex_unlock(&fs->lock);
	if (s == NULL && must_exist) {
		if (temp)
			return -ENOENT;
		rc = crl_read(fs, name, &init, NULL);
		if (rc != 0)
			goto out;
		if (trunc)
			buf_reset(&init);
	}
	rc = staged_open(fs, STAGED_CRLS, name, temp, trunc, must_exist, 0,
	    &init, fi);
out:
	buf_free(&init);
	return fs_errno(rc);
}

static int
render_crl(struct fs *fs, const void *arg, const char *name, struct buf *out)
{
	(void)arg;
	return crl_read(fs, name, out, NULL);
}

int
crls_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	const char *name;
	int rc, bad, temp, wr = (fi->flags & O_ACCMODE) != O_RDONLY;

	name = crls_name(path, &bad);
	if (bad)
		return -ENOENT;
	if (name == NULL)
		return -EISDIR;
	if (key_name(name, &temp, &err) != 0)
		return -ENOENT;
	if (!wr)
		return staged_open_reader(fs, STAGED_CRLS, name, temp, 1,
		    render_crl, NULL, fi);
	rc = fs_may_change(fs, "write", path);
	if (rc != 0)
		return rc;
	return open_writer(fs, name, temp, (fi->flags & O_TRUNC) != 0, 1, fi);
}

int
crls_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	const char *name;
	int rc, temp;

	(void)mode;
	rc = change_name(fs, "create", path, NULL, &name);
	if (rc != 0)
		return rc;
	rc = key_name(name, &temp, &err);
	if (rc != 0) {
		fs_refuse("create", path, -rc, err.msg);
		return rc;
	}
	return open_writer(fs, name, temp, 1, 0, fi);
}

struct add_args {
	const char *name;
	X509_CRL *crl;
	struct entry_actor *who;
	enum crl_outcome outcome;
	struct tf_error err;
};

static int
add_txn(struct store_txn *txn, void *arg)
{
	struct add_args *a = arg;

	return crl_store(txn, a->name, a->crl, a->who, &a->outcome, &a->err);
}

/* Refuses whatever add_txn would, without writing: the check of a close
 * that does not commit. */
static int
check_txn(struct store_txn *txn, void *arg)
{
	struct add_args *a = arg;
	char where[300];

	return crl_find_issuer(txn, a->crl, NULL, where, sizeof(where),
	    &a->err);
}

/*
 * Parses what was written to crls/NAME and stores it (commit) or only
 * says whether it would be stored.  Refusals are audited when committing.
 */
static int
crl_commit(struct fs *fs, const char *path, const char *name, int temp,
    int commit, const char *data, size_t len)
{
	struct add_args a = { .name = name };
	struct store_txn *txn = NULL;
	struct entry_actor who;
	char comm[64];
	int rc;

	fs_actor(&who, comm, sizeof(comm));
	a.who = &who;
	rc = crl_parse(data, len, CRL_INPUT_MAX, &a.crl, &a.err);
	if (rc == 0 && (temp || !commit)) {
		rc = store_txn_begin(fs->st, 0, &txn, &a.err);
		if (rc == 0)
			rc = check_txn(txn, &a);
		store_txn_abort(txn);
	} else if (rc == 0)
		rc = store_write(fs->st, add_txn, &a, &a.err);
	if (rc == 0 && commit && !temp && a.outcome == CRL_UNCHANGED)
		fs_log(LOG_INFO, "%s: unchanged (the same CRL)", path);
	if (rc != 0)
		fs_add_refused(path, rc, commit, a.err.msg);
	X509_CRL_free(a.crl);
	return fs_errno(rc);
}

struct close_args {
	const char *path;
	int temp, commit;
	char name[256];
};

static int
close_data(struct fs *fs, const void *arg, const char *data, size_t len)
{
	const struct close_args *c = arg;

	return crl_commit(fs, c->path, c->name, c->temp, c->commit, data, len);
}

/* io.c's fs_flush for a crls/ file: only the opener's close commits
 * (issue 8, defect 11); another close hears whether it would. */
int
crls_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	struct staged *s = h->stg;
	struct close_args c;
	char where[300];
	int rc = 0, owner, commit;

	owner = fs_caller_tgid() == h->owner;
	pthread_mutex_lock(&fs->lock);
	staged_wait(fs, s);
	if (path == NULL) {
		snprintf(where, sizeof(where), "crls/%s", s->name);
		path = where;
	}
	if (!owner) {
		if (!s->dirty || !s->written || s->unlinked)
			goto out;
		commit = 0;
	} else {
		if (!s->dirty || s->unlinked) {
			rc = s->unlinked ? 0 : s->error;
			goto out;
		}
		s->dirty = 0;
		s->written = 0;
		commit = 1;
	}
	if (s->too_big) {
		rc = s->error = -EFBIG;
		goto out;
	}
	if (s->temp && s->data.len == 0) {
		s->error = 0;
		goto out;
	}
	c = (struct close_args){ path, s->temp, commit, "" };
	snprintf(c.name, sizeof(c.name), "%s", s->name);
	rc = staged_run(fs, s, close_data, &c);
	if (commit)
		s->error = rc;
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
crls_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct staged *s = NULL;
	const char *name;
	int rc;

	rc = change_name(fs, "truncate", path, NULL, &name);
	if (rc != 0)
		return rc;
	if ((size_t)size > CRL_INPUT_MAX) {
		fs_refuse("truncate", path, EFBIG, "over the size limit");
		return -EFBIG;
	}
	pthread_mutex_lock(&fs->lock);
	s = h != NULL && h->stg != NULL ? h->stg : staged_find(fs,
	    STAGED_CRLS, name);
	if (s != NULL) {
		s->opens++;	/* keeps s while waiting */
		staged_wait(fs, s);
		rc = staged_resize(s, (size_t)size);
		(void)staged_unref(fs, s);
	}
	pthread_mutex_unlock(&fs->lock);
	/* A stored CRL cannot be cut short: write a whole one. */
	return s != NULL ? rc : -EINVAL;
}

struct remove_args {
	const char *name;
	struct entry_actor *who;
};

static int
remove_txn(struct store_txn *txn, void *arg)
{
	struct remove_args *a = arg;

	return crl_remove(txn, a->name, a->who);
}

int
crls_unlink(const char *path)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct remove_args a;
	struct entry_actor who;
	struct staged *s;
	const char *name;
	char comm[64];
	int rc, temp, found;

	rc = change_name(fs, "remove", path, "the top level is fixed", &name);
	if (rc != 0)
		return rc;
	if (key_name(name, &temp, &err) != 0)
		return -ENOENT;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_CRLS, name);
	found = s != NULL;
	if (s != NULL && s->temp)
		staged_drop(fs, s);
	pthread_mutex_unlock(&fs->lock);
	if (temp)
		return found ? 0 : -ENOENT;
	fs_actor(&who, comm, sizeof(comm));
	a = (struct remove_args){ name, &who };
	rc = store_write(fs->st, remove_txn, &a, &err);
	if (rc != 0 && rc != -ENOENT)
		fs_refuse("remove", path, -fs_errno(rc), err.msg);
	return fs_errno(rc);
}

struct rename_args {
	const char *from, *to;
	int noreplace;
	struct entry_actor *who;
};

static int
rename_txn(struct store_txn *txn, void *arg)
{
	struct rename_args *a = arg;

	return crl_rename(txn, a->from, a->to, a->noreplace, a->who);
}

/* arg: the path and the name renamed to. */
static int
commit_renamed(struct fs *fs, const void *arg, const char *data, size_t len)
{
	const char *const *names = arg;

	return crl_commit(fs, names[0], names[1], 0, 1, data, len);
}

/* An editor's or Ansible's temporary renamed over LABEL.crl. */
static int
rename_from_temp(struct fs *fs, const char *to, const char *fname,
    const char *tname, int ttemp)
{
	const char *names[2] = { to, tname };
	struct staged *s;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_CRLS, fname);
	if (s == NULL || !s->temp) {
		pthread_mutex_unlock(&fs->lock);
		return -ENOENT;
	}
	s->opens++;	/* keeps s while waiting and committing */
	staged_wait(fs, s);
	if (s->unlinked)
		rc = -ENOENT;
	else if (ttemp)
		snprintf(s->name, sizeof(s->name), "%s", tname);
	else
		rc = staged_commit_renamed(fs, s, commit_renamed, names);
	(void)staged_unref(fs, s);
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
crls_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct rename_args a;
	struct entry_actor who;
	const char *fname, *tname;
	char comm[64];
	int rc, bad, fbad, ftemp, ttemp;

	/* Only within crls/: a CRL is no certificate, nor the other way;
	 * EXDEV lets mv(1) copy, and the copy is then parsed. */
	if (!crls_path(from) || !crls_path(to))
		return -EXDEV;
	fname = crls_name(from, &fbad);
	tname = crls_name(to, &bad);
	if (fbad || bad || fname == NULL)
		return -ENOENT;
	rc = fs_may_change(fs, "rename", from);
	if (rc != 0)
		return rc;
	if (tname == NULL)
		return -EISDIR;
	if (key_name(fname, &ftemp, &err) != 0)
		return -ENOENT;
	rc = key_name(tname, &ttemp, &err);
	if (rc != 0) {
		fs_refuse("rename", to, -rc, err.msg);
		return rc;
	}
	if (ftemp)
		return rename_from_temp(fs, to, fname, tname, ttemp);
	if (ttemp) {
		fs_refuse("rename", from, EINVAL, "a stored CRL keeps a "
		    "LABEL.crl name");
		return -EINVAL;
	}
	fs_actor(&who, comm, sizeof(comm));
	a = (struct rename_args){ fname, tname,
	    (flags & RENAME_NOREPLACE) != 0, &who };
	rc = store_write(fs->st, rename_txn, &a, &err);
	if (rc != 0 && rc != -ENOENT && rc != -EEXIST)
		fs_refuse("rename", from, -fs_errno(rc), err.msg);
	return fs_errno(rc);
}
