/* Helpers shared by the unit suites. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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

void
tu_rmrf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
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
