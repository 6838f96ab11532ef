/*
 * Revocation material (issue 13): the CRLs of MOUNT/crls/ -- what one
 * must be to be stored, its inspect text, where its issuer is -- and the
 * stapled OCSP responses that trustfs_ssl_check() reads.  The daemon,
 * trustctl and the chain checks (chain.c) all go through here.
 */
#ifndef TRUSTFS_CRL_H
#define TRUSTFS_CRL_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "buf.h"
#include "entry.h"
#include "error.h"
#include "store.h"

/* A CRL file's limit: CAs with many revocations publish big ones. */
#define CRL_INPUT_MAX (16u << 20)

/*
 * One CRL, PEM (text around the block is ignored) or DER, that trustfs
 * accepts: exactly one CRL, version 2, a CRL number (RFC 5280 5.2.3), a
 * next update (5.1.2.5), no delta CRL, no critical extension trustfs
 * does not know (5.2).  0 with *out, or -EINVAL (-EFBIG over limit)
 * with e saying which rule.
 */
int crl_parse(const void *buf, size_t len, size_t limit, X509_CRL **out,
    struct tf_error *e);

/* The same rules on a CRL already decoded (CRLs given to the library). */
int crl_acceptable(X509_CRL *crl, struct tf_error *e);

/*
 * The CRL's issuer in the store: a certificate of roots/ or chains/ whose
 * subject is the CRL's issuer, whose key verifies the CRL's signature,
 * and whose keyUsage has cRLSign.  0 with *issuer (referenced, may be
 * NULL) and where ("roots/X.pem"), -EINVAL with e saying what is wrong
 * ("issuer not in the store: ..."), or a store error.
 */
int crl_find_issuer(struct store_txn *txn, X509_CRL *crl, X509 **issuer,
    char *where, size_t wherelen, struct tf_error *e);

/* LABEL.crl: a file name that does not start with '.' and ends in .crl.
 * 0, or -EINVAL / -ENAMETOOLONG with e saying so. */
int crl_name_check(const char *name, struct tf_error *e);

/* 1 when the CRL's next update is past at `now' (or it has none). */
int crl_expired(X509_CRL *crl, time_t now);

/* The inspect text: Issuer, This Update, Next Update, CRL Number,
 * Revoked: N, Status: current|expired|not yet valid, then the PEM. */
int crl_render(X509_CRL *crl, time_t now, struct buf *out);

/* SHA-256 of the DER CRL, for audit.log. */
void crl_sha256(X509_CRL *crl, unsigned char out[32]);

/* What crl_store did. */
enum crl_outcome {
	CRL_ADDED,
	CRL_REPLACED,
	CRL_UNCHANGED
};

/*
 * Stores crl as crls/name after crl_find_issuer, audited as "add" or
 * "replace" (with the old SHA-256).  A refusal is returned before
 * anything is written (e says why; the caller audits it).
 */
int crl_store(struct store_txn *txn, const char *name, X509_CRL *crl,
    const struct entry_actor *who, enum crl_outcome *outcome,
    struct tf_error *e);

/* Removes crls/name, audited.  0, -ENOENT or a store error. */
int crl_remove(struct store_txn *txn, const char *name,
    const struct entry_actor *who);

/* Renames crls/from to crls/to (replacing it), audited.  0, -ENOENT,
 * -EEXIST (noreplace) or a store error. */
int crl_rename(struct store_txn *txn, const char *from, const char *to,
    int noreplace, const struct entry_actor *who);

/* A stored CRL decoded: 0, -ENOENT, -EIO (damaged) or a store error. */
int crl_load(struct store_txn *txn, const char *name, X509_CRL **out,
    time_t *mtime);

/*
 * Every stored CRL, decoded, appended to crls; names (may be NULL) gets
 * "crls/NAME" for each, in the same order (free with free()).  A record
 * that does not decode is skipped: it can revoke nothing, and
 * revocation=require then finds no CRL for its issuer.  0 or a store
 * error.
 */
int crl_load_all(struct store_txn *txn, STACK_OF(X509_CRL) *crls,
    STACK_OF(OPENSSL_STRING) *names);

/* For MOUNT/status: "crls/NAME: next update was TIME\n" per CRL past its
 * next update.  How many, or a negative errno.  *total gets the count of
 * CRLs. */
int crl_expired_lines(struct store_txn *txn, time_t now, struct buf *out,
    size_t *total);

/* --- stapled OCSP responses ---------------------------------------- */

enum crl_ocsp_status {
	CRL_OCSP_NONE = 0,	/* no response, or none about the leaf */
	CRL_OCSP_GOOD,
	CRL_OCSP_REVOKED,
	CRL_OCSP_STALE,		/* outside thisUpdate..nextUpdate */
	CRL_OCSP_BAD		/* does not parse, or is not signed by the
				 * issuer or its delegated responder */
};

/* Seconds of clock skew allowed on thisUpdate and nextUpdate. */
#define CRL_OCSP_SKEW 300

/*
 * Checks a DER OCSP response stapled for leaf, whose issuer is `issuer':
 * signed by the issuer or by a responder the issuer certified for OCSP
 * signing (id-kp-OCSPSigning), fresh at `now' (thisUpdate not ahead,
 * nextUpdate not past, CRL_OCSP_SKEW either way), and the leaf's status.
 * Returns the status; why gets a sentence for the verdict message.
 */
enum crl_ocsp_status crl_ocsp_check(const unsigned char *der, size_t len,
    X509 *leaf, X509 *issuer, time_t now, char *why, size_t whylen);

#endif
