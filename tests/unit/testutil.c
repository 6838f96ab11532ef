/* Helpers shared by the unit suites. */
#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert.h"
#include "gencert.h"
#include "testutil.h"

/* Usable outside a running test too (suite set-up), unlike ck_assert. */
#define REQUIRE(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: test set-up failed: %s\n", __FILE__, \
		    __LINE__, #c); \
		abort(); \
	} \
} while (0)

X509 *
tu_make_cert(const struct gencert_opts *o, EVP_PKEY **key_out)
{
	X509 *x = gencert(o, key_out);

	REQUIRE(x != NULL);
	return x;
}

STACK_OF(X509) *
tu_stack(X509 *first, ...)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	va_list ap;
	X509 *x;

	REQUIRE(sk != NULL);
	va_start(ap, first);
	for (x = first; x != NULL; x = va_arg(ap, X509 *)) {
		REQUIRE(X509_up_ref(x) == 1);
		REQUIRE(sk_X509_push(sk, x) > 0);
	}
	va_end(ap);
	return sk;
}

void
tu_pem(struct buf *b, X509 *x)
{
	REQUIRE(cert_pem(b, x) == 0);
}

char *
tu_mkdtemp(void)
{
	char *p = strdup("/tmp/trustfs-unit.XXXXXX");

	REQUIRE(p);
	REQUIRE(mkdtemp(p));
	return p;
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	return 0;
}

/* Without a shell (the C rules), depth first, not following links. */
void
tu_rmrf(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
tu_data_dir(void)
{
	const char *d = getenv("TEST_DATA_DIR");

	return d ? d : "tests/data";
}

int
tu_run(const char *name, TCase *tc, int nofork)
{
	Suite *s = suite_create(name);
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	if (nofork)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
