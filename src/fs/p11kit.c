/*
 * MOUNT/p11-kit/: the layout p11-kit's trust module loads from each of its
 * paths (trust/token.c: the files of PATH/anchors as anchors, of
 * PATH/blocklist as distrusted), here two symbolic links into the store's
 * own directories:
 *
 *   p11-kit/anchors   -> ../roots
 *   p11-kit/blocklist -> ../distrusted
 *   p11-kit/blacklist -> ../distrusted   (its name before p11-kit 0.24)
 *
 * so that x-init-reserved: paths=/trust/p11-kit (contrib/p11-kit) makes
 * `trust list', GnuTLS and NSS (through the module) see roots/ and
 * distrusted/ as they are at that moment.  p11-kit's parser skips the
 * inspect text before each PEM block as cert_parse does.
 *
 * Also here: the refusals of the read-only views at the top, p11-kit/ and
 * truststore.p12 (p12.c), which route.c hands over.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

#define P11KIT_DIR "/p11-kit"

static const struct {
	const char *name;
	const char *target;
} links[] = {
	{ "anchors", "../roots" },
	/* p11-kit before 0.24 reads the blocklist from "blacklist"; 0.24
	 * reads "blocklist" only, so neither loads it twice. */
	{ "blacklist", "../distrusted" },
	{ "blocklist", "../distrusted" },
};

#define NLINKS (sizeof(links) / sizeof(links[0]))

int
p11kit_path(const char *path)
{
	size_t n = sizeof(P11KIT_DIR) - 1;

	return path != NULL && strncmp(path, P11KIT_DIR, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* The link path names, or -1 (the directory itself is -2). */
static int
link_of(const char *path)
{
	const char *name = path + sizeof(P11KIT_DIR) - 1;
	size_t i;

	if (*name == '\0')
		return -2;
	for (i = 0; i < NLINKS; i++)
		if (strcmp(name + 1, links[i].name) == 0)
			return (int)i;
	return -1;
}

int
p11kit_getattr(const char *path, struct stat *st)
{
	int i = link_of(path), rc;

	if (i == -1)
		return -ENOENT;
	/* The top directory's: when the store last changed (p11-kit reloads
	 * what changed by mtime and size). */
	rc = fs_ops.getattr("/", st, NULL);
	if (rc != 0)
		return rc;
	if (i >= 0) {
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(links[i].target);
	}
	return 0;
}

int
p11kit_readdir(const char *path, void *buf, fuse_fill_dir_t filler)
{
	size_t i;
	int k = link_of(path);

	if (k == -1)
		return -ENOENT;
	if (k >= 0)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	for (i = 0; i < NLINKS; i++)
		filler(buf, links[i].name, NULL, 0, 0);
	return 0;
}

int
p11kit_readlink(const char *path, char *buf, size_t size)
{
	int i = p11kit_path(path) ? link_of(path) : -1;

	if (i == -2)
		return -EINVAL;	/* readlink(2) of what is not a link */
	if (i < 0)
		return -ENOENT;
	if (size == 0)
		return -EINVAL;
	/* FUSE wants it NUL-terminated, cut to fit. */
	snprintf(buf, size, "%s", links[i].target);
	return 0;
}

int
p11kit_open(const char *path, struct fuse_file_info *fi)
{
	int i = link_of(path);

	(void)fi;
	/* The kernel follows the links itself; only the directory and names
	 * that are not there reach an open. */
	return i == -1 ? -ENOENT : i == -2 ? -EISDIR : -ELOOP;
}

void
p11kit_top_readdir(void *buf, fuse_fill_dir_t filler)
{
	filler(buf, P11KIT_DIR + 1, NULL, 0, 0);
}

int
rov_refuse(const char *action, const char *path, int must_exist)
{
	struct stat st;
	int rc;

	/* Nothing there: nothing to refuse (rm of a missing name). */
	if (must_exist && p11kit_path(path) && p11kit_getattr(path, &st) != 0)
		return -ENOENT;
	rc = fs_may_change(fs_get(), action, path);
	if (rc != 0)
		return rc;
	fs_refuse(action, path, EROFS, "a read-only view");
	return -EROFS;
}
