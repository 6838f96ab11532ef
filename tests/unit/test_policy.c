/* policy.c: parsing (good and bad lines) and matching, table-driven. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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
	{ "* tofu extra\n", -EINVAL, "line 1: unknown option 'extra'" },
	{ "\n\nlonely\n", -EINVAL, "line 3: expected 'PATTERN MODE [OPTION...]', found one word" },
	/* Options (DESIGN section 8, issue 13): known keys and values only,
	 * each once, refused with the line number. */
	{ "a_1 chain strict=no\n", 0, NULL },
	{ "a_1 chain strict=yes revocation=require aia=fetch\n", 0, NULL },
	{ "a_1 chain-or-tofu strict=no revocation=off aia=fetch pin=key\n", 0,
	    NULL },
	{ "a_1 chain-or-tofu revocation=off\n* tofu revocation=prefer\n", 0,
	    NULL },
	{ "a_1 chain aia=off\n", 0, NULL },
	{ "a_1 chain\nb_1 chain strict=maybe\n", -EINVAL,
	    "line 2: bad value 'maybe' for strict (yes or no)" },
	{ "a_1 chain revocation=sometimes\n", -EINVAL,
	    "line 1: bad value 'sometimes' for revocation" },
	{ "a_1 chain aia=push\n", -EINVAL, "bad value 'push' for aia" },
	{ "\na_1 chain ocsp=yes\n", -EINVAL, "line 2: unknown option 'ocsp=yes'" },
	{ "a_1 chain strict\n", -EINVAL, "line 1: unknown option 'strict'" },
	{ "a_1 chain strict=no strict=no\n", -EINVAL,
	    "line 1: option strict given twice" },
	{ "a_1 chain STRICT=no\n", -EINVAL, "unknown option 'STRICT=no'" },
	{ "a_1 chain strict=NO\n", -EINVAL, "bad value 'NO'" },
	{ "a_1 chain strict=no revocation=off aia=off pin=key x=y\n", -EINVAL,
	    "line 1: expected 'PATTERN MODE [OPTION...]', found more than "
	    "four options" },
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
	struct buf b = { 0 };
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
	/* The examples teach by example: no line that can never match. */
	ck_assert_msg(policy_shadowed(p, &b) == 0, "%s: %s", path, b.data);
	buf_free(&b);
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

/*
 * Issue 10: lines that can never match because an earlier line matches
 * every name they could (after "* tofu", the same pattern again, or a
 * literal name an earlier glob covers).  Output: one line each.
 */
static const struct {
	const char *policy;
	int want_n;
	const char *want;
} shadow_cases[] = {
	{ POLICY_DEFAULT_TEXT, 0, "" },
	{ "*.lab.example_443 chain\n10.1.2.3_8082 pinned\n* tofu\n", 0, "" },
	{ "* tofu\n10.1.2.3_8082 pinned\n", 1,
	    "line 2: 10.1.2.3_8082 can never match (line 1: * matches "
	    "first)\n" },
	{ "# header\n\n*   tofu\n*.lab_443 chain   # too late\nh_1 pinned\n",
	    2, "line 4: *.lab_443 can never match (line 3: * matches first)\n"
	    "line 5: h_1 can never match (line 3: * matches first)\n" },
	{ "h_1 chain\nh_1 pinned\n", 1,
	    "line 2: h_1 can never match (line 1: h_1 matches first)\n" },
	{ "H.Example_1 chain\nh.example_1 pinned\n", 1,
	    "line 2: h.example_1 can never match (line 1: H.Example_1 matches "
	    "first)\n" },
	{ "*.lab_443 chain\nhost.lab_443 pinned\nhost.lab_8443 pinned\n", 1,
	    "line 2: host.lab_443 can never match (line 1: *.lab_443 matches "
	    "first)\n" },
	{ "*.LAB_443 chain\nhost.lab_443 pinned\n", 1,
	    "line 2: host.lab_443 can never match (line 1: *.LAB_443 matches "
	    "first)\n" },
	{ "10.1.2.[0-9]_* chain\n10.1.2.7_22 pinned\n", 1,
	    "line 2: 10.1.2.7_22 can never match (line 1: 10.1.2.[0-9]_* "
	    "matches first)\n" },
	{ "h_1 pinned\n*_1 chain\nh_? tofu\n", 0, "" },
	{ "** tofu\nx_1 chain\n", 1,
	    "line 2: x_1 can never match (line 1: ** matches first)\n" },
	{ "a_1 chain\nb_1 chain\n* tofu\n", 0, "" },
};

START_TEST(test_shadowed)
{
	struct policy *p = NULL;
	struct tf_error te = { 0 };
	struct buf b = { 0 };
	int n;

	ck_assert_int_eq(policy_parse(shadow_cases[_i].policy,
	    strlen(shadow_cases[_i].policy), &p, &te), 0);
	n = policy_shadowed(p, &b);
	ck_assert_msg(n == shadow_cases[_i].want_n, "case %d: %d", _i, n);
	ck_assert_msg(strcmp(b.len ? b.data : "", shadow_cases[_i].want) == 0,
	    "case %d: '%s'", _i, b.len ? b.data : "");
	/* Appends: what the caller had stays. */
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, "x\n"), 0);
	ck_assert_int_eq(policy_shadowed(p, &b), n);
	ck_assert_int_eq(strncmp(b.data, "x\n", 2), 0);
	buf_free(&b);
	policy_free(p);
	ck_assert_int_eq(policy_shadowed(NULL, &b), 0);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

/* Issue 13: what the governing line's options say; no line, defaults. */
static const char opt_policy[] =
    "legacy.lab_443   chain          strict=no   # an old appliance\n"
    "crl.lab_443      chain          revocation=require aia=fetch\n"
    "off.lab_*        chain-or-tofu  revocation=off strict=yes\n"
    "*.lab_443        chain\n";

static const struct {
	const char *hp;
	enum trustfs_mode mode;
	int strict;
	enum trustfs_revocation rev;
	int aia, line;
} opt_cases[] = {
	{ "legacy.lab_443", TRUSTFS_MODE_CHAIN, 0, TRUSTFS_REVOCATION_PREFER,
	    0, 1 },
	{ "LEGACY.lab_443", TRUSTFS_MODE_CHAIN, 0, TRUSTFS_REVOCATION_PREFER,
	    0, 1 },
	{ "crl.lab_443", TRUSTFS_MODE_CHAIN, 1, TRUSTFS_REVOCATION_REQUIRE, 1,
	    2 },
	{ "off.lab_8443", TRUSTFS_MODE_CHAIN_OR_TOFU, 1,
	    TRUSTFS_REVOCATION_OFF, 0, 3 },
	{ "new.lab_443", TRUSTFS_MODE_CHAIN, 1, TRUSTFS_REVOCATION_PREFER, 0,
	    4 },
	{ "elsewhere_443", TRUSTFS_MODE_TOFU, 1, TRUSTFS_REVOCATION_PREFER, 0,
	    0 },
};

START_TEST(test_options)
{
	struct policy *p = NULL;
	struct policy_line l;
	struct tf_error te = { 0 };

	ck_assert_msg(policy_parse(opt_policy, strlen(opt_policy), &p, &te) ==
	    0, "%s", te.msg);
	policy_lookup(p, opt_cases[_i].hp, &l);
	ck_assert_int_eq(l.mode, opt_cases[_i].mode);
	ck_assert_int_eq(l.strict, opt_cases[_i].strict);
	ck_assert_int_eq(l.revocation, opt_cases[_i].rev);
	ck_assert_int_eq(l.aia_fetch, opt_cases[_i].aia);
	ck_assert_int_eq(l.line, opt_cases[_i].line);
	ck_assert_int_eq(policy_mode(p, opt_cases[_i].hp), opt_cases[_i].mode);
	policy_free(p);
	/* No policy at all: tofu, strict, prefer. */
	policy_lookup(NULL, opt_cases[_i].hp, &l);
	ck_assert_int_eq(l.mode, TRUSTFS_MODE_TOFU);
	ck_assert_int_eq(l.strict, 1);
	ck_assert_int_eq(l.line, 0);
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
	tcase_add_loop_test(tc, test_options, 0,
	    sizeof(opt_cases) / sizeof(opt_cases[0]));
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
	tcase_add_loop_test(tc, test_shadowed, 0,
	    sizeof(shadow_cases) / sizeof(shadow_cases[0]));
	rc = tu_run("policy", tc, 0);
	return rc;
}
