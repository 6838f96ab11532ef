/*
 * trustfs: the daemon.  main() follows sshfs: parse options, validate,
 * open the store, fuse_new, signal handlers, mount, daemonize, loop, and
 * unwind in reverse on every failure.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "viewfiles.h"

#include <fuse_lowlevel.h>

struct options {
	char *store;
	char *group;
	char *audit_max;
	char *views;		/* files (the default) or memory */
	int help;
	int version;
	int ro;
	char *nonopt[2];	/* [STORE] MOUNTPOINT, as mount.fuse3 passes */
	int nnonopt;
	struct sync_opts cluster;	/* the fleet: SYNC_FUSE_OPTS */
};

enum { KEY_HELP, KEY_VERSION, KEY_RO, KEY_ALLOW_OTHER, KEY_CLUSTER };

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("--store=%s", store),
	OPT("--store %s", store),
	OPT("store=%s", store),
	OPT("--group=%s", group),
	OPT("--group %s", group),
	OPT("group=%s", group),
	OPT("--audit-max=%s", audit_max),
	OPT("--audit-max %s", audit_max),
	OPT("audit_max=%s", audit_max),
	OPT("--views=%s", views),
	OPT("--views %s", views),
	OPT("views=%s", views),
	SYNC_FUSE_OPTS(struct options, cluster, KEY_CLUSTER),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_END
};

static struct fs the_fs;

struct fs *
fs_get(void)
{
	return &the_fs;
}

static int
opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	switch (key) {
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (o->nnonopt == 2) {
			fprintf(stderr, "trustfs: unexpected argument '%s'\n",
			    arg);
			return -1;
		}
		o->nonopt[o->nnonopt++] = strdup(arg);
		return 0;
	case KEY_RO:
		/* Noted, and kept from the kernel: the daemon refuses every
		 * change itself, so that each refusal reaches audit.log. */
		o->ro = 1;
		return 0;
	case KEY_ALLOW_OTHER:
		/* Noted for viewfiles.c, and passed on. */
		fs_get()->allow_other = 1;
		return 1;
	case KEY_CLUSTER:
		return sync_opt_cluster(&o->cluster, arg);
	case FUSE_OPT_KEY_OPT:
		/* -o cluster=URL1,URL2: -o splits at commas. */
		return sync_opt_url(&o->cluster, arg);
	}
	return 1;
}

static void
usage(const char *prog)
{
	printf("usage: %s [--store DIR] [--group NAME] [-f] [-d] [-o OPTS] "
	    "MOUNTPOINT\n\n"
	    "Shows the trustfs store (pins, roots, chains) as files.\n\n"
	    "    --store DIR     the store (default $TRUSTFS_STORE, else\n"
	    "                    /var/lib/trustfs for root, else\n"
	    "                    ${XDG_DATA_HOME:-~/.local/share}/trustfs)\n"
	    "    --group NAME    members of NAME may change the store too\n"
	    "    --audit-max N   keep the newest N lines of audit.log (10000)\n"
	    "    -f              stay in the foreground, log to stderr\n"
	    "    -d              debug: foreground, every FUSE request logged\n"
	    "    -s              single-threaded\n"
	    "    -o ro           refuse every change (EROFS)\n"
	    "    -o allow_other  let every user read the trust store\n"
	    "    --views memory  bundle.pem and certs/ as regular files served\n"
	    "                    from memory, not links to files in STORE/views\n"
	    "                    (-o views=memory)\n"
	    "    --cluster URLS --node-name NAME [--cluster-prefix P]\n"
	    "    [--cluster-cacert F --cluster-cert F --cluster-key F]\n"
	    "    [--cluster-user U --cluster-password-file F]\n"
	    "                    a node of a fleet sharing the store through\n"
	    "                    etcd (-o cluster=URLS,node=NAME,...)\n\n"
	    "Unmount with 'fusermount3 -u MOUNTPOINT' or 'umount MOUNTPOINT'.\n"
	    "See trustfs(8).\n", prog);
}

static char *
default_store(void)
{
	char buf[PATH_MAX];

	store_default_dir(buf, sizeof(buf));
	return strdup(buf);
}

static int
audit_max_txn(struct store_txn *txn, void *arg)
{
	const char *v = arg;

	return store_meta_put(txn, "audit_max", v, strlen(v));
}

static void *
fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };

	/* Other processes (TLS clients, trustctl) change the store behind
	 * the kernel's back: never trust cached names or attributes. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->hard_remove = 1;
	conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* LMDB handles must not cross fork(), so the store opened to
	 * validate the options was closed; this is the daemon's own. */
	if (fs->st == NULL &&
	    store_open(fs->store_dir, fs->store_flags, &fs->st, &err) != 0) {
		fs_log(LOG_ERR, "%s", err.msg);
		fuse_exit(fuse_get_context()->fuse);
	}
	if (fs->st != NULL)
		report_mounted(fs);
	/* bundle.pem and certs/ as files behind cached links, and the
	 * thread that keeps the kernel's cache true (viewfiles.c); names
	 * are then cached too (negative ones never). */
	views_start(fs, fuse_get_context()->fuse);
	if (fs->vf != NULL) {
		cfg->entry_timeout = 3600;
		if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
			conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	}
	if (fs->st != NULL && fs->audit_max[0] &&
	    !fs->ro && !(fs->store_flags & STORE_RDONLY) &&
	    store_write(fs->st, audit_max_txn, fs->audit_max, &err) != 0)
		fs_log(LOG_ERR, "saving --audit-max: %s", err.msg);
	if (fs->st != NULL && !fs->ro && sync_mount(fs->st, &fs->cluster,
	    &fs->sync, &err) != 0) {
		fs_log(LOG_ERR, "%s", err.msg);
		fuse_exit(fuse_get_context()->fuse);
	}
	return fs;
}

static void
fs_destroy(void *data)
{
	struct fs *fs = data;

	/* Files still open when the loop stopped (SIGTERM, umount -l) get
	 * no release: free them here, so that a stop is clean. */
	staged_free_all(fs);
	views_stop(fs);
	sync_stop(fs->sync);
	fs->sync = NULL;
	if (fs->views != NULL)
		views_put(fs, fs->views);
	fs->views = NULL;
	p12_stop(fs);
	buf_free(&fs->strict_lines);
	store_close(fs->st);
	fs->st = NULL;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = { 0 };
	struct options o = { 0 };
	struct fuse_operations ops;
	struct fuse *fuse = NULL;
	struct fs *fs = fs_get();
	struct store *probe = NULL;
	struct group *gr;
	struct tf_error err = { 0 };
	int rc = 1;

	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) == -1)
		goto out;
	if (o.version) {
		printf("trustfs %s\n", "0.1.0");
		rc = 0;
		goto out;
	}
	/* "trustfs STORE MOUNTPOINT" is the form mount(8) helpers use. */
	if (o.nnonopt == 2 && o.store == NULL) {
		o.store = o.nonopt[0];
		o.nonopt[0] = NULL;
	} else if (o.nnonopt == 2) {
		fprintf(stderr, "trustfs: the store is given twice\n");
		rc = 2;
		goto out;
	}
	if (o.nnonopt > 0)
		fuse_opt_add_arg(&args, o.nonopt[o.nnonopt - 1]);
	if (fuse_parse_cmdline(&args, &cmd) != 0)
		goto out;
	if (o.help) {
		usage(argv[0]);
		rc = 0;
		goto out;
	}
	if (cmd.mountpoint == NULL) {
		fprintf(stderr, "trustfs: no mount point given\n");
		usage(argv[0]);
		rc = 2;
		goto out;
	}
	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->idle, NULL);
	fs->foreground = cmd.foreground;
	fs->singlethread = cmd.singlethread;
	fs->uid = geteuid();
	fs->strict_n = -1;	/* status has not run the strict rules yet */
	fs->gid = getegid();
	fs->store_dir = o.store ? strdup(o.store) : default_store();
	if (fs->store_dir == NULL)
		goto out;
	if (o.audit_max != NULL) {
		char *end;
		unsigned long long n = strtoull(o.audit_max, &end, 10);

		if (*end || n == 0 || n > 100000000ULL) {
			fprintf(stderr, "trustfs: --audit-max takes a number of "
			    "lines from 1 to 100000000\n");
			rc = 2;
			goto out;
		}
		snprintf(fs->audit_max, sizeof(fs->audit_max), "%llu", n);
	}
	if (o.group != NULL) {
		gr = getgrnam(o.group);
		if (gr == NULL) {
			fprintf(stderr, "trustfs: no such group: %s\n", o.group);
			rc = 2;
			goto out;
		}
		fs->gid = gr->gr_gid;
		fs->group_write = 1;
		fs->store_flags |= STORE_GROUP;
	}
	fs->ro = o.ro;
	if (o.views != NULL && strcmp(o.views, "files") != 0 &&
	    strcmp(o.views, "memory") != 0) {
		fprintf(stderr, "trustfs: --views takes files or memory\n");
		rc = 2;
		goto out;
	}
	fs->views_memory = o.views != NULL && strcmp(o.views, "memory") == 0;
	fs->cluster = o.cluster;
	if (sync_opts_check(&fs->cluster, fs->ro, &err) != 0) {
		fprintf(stderr, "trustfs: %s\n", err.msg);
		rc = 2;
		goto out;
	}

	/* Validate the store now, so that a bad one is reported on the
	 * terminal, not in syslog after we detached. */
	if (o.ro && store_open(fs->store_dir, fs->store_flags |
	    STORE_NOCREATE, &probe, NULL) != 0) {
		/* -o ro on a store we cannot write (read-only media): still
		 * refused in the daemon, but refusals go to the log only. */
		fs->store_flags |= STORE_RDONLY;
		probe = NULL;
	}
	if (probe == NULL && store_open(fs->store_dir, fs->store_flags,
	    &probe, &err) != 0) {
		fprintf(stderr, "trustfs: %s\n", err.msg);
		goto out;
	}
	/* fuse_daemonize() changes to "/": keep the store's full path. */
	{
		char *abs = realpath(fs->store_dir, NULL);

		if (abs != NULL) {
			free(fs->store_dir);
			fs->store_dir = abs;
		}
	}
	if (cmd.foreground)
		fs->st = probe;
	else
		store_close(probe);
	probe = NULL;

	fuse_opt_add_arg(&args, "-ofsname=trustfs");
	fuse_opt_add_arg(&args, "-osubtype=trustfs");

	ops = fs_ops;
	ops.init = fs_init;
	ops.destroy = fs_destroy;
	fuse = fuse_new(&args, &ops, sizeof(ops), fs);
	if (fuse == NULL)
		goto out_store;
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0)
		goto out_destroy;
	if (fuse_mount(fuse, cmd.mountpoint) != 0)
		goto out_signals;
	fs_log_init(cmd.foreground);
	if (fuse_daemonize(cmd.foreground) != 0)
		goto out_unmount;
	if (cmd.singlethread)
		rc = fuse_loop(fuse);
	else {
		/* The 3.12 loop configuration, with FUSE_USE_VERSION 312 in
		 * fs.h: below 312, fuse_loop_mt() is fuse_loop_mt_32, which
		 * reads this opaque struct in the old layout (clone_fd set,
		 * max_idle_threads 0) and so starts and ends a thread for
		 * every request.  Idle workers are kept (10, or -o
		 * max_idle_threads=N); one /dev/fuse descriptor is shared
		 * unless -o clone_fd. */
		struct fuse_loop_config *lc = fuse_loop_cfg_create();

		if (lc == NULL)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(lc, (unsigned)cmd.clone_fd);
		fuse_loop_cfg_set_idle_threads(lc, cmd.max_idle_threads ==
		    UINT_MAX ? 10 : cmd.max_idle_threads);
		fuse_loop_cfg_set_max_threads(lc, cmd.max_threads);
		rc = fuse_loop_mt(fuse, lc);
		fuse_loop_cfg_destroy(lc);
	}
	/* Stopped by SIGTERM, SIGINT or SIGHUP is a clean shutdown. */
	rc = rc != 0 && rc != SIGTERM && rc != SIGINT && rc != SIGHUP;
out_unmount:
	fuse_unmount(fuse);
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out_destroy:
	fuse_destroy(fuse);
out_store:
	store_close(fs->st);
	fs->st = NULL;
out:
	free(fs->store_dir);
	free(cmd.mountpoint);
	free(o.store);
	free(o.group);
	free(o.audit_max);
	free(o.views);
	sync_opts_free(&o.cluster);
	free(o.nonopt[0]);
	free(o.nonopt[1]);
	fuse_opt_free_args(&args);
	return rc;
}
