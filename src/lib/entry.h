/*
 * Trust entries: the rules for adding, replacing, renaming and removing
 * pins, roots, distrusted certificates and chains.  The daemon, trustctl and
 * the library all change the store through here, inside a store
 * transaction that the caller owns, so that a bundle import is one
 * transaction and every change writes its audit line in the same commit.
 */
#ifndef TRUSTFS_ENTRY_H
#define TRUSTFS_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/x509.h>

#include "store.h"

/* Who is making a change, for audit.log (DESIGN section 7). */
struct entry_actor {
	uid_t uid;
	pid_t pid;
	const char *comm;	/* command name; NULL = "?" */
};

#define ENTRY_AUDIT_MAX_DEFAULT 10000

/* What a successful entry_add did. */
enum entry_outcome {
	ENTRY_ADDED,		/* a new entry */
	ENTRY_REPLACED,		/* an entry of that name now holds other certs */
	ENTRY_UNCHANGED,	/* the same certificate was there already */
	ENTRY_SKIPPED_DISTRUSTED	/* import only: listed in distrusted/ */
};

struct entry_result {
	enum entry_outcome outcome;
	char name[256];		/* the entry's name (labels get _2, _3...) */
	unsigned char sha256[32];	/* leaf-side certificate */
};

/* Flags for entry_add. */
#define ENTRY_REPLACE 0x1	/* the name may hold other certs: replace them */
#define ENTRY_AUTOLABEL 0x2	/* name == NULL: pick LABEL.pem from the subject */

/* The directory names of the mount, by database. */
const char *entry_db_dir(enum store_db db);
/* Which database a directory name is; -1 if none. */
int entry_db_from_dir(const char *dir);

/*
 * Adds certificates under `name' in `db'.  The rules of DESIGN section 2:
 * roots/ and distrusted/ take exactly one certificate (-EINVAL, "write
 * bundles to import"); pinned/ takes several, each once, any of which
 * matches, but no chain (pin_set in pins.c, issue 14), and without
 * ENTRY_REPLACE a pin that holds them all already is ENTRY_UNCHANGED,
 * an expired pin or a key-only pin of their key gives way (pin_add_over);
 * names are checked and normalized; a name
 * that holds a different certificate is -EEXIST unless ENTRY_REPLACE; the
 * same certificate again changes nothing (ENTRY_UNCHANGED).  In roots/
 * and distrusted/ a certificate lives under one name: adding or replacing
 * any other name with a certificate stored there already is -EEXIST,
 * with res->name and e naming the entry that holds it ("already in
 * roots/Y.pem"); with ENTRY_AUTOLABEL (an import) it is ENTRY_UNCHANGED
 * instead.  pinned/ and chains/ may share a certificate between names.
 * A certificate in distrusted/ may not be added to roots/ or chains/
 * (-EINVAL); adding one to distrusted/ removes it from roots/.  roots/
 * takes anchors only: a CA certificate (basicConstraints CA:TRUE, as
 * X509_check_ca says) or a self-signed one; any other end-entity
 * certificate is -EINVAL, by name or by import (ENTRY_AUTOLABEL), with a
 * reason that points to pinned/.  Chains are stored leaf side first.
 * A pinned/ change clears the host's rejected/ entry when the pin is
 * replaced, or when the new pin is the certificate rejected/ holds.
 * A replacement is audited as "replace" with the old and new SHA-256.
 * Every refusal is returned before anything is written in txn, so a
 * caller may go on with the transaction (an import refuses one
 * certificate and adds the next); e gets the reason for any failure, for
 * the caller's audit line.
 */
int entry_add(struct store_txn *txn, enum store_db db, const char *name,
    STACK_OF(X509) *certs, unsigned flags, const struct entry_actor *who,
    struct entry_result *res, struct tf_error *e);

/* Removes an entry.  0, -ENOENT, or a store error.  Removing a pin
 * removes rejected/ of the same host with it (issue 10). */
int entry_remove(struct store_txn *txn, enum store_db db, const char *name,
    const struct entry_actor *who);

/*
 * Renames within a directory (relabel; the target is replaced), and the
 * cross-directory moves that mean something: rejected/ -> pinned/ (accept
 * the new certificate), roots/ <-> distrusted/ (decommission, reinstate).
 * Other moves are -EXDEV so that mv(1) falls back to copy and remove.
 * noreplace: -EEXIST if the target exists (RENAME_NOREPLACE).  A move
 * into roots/ follows entry_add's anchor rule (-EINVAL for an end-entity
 * certificate).  Renaming a pin clears rejected/ of the host it leaves,
 * and of the host it replaces; a rename over an entry is audited with
 * the replaced SHA-256 (old_sha256).
 */
int entry_rename(struct store_txn *txn, enum store_db from_db,
    const char *from, enum store_db to_db, const char *to, int noreplace,
    const struct entry_actor *who, struct tf_error *e);

/* Normalizes a name for `db': HOST_PORT for pinned/ and rejected/,
 * LABEL.pem elsewhere.  0, -EINVAL or -ENAMETOOLONG; e says which rule. */
int entry_name(enum store_db db, const char *in, char *out, size_t outlen,
    struct tf_error *e);

/* Certificates of a stored record, decoded.  Caller frees with
 * sk_X509_pop_free(sk, X509_free). */
int entry_certs(const struct store_rec *rec, STACK_OF(X509) **out);

/* Appends DESIGN section 3's text for an entry: every certificate, with
 * the pin, rejected or chain lines that belong to its directory
 * (render.c). */
struct buf;
int entry_render(struct store_txn *txn, enum store_db db, const char *name,
    const struct store_rec *rec, time_t now, struct buf *out);

/* Appends one audit line: time, uid, pid, command, action, path, SHA-256
 * (may be NULL) and, for a refusal, the reason. */
int entry_audit(struct store_txn *txn, const struct entry_actor *who,
    const char *action, const char *path, const unsigned char *sha256,
    const char *refused);
/*
 * The same with the fields a change may add, after DESIGN section 7's,
 * so that a reader that knows only those still parses the line:
 *   TIME uid=U pid=P comm=C action=A path=P sha256=NEW
 *       [old_sha256=OLD] [cleared=rejected/H[,rejected/H2]] [refused=WHY]
 * old_sha256: what a replacement (or a rename over an entry) replaced;
 * cleared: the rejected/ entries the change removed with it.  Each of
 * old_sha256, cleared and refused may be NULL (the field is left out).
 */
int entry_audit_change(struct store_txn *txn, const struct entry_actor *who,
    const char *action, const char *path, const unsigned char *sha256,
    const unsigned char *old_sha256, const char *cleared,
    const char *refused);

/*
 * Removes rejected/HOST (a normalized HOST_PORT) when only is NULL, or
 * when it holds the certificate with SHA-256 `only'; appends
 * "rejected/HOST" to cleared (comma-separated) when it did.  0 (also when
 * there is nothing to clear) or a store error.  The pin changes of this
 * file and the library's first-use pin call it in their transaction.
 */
int entry_clear_rejected(struct store_txn *txn, const char *host,
    const unsigned char *only, char *cleared, size_t clearedlen);

/* The time of the last change to the store (0 = never). */
time_t entry_last_change(struct store_txn *txn);

/*
 * Sets the time of the last change to now, in txn, for the changes of
 * this file and of crl.c.  A failure to write it is ignored: the stamp
 * only dates the change, and the change itself stands.
 */
void entry_mark_changed(struct store_txn *txn);

/* The roots/ entry that anchors x (x itself, or a root that issued it):
 * 0 with its name, -ENOENT, or a store error. */
int entry_anchor(struct store_txn *txn, X509 *x, char *name, size_t namelen);
/* Adds one to a counter kept in the store (TOFU events, for metrics). */
int entry_counter_add(struct store_txn *txn, const char *key);

#endif
