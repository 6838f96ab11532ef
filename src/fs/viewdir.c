/*
 * The files of the views directory (viewfiles.c says what they are):
 * their names, writing one in place, the removal of what no snapshot uses
 * and of a dead daemon's directory, and who can reach them.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cert.h"
#include "fs.h"
#include "viewfiles.h"

static void
hex(const unsigned char *sha, char *out)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[sha[i] >> 4];
		out[2 * i + 1] = digits[sha[i] & 15];
	}
	out[64] = '\0';
}

void
views_file_name(const struct certs_ent *e, char *out, size_t len)
{
	char h[65];

	hex(e->sha256, h);
	snprintf(out, len, "%s%s", h, e->crl ? ".r.pem" : ".pem");
}

int
views_write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
views_temp(const char *dir, char *tmp, size_t len)
{
	int fd;

	snprintf(tmp, len, "%s/.tmp.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
views_commit_temp(int fd, const char *tmp, const char *dir, const char *name,
    int rc)
{
	char path[4096];

	if (rc == 0 && fchmod(fd, 0444) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

struct file_ref {
	unsigned char sha256[32];
	int crl;
};

static int
ref_cmp(const void *a, const void *b)
{
	const struct file_ref *x = a, *y = b;
	int c = memcmp(x->sha256, y->sha256, 32);

	return c != 0 ? c : x->crl - y->crl;
}

int
views_parse_file(const char *name, unsigned char sha256[32], int *crl)
{
	unsigned v;
	int i;

	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)name[i]) ||
		    isupper((unsigned char)name[i]))
			return -1;
	for (i = 0; i < 32; i++) {
		if (sscanf(name + 2 * i, "%2x", &v) != 1)
			return -1;
		sha256[i] = (unsigned char)v;
	}
	if (strlen(name) <= 64)
		return -1;
	if (strcmp(name + 64, ".pem") == 0)
		*crl = 0;
	else if (strcmp(name + 64, ".r.pem") == 0)
		*crl = 1;
	else
		return -1;
	return 0;
}

/* Finding the bytes of a certs/ entry in the store by its SHA-256. */
struct find_ctx {
	const unsigned char *sha256;
	char name[STORE_NAME_MAX + 1];
	struct buf *out;
	int found, rc;
};

static int
find_root_cb(enum store_db db, const char *name, void *arg)
{
	struct find_ctx *k = arg;

	if (db != STORE_ROOTS)
		return 0;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->found = 1;
	return 1;
}

static int
find_crl_cb(const char *name, const struct store_crl *c, void *arg)
{
	struct find_ctx *k = arg;
	unsigned char sha[32];

	(void)name;
	if (EVP_Digest(c->der, c->der_len, sha, NULL, EVP_sha256(),
	    NULL) != 1 || memcmp(sha, k->sha256, 32) != 0)
		return 0;
	k->rc = views_crl_pem(k->out, c->der, c->der_len);
	k->found = 1;
	return 1;
}

int
views_materialize(struct fs *fs, const char *cdir,
    const struct certs_ent *e)
{
	struct find_ctx k = { e->sha256, "", NULL, 0, 0 };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	struct buf out = { 0 };
	char name[80], path[4096], tmp[4096];
	int rc, fd;

	views_file_name(e, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", cdir, name);
	if (access(path, F_OK) == 0)
		return 0;
	k.out = &out;
	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0 && !e->crl) {
		rc = store_find_sha256(txn, e->sha256, find_root_cb, &k);
		if (rc > 0)
			rc = 0;
		if (rc == 0 && k.found)
			rc = store_get(txn, STORE_ROOTS, k.name, &rec);
		if (rc == 0 && k.found)
			rc = cert_pem_der(&out, rec.der, rec.der_len);
	} else if (rc == 0) {
		rc = store_crl_foreach(txn, find_crl_cb, &k);
		if (rc > 0)
			rc = k.rc;
	}
	store_txn_abort(txn);
	if (rc == 0 && !k.found)
		rc = -ENOENT;	/* gone meanwhile: the link goes too */
	if (rc == 0) {
		/* A temporary and a rename: a concurrent reader never sees
		 * part of it, and inotify's reports name the temporary. */
		fd = views_temp(cdir, tmp, sizeof(tmp));
		rc = fd < 0 ? fd : views_commit_temp(fd, tmp, cdir, name,
		    views_write_all(fd, out.data, out.len));
	}
	buf_free(&out);
	return rc < 0 ? rc : 0;
}

void
views_gc(const char *vdir, const char *cdir, const struct snapshot *s)
{
	struct file_ref *refs = NULL, key;
	struct dirent *d;
	size_t i, n = 0;
	DIR *dir;
	int keep;

	refs = calloc(s->n ? s->n : 1, sizeof(*refs));
	if (refs == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		memcpy(refs[i].sha256, s->ents[i].sha256, 32);
		refs[i].crl = s->ents[i].crl;
	}
	n = s->n;
	qsort(refs, n, sizeof(*refs), ref_cmp);
	dir = opendir(cdir);
	while (dir != NULL && (d = readdir(dir)) != NULL) {
		/* A temporary here may be a reader's file being written
		 * (views_materialize, which removes it if it fails). */
		if (d->d_name[0] == '.')
			continue;
		keep = views_parse_file(d->d_name, key.sha256, &key.crl) == 0 &&
		    bsearch(&key, refs, n, sizeof(*refs), ref_cmp) != NULL;
		if (!keep)
			(void)unlinkat(dirfd(dir), d->d_name, 0);
	}
	if (dir != NULL)
		closedir(dir);
	dir = opendir(vdir);
	while (dir != NULL && (d = readdir(dir)) != NULL) {
		if ((strncmp(d->d_name, "bundle.", 7) == 0 &&
		    strcmp(d->d_name, s->bundle_file) != 0) ||
		    strncmp(d->d_name, ".tmp.", 5) == 0)
			(void)unlinkat(dirfd(dir), d->d_name, 0);
	}
	if (dir != NULL)
		closedir(dir);
	free(refs);
}

void
views_remove_dir(const char *dir)
{
	char sub[4096];
	struct dirent *d;
	DIR *dp;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			snprintf(sub, sizeof(sub), "%s/c", dir);
		else
			snprintf(sub, sizeof(sub), "%s", dir);
		dp = opendir(sub);
		while (dp != NULL && (d = readdir(dp)) != NULL)
			if (strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0)
				(void)unlinkat(dirfd(dp), d->d_name,
				    d->d_type == DT_DIR ? AT_REMOVEDIR : 0);
		if (dp != NULL)
			closedir(dp);
	}
	(void)rmdir(dir);
}

void
views_remove_stale(const char *base)
{
	char path[4096];
	struct dirent *d;
	DIR *dp;
	int fd;

	dp = opendir(base);
	while (dp != NULL && (d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, "m.", 2) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/.lock", base, d->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd);	/* a running daemon's */
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", base, d->d_name);
		views_remove_dir(path);
		if (fd >= 0)
			close(fd);
	}
	if (dp != NULL)
		closedir(dp);
}

int
views_reachable(struct fs *fs)
{
	char path[4096], *p;
	struct stat sb;

	if (stat(fs->store_dir, &sb) != 0)
		return -errno;
	if (!(sb.st_mode & S_IXOTH)) {
		if (sb.st_uid != geteuid() ||
		    chmod(fs->store_dir, (sb.st_mode & 07777) | S_IXOTH) != 0)
			return -EACCES;
		fs_log(LOG_NOTICE, "%s: search permission for others (mode "
		    "%o), so that readers under allow_other can follow "
		    "bundle.pem and certs/ to %s/views; the store's files stay "
		    "private", fs->store_dir,
		    (unsigned)((sb.st_mode & 07777) | S_IXOTH), fs->store_dir);
	}
	snprintf(path, sizeof(path), "%s", fs->store_dir);
	while ((p = strrchr(path, '/')) != NULL && p != path) {
		*p = '\0';
		if (stat(path, &sb) != 0 || !(sb.st_mode & S_IXOTH)) {
			fs_log(LOG_WARNING, "%s is not searchable by others: "
			    "bundle.pem and certs/ are served by the daemon "
			    "(slower) so that every user of the mount can read "
			    "them", path);
			return -EACCES;
		}
	}
	return 0;
}

