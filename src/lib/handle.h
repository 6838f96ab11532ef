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

/*
 * The store a handle holds is shared and counted (handle.c): every handle
 * and every X509_STORE from trustfs_x509_store() holds one reference, and
 * the store closes when the last one is released.  hold returns st, or
 * NULL if st is not a handle's store.  release accepts NULL.
 */
struct store *handle_store_hold(struct store *st);
void handle_store_release(struct store *st);

/*
 * The roots/ look-up method for an X509_STORE, by subject over the index
 * (lookup.c).  It holds a reference to st, dropped when xs frees the
 * look-up.  failed, if not NULL, is set to 1 when a look-up could not
 * read the store (the caller then knows that "no issuer" was not an
 * answer); it must outlive xs.  0 or -ENOMEM.
 */
int lookup_add(X509_STORE *xs, struct store *st, int *failed);

/*
 * The store's policy, re-read when the store changed.  0 with *out, or
 * -1 with the handle's error set when it cannot be read or parsed: the
 * caller must then not check at all (never tofu, never an older policy).
 * *out lives until the next call on t.
 */
int handle_policy(struct trustfs *t, const struct policy **out);

/* A pin presented again: its last-seen time and count, written at most
 * every TRUSTFS_SEEN_INTERVAL seconds and counted in memory between; a
 * failed write costs history, not safety.  flush writes what is counted. */
void handle_seen_note(struct trustfs *t, const char *hp, uint64_t last_seen);
void handle_seen_flush(struct trustfs *t);

#endif
