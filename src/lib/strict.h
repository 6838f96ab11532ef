/*
 * The strict rules of the chain modes (issue 13): what RFC 5280 and the
 * CA/Browser Forum baseline forbid and OpenSSL 3.0 accepts, one function
 * per rule, run from one X509_STORE_CTX verify callback.  The daemon
 * includes this header for strict_roots_failures() (MOUNT/status).
 */
#ifndef TRUSTFS_STRICT_H
#define TRUSTFS_STRICT_H

#include <openssl/x509.h>

#include "buf.h"
#include "store.h"
#include "trustfs.h"

/* Longest path the callback keeps track of; a longer one is refused. */
#define STRICT_MAX_CHAIN 66

/* A rule's refusal: the reason and what it found, in OpenSSL's style. */
struct strict_refusal {
	enum trustfs_reason reason;	/* TRUSTFS_REASON_NONE: none */
	int depth;
	char what[256];		/* "RSA key too small: 1024 bits ..." */
};

/* What one X509_verify_cert run asks of the callback (its app data). */
struct strict_state {
	int strict;		/* the rules apply */
	enum trustfs_revocation revocation;
	enum trustfs_purpose purpose;
	STACK_OF(X509_CRL) *crls;	/* crls/ and those handed in; may be
					 * NULL */
	int leaf_ocsp_good;	/* require: a good stapled OCSP response
				 * stands for the leaf's CRL */
	unsigned char seen[STRICT_MAX_CHAIN];	/* depths the rules ran on */
	struct strict_refusal r;
};

/*
 * The verify callback: runs the rules on each certificate OpenSSL has
 * verified (ok == 1), names the rule behind some of OpenSSL's own
 * refusals, and lets revocation=prefer pass a missing CRL.  Its state is
 * the context's app data (X509_STORE_CTX_set_app_data); none refuses.
 */
int strict_verify_cb(int ok, X509_STORE_CTX *ctx);

/*
 * After X509_verify_cert() succeeded: the rules on every certificate of
 * the path the callback did not see (never fails open on OpenSSL's
 * internals).  0 if all pass, 1 with s->r filled in.
 */
int strict_finish(struct strict_state *s, STACK_OF(X509) *path);

/*
 * All rules on one certificate at `depth' of a path of `len'
 * certificates (depth len - 1 is the root).  0 passes, 1 refuses with r
 * filled in; a rule that cannot be evaluated refuses.
 */
int strict_cert(X509 *x, int depth, int len, enum trustfs_purpose purpose,
    struct strict_refusal *r);

/* The reason behind an X509_V_ERR_* code: a strict reason where one
 * fits, else the reasons trustfs always had. */
enum trustfs_reason strict_reason_of(int x509_err);

/*
 * The roots in roots/ that the strict rules would refuse as anchors (weak
 * keys, version 1, missing or non-critical basicConstraints, no subject
 * key identifier, a bad serial): appends one line each to out,
 *   "roots/NAME: weak-key: RSA key too small: 1024 bits (2048 at least)\n"
 * and returns how many (0 for none), or a negative errno if roots/ could
 * not be read (-EIO, -ENOMEM).  For MOUNT/status, in the caller's read
 * transaction.
 */
int strict_roots_failures(struct store_txn *txn, struct buf *out);

#endif
