/*
 * The trustfs daemon: shared state of the file system.
 *
 * Files, one concern each:
 *   main.c     options, the store, fuse_new, signals, mount, loop, stop
 *   route.c    which part of the mount a path names; the operation table
 *   perm.c     who may change the store, refusals and their audit lines,
 *              and the operations that are always refused
 *   staged.c   files being written: the staged list, handles, commits
 *   io.c       open, create, read, write, flush, release, truncate
 *   early.c    what a write() can be refused for before the close
 *   entries.c  pinned/, rejected/, roots/, distrusted/, chains/
 *   certs.c    bundle.pem and certs/: snapshots of roots/
 *   viewfiles.c  the snapshots as files in STORE/views behind cached
 *              links, and the thread that keeps them and the kernel's
 *              cache current (viewfiles.h); viewdir.c their directory
 *   top.c      the top-level files: policy, import, status, metrics,
 *              audit.log, and temporaries renamed over them
 *   report.c   the text of status and metrics
 *   xattr.c    user.trustfs.* extended attributes
 *   log.c      messages, and the one errno mapper
 */
#ifndef TRUSTFS_FS_H
#define TRUSTFS_FS_H

/* 3.12: the loop configuration main.c hands fuse_loop_mt (libfuse 3.14 in
 * Debian 12); see main(). */
#define FUSE_USE_VERSION 312

#include <fuse.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "buf.h"
#include "entry.h"
#include "error.h"
#include "store.h"
#include "sync.h"

/* A file being written, or a temporary name (sed -i, Ansible) that lives
 * in memory until it is renamed over a real entry. */
struct staged {
	struct staged *next;
	int db;			/* enum store_db, -1 for a top-level file,
				 * STAGED_TOP for a top-level temporary */
	char name[256];		/* as the user wrote it */
	struct buf data;
	time_t mtime;
	int opens;		/* open handles, and commits in progress */
	int dirty;		/* changed since the last commit */
	int written;		/* write() or truncate() since the last commit */
	int temp;		/* a temporary name: kept until renamed/removed */
	int unlinked;		/* removed while open */
	int too_big;		/* a write went past the limit: store nothing */
	pid_t writer;		/* thread group of the latest writer: only it
				 * reads what is not yet committed */
	int error;		/* the last commit's failure, told to every close */
	int busy;		/* a commit reads data without fs->lock: nobody
				 * changes data, name or db until it clears */
	int replace;		/* opened with O_TRUNC over a stored entry: the
				 * close replaces it (cp over an entry) */
	int refused;		/* a write() was refused (-errno): later writes
				 * fail too and nothing is stored */
	int defer;		/* written out of order: only the close judges */
	size_t checked;		/* bytes judged at write() (early.c) */
	size_t checked_lines;	/* lines in them */
	size_t append_from;	/* O_APPEND to a pin: where what is appended
				 * starts (the pin's text before it); 0: no
				 * append (issue 14, io.c) */
};

/* An open file. */
struct handle {
	struct handle *prev, *next;	/* fs->handles: freed at a stop */
	struct snapshot *snap;	/* bundle.pem, certs/HASH.N */
	const char *data;	/* what a reader reads */
	size_t len;
	struct buf own;		/* rendered content owned by this handle */
	struct staged *stg;	/* writers */
	pid_t owner;		/* thread group that opened it: only its
				 * close commits (a forked child's does not) */
};

/* bundle.pem and certs/, built once per store generation. */
struct certs_ent {
	char name[16];		/* HASH.N */
	size_t off, len;	/* its PEM within bundle */
	unsigned char sha256[32];	/* of its DER: its file (viewfiles.c) */
	int crl;		/* HASH.rN */
};

struct snapshot {
	int refs;
	uint64_t gen;
	time_t mtime;
	struct buf bundle;
	struct certs_ent *ents;	/* sorted by name */
	size_t n;
	int links;		/* as files (viewfiles.c): bundle and the
				 * ents' off/len are empty */
	char bundle_file[40];	/* links: bundle.pem's file */
};

/*
 * Locks.  The daemon's mutex and the store's locks are never held
 * together, in either order:
 *
 *   1. fs->lock, the daemon's mutex.  It guards bookkeeping only: the
 *      staged list and every field of a struct staged, the handle list,
 *      the views pointer and snapshot reference counts.
 *      It is NEVER held while parsing, while a store transaction is open,
 *      or while calling store_write (which waits on LMDB's writer lock and
 *      on map growth).  Whoever needs the store copies what it needs under
 *      the lock, drops it, then opens the transaction.
 *   2. The store's own locks (store.c: the map-growth rwlock, then LMDB's
 *      writer lock), held by an open transaction or inside store_write.
 *      A thread that holds them takes fs->lock only after closing its
 *      transaction (readdir copies the staged names first, then reads).
 *
 * The commit of one staged file is serialized by its `busy' flag, set and
 * cleared under fs->lock: the committer parses and calls store_write with
 * the lock released, and anybody who would change that file (write,
 * truncate, O_TRUNC, another close, a rename) waits on fs->idle, which
 * releases the lock while it waits.  A thread never waits on fs->idle while
 * it holds a transaction.
 */
struct fs {
	struct store *st;
	char *store_dir;
	unsigned store_flags;
	int foreground;
	int ro;			/* -o ro: every change is EROFS (and audited) */
	uid_t uid;		/* owner shown on every file */
	gid_t gid;
	int group_write;	/* --group: group may change the trust store */
	pthread_mutex_t lock;	/* bookkeeping: see above */
	pthread_cond_t idle;	/* a staged file's commit ended */
	struct staged *staged;
	struct handle *handles;
	struct snapshot *views;
	char audit_max[24];	/* --audit-max, saved in the store at mount */
	unsigned long long first_use_at_mount;	/* TOFU counters then */
	unsigned long long mismatch_at_mount;
	/* status's roots failing the strict rules, for store generation
	 * strict_gen (the rules run on every root: once per change, not once
	 * per read of status).  Under fs->lock. */
	struct buf strict_lines;
	int strict_n;		/* -1: none yet */
	uint64_t strict_gen;
	struct viewfiles *vf;	/* bundle.pem and certs/ as files, NULL: in
				 * memory (viewfiles.c) */
	int singlethread;	/* -s */
	int allow_other;	/* -o allow_other */
	int views_memory;	/* -o views=memory: no files (viewfiles.c) */
	struct p12_view *p12;	/* truststore.p12 (p12.c); ref under lock */
	struct sync_opts cluster;	/* --cluster...: the fleet (issue 11) */
	struct sync *sync;	/* running when cluster.urls is set */
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

/* route.c */
int fs_route(const char *path, struct node *n);
/* The name a node's entry is kept under (HOST_PORT, LABEL.pem, or a
 * temporary name as written; *temp says which).  0 or -errno, e says why. */
int fs_key_name(const struct node *n, char *out, size_t outlen, int *temp,
    struct tf_error *e);
int fs_node_db(const struct node *n);	/* the staged "database" */
size_t fs_input_limit(int db);
void fs_file_stat(struct fs *fs, struct stat *st, off_t size, time_t mtime,
    int writable);
void fs_dir_stat(struct fs *fs, struct stat *st, int writable, time_t mtime);
extern const struct fuse_operations fs_ops;

/* log.c: stderr in the foreground, syslog once daemonized. */
void fs_log_init(int foreground);
void fs_log(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The one place that turns store and library failures into the errno a
 * FUSE handler returns.  0 for rc >= 0. */
int fs_errno(int rc);

/* perm.c */
/* Who is calling, for audit.log; comm is filled in. */
void fs_actor(struct entry_actor *who, char *comm, size_t commlen);
/* The thread group of the caller (its pid may be a thread id). */
pid_t fs_caller_tgid(void);
/* 0 if the caller may change the store; else -EROFS (-o ro) or -EACCES,
 * refused and audited as `action' on `path'. */
int fs_may_change(struct fs *fs, const char *action, const char *path);
/* Records a refused change in audit.log and the log.  Never call it with
 * fs->lock held or a transaction open. */
void fs_refuse(const char *action, const char *path, int err,
    const char *why);
/* A close's add that failed with rc: refused and audited when the close
 * commits, logged only when it just checks (the opener's close decides). */
void fs_add_refused(const char *path, int rc, int commit, const char *why);
/* Records a change that is not made (a discarded write). */
void fs_audit_note(const char *action, const char *path, const char *why);
int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_chown(const char *path, uid_t uid, gid_t gid,
    struct fuse_file_info *fi);
int fs_utimens(const char *path, const struct timespec tv[2],
    struct fuse_file_info *fi);
int fs_setxattr(const char *path, const char *name, const char *value,
    size_t size, int flags);
int fs_removexattr(const char *path, const char *name);
int fs_link(const char *from, const char *to);
int fs_symlink(const char *from, const char *to);
int fs_mknod(const char *path, mode_t mode, dev_t dev);
int fs_mkdir(const char *path, mode_t mode);
int fs_rmdir(const char *path);

/* staged.c: call with fs->lock held unless said otherwise. */
struct staged *staged_find(struct fs *fs, int db, const char *name);
struct staged *staged_new(struct fs *fs, int db, const char *name, int temp);
void staged_drop(struct fs *fs, struct staged *s);
void staged_wait(struct fs *fs, struct staged *s);	/* until !busy */
void staged_done(struct fs *fs, struct staged *s);	/* busy = 0, wake */
int staged_resize(struct staged *s, size_t len);
/* Releases one open (or commit) reference; frees the file when it was the
 * last and the file is not a temporary.  Returns 1 if data written since
 * the last commit was thrown away with it. */
int staged_unref(struct fs *fs, struct staged *s);
/* Names of the staged files of a directory, copied (fs->lock taken and
 * released inside).  Free with staged_names_free. */
int staged_names(struct fs *fs, int db, char ***names, size_t *n);
void staged_names_free(char **names, size_t n);
int handle_new(struct fs *fs, struct fuse_file_info *fi,
    struct handle **out);
struct handle *handle_of(struct fuse_file_info *fi);
void handle_free(struct fs *fs, struct handle *h);	/* takes fs->lock */
void staged_free_all(struct fs *fs);	/* at a stop: no threads left */
/*
 * A writer's open: a new handle on the staged file db/name, made from
 * *init (taken, left empty) when there is none; trunc empties one that is
 * there once no check is running on it.  replace: what the close stores
 * replaces an entry.  Takes fs->lock; 0 or a negative errno.
 */
int staged_open(struct fs *fs, int db, const char *name, int temp, int trunc,
    int must_exist, int replace, struct buf *init, struct fuse_file_info *fi);
/* Appends the stored text of `name' to out, with fs->lock released. */
typedef int (*staged_render_fn)(struct fs *fs, const void *arg,
    const char *name, struct buf *out);
/*
 * A reader's open: a handle holding a copy of the staged file db/name
 * when look is set and there is one, else what render makes (-ENOENT for
 * a temporary).  Takes fs->lock; 0 or a negative errno.
 */
int staged_open_reader(struct fs *fs, int db, const char *name, int temp,
    int look, staged_render_fn render, const void *arg,
    struct fuse_file_info *fi);
/* Parses and stores (or checks) what a staged file holds. */
typedef int (*staged_commit_fn)(struct fs *fs, const void *arg,
    const char *data, size_t len);
/* fn on what s holds, with s busy and fs->lock released meanwhile (a
 * close's parse and store); called and returns with fs->lock held and an
 * open of s held.  fn's result. */
int staged_run(struct fs *fs, struct staged *s, staged_commit_fn fn,
    const void *arg);
/*
 * A temporary renamed over a real name: fn stores what s holds, with
 * fs->lock released while s is busy, and s is dropped once it is stored.
 * Called and returns with fs->lock held and an open of s held; fn's
 * result.
 */
int staged_commit_renamed(struct fs *fs, struct staged *s,
    staged_commit_fn fn, const void *arg);

/* io.c: the operations on open files. */
int fs_open(const char *path, struct fuse_file_info *fi);
int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_read(const char *path, char *buf, size_t size, off_t off,
    struct fuse_file_info *fi);
int fs_write(const char *path, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi);
int fs_flush(const char *path, struct fuse_file_info *fi);
int fs_release(const char *path, struct fuse_file_info *fi);
int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi);

/* early.c: judging data at write(), before the close. */
enum { EARLY_NONE, EARLY_POLICY, EARLY_CERTS };
/* Which check a staged file's writes get. */
int early_kind(int db, const char *name, int temp);
/* Judges data[*checked..len) as far as it is complete; advances *checked
 * and *lines past what passed.  0, or -EINVAL/-EFBIG with e saying why.
 * Call with fs->lock released and the file busy. */
int early_check(int kind, int db, const char *data, size_t len,
    size_t *checked, size_t *lines, struct tf_error *e);

/* entries.c: the five store directories. */
int entry_getattr(struct fs *fs, const struct node *n, struct stat *st);
int entry_readdir(struct fs *fs, enum store_db db, void *buf,
    fuse_fill_dir_t filler);
int entry_read(struct fs *fs, enum store_db db, const char *name,
    struct buf *out, time_t *mtime);
/* Parses data and stores it as db/name; refusals are audited. */
int entry_commit(struct fs *fs, const char *path, enum store_db db,
    const char *name, const char *data, size_t len, unsigned flags);
/* The same rules without storing anything: what a close that does not
 * commit (a forked child's) tells its caller.  Logged, not audited. */
int entry_check(struct fs *fs, const char *path, enum store_db db,
    const char *name, const char *data, size_t len, unsigned flags);
int fs_unlink(const char *path);
int fs_rename(const char *from, const char *to, unsigned int flags);

/* certs.c: bundle.pem and certs/. */
/* The current snapshot, referenced (views_put drops it): 0 or -errno. */
int views_get(struct fs *fs, struct snapshot **out);
void views_put(struct fs *fs, struct snapshot *s);
const struct certs_ent *views_find(const struct snapshot *s,
    const char *name);
int certs_getattr(struct fs *fs, const struct node *n, struct stat *st);
int certs_readdir(struct fs *fs, void *buf, fuse_fill_dir_t filler,
    enum fuse_readdir_flags flags);

/* top.c: the top-level files. */
const char *special_name(enum special_file f);
int special_lookup(const char *name, enum special_file *f);
int special_getattr(struct fs *fs, enum special_file f, struct stat *st);
/* The content a reader of a top-level file sees. */
int special_render(struct fs *fs, enum special_file f, struct buf *out);
int special_writable(enum special_file f);
/* A top-level file was written and closed. */
int special_commit(struct fs *fs, enum special_file f, const char *data,
    size_t len);
/* Whether what was written would be accepted, without saving it. */
int special_check(struct fs *fs, enum special_file f, const char *data,
    size_t len);
void top_readdir(struct fs *fs, void *buf, fuse_fill_dir_t filler);
/* A top-level temporary renamed over policy or import. */
int top_rename(struct fs *fs, const char *from, const struct node *nf,
    const struct node *nt);

/* report.c: status and metrics. */
int report_status(struct fs *fs, struct buf *out);
int report_metrics(struct fs *fs, struct buf *out);
void report_mounted(struct fs *fs);	/* note the counters at mount */

/* xattr.c */
int fs_getxattr(const char *path, const char *attr, char *value,
    size_t size);
int fs_listxattr(const char *path, char *list, size_t size);

/* sources.c: MOUNT/sources, edited like policy (route.c hands it over). */
#define STAGED_SOURCES (-4)	/* its staged-file "database" */
int sources_path(const char *path);	/* 1 for "/sources" */
int sources_handle(struct fuse_file_info *fi);	/* an open writer of it */
int sources_getattr(struct stat *st);
int sources_open(const char *path, struct fuse_file_info *fi);
int sources_flush(const char *path, struct fuse_file_info *fi);
int sources_truncate(const char *path, off_t size, struct fuse_file_info *fi);
int sources_unlink(const char *path);
int sources_rename(const char *from, const char *to, unsigned int flags);
/* status (metrics == 0) or metrics lines for the sources (report.c). */
int sources_report(struct fs *fs, int metrics, struct buf *out);

/* p12.c: truststore.p12, roots/ as a Java PKCS#12 trust store. */
int p12_path(const char *path);		/* 1 for /truststore.p12 */
int p12_getattr(struct stat *st);
int p12_open(const char *path, struct fuse_file_info *fi);
void p12_top_readdir(void *buf, fuse_fill_dir_t filler);
void p12_stop(struct fs *fs);		/* at a stop: frees the view */

/* p11kit.c: p11-kit/ (anchors -> ../roots, blocklist -> ../distrusted),
 * the layout p11-kit's trust module loads. */
int p11kit_path(const char *path);	/* 1 for /p11-kit and inside it */
int p11kit_getattr(const char *path, struct stat *st);
int p11kit_readdir(const char *path, void *buf, fuse_fill_dir_t filler);
int p11kit_readlink(const char *path, char *buf, size_t size);
int p11kit_open(const char *path, struct fuse_file_info *fi);
void p11kit_top_readdir(void *buf, fuse_fill_dir_t filler);
/* A change to truststore.p12 or p11-kit/: -EROFS after the rights checks,
 * audited (-ENOENT when must_exist and there is nothing). */
int rov_refuse(const char *action, const char *path, int must_exist);

#endif
