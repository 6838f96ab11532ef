/* Helpers shared by the unit suites: certificates made in-process, and
 * temporary directories for fresh stores. */
#ifndef TRUSTFS_TESTUTIL_H
#define TRUSTFS_TESTUTIL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"

struct tu_cert_opts {
	const char *cn;
	const char *org;
	X509 *issuer;		/* NULL: self-signed */
	EVP_PKEY *issuer_key;
	int is_ca;
	long not_before;	/* seconds from now (negative: past) */
	long not_after;		/* seconds from now; 0 means one year */
	const char *san;	/* "DNS:a,IP:1.2.3.4" or NULL */
};

/* A certificate; *key_out (if not NULL) gets its new EC P-256 key. */
X509 *tu_make_cert(const struct tu_cert_opts *o, EVP_PKEY **key_out);
/* PEM of x appended to b. */
void tu_pem(struct buf *b, X509 *x);
/* A new temporary directory (malloc'd path) and its removal. */
char *tu_mkdtemp(void);
void tu_rmrf(const char *path);
/* Runs one suite made of tc and returns main()'s exit status.  nofork:
 * run in this process (suites that make their certificates up front). */
struct TCase;
int tu_run(const char *name, struct TCase *tc, int nofork);

/* The test data directory (TEST_DATA_DIR, else "tests/data"). */
const char *tu_data_dir(void);

#endif
