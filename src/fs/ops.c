/*
 * Path routing and the operations on names: getattr, readdir, unlink,
 * rename and the user.trustfs.* extended attributes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "fs.h"
#include "names.h"

int
fs_errno(int rc)
{
	if (rc >= 0)
		return 0;
	switch (-rc) {
	case ENOENT: case EINVAL: case EEXIST: case EACCES: case EROFS:
	case EFBIG: case ENAMETOOLONG: case ENOSPC: case EXDEV: case ENOMEM:
	case ENOTEMPTY: case EPERM:
		return rc;
	default:
		/* A real store failure; the store said why in the log. */
		return -EIO;
	}
}

void
fs_actor(struct entry_actor *who, char *comm, size_t commlen)
{
	struct fuse_context *c = fuse_get_context();
	char path[64];
	FILE *f;
	size_t n;

	who->uid = c->uid;
	who->pid = c->pid;
	snprintf(comm, commlen, "?");
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)c->pid);
	f = fopen(path, "r");
	if (f != NULL) {
		n = fread(comm, 1, commlen - 1, f);
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	who->comm = comm;
}

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

static void
dir_stat(struct fs *fs, struct stat *st, int writable, time_t mtime)
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

static int
fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct snapshot *s;
	const struct certs_ent *e;
	struct node n;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	switch (n.type) {
	case NODE_TOP:
		dir_stat(fs, st, 0, last_change(fs));
		return 0;
	case NODE_DBDIR:
		dir_stat(fs, st, 1, last_change(fs));
		return 0;
	case NODE_CERTSDIR:
	case NODE_CERTSFILE:
		s = views_get(fs);
		if (s == NULL)
			return -EIO;
		rc = 0;
		if (n.type == NODE_CERTSDIR)
			dir_stat(fs, st, 0, s->mtime);
		else if ((e = views_find(s, n.name)) == NULL)
			rc = -ENOENT;
		else {
			st->st_mode = S_IFREG | 0444;
			st->st_nlink = 1;
			st->st_size = (off_t)e->len;
			st->st_uid = fs->uid;
			st->st_gid = fs->gid;
			st->st_mtime = st->st_ctime = st->st_atime = s->mtime;
		}
		views_put(fs, s);
		return rc;
	case NODE_FILE:
		return special_getattr(fs, n.file, st);
	case NODE_ENTRY:
	case NODE_TOPTEMP:
		return fs_entry_getattr(fs, &n, st);
	}
	return -ENOENT;
}

static int
fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fs *fs = fs_get();
	struct snapshot *s;
	struct node n;
	size_t i;
	int rc;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (n.type) {
	case NODE_TOP:
		for (i = 0; i < STORE_NDBS; i++)
			filler(buf, entry_db_dir((enum store_db)i), NULL, 0, 0);
		filler(buf, "certs", NULL, 0, 0);
		for (i = 0; i < SPECIAL_NFILES; i++)
			filler(buf, special_name((enum special_file)i), NULL,
			    0, 0);
		fs_top_readdir(fs, buf, filler);
		return 0;
	case NODE_DBDIR:
		return fs_entry_readdir(fs, n.db, buf, filler);
	case NODE_CERTSDIR:
		s = views_get(fs);
		if (s == NULL)
			return -EIO;
		/* readdirplus: the snapshot knows every size already. */
		for (i = 0; i < s->n; i++) {
			struct stat st = { 0 };

			st.st_mode = S_IFREG | 0444;
			st.st_nlink = 1;
			st.st_size = (off_t)s->ents[i].len;
			st.st_uid = fs->uid;
			st.st_gid = fs->gid;
			st.st_mtime = st.st_ctime = st.st_atime = s->mtime;
			filler(buf, s->ents[i].name, &st, 0,
			    (flags & FUSE_READDIR_PLUS) ? FUSE_FILL_DIR_PLUS : 0);
		}
		views_put(fs, s);
		return 0;
	default:
		return -ENOTDIR;
	}
}

/* user.trustfs.* attributes: the inspect values, for scripts. */
static const char *const xattr_names[] = {
	"user.trustfs.subject", "user.trustfs.issuer", "user.trustfs.serial",
	"user.trustfs.not_before", "user.trustfs.not_after",
	"user.trustfs.sha1", "user.trustfs.sha256", "user.trustfs.status",
	"user.trustfs.label",
};
#define NXATTR (sizeof(xattr_names) / sizeof(xattr_names[0]))

static int
xattr_value(X509 *x, const char *entry, size_t which, char *out,
    size_t outlen)
{
	unsigned char md[32];
	char hex[100], *s = NULL;
	const ASN1_INTEGER *ser;
	BIGNUM *bn;
	int len, i;

	switch (which) {
	case 0:
	case 1:
		s = cert_name_str(which == 0 ? X509_get_subject_name(x) :
		    X509_get_issuer_name(x));
		snprintf(out, outlen, "%s", s ? s : "");
		free(s);
		return 0;
	case 2:
		ser = X509_get0_serialNumber(x);
		bn = ASN1_INTEGER_to_BN(ser, NULL);
		len = bn ? BN_num_bytes(bn) : 0;
		if (len > 0 && len <= 32) {
			BN_bn2bin(bn, md);
			cert_hex(md, (size_t)len, ':', hex);
		} else
			snprintf(hex, sizeof(hex), "00");
		BN_free(bn);
		snprintf(out, outlen, "%s", hex);
		return 0;
	case 3:
	case 4:
		cert_time_str(which == 3 ? cert_not_before(x) :
		    cert_not_after(x), out, outlen);
		return 0;
	case 5:
		cert_sha1(x, md);
		cert_hex(md, 20, ':', out);
		return 0;
	case 6:
		cert_sha256(x, md);
		cert_hex(md, 32, ':', out);
		return 0;
	case 7:
		cert_status_str(x, time(NULL), out, outlen);
		return 0;
	case 8:
		snprintf(out, outlen, "%s", entry);
		i = (int)strlen(out);
		if (i > 4 && strcmp(out + i - 4, ".pem") == 0)
			out[i - 4] = '\0';
		return 0;
	}
	return -ENODATA;
}

static int
fs_getxattr(const char *path, const char *attr, char *value, size_t size)
{
	struct fs *fs = fs_get();
	struct store_txn *txn = NULL;
	struct store_rec rec;
	STACK_OF(X509) *sk = NULL;
	char name[256], out[1024];
	struct node n;
	size_t i, len;
	int rc;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	if (n.type != NODE_ENTRY)
		return -ENODATA;
	for (i = 0; i < NXATTR; i++)
		if (strcmp(attr, xattr_names[i]) == 0)
			break;
	if (i == NXATTR)
		return -ENODATA;
	if (entry_name(n.db, n.name, name, sizeof(name), NULL))
		return -ENODATA;
	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0)
		rc = store_get(txn, n.db, name, &rec);
	if (rc == 0)
		rc = entry_certs(&rec, &sk);
	if (rc == 0)
		rc = xattr_value(sk_X509_value(sk, 0), name, i, out,
		    sizeof(out));
	store_txn_abort(txn);
	sk_X509_pop_free(sk, X509_free);
	if (rc == -ENOENT)
		return -ENODATA;
	if (rc != 0)
		return fs_errno(rc);
	len = strlen(out);
	if (size == 0)
		return (int)len;
	if (size < len)
		return -ERANGE;
	memcpy(value, out, len);
	return (int)len;
}

static int
fs_listxattr(const char *path, char *list, size_t size)
{
	struct node n;
	size_t i, need = 0, l;
	int rc;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	if (n.type != NODE_ENTRY)
		return 0;
	for (i = 0; i < NXATTR; i++)
		need += strlen(xattr_names[i]) + 1;
	if (size == 0)
		return (int)need;
	if (size < need)
		return -ERANGE;
	for (i = 0; i < NXATTR; i++) {
		l = strlen(xattr_names[i]) + 1;
		memcpy(list, xattr_names[i], l);
		list += l;
	}
	return (int)need;
}

static int
fs_access(const char *path, int mask)
{
	struct node n;

	/* Writes are checked when they happen (and audited); reads are
	 * open to whoever the mount lets in. */
	return fs_route(path, &n);
}

static int
fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	/* Modes are the mount's policy (DESIGN section 7), not per file;
	 * accepting quietly lets cp -p and Ansible's mode handling work. */
	return 0;
}

static int
fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	return 0;
}

static int
fs_utimens(const char *path, const struct timespec tv[2],
    struct fuse_file_info *fi)
{
	/* mtimes are when a certificate changed; touch(1) cannot fake them. */
	return 0;
}

const struct fuse_operations fs_file_ops = {
	.getattr = fs_getattr,
	.access = fs_access,
	.readdir = fs_readdir,
	.open = fs_open,
	.create = fs_create,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.truncate = fs_truncate,
	.unlink = fs_unlink,
	.rename = fs_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
};
