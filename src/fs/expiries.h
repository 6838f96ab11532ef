/*
 * status's and metrics' counts and expiry lists from the store's expiry
 * index (issue 9): a read costs what it shows, not what the store holds.
 */
#ifndef TRUSTFS_EXPIRIES_H
#define TRUSTFS_EXPIRIES_H

#include <time.h>

#include "fs.h"

/* Lines of status shown per list ("Expired:", ...) before "... and N
 * more"; series of trustfs_expiry_seconds at most. */
#define EXPIRIES_LIST_MAX 1000
#define EXPIRIES_SERIES_MAX 1000
/* trustfs_expiry_seconds covers what expired or expires within this many
 * days of now, once roots/ and pinned/ hold more than
 * EXPIRIES_SERIES_MAX entries (below that, every one of them). */
#define EXPIRIES_WINDOW_DAYS 30

/* Entries per directory (exact, from the store's counts). */
int expiries_counts(struct fs *fs, size_t counts[STORE_NDBS]);
/* status's lists: expired, expiring within CERT_EXPIRING_DAYS, not yet
 * valid.  0 or a negative errno. */
int expiries_status(struct fs *fs, time_t now, struct buf *out);
/* metrics: trustfs_entries, trustfs_expiry_seconds (bounded, see above)
 * and trustfs_expiring_entries per directory and bucket. */
int expiries_metrics(struct fs *fs, time_t now, struct buf *out);

#endif
