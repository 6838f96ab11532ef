/*
 * Open files: what readers see (a snapshot taken at open, so a reader gets
 * a whole file or none of it) and what writers write (staged in memory and
 * parsed and stored when the process that opened the file closes it;
 * nothing partial is ever stored).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "fs.h"
#include "import.h"

/*
 * An append to a pin: what the file starts with is the pin as stored, so
 * only what is appended needs judging, and it is judged as it arrives
 * (early.c), so that `printf ... >> pinned/H' hears of bad data at its
 * write (bash ignores the close of its redirections).
 */
static void
append_from_end(struct fs *fs, struct staged *s)
{
	size_t i, lines = 0;

	pthread_mutex_lock(&fs->lock);
	if (s != NULL && s->defer && !s->written && s->checked == 0) {
		for (i = 0; i < s->data.len; i++)
			lines += s->data.data[i] == '\n';
		s->checked = s->data.len;
		s->checked_lines = lines;
		s->defer = 0;
		s->append_from = s->data.len;
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Opens a writer on a staged file, creating it from `init' if needed. */
static int
open_writer(struct fs *fs, const struct node *n, const char *name, int temp,
    int trunc, int must_exist, struct fuse_file_info *fi)
{
	struct buf init = { 0 };
	struct staged *s;
	int rc = 0, db = fs_node_db(n), replace = 0;

	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, db, name);
	pthread_mutex_unlock(&fs->lock);
	/* The store is read with fs->lock released (fs.h). */
	if (s == NULL && must_exist && !trunc) {
		if (temp)
			return -ENOENT;
		rc = n->type == NODE_FILE ? special_render(fs, n->file, &init) :
		    entry_read(fs, n->db, name, &init, NULL);
		if (rc != 0)
			goto out;
		/* O_APPEND to a pin (cat rejected/H >> pinned/H): the file
		 * starts as what is pinned, and what the close stores, those
		 * certificates and the appended ones, replaces the pin
		 * (issue 14). */
		replace = n->type == NODE_ENTRY && n->db == STORE_PINNED &&
		    (fi->flags & O_APPEND) != 0;
	} else if (s == NULL && must_exist && !temp && n->type == NODE_ENTRY) {
		rc = entry_read(fs, n->db, name, &init, NULL);
		if (rc != 0)
			goto out;
		buf_reset(&init);
		/* O_TRUNC over a stored entry by a caller with rights (cp,
		 * cp -f, cat >): what the close stores replaces it. */
		replace = 1;
	}
	rc = staged_open(fs, db, name, temp, trunc, must_exist, replace,
	    &init, fi);
	if (rc == 0 && replace && !trunc)
		append_from_end(fs, handle_of(fi)->stg);
out:
	buf_free(&init);
	return rc;
}

/* bundle.pem and certs/HASH.N: a reference to the views snapshot. */
static int
open_view(struct fs *fs, const struct node *n, struct fuse_file_info *fi)
{
	const struct certs_ent *e = NULL;
	struct snapshot *snap;
	struct handle *h;
	int rc;

	rc = views_get(fs, &snap);
	if (rc != 0)
		return rc;
	if (n->type == NODE_CERTSFILE) {
		e = views_find(snap, n->name);
		if (e == NULL) {
			views_put(fs, snap);
			return -ENOENT;
		}
	}
	rc = handle_new(fs, fi, &h);
	if (rc != 0) {
		views_put(fs, snap);
		return rc;
	}
	h->snap = snap;
	h->data = snap->bundle.data + (e != NULL ? e->off : 0);
	h->len = e != NULL ? e->len : snap->bundle.len;
	/* Read through, never from the page cache: the kernel keeps one
	 * cache per file, so a reader that opened bundle.pem before a change
	 * could read pages cached for a reader that opened it after (or the
	 * other way), and get neither version whole.  Each open reads its
	 * own snapshot, whole. */
	fi->direct_io = 1;
	return 0;
}

/* A reader of an entry or a top-level file: its text, rendered now. */
static int
render_node(struct fs *fs, const void *arg, const char *name,
    struct buf *out)
{
	const struct node *n = arg;

	return n->type == NODE_FILE ? special_render(fs, n->file, out) :
	    entry_read(fs, n->db, name, out, NULL);
}

static int
open_reader(struct fs *fs, const struct node *n, const char *name, int temp,
    struct fuse_file_info *fi)
{
	return staged_open_reader(fs, fs_node_db(n), name, temp,
	    n->type == NODE_ENTRY || n->type == NODE_TOPTEMP, render_node, n,
	    fi);
}

int
fs_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct node n;
	char name[256];
	int rc, temp, wr = (fi->flags & O_ACCMODE) != O_RDONLY;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	if (n.type == NODE_TOP || n.type == NODE_DBDIR ||
	    n.type == NODE_CERTSDIR)
		return -EISDIR;
	if (wr) {
		rc = fs_may_change(fs, "write", path);
		if (rc != 0)
			return rc;
	}
	if (wr && (n.type == NODE_CERTSFILE || (n.type == NODE_FILE &&
	    !special_writable(n.file)))) {
		fs_refuse("write", path, EROFS, "a read-only file");
		return -EROFS;
	}
	if (n.type == NODE_CERTSFILE ||
	    (n.type == NODE_FILE && n.file == SPECIAL_BUNDLE))
		return open_view(fs, &n, fi);
	if (n.type == NODE_ENTRY && wr && n.db == STORE_REJECTED) {
		fs_refuse("write", path, EACCES,
		    "rejected/ is written by TLS clients only");
		return -EACCES;
	}
	if (fs_key_name(&n, name, sizeof(name), &temp, &err) != 0)
		return -ENOENT;
	if (wr)
		return open_writer(fs, &n, name, temp,
		    (fi->flags & O_TRUNC) != 0 || (n.type == NODE_FILE &&
		    n.file == SPECIAL_IMPORT), 1, fi);
	return open_reader(fs, &n, name, temp, fi);
}

int
fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct node n;
	char name[256];
	int rc, temp;

	rc = fs_route(path, &n);
	if (rc == -ENOENT && strncmp(path, "/certs/", 7) != 0 &&
	    strchr(path + 1, '/') == NULL) {
		rc = fs_may_change(fs, "create", path);
		if (rc == 0) {
			fs_refuse("create", path, EACCES, "the top level is fixed");
			rc = -EACCES;
		}
		return rc;
	}
	if (rc != 0)
		return rc;
	rc = fs_may_change(fs, "create", path);
	if (rc != 0)
		return rc;
	if (n.type == NODE_CERTSFILE || n.type == NODE_CERTSDIR ||
	    (n.type == NODE_FILE && !special_writable(n.file))) {
		fs_refuse("create", path, EROFS, "a read-only view");
		return -EROFS;
	}
	if (n.type != NODE_ENTRY && n.type != NODE_FILE &&
	    n.type != NODE_TOPTEMP)
		return -EISDIR;
	if (n.type == NODE_ENTRY && n.db == STORE_REJECTED) {
		fs_refuse("create", path, EACCES,
		    "rejected/ is written by TLS clients only");
		return -EACCES;
	}
	rc = fs_key_name(&n, name, sizeof(name), &temp, &err);
	if (rc != 0) {
		fs_refuse("create", path, -rc, err.msg);
		return rc;
	}
	return open_writer(fs, &n, name, temp, 1, 0, fi);
}

int
fs_read(const char *path, char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	size_t n = 0;

	if (h->stg != NULL) {
		pthread_mutex_lock(&fs->lock);
		if ((size_t)off < h->stg->data.len) {
			n = h->stg->data.len - (size_t)off;
			if (n > size)
				n = size;
			memcpy(buf, h->stg->data.data + off, n);
		}
		pthread_mutex_unlock(&fs->lock);
		return (int)n;
	}
	if ((size_t)off >= h->len)
		return 0;
	n = h->len - (size_t)off;
	if (n > size)
		n = size;
	memcpy(buf, h->data + off, n);
	return (int)n;
}

/* The path of a staged file, for audit lines, when FUSE gives none. */
static const char *
staged_path(const struct staged *s, const char *path, char *buf,
    size_t buflen)
{
	if (path != NULL)
		return path;
	snprintf(buf, buflen, "%s%s%s", s->db >= 0 ?
	    entry_db_dir((enum store_db)s->db) : "", s->db >= 0 ? "/" : "",
	    s->name);
	return buf;
}

/*
 * Judges what has arrived so far (early.c), with fs->lock released while
 * the file is busy.  Called and returns with fs->lock held.  A refusal
 * sticks to the file until it is truncated: later writes fail and the
 * close stores nothing.
 */
static int
write_check(struct fs *fs, struct staged *s, struct tf_error *e)
{
	size_t checked = s->checked, lines = s->checked_lines;
	int rc, kind = early_kind(s->db, s->name, s->temp);

	if (kind == EARLY_NONE || s->defer || checked >= s->data.len)
		return 0;
	s->busy = 1;
	pthread_mutex_unlock(&fs->lock);
	rc = early_check(kind, s->db, s->data.data, s->data.len, &checked,
	    &lines, e);
	pthread_mutex_lock(&fs->lock);
	s->checked = checked;
	s->checked_lines = lines;
	if (rc != 0)
		s->refused = rc;
	staged_done(fs, s);
	return rc;
}

int
fs_write(const char *path, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	struct staged *s = h->stg;
	struct tf_error err = { 0 };
	size_t end = (size_t)off + size;
	char why[128], where[300];
	int rc = 0, refused = 0, is_import = 0;

	if (s == NULL)
		return -EBADF;
	if (end > fs_input_limit(s->db)) {
		snprintf(why, sizeof(why), "input over the %zu-byte limit",
		    fs_input_limit(s->db));
		fs_refuse("write", path, EFBIG, why);
		pthread_mutex_lock(&fs->lock);
		staged_wait(fs, s);
		s->too_big = 1;
		pthread_mutex_unlock(&fs->lock);
		return -EFBIG;
	}
	pthread_mutex_lock(&fs->lock);
	staged_wait(fs, s);
	if (s->refused) {
		/* Told and audited at the write that was refused. */
		rc = s->refused;
		goto out;
	}
	/* O_APPEND writes at the end of what this file holds, whatever
	 * size the kernel last saw (a pin's text changes with each
	 * handshake that is counted). */
	if ((fi->flags & O_APPEND) && s->db == STORE_PINNED) {
		off = (off_t)s->data.len;
		end = s->data.len + size;
		if (end > fs_input_limit(s->db)) {
			s->too_big = 1;
			rc = -EFBIG;
			goto out;
		}
	}
	/* Anywhere but at the end: only the close can judge the result. */
	if ((size_t)off != s->data.len)
		s->defer = 1;
	if (end > s->data.len)
		rc = staged_resize(s, end);
	if (rc == 0) {
		memcpy(s->data.data + off, buf, size);
		s->dirty = 1;
		s->written = 1;
		s->mtime = time(NULL);
		rc = write_check(fs, s, &err);
		refused = rc != 0;
		if (refused) {
			path = staged_path(s, path, where, sizeof(where));
			is_import = s->db < 0 && strcmp(s->name, "import") == 0;
		}
	}
out:
	pthread_mutex_unlock(&fs->lock);
	if (refused) {
		fs_refuse("write", path, -rc, err.msg);
		/* `cat import' says why, as after a refusal at close. */
		if (is_import)
			(void)import_report_refused(fs->st, err.msg, NULL);
	}
	return rc != 0 ? rc : (int)size;
}

/* What a close does with a staged file's data; runs with fs->lock
 * released while the file is busy.  The opener's close commits; any
 * other close only checks (commit == 0). */
static int
commit_data(struct fs *fs, const char *path, int db, const char *name,
    int temp, int commit, unsigned flags, const char *data, size_t len)
{
	struct tf_error err = { 0 };
	STACK_OF(X509) *sk = NULL;
	enum special_file f = SPECIAL_IMPORT;
	int rc;

	if (db < 0) {
		(void)special_lookup(name, &f);
		return commit ? special_commit(fs, f, data, len) :
		    special_check(fs, f, data, len);
	}
	if (!temp)
		return commit ? entry_commit(fs, path, (enum store_db)db, name,
		    data, len, flags) : entry_check(fs, path, (enum store_db)db,
		    name, data, len, flags);
	/* A temporary is checked now so that the writer hears of bad data;
	 * it is stored only when renamed over a real name. */
	rc = cert_parse(data, len, fs_input_limit(db), &sk, &err);
	if (rc != 0 && commit)
		fs_refuse("write", path, -rc, err.msg);
	sk_X509_pop_free(sk, X509_free);
	return fs_errno(rc);
}

struct close_args {
	const char *path;
	int db, temp, commit;
	unsigned flags;
	char name[256];
	size_t append_from;	/* s->append_from */
};

/*
 * An append to a pin: what was appended must be certificate input on its
 * own (PEM, DER or PKCS#7), so that `cat new.der >> pinned/H' adds the
 * certificate instead of being taken for text around the pin's PEM, and
 * an append that holds no certificate is refused instead of changing
 * nothing.  The pin's text and the appended certificates, as PEM, are
 * then stored as any other write of the pin.
 */
static int
append_data(struct fs *fs, const struct close_args *c, const char *data,
    size_t len)
{
	struct tf_error err = { 0 };
	STACK_OF(X509) *sk = NULL;
	struct buf b = { 0 };
	int rc, i;

	rc = cert_parse(data + c->append_from, len - c->append_from,
	    fs_input_limit(c->db), &sk, &err);
	if (rc != 0) {
		fs_add_refused(c->path, rc, c->commit, err.msg[0] ? err.msg :
		    "what was appended holds no certificate");
		return fs_errno(rc);
	}
	rc = buf_append(&b, data, c->append_from);
	for (i = 0; rc == 0 && i < sk_X509_num(sk); i++)
		rc = cert_pem(&b, sk_X509_value(sk, i));
	if (rc == 0)
		rc = commit_data(fs, c->path, c->db, c->name, c->temp,
		    c->commit, c->flags, b.data, b.len);
	else
		rc = fs_errno(rc);
	buf_free(&b);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int
close_data(struct fs *fs, const void *arg, const char *data, size_t len)
{
	const struct close_args *c = arg;

	if (c->append_from > 0 && c->append_from <= len && !c->temp &&
	    c->db == STORE_PINNED)
		return append_data(fs, c, data, len);
	return commit_data(fs, c->path, c->db, c->name, c->temp, c->commit,
	    c->flags, data, len);
}

/* commit_data for s, marked busy and with fs->lock released meanwhile;
 * called and returns with fs->lock held.  A commit's result is told to
 * every later close. */
static int
commit_staged(struct fs *fs, const char *path, struct staged *s, int commit)
{
	struct close_args c = { path, s->db, s->temp, commit,
	    s->replace ? ENTRY_REPLACE : 0, "", s->append_from };
	int rc;

	snprintf(c.name, sizeof(c.name), "%s", s->name);
	rc = staged_run(fs, s, close_data, &c);
	if (commit)
		s->error = rc;
	return rc;
}

/*
 * Only the process that opened the file commits it (issue 8, defect 11):
 * a forked child closing its copy of the descriptor must not store what
 * has been written so far.  Such a close (a shell's child that wrote the
 * redirected output: dash opens the file itself, then runs cat) is told
 * whether what it wrote would be accepted, so that cat(1) still reports
 * bad data; the shell's own close commits.
 */
static int
flush_other(struct fs *fs, const char *path, struct staged *s)
{
	if (!s->dirty || !s->written || s->unlinked || s->db == STAGED_TOP)
		return 0;
	if (s->too_big)
		return -EFBIG;
	if (s->refused)
		return s->refused;
	return commit_staged(fs, path, s, 0);
}

int
fs_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	struct staged *s = h->stg;
	char where[300];
	int rc = 0, owner;

	if (s == NULL)
		return 0;
	owner = fs_caller_tgid() == h->owner;
	pthread_mutex_lock(&fs->lock);
	staged_wait(fs, s);
	path = staged_path(s, path, where, sizeof(where));
	if (!owner) {
		rc = flush_other(fs, path, s);
		goto out;
	}
	/* A failure is told to every close of the file, not only the first
	 * (touch(1) closes a dup first and checks only the last close). */
	if (!s->dirty || s->unlinked) {
		rc = s->unlinked ? 0 : s->error;
		goto out;
	}
	/* A top-level temporary is checked when renamed over its target. */
	if (s->db == STAGED_TOP) {
		s->dirty = 0;
		goto out;
	}
	/*
	 * A flush that carries no data is not a change and not a refusal:
	 * a shell's redirection closes a dup of the new, still empty file
	 * before the data comes (issue 10), and that close must neither save
	 * an empty policy nor write "empty input" to audit.log.  The file
	 * stays dirty, so what is written next is stored by the next close.
	 * An entry that is still empty tells its closer so (touch(1) checks
	 * its last close): EINVAL, without an audit line.
	 */
	if (!s->written && (s->db < 0 || s->data.len == 0)) {
		rc = s->db >= 0 && !s->temp ? -EINVAL : 0;
		goto out;
	}
	s->dirty = 0;
	s->written = 0;
	if (s->too_big) {
		/* The writer was told at write(); the close says it again. */
		rc = s->error = -EFBIG;
		goto out;
	}
	if (s->refused) {
		/* Told and audited at the write() that was refused; nothing
		 * is stored. */
		rc = s->error = s->refused;
		goto out;
	}
	/* Nothing to check yet: mkstemp(3) and close, as Ansible does
	 * before it copies. */
	if (s->temp && s->data.len == 0) {
		s->error = 0;
		goto out;
	}
	rc = commit_staged(fs, path, s, 1);
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
fs_release(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	char where[300];
	int lost = 0;

	if (h->stg != NULL) {
		pthread_mutex_lock(&fs->lock);
		(void)staged_path(h->stg, NULL, where, sizeof(where));
		lost = staged_unref(fs, h->stg);
		h->stg = NULL;
		pthread_mutex_unlock(&fs->lock);
	}
	if (lost)
		fs_audit_note("discard", where, "written after the process "
		    "that opened it closed it: not stored");
	handle_free(fs, h);
	return 0;
}

int
fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct tf_error err = { 0 };
	struct staged *s = NULL;
	struct node n;
	char name[256];
	int rc, temp;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	/* Rights before anything else, the size limit included. */
	rc = fs_may_change(fs, "truncate", path);
	if (rc != 0)
		return rc;
	if (n.type == NODE_CERTSFILE ||
	    (n.type == NODE_FILE && !special_writable(n.file))) {
		fs_refuse("truncate", path, EROFS, "a read-only file");
		return -EROFS;
	}
	if (n.type != NODE_ENTRY && n.type != NODE_FILE &&
	    n.type != NODE_TOPTEMP)
		return -EISDIR;
	if ((size_t)size > fs_input_limit(fs_node_db(&n))) {
		fs_refuse("truncate", path, EFBIG, "over the size limit");
		return -EFBIG;
	}
	pthread_mutex_lock(&fs->lock);
	if (h != NULL && h->stg != NULL)
		s = h->stg;
	else if (fs_key_name(&n, name, sizeof(name), &temp, &err) == 0)
		s = staged_find(fs, fs_node_db(&n), name);
	if (s != NULL) {
		s->opens++;	/* keeps s while waiting */
		staged_wait(fs, s);
		rc = staged_resize(s, (size_t)size);
		/* Cut: judged whole at the close, not as an append. */
		s->append_from = 0;
		/* Cut to nothing: a fresh start, judged as it comes again;
		 * any other size is judged at the close. */
		if (rc == 0 && size == 0) {
			s->refused = 0;
			s->too_big = 0;
			s->defer = 0;
			s->checked = s->checked_lines = 0;
		} else if (rc == 0)
			s->defer = 1;
		(void)staged_unref(fs, s);
	}
	pthread_mutex_unlock(&fs->lock);
	if (s != NULL || n.type == NODE_FILE)
		return rc;
	/* A stored certificate cannot be cut short: open it with O_TRUNC
	 * and write a whole one. */
	return -EINVAL;
}
