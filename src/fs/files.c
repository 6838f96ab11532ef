/*
 * Open files: what readers see (a snapshot taken at open, so a reader gets
 * a whole file or none of it) and what writers write (parsed and stored
 * when the file is closed; nothing partial is ever stored).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "fs.h"
#include "names.h"

struct handle {
	struct snapshot *snap;	/* bundle.pem, certs/HASH.N */
	const char *data;	/* what a reader reads */
	size_t len;
	struct buf own;		/* rendered content owned by this handle */
	struct staged *stg;	/* writers */
};

/* The name a path's entry is kept under: HOST_PORT or LABEL.pem, or the
 * temporary name as written. */
static int
key_name(const struct node *n, char *out, size_t outlen, int *temp,
    struct tf_error *e)
{
	int rc;

	*temp = 0;
	if (n->type == NODE_TOPTEMP) {
		*temp = 1;
		snprintf(out, outlen, "%s", n->name);
		return 0;
	}
	if (n->type == NODE_FILE) {
		snprintf(out, outlen, "%s", special_name(n->file));
		return 0;
	}
	rc = name_check_file(n->name);
	if (rc != 0)
		return tf_error_setx(e, rc, "'%s' is not a valid file name",
		    n->name);
	if (name_is_temporary(n->name)) {
		*temp = 1;
		snprintf(out, outlen, "%s", n->name);
		return 0;
	}
	return entry_name(n->db, n->name, out, outlen, e);
}

static int
node_db(const struct node *n)
{
	if (n->type == NODE_TOPTEMP)
		return STAGED_TOP;
	return n->type == NODE_FILE ? -1 : (int)n->db;
}

static struct staged *
staged_find(struct fs *fs, int db, const char *name)
{
	struct staged *s;

	for (s = fs->staged; s != NULL; s = s->next)
		if (s->db == db && !s->unlinked && strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static struct staged *
staged_new(struct fs *fs, int db, const char *name, int temp)
{
	struct staged *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->db = db;
	s->temp = temp;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->mtime = time(NULL);
	s->next = fs->staged;
	fs->staged = s;
	return s;
}

static void
staged_free(struct fs *fs, struct staged *s)
{
	struct staged **pp;

	for (pp = &fs->staged; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	buf_free(&s->data);
	free(s);
}

/* Drops a staged file now, or when its last handle closes. */
static void
staged_drop(struct fs *fs, struct staged *s)
{
	if (s->opens > 0)
		s->unlinked = 1;
	else
		staged_free(fs, s);
}

static size_t
input_limit(int db)
{
	return db < 0 ? CERT_INPUT_MAX_BUNDLE : CERT_INPUT_MAX_ONE;
}

static void
file_stat(struct fs *fs, struct stat *st, off_t size, time_t mtime,
    int writable)
{
	st->st_mode = S_IFREG | 0444;
	if (writable)
		st->st_mode |= fs->group_write ? 0664 : 0644;
	st->st_nlink = 1;
	st->st_size = size;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
}

/* Renders a stored entry into out; rec fields copied to *mtime. */
static int
render_entry(struct fs *fs, enum store_db db, const char *name,
    struct buf *out, time_t *mtime)
{
	struct store_txn *txn = NULL;
	struct store_rec rec;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = store_get(txn, db, name, &rec);
	if (rc == 0) {
		if (mtime != NULL)
			*mtime = (time_t)rec.mtime;
		rc = entry_render(txn, db, name, &rec, time(NULL), out);
	}
	store_txn_abort(txn);
	return rc;
}

int
fs_entry_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct buf b = { 0 };
	struct staged *s;
	char name[256];
	struct tf_error err = { 0 };
	time_t mtime = 0;
	int rc, temp;

	if (key_name(n, name, sizeof(name), &temp, &err) != 0)
		return -ENOENT;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, node_db(n), name);
	if (s != NULL)
		file_stat(fs, st, (off_t)s->data.len, s->mtime,
		    n->type == NODE_TOPTEMP || n->db != STORE_REJECTED);
	pthread_mutex_unlock(&fs->lock);
	if (s != NULL)
		return 0;
	if (temp)
		return -ENOENT;
	rc = render_entry(fs, n->db, name, &b, &mtime);
	if (rc == 0)
		file_stat(fs, st, (off_t)b.len, mtime, n->db != STORE_REJECTED);
	buf_free(&b);
	return fs_errno(rc);
}

struct readdir_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static int
readdir_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct readdir_ctx *r = arg;

	r->filler(r->buf, name, NULL, 0, 0);
	return 0;
}

int
fs_entry_readdir(struct fs *fs, enum store_db db, void *buf,
    fuse_fill_dir_t filler)
{
	struct readdir_ctx r = { buf, filler };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	struct staged *s;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = store_foreach(txn, db, readdir_cb, &r);
	/* Files being written or held under a temporary name. */
	pthread_mutex_lock(&fs->lock);
	for (s = fs->staged; rc == 0 && s != NULL; s = s->next)
		if (s->db == (int)db && !s->unlinked &&
		    (s->temp || store_get(txn, db, s->name, &rec) != 0))
			filler(buf, s->name, NULL, 0, 0);
	pthread_mutex_unlock(&fs->lock);
	store_txn_abort(txn);
	return fs_errno(rc);
}

void
fs_top_readdir(struct fs *fs, void *buf, fuse_fill_dir_t filler)
{
	struct staged *s;

	pthread_mutex_lock(&fs->lock);
	for (s = fs->staged; s != NULL; s = s->next)
		if (s->db == STAGED_TOP && !s->unlinked)
			filler(buf, s->name, NULL, 0, 0);
	pthread_mutex_unlock(&fs->lock);
}

static int
handle_new(struct fuse_file_info *fi, struct handle **out)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return -ENOMEM;
	fi->fh = (uint64_t)(uintptr_t)h;
	*out = h;
	return 0;
}

static struct handle *
handle_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* Opens a writer on a staged file, creating it from `init' if needed. */
static int
open_writer(struct fs *fs, const struct node *n, const char *name, int temp,
    int trunc, int must_exist, struct fuse_file_info *fi)
{
	struct buf init = { 0 };
	struct staged *s;
	struct handle *h;
	int rc = 0, db = node_db(n);

	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, db, name);
	pthread_mutex_unlock(&fs->lock);
	if (s == NULL && must_exist && !trunc) {
		if (temp)
			return -ENOENT;
		rc = n->type == NODE_FILE ? special_render(fs, n->file, &init) :
		    render_entry(fs, n->db, name, &init, NULL);
		if (rc != 0)
			goto out;
	} else if (s == NULL && must_exist && !temp && n->type == NODE_ENTRY) {
		rc = render_entry(fs, n->db, name, &init, NULL);
		if (rc != 0)
			goto out;
		buf_reset(&init);
	}
	rc = handle_new(fi, &h);
	if (rc != 0)
		goto out;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, db, name);
	if (s == NULL) {
		s = staged_new(fs, db, name, temp);
		if (s == NULL) {
			pthread_mutex_unlock(&fs->lock);
			free(h);
			rc = -ENOMEM;
			goto out;
		}
		s->data = init;
		memset(&init, 0, sizeof(init));
		s->dirty = trunc || !must_exist;
	} else if (trunc) {
		buf_reset(&s->data);
		s->dirty = 1;
		s->too_big = 0;
		s->mtime = time(NULL);
	}
	s->opens++;
	h->stg = s;
	pthread_mutex_unlock(&fs->lock);
	fi->direct_io = 1;
out:
	buf_free(&init);
	return rc;
}

/*
 * Who may change the trust store (DESIGN section 7): root, the user the
 * daemon runs as, and members of --group.  Checked here rather than by the
 * kernel (default_permissions) so that every refusal reaches audit.log.
 */
static int
in_group(struct fs *fs)
{
	struct fuse_context *c = fuse_get_context();
	gid_t groups[256];
	int i, n;

	if (c->gid == fs->gid)
		return 1;
	n = fuse_getgroups(256, groups);
	for (i = 0; i < n && i < 256; i++)
		if (groups[i] == fs->gid)
			return 1;
	return 0;
}

static int
may_change(struct fs *fs, const char *action, const char *path)
{
	struct fuse_context *c = fuse_get_context();

	if (fs->store_flags & STORE_RDONLY) {
		fs_refuse(action, path, EROFS, "mounted read-only");
		return -EROFS;
	}
	if (c->uid == 0 || c->uid == fs->uid ||
	    (fs->group_write && in_group(fs)))
		return 0;
	fs_refuse(action, path, EACCES, fs->group_write ?
	    "only root and the trust group may change the trust store" :
	    "only root may change the trust store");
	return -EACCES;
}

int
fs_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	const struct certs_ent *e = NULL;
	struct staged *s;
	struct handle *h;
	struct node n;
	char name[256];
	struct tf_error err = { 0 };
	int rc, temp, wr = (fi->flags & O_ACCMODE) != O_RDONLY;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	if (n.type == NODE_TOP || n.type == NODE_DBDIR ||
	    n.type == NODE_CERTSDIR)
		return -EISDIR;
	if (n.type == NODE_CERTSFILE ||
	    (n.type == NODE_FILE && n.file == SPECIAL_BUNDLE)) {
		struct snapshot *snap;

		if (wr) {
			fs_refuse("write", path, EROFS, "a read-only view");
			return -EROFS;
		}
		snap = views_get(fs);
		if (snap == NULL)
			return -EIO;
		if (n.type == NODE_CERTSFILE) {
			e = views_find(snap, n.name);
			if (e == NULL) {
				views_put(fs, snap);
				return -ENOENT;
			}
		}
		rc = handle_new(fi, &h);
		if (rc != 0) {
			views_put(fs, snap);
			return rc;
		}
		h->snap = snap;
		if (n.type == NODE_CERTSFILE) {
			h->data = snap->bundle.data + e->off;
			h->len = e->len;
		} else {
			h->data = snap->bundle.data;
			h->len = snap->bundle.len;
		}
		/* The kernel may keep its cached pages while the store has
		 * not changed since the last open (keep_cache). */
		pthread_mutex_lock(&fs->lock);
		fi->keep_cache = fs->bundle_open_gen == snap->gen;
		fs->bundle_open_gen = snap->gen;
		pthread_mutex_unlock(&fs->lock);
		return 0;
	}
	if (n.type == NODE_FILE && wr && !special_writable(n.file)) {
		fs_refuse("write", path, EROFS, "a read-only file");
		return -EROFS;
	}
	if (n.type == NODE_ENTRY && wr && n.db == STORE_REJECTED) {
		fs_refuse("write", path, EACCES,
		    "rejected/ is written by TLS clients only");
		return -EACCES;
	}
	rc = key_name(&n, name, sizeof(name), &temp, &err);
	if (rc != 0)
		return -ENOENT;
	if (wr) {
		rc = may_change(fs, "write", path);
		if (rc != 0)
			return rc;
		return open_writer(fs, &n, name, temp,
		    (fi->flags & O_TRUNC) != 0 || (n.type == NODE_FILE &&
		    n.file == SPECIAL_IMPORT), 1, fi);
	}
	rc = handle_new(fi, &h);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	s = n.type == NODE_ENTRY || n.type == NODE_TOPTEMP ?
	    staged_find(fs, node_db(&n), name) : NULL;
	if (s != NULL)
		rc = buf_append(&h->own, s->data.data ? s->data.data : "",
		    s->data.len);
	pthread_mutex_unlock(&fs->lock);
	if (s == NULL) {
		if (temp)
			rc = -ENOENT;
		else if (n.type == NODE_FILE)
			rc = special_render(fs, n.file, &h->own);
		else
			rc = render_entry(fs, n.db, name, &h->own, NULL);
	}
	if (rc != 0) {
		buf_free(&h->own);
		free(h);
		return fs_errno(rc);
	}
	h->data = h->own.data;
	h->len = h->own.len;
	/* Sizes of rendered files follow the clock ("expires in N days"):
	 * read them through, not from the page cache. */
	fi->direct_io = 1;
	return 0;
}

int
fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct node n;
	char name[256];
	struct tf_error err = { 0 };
	int rc, temp;

	rc = fs_route(path, &n);
	if (rc == -ENOENT && strncmp(path, "/certs/", 7) != 0 &&
	    strchr(path + 1, '/') == NULL) {
		fs_refuse("create", path, EACCES, "the top level is fixed");
		return -EACCES;
	}
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
	rc = may_change(fs, "create", path);
	if (rc != 0)
		return rc;
	if (n.type == NODE_ENTRY && n.db == STORE_REJECTED) {
		fs_refuse("create", path, EACCES,
		    "rejected/ is written by TLS clients only");
		return -EACCES;
	}
	rc = key_name(&n, name, sizeof(name), &temp, &err);
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

/* Sets a staged file's length, zero-filling growth. */
static int
staged_resize(struct staged *s, size_t len)
{
	int rc;

	if (len > s->data.len) {
		rc = buf_reserve(&s->data, len - s->data.len);
		if (rc != 0)
			return rc;
		memset(s->data.data + s->data.len, 0, len - s->data.len);
	}
	s->data.len = len;
	if (s->data.data != NULL)
		s->data.data[len] = '\0';
	s->dirty = 1;
	s->written = 1;
	s->mtime = time(NULL);
	return 0;
}

int
fs_write(const char *path, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	struct staged *s = h->stg;
	size_t end = (size_t)off + size;
	int rc = 0;

	if (s == NULL)
		return -EBADF;
	if (end > input_limit(s->db)) {
		char why[128];

		snprintf(why, sizeof(why), "input over the %zu-byte limit",
		    input_limit(s->db));
		fs_refuse("write", path, EFBIG, why);
		pthread_mutex_lock(&fs->lock);
		s->too_big = 1;
		pthread_mutex_unlock(&fs->lock);
		return -EFBIG;
	}
	pthread_mutex_lock(&fs->lock);
	if (end > s->data.len)
		rc = staged_resize(s, end);
	if (rc == 0) {
		memcpy(s->data.data + off, buf, size);
		s->dirty = 1;
		s->written = 1;
		s->mtime = time(NULL);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc != 0 ? rc : (int)size;
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

/* Parses data and stores it as db/name: the close of a written file, or
 * the rename of a temporary file over a real name. */
static int
commit_entry(struct fs *fs, const char *path, enum store_db db,
    const char *name, const char *data, size_t len, unsigned flags)
{
	struct add_args a = { .db = db, .name = name, .flags = flags };
	struct entry_actor who;
	char comm[64];
	int rc;

	fs_actor(&who, comm, sizeof(comm));
	a.who = &who;
	rc = cert_parse(data, len, input_limit((int)db), &a.sk, &a.err);
	if (rc == 0)
		rc = store_write(fs->st, add_txn, &a, &a.err);
	if (rc == 0 && a.res.outcome == ENTRY_UNCHANGED)
		fs_log(LOG_INFO, "%s: unchanged (%s/%s holds that certificate)",
		    path, entry_db_dir(db), a.res.name);
	if (rc != 0)
		fs_refuse("add", path, -fs_errno(rc), a.err.msg);
	sk_X509_pop_free(a.sk, X509_free);
	return fs_errno(rc);
}

int
fs_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);
	struct staged *s = h->stg;
	STACK_OF(X509) *sk = NULL;
	struct tf_error err = { 0 };
	int rc = 0;

	if (s == NULL)
		return 0;
	/* Held for the whole commit: a second close of the same file
	 * must not store it twice. */
	pthread_mutex_lock(&fs->lock);
	/* A failure is told to every close of the file, not only the first
	 * (touch(1) closes a dup first and checks only the last close). */
	if (!s->dirty || s->unlinked) {
		rc = s->unlinked ? 0 : s->error;
		goto out;
	}
	s->dirty = 0;
	/* A top-level temporary is checked when renamed over its target. */
	if (s->db == STAGED_TOP) {
		rc = 0;
		goto out;
	}
	/* policy and import act on what was written: a shell's redirection
	 * closes a dup of the new, still empty file before the data comes,
	 * and that close must not save an empty policy. */
	if (s->db < 0 && !s->written) {
		rc = 0;
		goto out;
	}
	s->written = 0;
	if (s->too_big) {
		/* The writer was told at write(); the close says it again. */
		rc = s->error = -EFBIG;
		goto out;
	}
	if (s->db < 0) {
		enum special_file f = SPECIAL_IMPORT;

		(void)special_lookup(s->name, &f);
		rc = special_commit(fs, f, s->data.data ? s->data.data : "",
		    s->data.len);
	} else if (s->temp && s->data.len == 0) {
		/* Nothing to check yet: mkstemp(3) and close, as Ansible
		 * does before it copies. */
		rc = 0;
	} else if (s->temp) {
		/* Checked now so that the writer hears of bad data; stored
		 * only when renamed over a real name. */
		rc = cert_parse(s->data.data ? s->data.data : "", s->data.len,
		    input_limit(s->db), &sk, &err);
		if (rc != 0)
			fs_refuse("write", path, -rc, err.msg);
		sk_X509_pop_free(sk, X509_free);
	} else
		rc = commit_entry(fs, path, (enum store_db)s->db, s->name,
		    s->data.data ? s->data.data : "", s->data.len, 0);
	s->error = rc;
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
fs_release(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = handle_of(fi);

	if (h->stg != NULL) {
		pthread_mutex_lock(&fs->lock);
		if (--h->stg->opens == 0 && (!h->stg->temp ||
		    h->stg->unlinked))
			staged_free(fs, h->stg);
		pthread_mutex_unlock(&fs->lock);
	}
	if (h->snap != NULL)
		views_put(fs, h->snap);
	buf_free(&h->own);
	free(h);
	return 0;
}

int
fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct staged *s = NULL;
	struct node n;
	char name[256];
	struct tf_error err = { 0 };
	int rc, temp;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	if (n.type == NODE_CERTSFILE ||
	    (n.type == NODE_FILE && !special_writable(n.file)))
		return -EROFS;
	if (n.type != NODE_ENTRY && n.type != NODE_FILE &&
	    n.type != NODE_TOPTEMP)
		return -EISDIR;
	if ((size_t)size > input_limit(node_db(&n)))
		return -EFBIG;
	rc = may_change(fs, "truncate", path);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	if (h != NULL && h->stg != NULL)
		s = h->stg;
	else if (key_name(&n, name, sizeof(name), &temp, &err) == 0)
		s = staged_find(fs, node_db(&n), name);
	rc = s ? staged_resize(s, (size_t)size) : 0;
	pthread_mutex_unlock(&fs->lock);
	if (s != NULL || n.type == NODE_FILE)
		return rc;
	/* A stored certificate cannot be cut short: open it with O_TRUNC
	 * and write a whole one. */
	return -EINVAL;
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
	struct remove_args a;
	struct entry_actor who;
	struct staged *s;
	struct node n;
	char name[256], comm[64];
	struct tf_error err = { 0 };
	int rc, temp;

	rc = fs_route(path, &n);
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
	rc = may_change(fs, "remove", path);
	if (rc != 0)
		return rc;
	if (key_name(&n, name, sizeof(name), &temp, &err) != 0)
		return -ENOENT;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, node_db(&n), name);
	if (s != NULL && s->temp)
		staged_drop(fs, s);
	pthread_mutex_unlock(&fs->lock);
	if (temp)
		return s != NULL ? 0 : -ENOENT;
	fs_actor(&who, comm, sizeof(comm));
	a = (struct remove_args){ n.db, name, &who };
	rc = store_write(fs->st, remove_txn, &a, NULL);
	return fs_errno(rc);
}

struct rename_args {
	struct node *from, *to;
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
rename_to_temp(struct fs *fs, struct node *from, const char *fname,
    struct node *to, const char *tname, struct entry_actor *who)
{
	struct remove_args a = { from->db, fname, who };
	struct buf b = { 0 };
	struct staged *s;
	int rc;

	rc = render_entry(fs, from->db, fname, &b, NULL);
	if (rc == 0)
		rc = store_write(fs->st, remove_txn, &a, NULL);
	if (rc != 0) {
		buf_free(&b);
		return fs_errno(rc);
	}
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, (int)to->db, tname);
	if (s != NULL)
		staged_drop(fs, s);
	s = staged_new(fs, (int)to->db, tname, 1);
	if (s != NULL)
		s->data = b;
	else
		buf_free(&b);
	pthread_mutex_unlock(&fs->lock);
	return s ? 0 : -ENOMEM;
}

/* A top-level temporary renamed over policy or import: saved as if it
 * had been written there (sed -i policy). */
static int
rename_top(struct fs *fs, const char *from, struct node *nf,
    struct node *nt)
{
	struct staged *s;
	int rc;

	rc = may_change(fs, "rename", from);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_TOP, nf->name);
	if (s == NULL)
		rc = -ENOENT;
	else {
		rc = special_commit(fs, nt->file, s->data.data ?
		    s->data.data : "", s->data.len);
		if (rc == 0)
			staged_drop(fs, s);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
fs_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = fs_get();
	struct rename_args a = { 0 };
	struct entry_actor who;
	struct staged *s, *t;
	struct node nf, nt;
	char fname[256], tname[256], comm[64];
	struct tf_error err = { 0 };
	int rc, ftemp, ttemp;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	rc = fs_route(from, &nf);
	if (rc == 0)
		rc = fs_route(to, &nt);
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
		return rename_top(fs, from, &nf, &nt);
	if (nf.type != NODE_ENTRY || nt.type != NODE_ENTRY)
		return nf.type == NODE_ENTRY ? -EXDEV : -EACCES;
	rc = may_change(fs, "rename", from);
	if (rc != 0)
		return rc;
	if (key_name(&nf, fname, sizeof(fname), &ftemp, &err))
		return -ENOENT;
	rc = key_name(&nt, tname, sizeof(tname), &ttemp, &err);
	if (rc != 0) {
		fs_refuse("rename", to, -rc, err.msg);
		return rc;
	}
	if (nt.db == STORE_REJECTED && nf.db != STORE_REJECTED)
		return -EACCES;
	fs_actor(&who, comm, sizeof(comm));

	if (!ftemp && !ttemp) {
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
	if (!ftemp)
		return nf.db == nt.db ?
		    rename_to_temp(fs, &nf, fname, &nt, tname, &who) : -EXDEV;

	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, (int)nf.db, fname);
	if (s == NULL || !s->temp) {
		rc = -ENOENT;
	} else if (ttemp) {
		t = staged_find(fs, (int)nt.db, tname);
		if (t != NULL && (flags & RENAME_NOREPLACE))
			rc = -EEXIST;
		else {
			if (t != NULL)
				staged_drop(fs, t);
			s->db = (int)nt.db;
			snprintf(s->name, sizeof(s->name), "%s", tname);
		}
	} else {
		/* The editor's or Ansible's finished file replaces the entry. */
		rc = commit_entry(fs, to, nt.db, tname,
		    s->data.data ? s->data.data : "", s->data.len,
		    (flags & RENAME_NOREPLACE) ? 0 : ENTRY_REPLACE);
		if (rc == 0)
			staged_drop(fs, s);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}
