/*
 * Where an entry came from (DESIGN section 8, "Entries record their
 * source"): the URL of an import, "EST URL", "AIA URL", kept in meta
 * under "source:DIR/NAME" in the transaction that adds the entry, and
 * dropped (entry.c's hooks) in the one that removes, renames or replaces
 * it by hand.  No record means the entry was added by hand.  The inspect
 * text shows it as "Source:", the xattr user.trustfs.source too.
 */
#ifndef TRUSTFS_ORIGIN_H
#define TRUSTFS_ORIGIN_H

#include <stddef.h>

#include "store.h"

#define ORIGIN_PREFIX "source:"
#define ORIGIN_MAX 2100		/* a URL (SOURCES_URL_MAX) and a word */

/* Records src for db/name.  0, -EINVAL (src empty or too long) or a
 * store error. */
int origin_set(struct store_txn *txn, enum store_db db, const char *name,
    const char *src);
/* 0 with out, -ENOENT (added by hand), or a store error. */
int origin_get(struct store_txn *txn, enum store_db db, const char *name,
    char *out, size_t outlen);
/* Drops the record of db/name; 0 also when there is none. */
int origin_forget(struct store_txn *txn, enum store_db db,
    const char *name);

/* Visits every recorded entry of db (all databases: db < 0) whose source
 * is src (every source: src NULL), in key order.  A non-zero return from
 * fn stops the walk and is returned.  Do not write in txn from fn. */
typedef int (*origin_fn)(enum store_db db, const char *name,
    const char *src, void *arg);
int origin_foreach(struct store_txn *txn, int db, const char *src,
    origin_fn fn, void *arg);
/* How many entries of db src added (for metrics: roots per source). */
int origin_count(struct store_txn *txn, enum store_db db, const char *src,
    size_t *n);

#endif
