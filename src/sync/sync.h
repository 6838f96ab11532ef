/*
 * The fleet (issue 11): a node's store replicated through etcd.  The
 * daemon starts one struct sync when it mounts with --cluster and stops it
 * at the unmount.  Two threads: one reads the prefix (a new node joins by
 * reading all of it) and then follows etcd's watch stream, taking every
 * change in through apply.c; the other pushes the store's outbox to etcd
 * with transactions that compare revisions.  Neither takes the daemon's
 * lock; both use the store as any other process does, so reads in the
 * mount and in TLS clients never wait for the network.
 */
#ifndef TRUSTFS_SYNC_H
#define TRUSTFS_SYNC_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "store.h"

struct sync_opts {
	const char *urls;	/* comma-separated http:// or https:// URLs */
	const char *node;	/* this node's name: [A-Za-z0-9._-], 1..64 */
	const char *prefix;	/* NULL: "/trustfs/" */
	const char *cacert, *cert, *key;	/* TLS to etcd */
	const char *user, *password_file;	/* etcd authentication */
};

#define SYNC_PREFIX_DEFAULT "/trustfs/"

struct sync;

/* The daemon's options (struct fuse_opt entries for the struct `type'
 * with a struct sync_opts `m'): --cluster, --node-name, ... and the same
 * as -o cluster=,node=,cluster_prefix=,... for fstab.  fuse_opt runs
 * every template that matches, and "--cluster %s" matches any argument
 * that begins with --cluster (--cluster-key...): it is a key, handed to
 * sync_opt_cluster(). */
#define SYNC_OPT_(t, type, m, f) { t, offsetof(type, m.f), 1 }
#define SYNC_FUSE_OPTS(type, m, k) \
	SYNC_OPT_("--node-name=%s", type, m, node), \
	SYNC_OPT_("--node-name %s", type, m, node), \
	SYNC_OPT_("node=%s", type, m, node), \
	SYNC_OPT_("--cluster-prefix=%s", type, m, prefix), \
	SYNC_OPT_("--cluster-prefix %s", type, m, prefix), \
	SYNC_OPT_("cluster_prefix=%s", type, m, prefix), \
	SYNC_OPT_("--cluster-cacert=%s", type, m, cacert), \
	SYNC_OPT_("--cluster-cacert %s", type, m, cacert), \
	SYNC_OPT_("cluster_cacert=%s", type, m, cacert), \
	SYNC_OPT_("--cluster-cert=%s", type, m, cert), \
	SYNC_OPT_("--cluster-cert %s", type, m, cert), \
	SYNC_OPT_("cluster_cert=%s", type, m, cert), \
	SYNC_OPT_("--cluster-key=%s", type, m, key), \
	SYNC_OPT_("--cluster-key %s", type, m, key), \
	SYNC_OPT_("cluster_key=%s", type, m, key), \
	SYNC_OPT_("--cluster-user=%s", type, m, user), \
	SYNC_OPT_("--cluster-user %s", type, m, user), \
	SYNC_OPT_("cluster_user=%s", type, m, user), \
	SYNC_OPT_("--cluster-password-file=%s", type, m, password_file), \
	SYNC_OPT_("--cluster-password-file %s", type, m, password_file), \
	SYNC_OPT_("cluster_password_file=%s", type, m, password_file), \
	SYNC_OPT_("--cluster=%s", type, m, urls), \
	FUSE_OPT_KEY("--cluster %s", k), \
	SYNC_OPT_("cluster=%s", type, m, urls)

/* An -o option the table did not take: a URL after cluster= (-o splits
 * URLS at its commas) is added to o->urls and 0 returned (consumed);
 * anything else 1 (kept for FUSE), -1 out of memory. */
int sync_opt_url(struct sync_opts *o, const char *arg);
/* "--cluster URLS" as fuse_opt hands it to the key of SYNC_FUSE_OPTS:
 * "--cluster" and URLS run together; "--cluster-..." and "--cluster=..."
 * are other templates' and ignored.  0, or -1 out of memory. */
int sync_opt_cluster(struct sync_opts *o, const char *arg);
/* The options as parsed: 0, or -EINVAL with e saying why (a node name
 * without --cluster, --cluster with -o ro, a bad URL...). */
int sync_opts_check(const struct sync_opts *o, int ro, struct tf_error *e);
/* At the mount, with the daemon's store: the fleet's threads when
 * o->urls is set, else the store leaves cluster mode. */
int sync_mount(struct store *st, const struct sync_opts *o,
    struct sync **out, struct tf_error *e);
/* Frees what the option parser allocated. */
void sync_opts_free(struct sync_opts *o);

/* Checks the options (what a user wrote), before anything starts. */
int sync_check_opts(const struct sync_opts *o, struct tf_error *e);
/* Marks st as a node of the fleet and starts the threads. */
int sync_start(struct store *st, const struct sync_opts *o,
    struct sync **out, struct tf_error *e);
/* Stops the threads (at most about a second) and frees s.  NULL-safe. */
void sync_stop(struct sync *s);
/* Leaves cluster mode: a store mounted without --cluster keeps no
 * outbox. */
int sync_leave(struct store *st, struct tf_error *e);
/* The lines status (metrics: the Prometheus lines) shows for the fleet. */
int sync_report(struct sync *s, struct store *st, int metrics,
    struct buf *out);

#endif
