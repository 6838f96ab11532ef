/*
 * bundle.pem and certs/ as real files.
 *
 * The daemon writes the views into STORE/views/m.XXXXXX/ (one directory
 * per running daemon, locked with flock while it runs): bundle.SEQ.pem, a
 * new name for every change, and c/SHA256.pem (c/SHA256.r.pem for a CRL),
 * one file per certificate named by its content, written when its name
 * is first read (views_materialize: a mount at 100,000 roots writes one
 * file, not 100,001).  Each is written under a temporary name and renamed
 * into place, and a name never gets other bytes: a reader that opened one
 * reads it whole, and the page cache of a name can never hold another
 * version.  The mount shows bundle.pem
 * and certs/HASH.N as symbolic links to them, which the kernel caches
 * (long entry timeouts, FUSE_CAP_CACHE_SYMLINKS): a warm open + read +
 * close of bundle.pem never reaches the daemon.
 *
 * One thread follows the store: woken by inotify on data.mdb (every
 * commit, from any process), by the mount's own changes (views_changed),
 * and once a second in any case.  When the store generation moved it
 * compares what the views depend on (store_roots_gen: roots/ and
 * distrusted/; the CRLs' bytes), rebuilds only when that changed (a pin's
 * sighting does not), swaps the snapshot in, and tells the kernel: the
 * links' cached targets, and the cached names of certs/ and of the store
 * directories (another process may have removed an entry).  The files of
 * older snapshots are removed VIEWS_GRACE seconds after the last swap (an
 * open file stays readable after its unlink).
 *
 * Permissions: the views hold public certificates only.  The directories
 * are 0755 and the files 0444; with -o allow_other the store directory
 * gets the search bit for others (0711: the LMDB files stay 0600) so that
 * every reader the mount lets in can follow the links.  When a directory
 * above the store is not searchable, or the store is read-only, the views
 * are served from memory through FUSE instead (certs.c, io.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fs.h"
#include "viewfiles.h"

#include <fuse_lowlevel.h>

#define VIEWS_GRACE 2		/* seconds old files outlive a swap */
#define VIEWS_FLUSH (1 << 20)	/* bundle bytes buffered before a write */
#define VIEWS_WAIT 10		/* seconds a change waits for the thread */

struct viewfiles {
	char *dir;		/* STORE/views/m.XXXXXX */
	char *cdir;		/* dir/c */
	int lockfd, evfd, infd;
	int wd_dir, wd_c;	/* inotify: someone writing our files */
	struct fuse *fuse;
	pthread_t thread, pruner;
	int started, pruner_started;
	unsigned long seq;	/* the last bundle.SEQ.pem */
	/* Only the thread (and views_start before it) touches these. */
	uint64_t seen_gen;	/* store generation last looked at */
	uint64_t roots_gen;	/* store_roots_gen of fs->views */
	unsigned char crl_sum[32];
	time_t gc_at;		/* 0: nothing to remove */
	/* Under mu. */
	pthread_mutex_t mu;
	pthread_cond_t done, prune_cv;
	int stop;
	unsigned long prunes_asked, prunes_done;	/* the pruner's work */
	unsigned long asked, served;
	uint64_t done_gen;	/* the generation the views and the kernel
				 * follow */
};

/* The build of one snapshot as files (struct views_sink). */
struct sink_ctx {
	struct viewfiles *vf;
	int bfd;		/* the bundle's temporary file */
};

static int
sink_file(void *arg, struct snapshot *s, struct certs_ent *e)
{
	struct sink_ctx *k = arg;
	int rc = 0;

	/* Its own file waits for the first reader (views_readlink). */
	if (e->crl)	/* not part of bundle.pem */
		s->bundle.len = e->off;
	else if (s->bundle.len >= VIEWS_FLUSH) {
		rc = views_write_all(k->bfd, s->bundle.data, s->bundle.len);
		buf_reset(&s->bundle);
	}
	e->off = e->len = 0;
	return rc;
}

static int
sink_roots_done(void *arg, struct snapshot *s)
{
	struct sink_ctx *k = arg;
	int rc;

	rc = views_write_all(k->bfd, s->bundle.data, s->bundle.len);
	buf_reset(&s->bundle);
	return rc;
}

/* A snapshot of the store as files; 0 or -errno. */
static int
build_files(struct fs *fs, struct viewfiles *vf, uint64_t gen,
    struct snapshot **out)
{
	struct sink_ctx k = { vf, -1 };
	struct views_sink sink = { sink_file, sink_roots_done, &k };
	char tmp[4096], name[40];
	struct snapshot *s = NULL;
	int rc;

	*out = NULL;
	k.bfd = views_temp(vf->dir, tmp, sizeof(tmp));
	if (k.bfd < 0)
		return k.bfd;
	rc = views_build(fs, gen, &sink, &s);
	snprintf(name, sizeof(name), "bundle.%lu.pem", vf->seq + 1);
	rc = views_commit_temp(k.bfd, tmp, vf->dir, name, rc);
	if (rc != 0) {
		if (s != NULL) {
			s->refs = 1;
			views_put(fs, s);
		}
		return rc;
	}
	vf->seq++;
	s->refs = 1;	/* fs->views's */
	buf_free(&s->bundle);
	s->bundle.len = 0;
	s->links = 1;
	snprintf(s->bundle_file, sizeof(s->bundle_file), "%s", name);
	*out = s;
	return 0;
}

/* What the views depend on: roots/ and distrusted/ (store_roots_gen) and
 * the CRLs' bytes.  0 or -errno. */
struct crl_sum_ctx {
	EVP_MD_CTX *md;
	int rc;
};

static int
crl_sum_cb(const char *name, const struct store_crl *c, void *arg)
{
	struct crl_sum_ctx *k = arg;

	if (EVP_DigestUpdate(k->md, name, strlen(name) + 1) != 1 ||
	    EVP_DigestUpdate(k->md, c->der, c->der_len) != 1) {
		k->rc = -ENOMEM;
		return 1;
	}
	return 0;
}

static int
views_key(struct fs *fs, uint64_t *gen, uint64_t *roots_gen,
    unsigned char sum[32])
{
	struct crl_sum_ctx k = { EVP_MD_CTX_new(), 0 };
	struct store_txn *txn = NULL;
	int rc;

	if (k.md == NULL || EVP_DigestInit_ex(k.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(k.md);
		return -ENOMEM;
	}
	rc = store_txn_begin(fs->st, 0, &txn, NULL);
	if (rc == 0) {
		*gen = store_txn_generation(txn);
		*roots_gen = store_roots_gen(txn);
		rc = store_crl_foreach(txn, crl_sum_cb, &k);
		if (rc > 0)
			rc = k.rc;
	}
	store_txn_abort(txn);
	if (rc == 0 && EVP_DigestFinal_ex(k.md, sum, NULL) != 1)
		rc = -ENOMEM;
	EVP_MD_CTX_free(k.md);
	return rc;
}

static void
inval_top(struct viewfiles *vf, const char *name)
{
	(void)fuse_lowlevel_notify_inval_entry(fuse_get_session(vf->fuse),
	    FUSE_ROOT_ID, name, strlen(name));
}

/*
 * The pruner thread: the kernel forgets the names it holds in certs/ and
 * the store directories (one may have gone behind its back: another
 * process, or a side effect such as a distrust taking a root out of
 * roots/).  Dropping a name takes the lock of the directory above it, the
 * top one here, which a process may hold while it waits for the daemon:
 * so the views thread never waits for this one.  A refused close does
 * (views_changed), for a moment: that process gets a worker thread.
 * Returns the ticket that prunes_done reaches when it is done.
 */
static unsigned long
ask_prune(struct viewfiles *vf)
{
	unsigned long ticket;

	pthread_mutex_lock(&vf->mu);
	ticket = ++vf->prunes_asked;
	pthread_cond_signal(&vf->prune_cv);
	pthread_mutex_unlock(&vf->mu);
	return ticket;
}

static void *
prune_main(void *arg)
{
	struct viewfiles *vf = arg;
	int i;

	unsigned long target;

	pthread_mutex_lock(&vf->mu);
	for (;;) {
		while (vf->prunes_done == vf->prunes_asked && !vf->stop)
			pthread_cond_wait(&vf->prune_cv, &vf->mu);
		if (vf->stop)
			break;
		target = vf->prunes_asked;
		pthread_mutex_unlock(&vf->mu);
		inval_top(vf, "certs");
		for (i = 0; i < STORE_NDBS; i++)
			inval_top(vf, entry_db_dir((enum store_db)i));
		inval_top(vf, "crls");
		pthread_mutex_lock(&vf->mu);
		vf->prunes_done = target;
		pthread_cond_broadcast(&vf->done);
	}
	pthread_mutex_unlock(&vf->mu);
	return NULL;
}

/* Tells the kernel what changed from old to s: the links' cached targets
 * (no directory lock needed); certs/'s names go by the pruner. */
static void
invalidate_views(struct viewfiles *vf, const struct snapshot *old,
    const struct snapshot *s)
{
	char path[64];
	size_t i = 0, j = 0;
	int c;

	(void)fuse_invalidate_path(vf->fuse, "/bundle.pem");
	/* Both lists are sorted by name: a name gone or pointing elsewhere
	 * has its cached target dropped. */
	while (old != NULL && i < old->n) {
		c = j < s->n ? strcmp(old->ents[i].name, s->ents[j].name) : -1;
		if (c > 0) {
			j++;
			continue;
		}
		if (c < 0 || memcmp(old->ents[i].sha256, s->ents[j].sha256,
		    32) != 0 || old->ents[i].crl != s->ents[j].crl) {
			snprintf(path, sizeof(path), "/certs/%s",
			    old->ents[i].name);
			(void)fuse_invalidate_path(vf->fuse, path);
		}
		i++;
		if (c == 0)
			j++;
	}
	/* From links to files served from memory or back: bundle.pem
	 * changes type, and the kernel must look it up again before the
	 * change is done (a rare case: a full disk). */
	if (old != NULL && old->links != s->links) {
		inval_top(vf, "bundle.pem");
		inval_top(vf, "certs");
	}
}

static void wake(struct viewfiles *vf);

/*
 * The thread's work: when the store moved, the views follow (rebuilt only
 * when what they depend on changed, or force) and the kernel is told.
 */
static void
refresh(struct fs *fs, struct viewfiles *vf, int force)
{
	struct snapshot *s, *old;
	unsigned char sum[32];
	uint64_t gen = store_generation(fs->st), rg = 0;
	int rc;

	if (gen == vf->seen_gen && !force)
		return;
	/* From here on, gen is what the key was read at (the store may be
	 * ahead: looked at again next time). */
	rc = views_key(fs, &gen, &rg, sum);
	if (rc == 0 && !force && rg == vf->roots_gen &&
	    memcmp(sum, vf->crl_sum, 32) == 0) {
		vf->seen_gen = gen;
		(void)ask_prune(vf);	/* an entry changed, not the views */
		return;
	}
	if (rc == 0)
		rc = build_files(fs, vf, gen, &s);
	if (rc != 0 && rc != -ENOMEM) {
		/* A full disk: served from memory until a build works. */
		fs_log(LOG_ERR, "writing bundle.pem and certs/ into %s: %s; "
		    "served from memory meanwhile", vf->dir, strerror(-rc));
		rc = views_build(fs, gen, NULL, &s);
		if (rc == 0)
			s->refs = 1;
	}
	if (rc != 0) {
		/* The views stay as they were; tried again next time. */
		fs_log(LOG_ERR, "building bundle.pem and certs/: %s",
		    strerror(-rc));
		return;
	}
	vf->seen_gen = gen;
	vf->roots_gen = rg;
	memcpy(vf->crl_sum, sum, 32);
	if (store_generation(fs->st) != gen)
		wake(vf);	/* a commit during the build */
	pthread_mutex_lock(&fs->lock);
	old = fs->views;
	fs->views = s;
	pthread_mutex_unlock(&fs->lock);
	invalidate_views(vf, old, s);
	(void)ask_prune(vf);
	views_put(fs, old);
	vf->gc_at = time(NULL) + VIEWS_GRACE;
}

/*
 * Someone wrote, truncated, chmod'ed or removed one of our files (root
 * can write a 0444 file through the link: `echo x > MOUNT/bundle.pem').
 * A damaged certificate file is removed, so that the rebuild writes it
 * again; the bundle gets a new name anyway.  1 if the views must be
 * rebuilt.
 */
static int
damaged(struct fs *fs, struct viewfiles *vf, const struct inotify_event *ev)
{
	unsigned char sha[32];
	struct snapshot *s;
	char path[4096];
	size_t i;
	int crl, hit = 0, gone = 0;

	if (ev->len == 0 || strncmp(ev->name, ".tmp.", 5) == 0)
		return 0;
	if (views_get(fs, &s) != 0)
		return 0;
	if (ev->wd == vf->wd_dir)
		hit = strcmp(ev->name, s->bundle_file) == 0;
	else if (views_parse_file(ev->name, sha, &crl) == 0)
		/* A certificate's file: removed, and its names dropped from
		 * the kernel's cache; the next readlink writes it again. */
		for (i = 0; i < s->n; i++) {
			if (memcmp(s->ents[i].sha256, sha, 32) != 0 ||
			    s->ents[i].crl != crl)
				continue;
			if (!hit) {
				snprintf(path, sizeof(path), "%s/%s",
				    vf->cdir, ev->name);
				gone = unlink(path) == 0;
			}
			hit = 1;
			snprintf(path, sizeof(path), "/certs/%s",
			    s->ents[i].name);
			(void)fuse_invalidate_path(vf->fuse, path);
		}
	views_put(fs, s);
	/* Once per damage: our own unlink reports too. */
	if (hit && (ev->wd == vf->wd_dir || gone))
		fs_log(LOG_WARNING, "%s/%s was changed behind trustfs's back: "
		    "written again", ev->wd == vf->wd_dir ? vf->dir :
		    vf->cdir, ev->name);
	return hit && ev->wd == vf->wd_dir;
}

/* Reads what inotify has: 1 if one of our files was damaged. */
static int
drain_inotify(struct fs *fs, struct viewfiles *vf)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;
	int hit = 0;

	while ((n = read(vf->infd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if ((ev->wd == vf->wd_dir || ev->wd == vf->wd_c) &&
			    damaged(fs, vf, ev))
				hit = 1;
		}
	return hit;
}

static void *
views_main(void *arg)
{
	struct fs *fs = arg;
	struct viewfiles *vf = fs->vf;
	struct pollfd pfd[2] = { { vf->evfd, POLLIN, 0 },
	    { vf->infd, POLLIN, 0 } };
	unsigned long target;
	uint64_t v;
	time_t now;
	int timeout, force;

	for (;;) {
		timeout = 1000;
		now = time(NULL);
		if (vf->gc_at != 0)
			timeout = vf->gc_at > now ? 1000 : 0;
		(void)poll(pfd, vf->infd >= 0 ? 2 : 1, timeout);
		if (read(vf->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			fs_log(LOG_ERR, "views: %s", strerror(errno));
		force = vf->infd >= 0 && drain_inotify(fs, vf);
		pthread_mutex_lock(&vf->mu);
		if (vf->stop) {
			pthread_mutex_unlock(&vf->mu);
			break;
		}
		target = vf->asked;
		pthread_mutex_unlock(&vf->mu);

		refresh(fs, vf, force);

		pthread_mutex_lock(&vf->mu);
		vf->served = target;
		vf->done_gen = vf->seen_gen;
		pthread_cond_broadcast(&vf->done);
		pthread_mutex_unlock(&vf->mu);
		if (vf->gc_at != 0 && time(NULL) >= vf->gc_at) {
			struct snapshot *s;

			if (views_get(fs, &s) == 0) {
				views_gc(vf->dir, vf->cdir, s);
				views_put(fs, s);
			}
			vf->gc_at = 0;
		}
	}
	return NULL;
}

static void
wake(struct viewfiles *vf)
{
	uint64_t one = 1;

	if (write(vf->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fs_log(LOG_ERR, "views: %s", strerror(errno));
}

void
views_changed(struct fs *fs, int wait, int prune)
{
	struct viewfiles *vf = fs->vf;
	unsigned long ticket, pticket;
	struct timespec until;
	uint64_t gen;

	if (vf == NULL)
		return;
	gen = store_generation(fs->st);
	pthread_mutex_lock(&vf->mu);
	if (gen == vf->done_gen && !prune) {	/* nothing new */
		pthread_mutex_unlock(&vf->mu);
		return;
	}
	ticket = ++vf->asked;
	pthread_mutex_unlock(&vf->mu);
	wake(vf);
	pticket = prune ? ask_prune(vf) : 0;
	if (!wait)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += VIEWS_WAIT;
	pthread_mutex_lock(&vf->mu);
	while (!vf->stop && ((long)(vf->served - ticket) < 0 ||
	    (long)(vf->prunes_done - pticket) < 0))
		if (pthread_cond_timedwait(&vf->done, &vf->mu, &until) != 0)
			break;
	pthread_mutex_unlock(&vf->mu);
}

void
fs_invalidate_entry(struct fs *fs, const char *dir, const char *name)
{
	struct viewfiles *vf = fs->vf;
	char path[600];

	if (vf == NULL)
		return;
	snprintf(path, sizeof(path), "/%s/%s", dir, name);
	(void)fuse_invalidate_path(vf->fuse, path);
	(void)ask_prune(vf);
}

/* The target of bundle.pem (name NULL) or certs/NAME into out; 0 or
 * -ENOENT.  Call with fs->lock held. */
static int
link_target(struct fs *fs, const char *name, char *out, size_t len)
{
	const struct certs_ent *e;
	char file[80];

	if (fs->vf == NULL || fs->views == NULL || !fs->views->links)
		return -EINVAL;
	if (name == NULL) {
		snprintf(out, len, "%s/%s", fs->vf->dir,
		    fs->views->bundle_file);
		return 0;
	}
	e = views_find(fs->views, name);
	if (e == NULL)
		return -ENOENT;
	views_file_name(e, file, sizeof(file));
	snprintf(out, len, "%s/%s", fs->vf->cdir, file);
	return 0;
}

int
views_readlink(const char *path, char *buf, size_t size)
{
	struct fs *fs = fs_get();
	struct certs_ent ent;
	struct node n;
	int rc;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	if (!(n.type == NODE_CERTSFILE || (n.type == NODE_FILE &&
	    n.file == SPECIAL_BUNDLE)))
		return -EINVAL;
	if (size == 0)
		return -EINVAL;
	pthread_mutex_lock(&fs->lock);
	rc = link_target(fs, n.type == NODE_CERTSFILE ? n.name : NULL, buf,
	    size);
	if (rc == 0 && n.type == NODE_CERTSFILE)
		ent = *views_find(fs->views, n.name);
	pthread_mutex_unlock(&fs->lock);
	/* A certificate's file is written when its name is first read. */
	if (rc == 0 && n.type == NODE_CERTSFILE &&
	    (rc = views_materialize(fs, fs->vf->cdir, &ent)) != 0 &&
	    rc != -ENOENT) {
		fs_log(LOG_ERR, "writing %s for certs/%s: %s", fs->vf->cdir,
		    n.name, strerror(-rc));
		rc = -EIO;
	}
	return rc;
}

int
views_link_stat(struct fs *fs, const char *name, struct stat *st)
{
	char target[4096];
	int rc;

	if (fs->vf == NULL)
		return 0;
	pthread_mutex_lock(&fs->lock);
	if (fs->views == NULL || !fs->views->links) {
		/* From memory for now (a full disk): regular files. */
		pthread_mutex_unlock(&fs->lock);
		return 0;
	}
	rc = link_target(fs, name, target, sizeof(target));
	if (rc == 0) {
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(target);
		st->st_uid = fs->uid;
		st->st_gid = fs->gid;
		st->st_mtime = st->st_ctime = st->st_atime = fs->views->mtime;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc == 0 ? 1 : rc;
}

static void
vf_free(struct viewfiles *vf)
{
	if (vf == NULL)
		return;
	if (vf->dir != NULL)
		views_remove_dir(vf->dir);
	if (vf->lockfd >= 0)
		close(vf->lockfd);
	if (vf->evfd >= 0)
		close(vf->evfd);
	if (vf->infd >= 0)
		close(vf->infd);
	pthread_mutex_destroy(&vf->mu);
	pthread_cond_destroy(&vf->done);
	pthread_cond_destroy(&vf->prune_cv);
	free(vf->dir);
	free(vf->cdir);
	free(vf);
}

/* The directory, its lock, inotify and the first snapshot. */
static int
vf_setup(struct fs *fs, struct viewfiles *vf)
{
	char path[4096], *dir;
	struct snapshot *s, *old;
	int rc;

	snprintf(path, sizeof(path), "%s/views", fs->store_dir);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -errno;
	if (chmod(path, 0755) != 0)
		return -errno;
	views_remove_stale(path);
	snprintf(path, sizeof(path), "%s/views/m.XXXXXX", fs->store_dir);
	dir = mkdtemp(path);
	if (dir == NULL)
		return -errno;
	vf->dir = strdup(dir);
	if (vf->dir == NULL || asprintf(&vf->cdir, "%s/c", dir) < 0) {
		vf->cdir = NULL;
		rc = -ENOMEM;
		if (vf->dir == NULL)
			(void)rmdir(dir);
		return rc;
	}
	if (chmod(vf->dir, 0755) != 0 || mkdir(vf->cdir, 0755) != 0 ||
	    chmod(vf->cdir, 0755) != 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/.lock", vf->dir);
	vf->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (vf->lockfd < 0 || flock(vf->lockfd, LOCK_EX | LOCK_NB) != 0)
		return -errno;
	vf->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vf->evfd < 0)
		return -errno;
	/* Without inotify the thread still looks once a second. */
	vf->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (vf->infd >= 0) {
		snprintf(path, sizeof(path), "%s/data.mdb", fs->store_dir);
		(void)inotify_add_watch(vf->infd, path, IN_MODIFY);
		vf->wd_dir = inotify_add_watch(vf->infd, vf->dir, IN_MODIFY |
		    IN_ATTRIB | IN_DELETE);
		vf->wd_c = inotify_add_watch(vf->infd, vf->cdir, IN_MODIFY |
		    IN_ATTRIB | IN_DELETE);
	}
	rc = views_key(fs, &vf->seen_gen, &vf->roots_gen, vf->crl_sum);
	if (rc == 0)
		rc = build_files(fs, vf, vf->seen_gen, &s);
	if (rc != 0)
		return rc;
	vf->done_gen = vf->seen_gen;
	pthread_mutex_lock(&fs->lock);
	old = fs->views;
	fs->views = s;
	pthread_mutex_unlock(&fs->lock);
	views_put(fs, old);
	return 0;
}

static void
stop_threads(struct viewfiles *vf)
{
	pthread_mutex_lock(&vf->mu);
	vf->stop = 1;
	pthread_cond_broadcast(&vf->done);
	pthread_cond_broadcast(&vf->prune_cv);
	pthread_mutex_unlock(&vf->mu);
	wake(vf);
	if (vf->started)
		pthread_join(vf->thread, NULL);
	if (vf->pruner_started)
		pthread_join(vf->pruner, NULL);
	vf->started = vf->pruner_started = 0;
}

void
views_start(struct fs *fs, struct fuse *fuse)
{
	struct viewfiles *vf;
	int rc;

	/* -s: one thread cannot wait for the views thread, which may wait
	 * on a reader that waits for the daemon; served from memory. */
	if (fs->st == NULL || (fs->store_flags & STORE_RDONLY) ||
	    fs->singlethread || fs->views_memory)
		return;
	if (fs->allow_other && views_reachable(fs) != 0)
		return;
	vf = calloc(1, sizeof(*vf));
	if (vf == NULL)
		return;
	vf->lockfd = vf->evfd = vf->infd = -1;
	vf->wd_dir = vf->wd_c = -1;
	vf->fuse = fuse;
	pthread_mutex_init(&vf->mu, NULL);
	pthread_cond_init(&vf->done, NULL);
	pthread_cond_init(&vf->prune_cv, NULL);
	rc = vf_setup(fs, vf);
	if (rc == 0) {
		fs->vf = vf;
		rc = -pthread_create(&vf->pruner, NULL, prune_main, vf);
		vf->pruner_started = rc == 0;
	}
	if (rc == 0) {
		rc = -pthread_create(&vf->thread, NULL, views_main, fs);
		vf->started = rc == 0;
	}
	if (rc != 0) {
		fs_log(LOG_ERR, "bundle.pem and certs/ as files in %s/views: "
		    "%s; served from memory instead", fs->store_dir,
		    strerror(-rc));
		stop_threads(vf);
		pthread_mutex_lock(&fs->lock);
		if (fs->views != NULL && fs->views->links) {
			struct snapshot *s = fs->views;

			fs->views = NULL;
			pthread_mutex_unlock(&fs->lock);
			views_put(fs, s);
		} else
			pthread_mutex_unlock(&fs->lock);
		fs->vf = NULL;
		vf_free(vf);
	}
}

void
views_stop(struct fs *fs)
{
	struct viewfiles *vf = fs->vf;

	if (vf == NULL)
		return;
	stop_threads(vf);
	fs->vf = NULL;
	vf_free(vf);
}