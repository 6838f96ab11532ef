/*
 * bundle.pem and certs/ as real files in the store directory, shown in the
 * mount as symbolic links the kernel caches (viewfiles.c), and the
 * kernel's cache kept true when the store changes.
 */
#ifndef TRUSTFS_VIEWFILES_H
#define TRUSTFS_VIEWFILES_H

#include <sys/stat.h>

#include "fs.h"

/* Where a snapshot's certs/ files go while it is built (certs.c). */
struct views_sink {
	/* e's PEM is s->bundle at e->off, e->len (e->sha256 and e->crl
	 * set); the sink may take it out of the buffer. */
	int (*file)(void *arg, struct snapshot *s, struct certs_ent *e);
	/* Every root is in s->bundle: the CRLs come next. */
	int (*roots_done)(void *arg, struct snapshot *s);
	void *arg;
};

/* certs.c: a CRL in PEM. */
int views_crl_pem(struct buf *out, const unsigned char *der, size_t len);
/* certs.c: a snapshot of roots/ and crls/; with a sink, as files. */
int views_build(struct fs *fs, uint64_t gen, const struct views_sink *sink,
    struct snapshot **out);

/*
 * At init: the views directory, the first snapshot written as files, and
 * the threads that follow the store and prune the kernel's names.  When
 * the files cannot serve every reader (-s, --views memory, a read-only
 * store, -o allow_other with a directory others cannot search, a failed
 * write), nothing is started and fs->vf stays NULL: the views are served
 * from memory through FUSE.
 */
void views_start(struct fs *fs, struct fuse *fuse);
/* At destroy: the threads stopped, this mount's files removed. */
void views_stop(struct fs *fs);
/*
 * After an operation through the mount that may have changed the store (a
 * close, unlink, rename): the views and the kernel's cache follow; with
 * wait, before this returns (not for a rename at the top, which holds
 * the top directory's lock that dropping names there takes).  prune: the
 * kernel drops its names of the store directories even if the store did
 * not change (a refused close leaves a name the kernel created).  Cheap
 * when nothing changed.
 */
void views_changed(struct fs *fs, int wait, int prune);
/* The readlink operation: bundle.pem, certs/HASH.N. */
int views_readlink(const char *path, char *buf, size_t size);
/* What stat shows for bundle.pem (name NULL) or certs/NAME when the
 * views are files: 1 with st filled, -ENOENT, or 0 when they are not. */
int views_link_stat(struct fs *fs, const char *name, struct stat *st);

/*
 * The kernel caches names for an hour (fs_init); whoever changes an entry
 * as a side effect of another operation calls this.  The entry's
 * attributes are dropped at once; the names of the store directories
 * moments later, by the pruner thread (a handler may hold a lock that
 * dropping names needs; every change to the store prunes them anyway).
 * Any thread, no lock held.
 */
void fs_invalidate_entry(struct fs *fs, const char *dir, const char *name);

/* viewdir.c: the files of the views directory. */
/* A certs/ entry's file: SHA256.pem, SHA256.r.pem for a CRL. */
void views_file_name(const struct certs_ent *e, char *out, size_t len);
/* 0 if name is such a file's name, with its SHA-256 and kind. */
int views_parse_file(const char *name, unsigned char sha256[32], int *crl);
int views_write_all(int fd, const char *p, size_t len);
/* A temporary file in dir (.tmp.XXXXXX): its descriptor, its path in tmp;
 * or -errno. */
int views_temp(const char *dir, char *tmp, size_t len);
/* Closes fd, written with result rc, and renames it to dir/name, 0444;
 * removes it instead on any failure.  0 or -errno. */
int views_commit_temp(int fd, const char *tmp, const char *dir,
    const char *name, int rc);
/*
 * certs/ entry e's file in cdir, written from the store if it is not
 * there yet (the first readlink of a name: a mount at 100,000 roots does
 * not write 100,000 files, nor does any rebuild).  0, -ENOENT if the
 * store no longer holds it, or -errno.
 */
int views_materialize(struct fs *fs, const char *cdir,
    const struct certs_ent *e);
/* Removes from vdir and cdir what s does not use: older bundles,
 * certificates of no root any more, a failed build's temporary (those
 * of c/ are readers' files being written: kept). */
void views_gc(const char *vdir, const char *cdir, const struct snapshot *s);
/* Removes a views directory: its files, c/, itself. */
void views_remove_dir(const char *dir);
/* Removes the directories under base of daemons that are gone (killed:
 * their lock is free). */
void views_remove_stale(const char *base);
/*
 * -o allow_other: every user the mount lets in must reach the files.  The
 * store directory (ours) gets the search bit for others; a directory
 * above it that others cannot search means the links would not work for
 * them: 0 if they can reach it, else -EACCES.
 */
int views_reachable(struct fs *fs);

#endif
