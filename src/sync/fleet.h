/*
 * The fleet's internals, shared by sync.c (the two threads) and
 * lifecycle.c (options, start, stop, report).
 */
#ifndef TRUSTFS_SYNC_FLEET_H
#define TRUSTFS_SYNC_FLEET_H

#include <pthread.h>

#include "etcd.h"
#include "sync.h"

#define REV_KEY ":revision"	/* crev of the watch: last revision applied */

/*
 * Locks: s->mu guards the fields marked below and is held for bookkeeping
 * only, never across a store transaction or a network call.  The threads
 * never take the daemon's lock.
 */
struct sync {
	struct store *st;
	char *node, *prefix;
	struct etcd_opts eo;
	volatile int stop;
	pthread_t watcher, pusher;
	int started_w, started_p;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	int synced;		/* the prefix has been read once */
	int watching;		/* the watch stream is in place */
	int push_ok;		/* the last push reached etcd */
	long long last_rev;	/* last revision applied */
	long long applied, refused, conflicts;
	char url[512];
	char error[512];
};

/* The threads' bodies (sync.c); arg is the struct sync. */
void *sync_watcher_main(void *arg);
void *sync_pusher_main(void *arg);

#endif
