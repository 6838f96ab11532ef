/* names.c: one table per rule. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "testutil.h"

static const struct {
	const char *in;
	int want;
} file_cases[] = {
	{ "a.pem", 0 },
	{ "IdenTrust_Commercial_Root_CA_1.pem", 0 },
	{ "caf\xc3\xa9.pem", 0 },			/* UTF-8 é */
	{ "", -EINVAL },
	{ ".", -EINVAL },
	{ "..", -EINVAL },
	{ "a/b", -EINVAL },
	{ "bad\xff.pem", -EINVAL },			/* not UTF-8 */
	{ "\xc0\xaf.pem", -EINVAL },			/* overlong '/' */
	{ "\xed\xa0\x80.pem", -EINVAL },		/* surrogate */
	{ "trunc\xc3", -EINVAL },			/* cut sequence */
	{ "tab\there", -EINVAL },
	{ "del\x7f", -EINVAL },
	{ "nl\nx", -EINVAL },
};

START_TEST(test_check_file)
{
	ck_assert_msg(name_check_file(file_cases[_i].in) == file_cases[_i].want,
	    "case %d", _i);
}
END_TEST

START_TEST(test_check_file_long)
{
	char n[300];

	memset(n, 'a', 255);
	n[255] = '\0';
	ck_assert_int_eq(name_check_file(n), 0);
	n[255] = 'a';
	n[256] = '\0';
	ck_assert_int_eq(name_check_file(n), -ENAMETOOLONG);
}
END_TEST

static const struct {
	const char *in;
	int want;
	const char *out;
} hp_cases[] = {
	{ "10.1.2.3_8082", 0, "10.1.2.3_8082" },
	{ "Example.COM_443", 0, "example.com_443" },
	{ "2001:DB8:0:0:0:0:0:1_443", 0, "2001:db8::1_443" },
	{ "[2001:db8::1]_443", 0, "2001:db8::1_443" },
	{ "::1_8443", 0, "::1_8443" },
	{ "host_name.lab_443", 0, "host_name.lab_443" },
	{ "a_b_443", 0, "a_b_443" },		/* the port is after the last _ */
	{ "h_65535", 0, "h_65535" },
	{ "host", -EINVAL, NULL },
	{ "host_", -EINVAL, NULL },
	{ "_443", -EINVAL, NULL },
	{ "host_0", -EINVAL, NULL },
	{ "host_65536", -EINVAL, NULL },
	{ "host_08", -EINVAL, NULL },
	{ "host_-1", -EINVAL, NULL },
	{ "host_443x", -EINVAL, NULL },
	{ "a..b_443", -EINVAL, NULL },
	{ ".a_443", -EINVAL, NULL },
	{ "*.example.com_443", -EINVAL, NULL },
	{ "10.1.2.300_443", -EINVAL, NULL },
	{ "2001:db8::zz_443", -EINVAL, NULL },
	{ "[10.1.2.3]_443", -EINVAL, NULL },
	{ "h\xc3\xa9_443", -EINVAL, NULL },
	{ "..", -EINVAL, NULL },
};

START_TEST(test_host_port)
{
	char out[NAME_MAX_BYTES + 1];
	int rc = name_host_port(hp_cases[_i].in, out, sizeof(out));

	ck_assert_msg(rc == hp_cases[_i].want, "case %d '%s': %d", _i,
	    hp_cases[_i].in, rc);
	if (rc == 0)
		ck_assert_str_eq(out, hp_cases[_i].out);
}
END_TEST

static const struct {
	const char *host;
	unsigned port;
	int want;
	const char *out;
} make_cases[] = {
	{ "Server.Test", 443, 0, "server.test_443" },
	{ "[::1]", 8443, 0, "::1_8443" },
	{ "2001:db8:0::1", 1, 0, "2001:db8::1_1" },
	{ "127.0.0.1", 65535, 0, "127.0.0.1_65535" },
	{ "h", 0, -EINVAL, NULL },
	{ "h", 65536, -EINVAL, NULL },
	{ "bad host", 443, -EINVAL, NULL },
	{ "", 443, -EINVAL, NULL },
};

START_TEST(test_host_port_make)
{
	char out[NAME_MAX_BYTES + 1];
	int rc = name_host_port_make(make_cases[_i].host, make_cases[_i].port,
	    out, sizeof(out));

	ck_assert_msg(rc == make_cases[_i].want, "case %d: %d", _i, rc);
	if (rc == 0)
		ck_assert_str_eq(out, make_cases[_i].out);
}
END_TEST

static const struct {
	const char *in;
	int want;
	const char *host;
	unsigned port;
} split_cases[] = {
	{ "2001:db8::1_443", 0, "2001:db8::1", 443 },
	{ "a_b_8443", 0, "a_b", 8443 },
	{ "10.1.2.3_8082", 0, "10.1.2.3", 8082 },
	{ "nope", -EINVAL, NULL, 0 },
	{ "_443", -EINVAL, NULL, 0 },
	{ "h_0", -EINVAL, NULL, 0 },
	{ "h_", -EINVAL, NULL, 0 },
};

START_TEST(test_split)
{
	char host[256], again[NAME_MAX_BYTES + 1];
	unsigned port = 0;
	int rc = name_host_port_split(split_cases[_i].in, host, sizeof(host),
	    &port);

	ck_assert_msg(rc == split_cases[_i].want, "case %d: %d", _i, rc);
	if (rc != 0)
		return;
	ck_assert_str_eq(host, split_cases[_i].host);
	ck_assert_uint_eq(port, split_cases[_i].port);
	/* The inverse of name_host_port_make. */
	ck_assert_int_eq(name_host_port_make(host, port, again, sizeof(again)),
	    0);
	ck_assert_str_eq(again, split_cases[_i].in);
}
END_TEST

START_TEST(test_split_small)
{
	char host[4];
	unsigned port;

	ck_assert_int_eq(name_host_port_split("example.com_443", host,
	    sizeof(host), &port), -ENAMETOOLONG);
}
END_TEST

static const struct {
	const char *in;
	int want;
} label_cases[] = {
	{ "X.pem", 1 },
	{ "IdenTrust_Commercial_Root_CA_1.pem", 1 },
	{ ".pem", 0 },
	{ ".hidden.pem", 0 },
	{ "x.crt", 0 },
	{ "x.pem.bak", 0 },
	{ "x", 0 },
	{ "a/b.pem", 0 },
};

START_TEST(test_is_label)
{
	ck_assert_msg(name_is_label(label_cases[_i].in) == label_cases[_i].want,
	    "case %d", _i);
}
END_TEST

START_TEST(test_label_nth)
{
	char out[256], base[260];

	ck_assert_int_eq(name_label_nth("Root", 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "Root.pem");
	ck_assert_int_eq(name_label_nth("Root", 3, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "Root_3.pem");
	memset(base, 'a', 252);
	base[252] = '\0';
	ck_assert_int_eq(name_label_nth(base, 1, out, sizeof(out)),
	    -ENAMETOOLONG);
}
END_TEST

static const struct {
	const char *in;
	int want;
} temp_cases[] = {
	{ ".ansible_tmpab12cdRoot.pem", 1 },
	{ ".Root.pem.swp", 1 },
	{ "sedAb12Cd", 1 },
	{ "sed123456", 1 },
	{ "sedAb12C", 0 },
	{ "sedAb12Cde", 0 },
	{ "sed-b12Cd", 0 },
	{ "Root.pem", 0 },
	{ "10.1.2.3_8082", 0 },
	/* Ansible's backup (copy backup: yes): NAME.PID.DATE@TIME~ */
	{ "Corp.pem.12345.2026-11-25@17:20:01~", 1 },
	{ "10.1.2.3_8082.4711.2026-01-02@03:04:05~", 1 },
	/* Editors' backups: NAME~ (vim, emacs, nano), numbered NAME.~1~ */
	{ "Root.pem~", 1 },
	{ "Root.pem.~1~", 1 },
	{ "x~", 1 },
	/* Emacs auto-save files: #NAME# (lock files .#NAME are '.' names) */
	{ "#Root.pem#", 1 },
	{ "#10.1.2.3_8082#", 1 },
	{ ".#Root.pem", 1 },
	/* Not temporary: a lone mark, a mark inside or at one end only */
	{ "~", 0 },
	{ "#", 0 },
	{ "##", 0 },
	{ "Root~.pem", 0 },
	{ "#Root.pem", 0 },
	{ "Root.pem#", 0 },
	{ "~Root.pem", 0 },
	{ "Root#1.pem", 0 },
};

START_TEST(test_temporary)
{
	ck_assert_msg(name_is_temporary(temp_cases[_i].in) ==
	    temp_cases[_i].want, "case %d", _i);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

int
main(void)
{
	TCase *tc = tcase_create("names");
	int rc;

	tcase_add_loop_test(tc, test_check_file, 0, N(file_cases));
	tcase_add_test(tc, test_check_file_long);
	tcase_add_loop_test(tc, test_host_port, 0, N(hp_cases));
	tcase_add_loop_test(tc, test_host_port_make, 0, N(make_cases));
	tcase_add_loop_test(tc, test_split, 0, N(split_cases));
	tcase_add_test(tc, test_split_small);
	tcase_add_loop_test(tc, test_is_label, 0, N(label_cases));
	tcase_add_test(tc, test_label_nth);
	tcase_add_loop_test(tc, test_temporary, 0, N(temp_cases));
	rc = tu_run("names", tc, 0);
	return rc;
}
