/*
 * Path routing: which part of the mount a path names, what its name is
 * kept under, what stat(2) shows for it, and the table of operations that
 * hands each request to the file that serves it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "crls.h"
#include "fs.h"
#include "names.h"
#include "viewfiles.h"
#include "sources.h"

int
fs_route(const char *path, struct node *n)
{
	const char *p = path + 1, *slash;
	char dir[64];
	size_t len;
	int db;

	memset(n, 0, sizeof(*n));
	if (strcmp(path, "/") == 0) {
		n->type = NODE_TOP;
		return 0;
	}
	slash = strchr(p, '/');
	len = slash ? (size_t)(slash - p) : strlen(p);
	if (len >= sizeof(dir))
		return -ENOENT;
	memcpy(dir, p, len);
	dir[len] = '\0';
	if (slash == NULL) {
		if (strcmp(dir, "certs") == 0) {
			n->type = NODE_CERTSDIR;
			return 0;
		}
		if ((db = entry_db_from_dir(dir)) >= 0) {
			n->type = NODE_DBDIR;
			n->db = (enum store_db)db;
			return 0;
		}
		if (special_lookup(dir, &n->file) == 0) {
			n->type = NODE_FILE;
			return 0;
		}
		/* sed -i and editors write policy through a temporary file
		 * beside it, then rename it over. */
		if (name_check_file(p) == 0 && name_is_temporary(p)) {
			n->type = NODE_TOPTEMP;
			n->name = p;
			return 0;
		}
		return -ENOENT;
	}
	n->name = slash + 1;
	if (*n->name == '\0' || strchr(n->name, '/') != NULL)
		return -ENOENT;
	if (strcmp(dir, "certs") == 0) {
		n->type = NODE_CERTSFILE;
		return 0;
	}
	if ((db = entry_db_from_dir(dir)) < 0)
		return -ENOENT;
	n->type = NODE_ENTRY;
	n->db = (enum store_db)db;
	return 0;
}

int
fs_key_name(const struct node *n, char *out, size_t outlen, int *temp,
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

int
fs_node_db(const struct node *n)
{
	if (n->type == NODE_TOPTEMP)
		return STAGED_TOP;
	return n->type == NODE_FILE ? -1 : (int)n->db;
}

size_t
fs_input_limit(int db)
{
	if (db == STAGED_SOURCES)
		return SOURCES_TEXT_MAX;	/* sources.h */
	return db < 0 ? CERT_INPUT_MAX_BUNDLE : CERT_INPUT_MAX_ONE;
}

void
fs_file_stat(struct fs *fs, struct stat *st, off_t size, time_t mtime,
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

void
fs_dir_stat(struct fs *fs, struct stat *st, int writable, time_t mtime)
{
	st->st_mode = S_IFDIR | 0555;
	if (writable)
		st->st_mode |= fs->group_write ? 0775 : 0755;
	st->st_nlink = 2;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
}

static time_t
last_change(struct fs *fs)
{
	struct store_txn *txn;
	time_t t = 0;

	if (store_txn_begin(fs->st, 0, &txn, NULL) == 0) {
		t = entry_last_change(txn);
		store_txn_abort(txn);
	}
	return t;
}

/* The read-only views p11-kit/ (p11kit.c) and truststore.p12 (p12.c). */
static int
rov_path(const char *path)
{
	return p11kit_path(path) || p12_path(path);
}

static int
fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct node n;
	int rc;

	memset(st, 0, sizeof(*st));
	if (crls_path(path))
		return crls_getattr(path, st);
	if (sources_path(path))
		return sources_getattr(st);
	if (p11kit_path(path))
		return p11kit_getattr(path, st);
	if (p12_path(path))
		return p12_getattr(st);
	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	switch (n.type) {
	case NODE_TOP:
		fs_dir_stat(fs, st, 0, last_change(fs));
		return 0;
	case NODE_DBDIR:
		fs_dir_stat(fs, st, 1, last_change(fs));
		return 0;
	case NODE_CERTSDIR:
	case NODE_CERTSFILE:
		return certs_getattr(fs, &n, st);
	case NODE_FILE:
		return special_getattr(fs, n.file, st);
	case NODE_ENTRY:
	case NODE_TOPTEMP:
		return entry_getattr(fs, &n, st);
	}
	return -ENOENT;
}

static int
fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fs *fs = fs_get();
	struct node n;
	size_t i;
	int rc;

	if (crls_path(path))
		return crls_readdir(path, buf, filler);
	if (p11kit_path(path))
		return p11kit_readdir(path, buf, filler);
	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	switch (n.type) {
	case NODE_TOP:
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		for (i = 0; i < STORE_NDBS; i++)
			filler(buf, entry_db_dir((enum store_db)i), NULL, 0, 0);
		filler(buf, "certs", NULL, 0, 0);
		filler(buf, "crls", NULL, 0, 0);
		filler(buf, "sources", NULL, 0, 0);
		p11kit_top_readdir(buf, filler);
		p12_top_readdir(buf, filler);
		for (i = 0; i < SPECIAL_NFILES; i++)
			filler(buf, special_name((enum special_file)i), NULL,
			    0, 0);
		top_readdir(fs, buf, filler);
		return 0;
	case NODE_DBDIR:
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		return entry_readdir(fs, n.db, buf, filler);
	case NODE_CERTSDIR:
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		return certs_readdir(fs, buf, filler, flags);
	default:
		return -ENOTDIR;
	}
}

static int
fs_access(const char *path, int mask)
{
	struct node n;

	/* Writes are checked when they happen (and audited); reads are
	 * open to whoever the mount lets in. */
	if (crls_path(path)) {
		struct stat st;

		return crls_getattr(path, &st);
	}
	if (sources_path(path))
		return 0;
	if (rov_path(path)) {
		struct stat st;

		return fs_getattr(path, &st, NULL);
	}
	return fs_route(path, &n);
}

/*
 * crls/ (crls.c) is served beside the rest: its paths, and its open
 * files being written, go there; reads, writes and releases of its open
 * files are io.c's like any other staged file.
 */
static int
route_open(const char *path, struct fuse_file_info *fi)
{
	if (sources_path(path))
		return sources_open(path, fi);
	if (p12_path(path))
		return p12_open(path, fi);
	if (p11kit_path(path))
		return p11kit_open(path, fi);
	return crls_path(path) ? crls_open(path, fi) : fs_open(path, fi);
}

static int
route_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (sources_path(path))
		return sources_open(path, fi);	/* it always exists */
	if (rov_path(path))
		return rov_refuse("create", path, 0);
	return crls_path(path) ? crls_create(path, mode, fi) :
	    fs_create(path, mode, fi);
}

static int
route_flush(const char *path, struct fuse_file_info *fi)
{
	if (sources_handle(fi))
		return sources_flush(path, fi);
	return crls_handle(fi) ? crls_flush(path, fi) : fs_flush(path, fi);
}

/* bundle.pem and certs/ follow a change before the close returns; a
 * refused file's name leaves the kernel's cache (viewfiles.h). */
static int
route_flush_views(const char *path, struct fuse_file_info *fi)
{
	int rc = route_flush(path, fi);

	views_changed(fs_get(), 1, rc != 0);
	return rc;
}

static int
route_release(const char *path, struct fuse_file_info *fi)
{
	int rc = fs_release(path, fi);

	/* The kernel does not wait for a release: neither does it here. */
	views_changed(fs_get(), 0, 0);
	return rc;
}

static int
route_readlink(const char *path, char *buf, size_t size)
{
	if (p11kit_path(path))
		return p11kit_readlink(path, buf, size);
	return views_readlink(path, buf, size);
}

static int
route_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	if ((fi != NULL && crls_handle(fi)) || crls_path(path))
		return crls_truncate(path, size, fi);
	if ((fi != NULL && sources_handle(fi)) || sources_path(path))
		return sources_truncate(path, size, fi);
	if (rov_path(path))
		return rov_refuse("truncate", path, 1);
	return fs_truncate(path, size, fi);
}

static int
route_unlink_one(const char *path)
{
	if (sources_path(path))
		return sources_unlink(path);
	if (rov_path(path))
		return rov_refuse("remove", path, 1);
	return crls_path(path) ? crls_unlink(path) : fs_unlink(path);
}

static int
route_unlink(const char *path)
{
	int rc = route_unlink_one(path);

	views_changed(fs_get(), strchr(path + 1, '/') != NULL, 0);
	return rc;
}

static int
route_rename_one(const char *from, const char *to, unsigned int flags)
{
	if (crls_path(from) || crls_path(to))
		return crls_rename(from, to, flags);
	if (sources_path(from) || sources_path(to))
		return sources_rename(from, to, flags);
	if (rov_path(from) || rov_path(to))
		return rov_refuse("rename", rov_path(from) ? from : to,
		    rov_path(from));
	return fs_rename(from, to, flags);
}

/* A rename at the top holds the top directory's lock: no wait there. */
static int
route_rename(const char *from, const char *to, unsigned int flags)
{
	int rc = route_rename_one(from, to, flags);

	views_changed(fs_get(), strchr(from + 1, '/') != NULL &&
	    strchr(to + 1, '/') != NULL, 0);
	return rc;
}

static int
route_getxattr(const char *path, const char *attr, char *value,
    size_t size)
{
	struct stat st;
	int rc;

	if (sources_path(path))
		return -ENODATA;
	if (rov_path(path)) {
		rc = fs_getattr(path, &st, NULL);
		return rc != 0 ? rc : -ENODATA;
	}
	if (!crls_path(path))
		return fs_getxattr(path, attr, value, size);
	rc = crls_getattr(path, &st);
	return rc != 0 ? rc : -ENODATA;
}

static int
route_listxattr(const char *path, char *list, size_t size)
{
	struct stat st;

	if (sources_path(path))
		return 0;
	if (rov_path(path))
		return fs_getattr(path, &st, NULL);
	if (!crls_path(path))
		return fs_listxattr(path, list, size);
	return crls_getattr(path, &st);
}

static int
route_utimens(const char *path, const struct timespec tv[2],
    struct fuse_file_info *fi)
{
	struct stat st;

	/* touch(1) on a CRL: its time is the store's, nothing to change. */
	if (crls_path(path))
		return crls_getattr(path, &st);
	if (sources_path(path))
		return 0;
	return fs_utimens(path, tv, fi);
}

const struct fuse_operations fs_ops = {
	.getattr = fs_getattr,
	.readlink = route_readlink,
	.access = fs_access,
	.readdir = fs_readdir,
	.open = route_open,
	.create = route_create,
	.read = fs_read,
	.write = fs_write,
	.flush = route_flush_views,
	.release = route_release,
	.truncate = route_truncate,
	.unlink = route_unlink,
	.rename = route_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = route_utimens,
	.getxattr = route_getxattr,
	.listxattr = route_listxattr,
	.setxattr = fs_setxattr,
	.removexattr = fs_removexattr,
	.link = fs_link,
	.symlink = fs_symlink,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
};
