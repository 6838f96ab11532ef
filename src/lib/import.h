/*
 * An import: every certificate of a bundle into roots/, in one store
 * transaction, with the report that reading the mount's `import' file
 * shows.  The daemon's `import' file and `trustctl import' both call
 * entry_import(), so that the same bundle gets the same outcome, the same
 * report (byte for byte) and the same audit lines whoever imports it.
 */
#ifndef TRUSTFS_IMPORT_H
#define TRUSTFS_IMPORT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "buf.h"
#include "entry.h"
#include "error.h"
#include "store.h"

enum import_kind {
	IMPORT_ADDED,
	IMPORT_DUPLICATE,
	IMPORT_DISTRUSTED,
	IMPORT_REFUSED,
	IMPORT_REPLACED,	/* --replace: a removed root's name, new root */
	IMPORT_REMOVED,		/* --replace: the source's root the bundle lost */
	IMPORT_NKINDS
};

/* What became of one certificate of the bundle. */
struct import_item {
	enum import_kind kind;
	char entry[STORE_NAME_MAX + 16];	/* "roots/X.pem"; "" if refused */
	char *subject;				/* malloc'd */
	char sha256[100];			/* "AB:CD:..." */
	char *reason;				/* refused only: malloc'd */
	int crl;				/* a CRL: subject is its
						 * issuer, entry crls/X.crl */
};

/* The outcome: one item per certificate in input order, the counts by
 * kind, and the report text stored under "import_report". */
struct import_result {
	struct import_item *items;
	size_t n, total;
	size_t cap;				/* of items */
	int dry_run, replace;			/* as the import_opts said */
	size_t count[IMPORT_NKINDS];
	size_t crl_total;			/* CRLs, after the certificates */
	size_t crl_count[IMPORT_NKINDS];
	struct buf report;
	time_t when;
};

/* The words of the report and of JSON output, by kind. */
const char *import_kind_word(enum import_kind k);

/*
 * Called once per certificate inside the transaction, after its outcome
 * is known (i counts from 0 to total - 1), for a progress line.  It may
 * be called again from 0 if the store grows its map and reruns the
 * transaction.  A non-zero return aborts the import and is returned.
 */
typedef int (*import_progress_fn)(const struct import_item *it, size_t i,
    size_t total, void *arg);

/*
 * Imports sk into roots/ of st in one transaction.  Each certificate
 * entry_add() refuses (-EINVAL: an end-entity certificate is no anchor)
 * is reported as "refused SUBJECT: REASON" and the import goes on:
 * entry_add() writes nothing before it refuses.  Duplicates and
 * distrusted certificates are skipped and reported.  The report is
 * saved as "import_report" and the import audited (action=import) in
 * the same transaction.  Returns 0 with *res filled in, or a negative
 * errno with e saying why; then nothing was changed.  res is freed with
 * import_result_free() in both cases.
 */
int entry_import(struct store *st, STACK_OF(X509) *sk,
    const struct entry_actor *who, import_progress_fn fn, void *arg,
    struct import_result *res, struct tf_error *e);

/*
 * An import of raw input (PEM, DER, PKCS#7, as cert_parse() reads, and
 * CRLs): the certificates as entry_import() does, and each CRL (PEM
 * "X509 CRL" blocks, or the input if it is one DER CRL) into crls/ in
 * the same transaction, by crl_store()'s rules, named after its issuer's
 * CN (LABEL.crl; LABEL_2.crl... when another issuer's CRL holds the
 * name).  The same CRL again is a duplicate; a CRL that is not newer (by
 * CRL number) than the stored one of its issuer, or that crl_store()
 * refuses, is reported "refused CRL ISSUER: REASON" and the import goes
 * on.  When the input has CRLs, the report's counts are followed by
 * "CRLs: N", "CRLs added: N", "CRLs skipped (duplicate): N", "CRLs
 * refused: N".  An input of CRLs only is an import.  The progress
 * function is called for the certificates only.
 */
int entry_import_input(struct store *st, const void *buf, size_t len,
    const struct entry_actor *who, import_progress_fn fn, void *arg,
    struct import_result *res, struct tf_error *e);
void import_result_free(struct import_result *res);

/*
 * An import from a named source (issue 12: trustctl import URL, sources).
 *   source   recorded as the Source of each root the import adds
 *            (origin.h), e.g. the URL; NULL: none (by hand).
 *   replace  (needs source) the roots/ entries recorded with this very
 *            source whose certificate the bundle no longer holds are
 *            removed in the same transaction, before the bundle is
 *            added, so that a renewed root takes its predecessor's name:
 *            such a pair is reported "replaced roots/X.pem", the others
 *            "removed roots/X.pem".  Roots without that source (added by
 *            hand, by another source) are never touched.
 *   dry_run  everything is decided as for a real import, in a write
 *            transaction that is then aborted: the report says what
 *            would happen and starts with "Dry run: nothing was
 *            changed."; nothing is stored, not even the report.
 * The report adds "Replaced: N" and "Removed: N" after "Refused: N" when
 * replace is set.
 */
struct import_opts {
	const char *source;
	int replace;
	int dry_run;
};
int entry_import_opts(struct store *st, const void *buf, size_t len,
    const struct import_opts *o, const struct entry_actor *who,
    import_progress_fn fn, void *arg, struct import_result *res,
    struct tf_error *e);
/* The same for certificates already parsed (a signed bundle's). */
int entry_import_certs(struct store *st, STACK_OF(X509) *sk,
    const struct import_opts *o, const struct entry_actor *who,
    import_progress_fn fn, void *arg, struct import_result *res,
    struct tf_error *e);

/*
 * The parse of entry_import_input(), nothing stored: each PEM "X509 CRL"
 * block into *crls, the rest to cert_parse() into *sk (NULL when there is
 * no certificate), or the input as one DER CRL.  A CRL block that does
 * not decode refuses the whole input.  0 with both (free them), or
 * -EINVAL / -EFBIG / -ENOMEM with e saying why and both NULL.  For a
 * check of the input that does not import it.
 */
int import_split(const void *buf, size_t len, STACK_OF(X509) **sk,
    STACK_OF(X509_CRL) **crls, struct tf_error *e);

/*
 * Saves the report of an import refused whole (the input did not parse):
 * "Import: TIME\nRefused: the whole input: WHY\nNothing was changed.\n",
 * so that reading `import' tells why.  0 or a negative errno.
 */
int import_report_refused(struct store *st, const char *why,
    struct tf_error *e);

#endif
