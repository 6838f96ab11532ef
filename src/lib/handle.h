/* The library handle behind the opaque struct trustfs. */
#ifndef TRUSTFS_HANDLE_H
#define TRUSTFS_HANDLE_H

#include <stdint.h>

#include "error.h"
#include "policy.h"
#include "store.h"
#include "trustfs.h"

/* Pin sightings are written at most this often per pin (seconds); those
 * in between are counted in memory and written with the next one. */
#define TRUSTFS_SEEN_INTERVAL 60

struct seen_pending {
	char name[256];
	uint64_t count;
};

struct trustfs {
	struct store *st;
	struct tf_error err;	/* the last failure (trustfs_error) */
	struct policy *policy;
	uint64_t policy_gen;	/* store generation the policy was read at */
	struct seen_pending *seen;
	size_t nseen;
};

/* Set the handle's error: the first appends strerror(errno) (libtls). */
void trustfs_set_error(struct trustfs *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void trustfs_set_errorx(struct trustfs *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* trustfs_open() with store_open() flags (tests open read-only stores to
 * show that a pin that cannot be written is never trusted). */
struct trustfs *trustfs_open_flags(const char *dir, unsigned store_flags);

/* The roots/ look-up method for an X509_STORE, by subject over the index. */
int lookup_add(X509_STORE *xs, struct store *st);

/* The store's policy, re-read when the store changed. */
const struct policy *trustfs_policy(struct trustfs *t);

#endif
