/* policy.c: parsing (good and bad lines) and matching, table-driven. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "testutil.h"

static const struct {
	const char *text;
	int want_rc;
	const char *want_why;	/* substring of the reason */
} parse_cases[] = {
	{ "", 0, NULL },
	{ "# only a comment\n\n   \n", 0, NULL },
	{ "* tofu\n", 0, NULL },
	{ "*.lab.example_443 chain\n10.1.2.3_8082 pinned\n* tofu", 0, NULL },
	{ "a_443\tchain-or-tofu   # trailing comment\n", 0, NULL },
	{ "2001:db8::1_443 pinned\n", 0, NULL },
	{ "h_[0-9]* chain\n", 0, NULL },
	{ "* tofu\n* bogus\n", -EINVAL, "line 2: unknown mode 'bogus'" },
	{ "* tofu extra\n", -EINVAL, "line 1: expected 'PATTERN MODE'" },
	{ "\n\nlonely\n", -EINVAL, "line 3: expected 'PATTERN MODE', found one word" },
	{ "bad/pattern tofu\n", -EINVAL, "line 1: bad pattern" },
	{ "* CHAIN\n", -EINVAL, "unknown mode 'CHAIN'" },
	{ "h\xff_1 tofu\n", -EINVAL, "bad pattern" },
};

START_TEST(test_parse)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };
	char *why = te.msg;
	int rc;

	rc = policy_parse(parse_cases[_i].text, strlen(parse_cases[_i].text),
	    &p, &te);
	ck_assert_msg(rc == parse_cases[_i].want_rc, "case %d: rc %d", _i, rc);
	if (rc == 0)
		ck_assert_ptr_nonnull(p);
	else {
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(why, parse_cases[_i].want_why) != NULL,
		    "case %d: why '%s'", _i, why);
	}
	policy_free(p);
}
END_TEST

START_TEST(test_nul_refused)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(policy_parse("* tofu\0x", 8, &p, &te),
	    -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

static const char *const match_policy =
    "*.lab.example_443   chain\n"
    "10.1.2.3_8082       pinned\n"
    "10.1.2.*_*          chain-or-tofu\n"
    "2001:db8::1_443     pinned\n"
    "*                   tofu\n";

static const struct {
	const char *hp;
	enum trustfs_mode want;
} match_cases[] = {
	{ "a.lab.example_443", TRUSTFS_MODE_CHAIN },
	{ "a.lab.example_8443", TRUSTFS_MODE_TOFU },
	{ "10.1.2.3_8082", TRUSTFS_MODE_PINNED },	/* first match wins */
	{ "10.1.2.4_8082", TRUSTFS_MODE_CHAIN_OR_TOFU },
	{ "2001:db8::1_443", TRUSTFS_MODE_PINNED },
	{ "example.org_443", TRUSTFS_MODE_TOFU },
};

START_TEST(test_match)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(policy_parse(match_policy, strlen(match_policy), &p,
	    &te), 0);
	ck_assert_int_eq(policy_mode(p, match_cases[_i].hp),
	    match_cases[_i].want);
	policy_free(p);
}
END_TEST

/* Issue 8 defect 1: patterns match case-insensitively, as DNS names do
 * (RFC 4343); a pattern with capitals never falls through to tofu. */
static const struct {
	const char *policy;
	const char *hp;
	enum trustfs_mode want;
} case_cases[] = {
	{ "*.Lab.Example_443 chain\n* tofu\n", "host.lab.example_443",
	    TRUSTFS_MODE_CHAIN },
	{ "*.LAB.EXAMPLE_443 chain\n* tofu\n", "a.lab.example_443",
	    TRUSTFS_MODE_CHAIN },
	{ "*.Lab.Example_443 chain\n* tofu\n", "host.lab.example_8443",
	    TRUSTFS_MODE_TOFU },
	{ "Host-[A-C]_1 pinned\n* tofu\n", "host-b_1", TRUSTFS_MODE_PINNED },
	{ "2001:DB8::1_443 pinned\n* tofu\n", "2001:db8::1_443",
	    TRUSTFS_MODE_PINNED },
	{ "*.lab.example_443 chain\n* tofu\n", "HOST.LAB.EXAMPLE_443",
	    TRUSTFS_MODE_CHAIN },
};

START_TEST(test_match_case)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(policy_parse(case_cases[_i].policy,
	    strlen(case_cases[_i].policy), &p, &te), 0);
	ck_assert_msg(policy_mode(p, case_cases[_i].hp) == case_cases[_i].want,
	    "case %d: %s", _i, case_cases[_i].hp);
	policy_free(p);
}
END_TEST

/* An empty text may come as a NULL pointer (an empty file). */
START_TEST(test_empty_null)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(policy_parse(NULL, 0, &p, &te), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(policy_mode(p, "a_1"), TRUSTFS_MODE_TOFU);
	policy_free(p);
}
END_TEST

START_TEST(test_no_match_is_tofu)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(policy_parse("x_1 chain\n", 10, &p, &te), 0);
	ck_assert_int_eq(policy_mode(p, "y_1"), TRUSTFS_MODE_TOFU);
	ck_assert_int_eq(policy_mode(NULL, "y_1"), TRUSTFS_MODE_TOFU);
	policy_free(p);
}
END_TEST

START_TEST(test_default_text)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(policy_parse(POLICY_DEFAULT_TEXT,
	    strlen(POLICY_DEFAULT_TEXT), &p, &te), 0);
	ck_assert_int_eq(policy_mode(p, "anything_443"), TRUSTFS_MODE_TOFU);
	policy_free(p);
}
END_TEST

/* Every example shipped in policies/ parses. */
static const char *const shipped[] = {
	"default.policy", "strict-chain.policy", "ha-pair.policy",
	"lab.policy",
};

START_TEST(test_shipped)
{
	const char *dir = getenv("POLICY_DIR");
	char path[1024], buf[65536];
	struct tf_error te = { 0 };
	char *why = te.msg;
	struct policy *p = NULL;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "policies",
	    shipped[_i]);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s missing", path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_msg(policy_parse(buf, n, &p, &te) == 0,
	    "%s: %s", path, why);
	policy_free(p);
}
END_TEST

START_TEST(test_mode_names)
{
	ck_assert_int_eq(policy_mode_from_name("tofu"), TRUSTFS_MODE_TOFU);
	ck_assert_int_eq(policy_mode_from_name("chain-or-tofu"),
	    TRUSTFS_MODE_CHAIN_OR_TOFU);
	ck_assert_int_eq(policy_mode_from_name("nope"), -1);
	ck_assert_str_eq(policy_mode_name(TRUSTFS_MODE_PINNED), "pinned");
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("policy");
	int rc;

	tcase_add_loop_test(tc, test_parse, 0,
	    sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(tc, test_nul_refused);
	tcase_add_loop_test(tc, test_match, 0,
	    sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_loop_test(tc, test_match_case, 0,
	    sizeof(case_cases) / sizeof(case_cases[0]));
	tcase_add_test(tc, test_empty_null);
	tcase_add_test(tc, test_no_match_is_tofu);
	tcase_add_test(tc, test_default_text);
	tcase_add_loop_test(tc, test_shipped, 0,
	    sizeof(shipped) / sizeof(shipped[0]));
	tcase_add_test(tc, test_mode_names);
	rc = tu_run("policy", tc, 0);
	return rc;
}
