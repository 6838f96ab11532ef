/*
 * bench_hello: the FUSE floor.  A minimal libfuse file system (in the
 * manner of libfuse's example/hello.c) that serves one read-only file,
 * /bundle.pem, holding the bytes of DATAFILE read at start, with 1 s entry
 * and attribute timeouts.  Whatever trustfs costs above this is trustfs's
 * own; what this costs is the price of FUSE round trips.
 *
 * bench_hello DATAFILE [--keep-cache | --link] MOUNTPOINT [FUSE OPTIONS]
 *
 * Without --keep-cache every open drops the page cache, so each read goes
 * to the daemon (as bundle.pem does in trustfs); with it, reads after the
 * first come from the page cache and only open and close reach the daemon.
 * With --link, /bundle.pem is a symbolic link to DATAFILE (an absolute
 * path) with hour-long entry timeouts and the kernel caching the link's
 * target: the floor of trustfs's design, where a warm open never reaches
 * the daemon.  (libfuse's passthrough_hp example is the usual FUSE floor;
 * Debian does not package libfuse's examples, hence this program.)
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *data;
static size_t data_len;
static int keep_cache;
static char *link_target;	/* --link: DATAFILE's absolute path */
static const char *name = "bundle.pem";

static void *
hello_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	if (link_target != NULL) {
		cfg->entry_timeout = 3600;
		if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
			conn->want |= FUSE_CAP_CACHE_SYMLINKS;
		return NULL;
	}
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 1.0;
	return NULL;
}

static int
hello_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (path[0] == '/' && strcmp(path + 1, name) == 0 &&
	    link_target != NULL) {
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(link_target);
		return 0;
	}
	if (path[0] == '/' && strcmp(path + 1, name) == 0) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)data_len;
		return 0;
	}
	return -ENOENT;
}

static int
hello_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
    off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	filler(buf, name, NULL, 0, 0);
	return 0;
}

static int
hello_open(const char *path, struct fuse_file_info *fi)
{
	if (path[0] != '/' || strcmp(path + 1, name) != 0)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	fi->keep_cache = keep_cache;
	return 0;
}

static int
hello_read(const char *path, char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	if (off < 0 || (size_t)off >= data_len)
		return 0;
	if (size > data_len - (size_t)off)
		size = data_len - (size_t)off;
	memcpy(buf, data + off, size);
	return (int)size;
}

static int
hello_readlink(const char *path, char *buf, size_t size)
{
	if (link_target == NULL || path[0] != '/' ||
	    strcmp(path + 1, name) != 0)
		return -EINVAL;
	snprintf(buf, size, "%s", link_target);
	return 0;
}

static const struct fuse_operations hello_ops = {
	.init = hello_init,
	.getattr = hello_getattr,
	.readlink = hello_readlink,
	.readdir = hello_readdir,
	.open = hello_open,
	.read = hello_read,
};

static int
load(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	data_len = (size_t)n;
	if ((data = malloc(data_len + 1)) == NULL)
		goto out;
	if (fread(data, 1, data_len, f) != data_len)
		goto out;
	rc = 0;
out:
	fclose(f);
	return rc;
}

int
main(int argc, char *argv[])
{
	const char *datafile = argc > 1 ? argv[1] : NULL;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_hello DATAFILE [--keep-cache | "
		    "--link] MOUNTPOINT [FUSE OPTIONS]\n");
		return 2;
	}
	if (load(argv[1]) != 0) {
		perror(argv[1]);
		return 1;
	}
	/* Drop DATAFILE (and --keep-cache) from what fuse_main parses. */
	argv[1] = argv[0];
	argv++;
	argc--;
	if (argc > 1 && strcmp(argv[1], "--keep-cache") == 0) {
		keep_cache = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "--link") == 0) {
		link_target = realpath(datafile, NULL);
		if (link_target == NULL) {
			perror(datafile);
			free(data);
			return 1;
		}
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	rc = fuse_main(argc, argv, &hello_ops, NULL);
	free(link_target);
	free(data);
	return rc;
}
