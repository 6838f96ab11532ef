/*
 * A small etcd v3 client over the JSON gateway (etcd's grpc-gateway:
 * POST /v3/kv/range, /v3/kv/txn, /v3/watch, /v3/auth/authenticate), with
 * libcurl and json-c.  Keys and values travel base64-encoded; int64s as
 * strings.  One struct etcd per thread (it holds a curl handle).
 *
 * Functions return 0 (or what they say) or a negative errno:
 *   -ECONNREFUSED  no member answered (every URL tried)
 *   -EACCES        authentication refused
 *   -EPROTO        a reply that is not what the gateway sends
 *   -ECANCELED     the call was stopped (*stop set)
 *   -ENOMEM
 * and e says what happened, for a person.
 */
#ifndef TRUSTFS_ETCD_H
#define TRUSTFS_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct etcd_opts {
	char **urls;		/* http:// or https:// client URLs */
	size_t nurls;
	const char *cacert;	/* PEM CA file for https://; NULL: system */
	const char *cert;	/* client certificate and key (TLS auth) */
	const char *key;
	const char *user;	/* etcd user; password from password */
	const char *password;
	const volatile int *stop;	/* set: every call ends, -ECANCELED */
};

struct etcd;

/* A key-value pair as etcd returns it; key and val are owned by the
 * caller of the function that fills it in (etcd_kv_free). */
struct etcd_kv {
	char *key;
	unsigned char *val;
	size_t val_len;
	int64_t mod_rev;
	int64_t create_rev;
	int deleted;		/* a watch's DELETE event */
};

void etcd_kv_free(struct etcd_kv *kv);

/* Copies o (URLs included). */
int etcd_new(const struct etcd_opts *o, struct etcd **out,
    struct tf_error *e);
void etcd_free(struct etcd *et);	/* NULL-safe */
/* The URL of the member the last call reached. */
const char *etcd_url(const struct etcd *et);

/*
 * Puts key = val if key's mod_revision is rev (0: the key does not
 * exist).  1 with *newrev the revision of the put; 0 when the comparison
 * failed, with cur holding the key's current pair (cur->key NULL when the
 * key does not exist); or a negative errno.
 */
int etcd_put_if(struct etcd *et, const char *key, const void *val,
    size_t len, int64_t rev, int64_t *newrev, struct etcd_kv *cur,
    struct tf_error *e);

/* Plain put, for tests and tools. */
int etcd_put(struct etcd *et, const char *key, const void *val, size_t len,
    struct tf_error *e);

/* A pair seen by a range or a watch; a non-zero return stops the call and
 * is returned.  kv and what it points to are valid during the call. */
typedef int (*etcd_kv_fn)(const struct etcd_kv *kv, void *arg);

/*
 * The keys in [key, range_end), at most limit (0: no limit), read at
 * revision at_rev (0: the newest): fn for each, in key order.  *rev: the
 * revision read; *more: there are more keys after the last one.
 */
int etcd_range(struct etcd *et, const char *key, const char *range_end,
    int64_t limit, int64_t at_rev, etcd_kv_fn fn, void *arg, int64_t *rev,
    int *more, struct tf_error *e);

/*
 * Watches [prefix, prefix's end) from start_rev: fn for every event, in
 * revision order, then end (may be NULL) after the events of one message
 * (etcd sends those of a revision, or many, together), created once the
 * watch is in place (may be NULL).
 * Blocks until fn returns non-zero (returned), the stream breaks (a
 * negative errno), or *stop (-ECANCELED).  A start_rev etcd has
 * compacted away is -ESTALE with *compact_rev the oldest revision left.
 */
int etcd_watch(struct etcd *et, const char *prefix, int64_t start_rev,
    etcd_kv_fn fn, int (*end)(void *arg), void (*created)(void *arg),
    void *arg, int64_t *compact_rev, struct tf_error *e);

/* prefix's range end: prefix with its last byte plus one (etcd's
 * clientv3.GetPrefixRangeEnd).  malloc'd. */
char *etcd_prefix_end(const char *prefix);

#endif
