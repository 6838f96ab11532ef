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

/* certs.c: a snapshot of roots/ and crls/; with a sink, as files. */
int views_build(struct fs *fs, uint64_t gen, const struct views_sink *sink,
    struct snapshot **out);

/*
 * At init: the views directory, the first snapshot written as files, and
 * the thread that follows the store.  When the files cannot serve every
 * reader (a read-only store, -o allow_other with a directory others
 * cannot search), nothing is started and fs->vf stays NULL: the views are
 * served from memory as before.
 */
void views_start(struct fs *fs, struct fuse *fuse);
/* At destroy: the thread stopped, this mount's files removed. */
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
 * The kernel caches names for a long time (fs_init); whoever changes an
 * entry as a side effect of another operation calls this.  The entry's
 * attributes are dropped at once; the names of the store directories
 * shortly after, by the views thread (a handler may hold a lock that
 * dropping names needs).  Any thread, no lock held.
 */
void fs_invalidate_entry(struct fs *fs, const char *dir, const char *name);

#endif
