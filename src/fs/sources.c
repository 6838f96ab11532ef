/*
 * MOUNT/sources (issue 12): the URLs that `trustctl update' fetches, one
 * line per source (sources.h in the library says the format).  Edited
 * like `policy': parsed when the file is closed, refused whole with the
 * line number (EINVAL, audited) while the old text stays, saved with an
 * audit line otherwise; `sed -i' and editors write a temporary beside
 * it and rename it over.  route.c hands /sources here; reads, writes and
 * releases of its open files stay with io.c.  Locks as fs.h says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs.h"
#include "names.h"
#include "sources.h"

#define SOURCES_FILE "sources"

int
sources_path(const char *path)
{
	return path != NULL && strcmp(path, "/" SOURCES_FILE) == 0;
}

int
sources_handle(struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	int yes;

	pthread_mutex_lock(&fs->lock);
	yes = h != NULL && h->stg != NULL && h->stg->db == STAGED_SOURCES;
	pthread_mutex_unlock(&fs->lock);
	return yes;
}

/* The saved text (or the default's), read with fs->lock released. */
static int
sources_read(struct fs *fs, struct buf *out)
{
	struct store_txn *txn = NULL;
	char *v = NULL;
	size_t len = 0;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = sources_text(txn, &v, &len);
	store_txn_abort(txn);
	if (rc == 0)
		rc = buf_append(out, v, len);
	free(v);
	return rc;
}

int
sources_getattr(struct stat *st)
{
	struct fs *fs = fs_get();
	struct buf b = { 0 };
	int rc;

	rc = sources_read(fs, &b);
	fs_file_stat(fs, st, (off_t)b.len, time(NULL), 1);
	buf_free(&b);
	return fs_errno(rc);
}

static int
render(struct fs *fs, const void *arg, const char *name, struct buf *out)
{
	(void)arg;
	(void)name;
	return sources_read(fs, out);
}

int
sources_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct buf init = { 0 };
	struct staged *s;
	int rc, trunc = (fi->flags & O_TRUNC) != 0;

	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		return staged_open_reader(fs, STAGED_SOURCES, SOURCES_FILE, 0,
		    0, render, NULL, fi);
	rc = fs_may_change(fs, "write", path);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_SOURCES, SOURCES_FILE);
	pthread_mutex_unlock(&fs->lock);
	/* Opened to be edited in place: it starts as what is saved. */
	if (s == NULL && !trunc)
		rc = sources_read(fs, &init);
	if (rc == 0)
		rc = staged_open(fs, STAGED_SOURCES, SOURCES_FILE, 0, trunc, 1,
		    0, &init, fi);
	buf_free(&init);
	return fs_errno(rc);
}

struct save_args {
	const char *text;
	size_t len;
	struct entry_actor *who;
};

static int
save_txn(struct store_txn *txn, void *arg)
{
	struct save_args *a = arg;
	int rc;

	rc = store_meta_put(txn, SOURCES_META_KEY, a->text, a->len);
	if (rc == 0)
		rc = entry_audit(txn, a->who, "sources", SOURCES_FILE, NULL,
		    NULL);
	return rc;
}

/* Saves the text in one transaction if it parses (commit), or only says
 * whether it would (a close that does not commit: logged, not audited). */
static int
sources_commit(struct fs *fs, int commit, const char *data, size_t len)
{
	struct save_args a = { data, len, NULL };
	struct sources *s = NULL;
	struct entry_actor who;
	struct tf_error err = { 0 };
	char comm[64];
	int rc;

	rc = sources_parse(data, len, &s, &err);
	sources_free(s);
	if (rc != 0 && !commit) {
		fs_log(LOG_INFO, "sources: not saved yet, and would be "
		    "refused: %s", err.msg);
		return fs_errno(rc);
	}
	if (rc != 0) {
		fs_refuse("sources", SOURCES_FILE, -fs_errno(rc), err.msg);
		return fs_errno(rc);
	}
	if (!commit)
		return 0;
	fs_actor(&who, comm, sizeof(comm));
	a.who = &who;
	rc = store_write(fs->st, save_txn, &a, &err);
	if (rc != 0)
		fs_refuse("sources", SOURCES_FILE, -fs_errno(rc), err.msg);
	return fs_errno(rc);
}

static int
commit_fn(struct fs *fs, const void *arg, const char *data, size_t len)
{
	return sources_commit(fs, *(const int *)arg, data, len);
}

/* fs_flush's rules for a top-level file: only the opener's close commits
 * (another close hears whether it would), and a close that carries no
 * data (a shell's dup of the new, empty file) is no change. */
int
sources_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	struct staged *s = h->stg;
	int rc = 0, owner, commit;

	(void)path;
	owner = fs_caller_tgid() == h->owner;
	pthread_mutex_lock(&fs->lock);
	staged_wait(fs, s);
	if (!owner) {
		if (!s->dirty || !s->written || s->unlinked)
			goto out;
		if (s->too_big) {
			rc = -EFBIG;
			goto out;
		}
		commit = 0;
		rc = staged_run(fs, s, commit_fn, &commit);
		goto out;
	}
	if (!s->dirty || s->unlinked) {
		rc = s->unlinked ? 0 : s->error;
		goto out;
	}
	if (!s->written)
		goto out;
	s->dirty = 0;
	s->written = 0;
	if (s->too_big) {
		rc = s->error = -EFBIG;
		goto out;
	}
	commit = 1;
	rc = s->error = staged_run(fs, s, commit_fn, &commit);
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
sources_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct staged *s;
	int rc;

	rc = fs_may_change(fs, "truncate", path != NULL ? path :
	    "/" SOURCES_FILE);
	if (rc != 0)
		return rc;
	if ((size_t)size > SOURCES_TEXT_MAX) {
		fs_refuse("truncate", SOURCES_FILE, EFBIG, "over the size "
		    "limit");
		return -EFBIG;
	}
	pthread_mutex_lock(&fs->lock);
	s = h != NULL && h->stg != NULL ? h->stg : staged_find(fs,
	    STAGED_SOURCES, SOURCES_FILE);
	if (s != NULL) {
		s->opens++;	/* keeps s while waiting */
		staged_wait(fs, s);
		rc = staged_resize(s, (size_t)size);
		if (rc == 0)
			s->too_big = 0;
		(void)staged_unref(fs, s);
	}
	pthread_mutex_unlock(&fs->lock);
	/* truncate(1) without an open: the next write says what to save. */
	return rc;
}

int
sources_unlink(const char *path)
{
	struct fs *fs = fs_get();
	int rc;

	rc = fs_may_change(fs, "remove", path);
	if (rc != 0)
		return rc;
	fs_refuse("remove", path, EACCES, "the top level is fixed (write an "
	    "empty sources file instead)");
	return -EACCES;
}

static int
commit_renamed(struct fs *fs, const void *arg, const char *data, size_t len)
{
	(void)arg;
	return sources_commit(fs, 1, data, len);
}

/* A temporary at the top (sed -i, an editor, Ansible) renamed over
 * sources: saved as if it had been written there. */
int
sources_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = fs_get();
	struct staged *s;
	const char *fname = from + 1;
	int rc;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	rc = fs_may_change(fs, "rename", from);
	if (rc != 0)
		return rc;
	if (sources_path(from) && sources_path(to))
		return 0;
	if (sources_path(from) || strchr(from + 1, '/') != NULL ||
	    name_check_file(fname) != 0 || !name_is_temporary(fname)) {
		fs_refuse("rename", from, EACCES, "the top level is fixed");
		return -EACCES;
	}
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_TOP, fname);
	if (s == NULL) {
		rc = -ENOENT;
		goto out;
	}
	s->opens++;	/* keeps s while waiting and committing */
	staged_wait(fs, s);
	if (s->unlinked)
		rc = -ENOENT;
	else
		rc = staged_commit_renamed(fs, s, commit_renamed, NULL);
	(void)staged_unref(fs, s);
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* report.c's status (metrics == 0) and metrics lines of the sources, in
 * a read transaction of their own. */
int
sources_report(struct fs *fs, int metrics, struct buf *out)
{
	struct store_txn *txn = NULL;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = metrics ? sources_metrics(txn, out) :
		    sources_status(txn, out);
	store_txn_abort(txn);
	return rc;
}
