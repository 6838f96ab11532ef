/* Helpers shared by the unit suites: certificates made in-process, and
 * temporary directories for fresh stores. */
#ifndef TRUSTFS_TESTUTIL_H
#define TRUSTFS_TESTUTIL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "gencert.h"

/* gencert(), failing the test run if it cannot. */
X509 *tu_make_cert(const struct gencert_opts *o, EVP_PKEY **key_out);
/* A new stack holding references to the certificates given, up to a
 * NULL; free with sk_X509_pop_free(sk, X509_free). */
STACK_OF(X509) *tu_stack(X509 *first, ...);
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
