/*
 * What the expiry index of store.c is filled with, and read back as
 * (issue 9): each certificate's validity and the size of an entry's
 * inspect text, computed from the index without parsing or rendering.
 */
#ifndef TRUSTFS_EXPIRY_H
#define TRUSTFS_EXPIRY_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "error.h"
#include "store.h"

/* For entry_certs: 1 with *out (the caller frees it) when der is the
 * record expiry_fill_rec is sizing, whose certificates it has decoded. */
int expiry_hinted(const unsigned char *der, size_t len, STACK_OF(X509) **out);

/* x's validity, as the index keeps it. */
void expiry_validity(X509 *x, struct store_validity *out);

/*
 * Sets rec->validity (to val, one per certificate) and rec->text_base for
 * a record of sk's certificates about to be stored as name in db: the
 * size of entry_render()'s text less its Status lines, which
 * expiry_text_size adds back for the time it is asked at.  Nothing is set
 * (the index lists the entry as unknown) for more than STORE_INFO_CERTS
 * certificates; text_base stays 0 (rendered when asked) in chains/, whose
 * text looks up roots/.  Call it last, when rec holds what is stored.
 */
void expiry_fill_rec(struct store_txn *txn, enum store_db db,
    const char *name, struct store_rec *rec, STACK_OF(X509) *sk,
    struct store_validity val[STORE_INFO_CERTS]);
/* The same for a record read back (decodes it).  0 or -EINVAL. */
int expiry_fill_stored(struct store_txn *txn, enum store_db db,
    const char *name, struct store_rec *rec,
    struct store_validity val[STORE_INFO_CERTS]);

/*
 * The size of entry_render()'s text for the entry `name' of db holding
 * rec, whose index information is info, at `now' (one look-up: its
 * source); -1 when it cannot be
 * told without rendering (chains/, whose last line looks up roots/, and
 * entries the index does not know).
 */
long expiry_text_size(struct store_txn *txn, enum store_db db,
    const char *name, const struct store_rec *rec,
    const struct store_info *info, time_t now);

/*
 * Brings the index up to date in one write transaction per call: every
 * record of a store written before the index (then marks it ready), else
 * only those stored without a validity (store_expiry_unknown).  *done
 * (may be NULL) gets how many records were filed.  0 or a negative errno
 * (-EROFS for a read-only store), e says why.
 */
int expiry_rebuild(struct store *st, size_t *done, struct tf_error *e);

#endif
