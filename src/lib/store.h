/*
 * The LMDB store.  This header and store.c are the only places that know
 * LMDB exists: everything else sees named databases of versioned records.
 *
 * Functions return 0 or a negative errno:
 *   -ENOENT  no such entry
 *   -ENOSPC  the map could not grow (disk full)
 *   -EROFS   the store was opened read-only
 *   -EIO     any other store failure
 * and tell what happened, for a person, in the struct tf_error handed to
 * store_open(), store_txn_begin() (for every call on that transaction) or
 * store_write(); any of those may be NULL.
 */
#ifndef TRUSTFS_STORE_H
#define TRUSTFS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct store;
struct store_txn;

/* The databases that hold certificates; the order is part of the schema. */
enum store_db {
	STORE_PINNED = 0,
	STORE_REJECTED,
	STORE_ROOTS,
	STORE_DISTRUSTED,
	STORE_CHAINS,
	STORE_NDBS
};

#define STORE_SCHEMA_VERSION 1
#define STORE_NAME_MAX 255

/* Open flags. */
#define STORE_RDONLY 0x1	/* refuse every change with -EROFS */
#define STORE_GROUP 0x2		/* create dir/files 0750/0640, not 0700/0600 */
#define STORE_NOCREATE 0x4	/* fail with -ENOENT if the store does not exist */

/* Per-certificate index keys, supplied by the caller (store.c never parses
 * certificates).  Kept in the record so that a delete can drop them. */
struct store_key {
	unsigned char sha256[32];	/* SHA-256 of the DER certificate */
	uint32_t subject_hash;		/* X509_NAME_hash_ex() of its subject */
};

/* A certificate's validity, for the expiry index (issue 9). */
struct store_validity {
	int64_t not_before, not_after;
};

struct store_rec {
	uint64_t ctime;		/* seconds since the epoch: entry created */
	uint64_t mtime;		/* certificate last changed */
	uint64_t first_seen;	/* pins: first handshake */
	uint64_t last_seen;	/* pins: latest handshake */
	uint64_t seen_count;	/* pins: handshakes that matched */
	uint32_t slot;		/* roots: N of certs/HASH.N */
	uint32_t flags;		/* reserved, 0 */
	unsigned char other_sha256[32];	/* rejected: SHA-256 of the pin it did not match */
	const struct store_key *keys;	/* one per certificate, in payload order */
	size_t nkeys;
	const unsigned char *der;	/* DER certificates back to back */
	size_t der_len;
	/* Issue 9, filled by the caller for the expiry index; store_get
	 * leaves them NULL and 0 ("not given"). */
	const struct store_validity *validity;	/* one per key, or NULL */
	uint32_t text_base;	/* inspect text size without the time- and
				 * record-dependent parts (textsize.c) */
};
/*
 * Lifetime: a record filled in by store_get()/store_foreach() points into the
 * memory map (keys, der) and is valid only until its transaction ends or the
 * next write in that transaction.  Copy what you need.
 */

/* The default store: $TRUSTFS_STORE, else /var/lib/trustfs for root, else
 * ${XDG_DATA_HOME:-$HOME/.local/share}/trustfs (DESIGN section 1). */
void store_default_dir(char *out, size_t outlen);

int store_open(const char *dir, unsigned flags, struct store **out,
    struct tf_error *e);
void store_close(struct store *st);	/* NULL-safe */
const char *store_path(const struct store *st);
/* Changes whenever anybody (any process) commits: cheap cache validator. */
uint64_t store_generation(struct store *st);
/* The generation a transaction reads (a read transaction: its snapshot).
 * store_generation() may already name a commit that a read transaction
 * begun at that moment does not see yet. */
uint64_t store_txn_generation(struct store_txn *txn);

int store_txn_begin(struct store *st, int write, struct store_txn **out,
    struct tf_error *e);
int store_txn_commit(struct store_txn *txn);	/* frees txn, even on error */
void store_txn_abort(struct store_txn *txn);	/* frees txn; NULL-safe */

/*
 * Runs fn inside one write transaction and commits it.  If the map is full
 * the transaction is aborted, the map grown and fn run again, so fn must
 * have no side effects outside the transaction.  A non-zero return from fn
 * aborts and is returned.  Never call it while this thread holds another
 * transaction on st: growing the map needs every transaction of the
 * process closed, and such a call fails with -EDEADLK instead of waiting
 * for itself.  A commit that finds the device full is -ENOSPC (also when
 * LMDB's write comes up short and it says EIO).
 */
typedef int (*store_write_fn)(struct store_txn *txn, void *arg);
int store_write(struct store *st, store_write_fn fn, void *arg,
    struct tf_error *e);

int store_get(struct store_txn *txn, enum store_db db, const char *name,
    struct store_rec *out);
/* Insert or replace; maintains the indexes. */
int store_put(struct store_txn *txn, enum store_db db, const char *name,
    const struct store_rec *rec);
int store_del(struct store_txn *txn, enum store_db db, const char *name);
int store_count(struct store_txn *txn, enum store_db db, size_t *n);

/* Visits entries in name order; a non-zero return from fn stops the walk
 * and is returned. */
typedef int (*store_iter_fn)(const char *name, const struct store_rec *rec,
    void *arg);
int store_foreach(struct store_txn *txn, enum store_db db, store_iter_fn fn,
    void *arg);

/* Index look-ups: the entries holding a certificate with this SHA-256, or
 * with a subject of this hash.  fn as for store_foreach. */
typedef int (*store_ref_fn)(enum store_db db, const char *name, void *arg);
int store_find_sha256(struct store_txn *txn, const unsigned char sha256[32],
    store_ref_fn fn, void *arg);
int store_find_subject(struct store_txn *txn, uint32_t subject_hash,
    store_ref_fn fn, void *arg);

/* Small named values (policy text, last import report, counters).
 * store_meta_get copies into a malloc'd buffer the caller frees. */
int store_meta_get(struct store_txn *txn, const char *key, char **val,
    size_t *len);
int store_meta_put(struct store_txn *txn, const char *key, const void *val,
    size_t len);

/* The audit log: lines appended in order, oldest dropped past max_lines. */
int store_audit_append(struct store_txn *txn, const char *line,
    size_t max_lines);
typedef int (*store_line_fn)(const char *line, size_t len, void *arg);
int store_audit_foreach(struct store_txn *txn, store_line_fn fn, void *arg);

/* A consistent, compacted copy of the environment into an empty dir. */
int store_backup(struct store *st, const char *dir, struct tf_error *e);
/* The same into an open file: an LMDB data file (data.mdb). */
int store_backup_fd(struct store *st, int fd, struct tf_error *e);
/* 1 if another process has the store open (an LMDB reader lock is held on
 * lock.mdb), 0 if not, or a negative errno. */
int store_in_use(const char *dir);

/* Backup files (trustctl restore) */
/*
 * Opens a backup -- one LMDB data file, as store_backup_fd() writes it --
 * read-only and without a lock file (MDB_NOSUBDIR | MDB_RDONLY |
 * MDB_NOLOCK: nothing is written into it or beside it), and checks that
 * it is a whole trustfs store this build reads: a regular, non-empty file
 * holding every page its meta page names, every trustfs database, a
 * schema version from 1 to STORE_SCHEMA_VERSION, well-formed names,
 * records that decode and indexes that match them.  It parses no
 * certificate: walk the records (store_foreach) for that.  The handle
 * refuses writes; close it with store_close().  0, -EINVAL (not a trustfs
 * backup; e says why), -EPROTONOSUPPORT (a newer schema) or an I/O errno.
 * Not a defence against a file crafted to crash LMDB: LMDB trusts the
 * pages it reads.
 */
int store_backup_open(const char *file, struct store **out,
    struct tf_error *e);

/* CRLs */
/*
 * MOUNT/crls/: one DER CRL per name, kept in the meta database under
 * "crl:NAME" (store.c says why: an existing store opens unchanged).
 * store.c parses no CRL; crl.c checks them before they get here.  A
 * record points into the map, as for store_rec.
 */
struct store_crl {
	uint64_t ctime;		/* entry created */
	uint64_t mtime;		/* CRL last changed */
	const unsigned char *der;
	size_t der_len;
};
int store_crl_get(struct store_txn *txn, const char *name,
    struct store_crl *out);
int store_crl_put(struct store_txn *txn, const char *name,
    const struct store_crl *c);
int store_crl_del(struct store_txn *txn, const char *name);
/* In name order; a non-zero return from fn stops the walk, returned. */
typedef int (*store_crl_fn)(const char *name, const struct store_crl *c,
    void *arg);
int store_crl_foreach(struct store_txn *txn, store_crl_fn fn, void *arg);

/* The fleet's outbox (issue 11) */
/*
 * Cluster mode: meta "cluster:node" holds the node name (store_cluster_set,
 * NULL leaves cluster mode).  In it, store_put/store_del of a record whose
 * certificates or other_sha256 change, and store_meta_put of "policy",
 * record the changed key ("DIR/NAME", "policy") under meta "outbox:SEQ" in
 * the same transaction (store_outbox_note/_meta are those hooks).  A
 * transaction marked with store_txn_outbox_off (the sync thread applying
 * what came from etcd) records nothing.  crev:KEY keeps the etcd
 * mod_revision a node's copy of KEY is based on.
 */
int store_outbox_note(struct store_txn *txn, enum store_db db,
    const char *name, const struct store_rec *rec);	/* rec NULL: delete */
int store_outbox_meta(struct store_txn *txn, const char *key,
    const void *val, size_t len);
void store_txn_outbox_off(struct store_txn *txn);
/* Records key (at most 300 bytes) whatever the mode. */
int store_outbox_add(struct store_txn *txn, const char *key);
/* In SEQ order; a non-zero return from fn stops the walk, returned. */
typedef int (*store_outbox_fn)(uint64_t seq, const char *key, void *arg);
int store_outbox_foreach(struct store_txn *txn, store_outbox_fn fn,
    void *arg);
int store_outbox_del(struct store_txn *txn, uint64_t seq);	/* 0 if gone */
int store_outbox_count(struct store_txn *txn, size_t *n);
int store_cluster_set(struct store_txn *txn, const char *node);
/* 0 with *rev 0 when none is kept. */
int store_cluster_rev_get(struct store_txn *txn, const char *key,
    uint64_t *rev);
int store_cluster_rev_put(struct store_txn *txn, const char *key,
    uint64_t rev);
/* The node the transaction's changes came from, for audit.log (origin=);
 * NULL: none.  Set and cleared within one transaction. */
int store_cluster_origin(struct store_txn *txn, const char *node);


/* Expiry index and entry sizes (issue 9) */
/*
 * status, metrics and `ls -l' at a million entries read what store_put
 * keeps up to date in the change's own transaction, instead of parsing
 * every certificate: each entry's validity and inspect-text base size
 * (from the store_key and store_rec fields its caller filled in), the
 * entries in order of their earliest notAfter, those not yet valid, and
 * per UTC day and directory how many expire.  A record stored without a
 * validity (not_after 0) is listed by store_expiry_unknown instead: its
 * reader parses it (it is one of a few: renames keep the validity they
 * had, pins' sighting updates too).  A store written before this index
 * is not "ready" until every record went through store_expiry_set
 * (expiry_rebuild in counts.c).  All of it lives in meta, so such a store
 * opens unchanged, read-only too.
 */
#define STORE_INFO_CERTS 8
struct store_info {
	uint32_t text_base;	/* 0: unknown */
	size_t ncerts;		/* validity of each certificate, in order */
	int64_t not_before[STORE_INFO_CERTS], not_after[STORE_INFO_CERTS];
	int64_t min_not_after;	/* a chain expires with its first link */
	int64_t max_not_before;
};
/* 0, -ENOENT (not in the index: unknown), or a store error. */
int store_info_get(struct store_txn *txn, enum store_db db, const char *name,
    struct store_info *out);
/* Files an existing entry under its validity and text size (replacing
 * what was filed): one validity per certificate.  -EINVAL if n is 0 or
 * more than STORE_INFO_CERTS, or a not_after is 0. */
int store_expiry_set(struct store_txn *txn, enum store_db db,
    const char *name, const struct store_validity *validity, size_t n,
    uint32_t text_base);
/* Entries whose earliest notAfter is in [from, to), in that order; those
 * with a latest notBefore after `after' (store_notyet).  A non-zero
 * return from fn stops the walk and is returned. */
typedef int (*store_when_fn)(enum store_db db, const char *name,
    int64_t when, void *arg);
int store_expiry_range(struct store_txn *txn, int64_t from, int64_t to,
    store_when_fn fn, void *arg);
int store_notyet(struct store_txn *txn, int64_t after, store_when_fn fn,
    void *arg);
/* Per UTC day (notAfter / 86400, floored) and directory: how many
 * entries expire then.  In day order. */
typedef int (*store_day_fn)(int64_t day, enum store_db db, uint64_t n,
    void *arg);
int store_expiry_days(struct store_txn *txn, store_day_fn fn, void *arg);
/* ready: every record is indexed or listed as unknown; unknown: how many
 * are listed (store_expiry_unknown walks them, fn as for store_find_*). */
int store_expiry_state(struct store_txn *txn, int *ready, uint64_t *unknown);
int store_expiry_unknown(struct store_txn *txn, store_ref_fn fn, void *arg);
int store_expiry_set_ready(struct store_txn *txn);
/* The index is to be built again from every record (expiry_rebuild):
 * for a store whose index is in doubt, and for tests. */
int store_expiry_unready(struct store_txn *txn);
/* Drops whatever is filed for an entry (a record that cannot be decoded
 * is then in no list, as a walk would skip it).  0 or a store error. */
int store_expiry_forget(struct store_txn *txn, enum store_db db,
    const char *name);
/* store_foreach from the first name at or after `from' ("" for all). */
int store_foreach_from(struct store_txn *txn, enum store_db db,
    const char *from, store_iter_fn fn, void *arg);
/* Changes with every change to roots/ or distrusted/ (not with a pin's
 * sightings): what the strict rules on roots/ depend on. */
uint64_t store_roots_gen(struct store_txn *txn);
/* Drops this process's page mappings of the store's file (the pages
 * stay in the page cache and come back on the next read), so that a
 * walk of a large store does not leave the daemon's RSS at the store's
 * size.  Safe while other threads read: the map is read-only. */
void store_trim(struct store *st);
/* Hooks of store_put and store_del (rec NULL: a delete). */
int store_expiry_note(struct store_txn *txn, enum store_db db,
    const char *name, const struct store_rec *rec);

/* Meta records of entries (issue 12) */
/*
 * Small values kept beside an entry in meta, under keys of up to
 * STORE_META_KEY_MAX bytes (a prefix and DIR/NAME: "source:roots/X.pem",
 * the source that added an entry).  Not in the fleet's outbox.  xget as
 * store_meta_get (-ENOENT when absent); xdel is 0 when absent too;
 * xforeach visits the keys that start with prefix in key order, a
 * non-zero return from fn stops the walk and is returned (val points
 * into the map: copy it before a write).
 */
#define STORE_META_KEY_MAX 500
int store_meta_xput(struct store_txn *txn, const char *key, const void *val,
    size_t len);
int store_meta_xget(struct store_txn *txn, const char *key, char **val,
    size_t *len);
int store_meta_xdel(struct store_txn *txn, const char *key);
typedef int (*store_meta_fn)(const char *key, const void *val, size_t len,
    void *arg);
int store_meta_xforeach(struct store_txn *txn, const char *prefix,
    store_meta_fn fn, void *arg);

/* Pin records (issue 14) */
/*
 * In pinned/ three fields of struct store_rec mean more than their
 * comments above say (pins.h has the rules; store.c stores them as it
 * stores any record): flags may hold PIN_FLAG_KEY (a key pin); slot is
 * the pin's expiry, seconds since the epoch, 0 for none; and a key pin
 * with no certificate yet has nkeys 0, der_len 0 and the key's SHA-256
 * in other_sha256.
 */

#endif
