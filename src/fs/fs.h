/* The trustfs daemon: shared state of the file system. */
#ifndef TRUSTFS_FS_H
#define TRUSTFS_FS_H

#define FUSE_USE_VERSION 35

#include <fuse.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "buf.h"
#include "entry.h"
#include "store.h"

/* A file being written, or a temporary name (sed -i, Ansible) that lives
 * in memory until it is renamed over a real entry. */
struct staged {
	struct staged *next;
	int db;			/* enum store_db, -1 for a top-level file,
				 * STAGED_TOP for a top-level temporary */
	char name[256];		/* as the user wrote it */
	struct buf data;
	time_t mtime;
	int opens;		/* open handles */
	int dirty;		/* changed since the last flush */
	int written;		/* write() or truncate() since the last flush */
	int temp;		/* a temporary name: kept until renamed/removed */
	int unlinked;		/* removed while open */
	int too_big;		/* a write went past the limit: store nothing */
	int error;		/* the last flush's failure, told to every close */
};

/* bundle.pem and certs/, built once per store generation. */
struct certs_ent {
	char name[16];		/* HASH.N */
	size_t off, len;	/* its PEM within bundle */
};

struct snapshot {
	int refs;
	uint64_t gen;
	time_t mtime;
	struct buf bundle;
	struct certs_ent *ents;	/* sorted by name */
	size_t n;
};

struct fs {
	struct store *st;
	char *store_dir;
	unsigned store_flags;
	int foreground;
	uid_t uid;		/* owner shown on every file */
	gid_t gid;
	int group_write;	/* --group: group may change the trust store */
	pthread_mutex_t lock;	/* staged list and views */
	struct staged *staged;
	struct snapshot *views;
	uint64_t bundle_open_gen;	/* views generation last opened */
	char audit_max[24];	/* --audit-max, saved in the store at mount */
	unsigned long long first_use_at_mount;	/* TOFU counters then */
	unsigned long long mismatch_at_mount;
};

/* Which part of the mount a path names. */
enum node_type {
	NODE_TOP,		/* "/" */
	NODE_DBDIR,		/* pinned/, roots/, ... */
	NODE_ENTRY,		/* pinned/HOST_PORT, roots/LABEL.pem, ... */
	NODE_CERTSDIR,		/* certs/ */
	NODE_CERTSFILE,		/* certs/HASH.N */
	NODE_FILE,		/* bundle.pem, import, ... */
	NODE_TOPTEMP		/* a temporary file at the top (sed -i policy) */
};

/* The staged-file "database" of temporary files at the top level. */
#define STAGED_TOP (-2)

enum special_file {
	SPECIAL_BUNDLE,
	SPECIAL_IMPORT,
	SPECIAL_POLICY,
	SPECIAL_AUDIT,
	SPECIAL_STATUS,
	SPECIAL_METRICS,
	SPECIAL_NFILES
};

struct node {
	enum node_type type;
	enum store_db db;	/* NODE_DBDIR, NODE_ENTRY */
	enum special_file file;	/* NODE_FILE */
	const char *name;	/* entry or certs/ file name, inside the path */
};

struct fs *fs_get(void);
int fs_route(const char *path, struct node *n);
void fs_actor(struct entry_actor *who, char *comm, size_t commlen);

/* log.c: stderr in the foreground, syslog once daemonized. */
void fs_log_init(int foreground);
void fs_log(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Records a refused change in audit.log and the log. */
void fs_refuse(const char *action, const char *path, int err,
    const char *why);

/* files.c: entries and what is written to them. */
int fs_entry_getattr(struct fs *fs, const struct node *n, struct stat *st);
int fs_entry_readdir(struct fs *fs, enum store_db db, void *buf,
    fuse_fill_dir_t filler);
void fs_top_readdir(struct fs *fs, void *buf, fuse_fill_dir_t filler);

/* The FUSE operations in files.c. */
int fs_unlink(const char *path);
int fs_rename(const char *from, const char *to, unsigned int flags);
int fs_open(const char *path, struct fuse_file_info *fi);
int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_read(const char *path, char *buf, size_t size, off_t off,
    struct fuse_file_info *fi);
int fs_write(const char *path, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi);
int fs_flush(const char *path, struct fuse_file_info *fi);
int fs_release(const char *path, struct fuse_file_info *fi);
int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi);

/* views.c: bundle.pem, certs/ and the other top-level files. */
struct snapshot *views_get(struct fs *fs);	/* referenced; NULL on error */
void views_put(struct fs *fs, struct snapshot *s);
const struct certs_ent *views_find(const struct snapshot *s,
    const char *name);
const char *special_name(enum special_file f);
int special_lookup(const char *name, enum special_file *f);
int special_getattr(struct fs *fs, enum special_file f, struct stat *st);
/* The content a reader of a top-level file sees. */
int special_render(struct fs *fs, enum special_file f, struct buf *out);
int special_writable(enum special_file f);
/* A top-level file was written and closed. */
int special_commit(struct fs *fs, enum special_file f, const char *data,
    size_t len);

extern const struct fuse_operations fs_file_ops;

/* report.c: status and metrics. */
int report_status(struct fs *fs, struct buf *out);
int report_metrics(struct fs *fs, struct buf *out);
void report_mounted(struct fs *fs);	/* note the counters at mount */

/* One place that turns store and library failures into errno. */
int fs_errno(int rc);

#endif
