/* sources.c: parsing (good and bad lines), what a line means, when a
 * source is due, and its state kept in a store, table-driven. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sources.h"
#include "testutil.h"

#define SHA "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:" \
	"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"

static const struct {
	const char *text;
	int want_rc;
	const char *want_why;	/* substring of the reason */
} parse_cases[] = {
	{ "", 0, NULL },
	{ "# only a comment\n\n   \n", 0, NULL },
	{ SOURCES_DEFAULT_TEXT, 0, NULL },
	{ "a https://x/a.pem\n", 0, NULL },
	{ "a http://x/a.pem\nb file:///etc/b.pem # c\n", 0, NULL },
	{ "cisco http://www.cisco.com/security/pki/trs/ios.p7b signer=Cisco "
	    "replace every=1w\n", 0, NULL },
	{ "a https://x/a sha256=" SHA "\n", 0, NULL },
	{ "a https://x/a sha256=abcdef0123456789abcdef0123456789abcdef0123456789"
	    "abcdef0123456789\n", 0, NULL },
	{ "e https://est.example type=est sha256=" SHA "\n", 0, NULL },
	{ "c http://x/c.crl type=crl every=6h\n", 0, NULL },
	{ "a https://x/a every=60\nb https://x/b every=366d\n", 0, NULL },
	{ "a.b_c-9 https://x/a\n", 0, NULL },
	/* Refused, with the line. */
	{ "a https://x/a\n\nb https://x/b evry=1d\n", -EINVAL,
	    "line 3: unknown option 'evry=1d'" },
	{ "a https://x/a\na https://x/b\n", -EINVAL,
	    "line 2: source a is already named on line 1" },
	{ "lonely\n", -EINVAL, "line 1: expected 'NAME URL [OPTION...]', "
	    "found one word" },
	{ "a https://x/a replace replace\n", -EINVAL,
	    "line 1: option replace given twice" },
	{ "a https://x/a every=1d every=2d\n", -EINVAL,
	    "line 1: option every given twice" },
	{ "a https://x/a 1 2 3 4 5 6\n", -EINVAL, "too many options" },
	{ "a ftp://x/a\n", -EINVAL, "line 1: bad URL 'ftp://x/a'" },
	{ "a https://\n", -EINVAL, "line 1: bad URL" },
	{ "a https://x/\x7f\n", -EINVAL, "line 1: bad URL" },
	{ "a https://x/\xc3\xa9\n", -EINVAL, "line 1: bad URL" },
	{ "e http://x type=est\n", -EINVAL, "EST needs an https:// URL" },
	{ "-a https://x/a\n", -EINVAL, "line 1: bad name '-a'" },
	{ ".a https://x/a\n", -EINVAL, "line 1: bad name" },
	{ "a/b https://x/a\n", -EINVAL, "line 1: bad name" },
	{ "a https://x/a sha256=abcd\n", -EINVAL, "line 1: bad sha256" },
	{ "a https://x/a sha256=zz:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:"
	    "89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89\n", -EINVAL,
	    "bad sha256" },
	{ "a https://x/a sha256=" SHA ":ab\n", -EINVAL, "bad sha256" },
	{ "a https://x/a every=0\n", -EINVAL, "line 1: bad every '0'" },
	{ "a https://x/a every=59s\n", -EINVAL, "bad every" },
	{ "a https://x/a every=367d\n", -EINVAL, "bad every" },
	{ "a https://x/a every=1y\n", -EINVAL, "bad every" },
	{ "a https://x/a every=-1h\n", -EINVAL, "bad every" },
	{ "a https://x/a every=99999999999999999999\n", -EINVAL, "bad every" },
	{ "a https://x/a every=1hh\n", -EINVAL, "bad every" },
	{ "a https://x/a type=ftp\n", -EINVAL, "line 1: unknown type 'ftp'" },
	{ "a https://x/a replace=yes\n", -EINVAL,
	    "line 1: unknown option 'replace=yes'" },
	{ "a https://x/a signer\n", -EINVAL, "unknown option 'signer'" },
	{ "a https://x/a signer=../x\n", -EINVAL, "line 1: bad signer" },
	{ "c https://x/c type=crl replace\n", -EINVAL,
	    "line 1: replace does not go with type=crl" },
	{ "c https://x/c type=crl sha256=" SHA "\n", -EINVAL,
	    "line 1: sha256= does not go with type=crl" },
	{ "e https://x type=est signer=X\n", -EINVAL,
	    "line 1: signer= does not go with type=est" },
};

START_TEST(test_parse)
{
	struct sources *s = NULL;
	struct tf_error te = { 0 };
	int rc;

	rc = sources_parse(parse_cases[_i].text, strlen(parse_cases[_i].text),
	    &s, &te);
	ck_assert_msg(rc == parse_cases[_i].want_rc, "case %d: rc %d (%s)", _i,
	    rc, te.msg);
	if (rc == 0)
		ck_assert_ptr_nonnull(s);
	else {
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(te.msg, parse_cases[_i].want_why) != NULL,
		    "case %d: why '%s'", _i, te.msg);
	}
	sources_free(s);
}
END_TEST

START_TEST(test_nul_and_size)
{
	struct sources *s = NULL;
	struct tf_error te = { 0 };
	char *big;

	ck_assert_int_eq(sources_parse("a https://x/a\0b", 15, &s, &te),
	    -EINVAL);
	ck_assert_ptr_null(s);
	big = malloc(SOURCES_TEXT_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', SOURCES_TEXT_MAX + 1);
	ck_assert_int_eq(sources_parse(big, SOURCES_TEXT_MAX + 1, &s, &te),
	    -EFBIG);
	ck_assert_ptr_null(s);
	free(big);
}
END_TEST

START_TEST(test_meaning)
{
	const char *text = "# x\ncisco http://c/ios.p7b signer=Cisco_Root "
	    "replace every=1w\n\ncrl http://c/c.crl type=crl\n"
	    "est https://e type=est sha256=" SHA "\n";
	const struct source *c;
	struct sources *s = NULL;
	struct tf_error te = { 0 };

	ck_assert_int_eq(sources_parse(text, strlen(text), &s, &te), 0);
	ck_assert_uint_eq(s->n, 3);
	c = sources_find(s, "cisco");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->url, "http://c/ios.p7b");
	ck_assert_str_eq(c->signer, "Cisco_Root");
	ck_assert_int_eq(c->replace, 1);
	ck_assert_int_eq(c->every, 7 * 86400);
	ck_assert_int_eq(c->type, SOURCE_BUNDLE);
	ck_assert_int_eq(c->line, 2);
	c = sources_find(s, "crl");
	ck_assert_int_eq(c->type, SOURCE_CRL);
	ck_assert_int_eq(c->every, SOURCES_EVERY_DEFAULT);
	ck_assert_int_eq(c->line, 4);
	c = sources_find(s, "est");
	ck_assert_int_eq(c->type, SOURCE_EST);
	ck_assert_int_eq(c->have_sha256, 1);
	ck_assert_int_eq(c->sha256[0], 0xab);
	ck_assert_int_eq(c->sha256[31], 0x89);
	ck_assert_ptr_null(sources_find(s, "nosuch"));
	ck_assert_str_eq(sources_type_name(SOURCE_EST), "est");
	sources_free(s);
	sources_free(NULL);
}
END_TEST

START_TEST(test_due)
{
	struct source src = { .every = 3600 };
	struct source_state st = { 0 };

	ck_assert_int_eq(source_due(&src, &st, 10000), 1);	/* never */
	st = (struct source_state){ .attempt = 9000, .success = 9000, .ok = 1 };
	ck_assert_int_eq(source_due(&src, &st, 10000), 0);
	ck_assert_int_eq(source_due(&src, &st, 12600), 1);	/* 1h old */
	st.ok = 0;	/* the last attempt failed: due at once */
	ck_assert_int_eq(source_due(&src, &st, 9001), 1);
}
END_TEST

/* The state survives the store, a hostile result stays one line, and the
 * status and metrics lines come from it. */
START_TEST(test_state)
{
	char *dir = tu_mkdtemp();
	const char *text = "lab https://x/b.pem\n";
	struct source_state st = { .attempt = 1700000000, .success = 1690000000,
	    .ok = 0 }, got;
	struct store *stp = NULL;
	struct store_txn *txn = NULL;
	struct buf b = { 0 };

	snprintf(st.result, sizeof(st.result), "failed: HTTP 500\nok=1");
	ck_assert_int_eq(store_open(dir, 0, &stp, NULL), 0);
	ck_assert_int_eq(store_txn_begin(stp, 1, &txn, NULL), 0);
	ck_assert_int_eq(source_state_get(txn, "lab", &got), -ENOENT);
	ck_assert_int_eq(store_meta_put(txn, SOURCES_META_KEY, text,
	    strlen(text)), 0);
	ck_assert_int_eq(source_state_put(txn, "lab", &st), 0);
	ck_assert_int_eq(store_txn_commit(txn), 0);
	ck_assert_int_eq(store_txn_begin(stp, 0, &txn, NULL), 0);
	ck_assert_int_eq(source_state_get(txn, "lab", &got), 0);
	ck_assert_int_eq(got.attempt, 1700000000);
	ck_assert_int_eq(got.success, 1690000000);
	ck_assert_int_eq(got.ok, 0);
	ck_assert_str_eq(got.result, "failed: HTTP 500 ok=1");
	ck_assert_int_eq(sources_status(txn, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\nSources:\n  lab: last attempt "
	    "2023-11-14 22:13:20 UTC, last success 2023-07-22 04:26:40 UTC, "
	    "roots 0, result: failed: HTTP 500 ok=1\n"));
	buf_reset(&b);
	ck_assert_int_eq(sources_metrics(txn, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data,
	    "trustfs_source_last_success_timestamp_seconds{source=\"lab\"} "
	    "1690000000\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "trustfs_source_up{source=\"lab\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "trustfs_source_roots{source=\"lab\"} 0\n"));
	store_txn_abort(txn);
	buf_free(&b);
	store_close(stp);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Mutated texts: parse or refuse with a reason, never crash or leak; an
 * accepted one parses again from the same bytes to the same sources. */
START_TEST(test_mutations)
{
	static const char base[] = "cisco http://c/ios.p7b signer=Cisco "
	    "replace every=1w\ncrl http://c/c.crl type=crl\nest https://e "
	    "type=est sha256=" SHA "\n# c\n";
	static const char alphabet[] = "az09._-=:/# \n\t\x01\xff";
	struct tf_error te = { 0 };
	struct sources *s = NULL, *s2 = NULL;
	char text[sizeof(base) + 8];
	size_t len, i;
	int n, rc;

	srand(12345);
	for (n = 0; n < 3000; n++) {
		len = sizeof(base) - 1;
		memcpy(text, base, len);
		for (i = 0; i < 1 + (size_t)(rand() % 4); i++)
			text[rand() % (int)len] = alphabet[rand() %
			    (int)(sizeof(alphabet) - 1)];
		len -= (size_t)(rand() % 3);	/* cut short now and then */
		tf_error_clear(&te);
		rc = sources_parse(text, len, &s, &te);
		if (rc != 0) {
			ck_assert_ptr_null(s);
			ck_assert_msg(te.msg[0] != '\0', "refused, no reason");
			continue;
		}
		ck_assert_int_eq(sources_parse(text, len, &s2, &te), 0);
		ck_assert_uint_eq(s->n, s2->n);
		for (i = 0; i < s->n; i++) {
			ck_assert_str_eq(s->v[i].name, s2->v[i].name);
			ck_assert_str_eq(s->v[i].url, s2->v[i].url);
			ck_assert_int_ge(s->v[i].every, SOURCES_EVERY_MIN);
		}
		sources_free(s);
		sources_free(s2);
		s = s2 = NULL;
	}
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("sources");

	tcase_add_loop_test(tc, test_parse, 0,
	    sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(tc, test_nul_and_size);
	tcase_add_test(tc, test_meaning);
	tcase_add_test(tc, test_due);
	tcase_add_test(tc, test_state);
	tcase_add_test(tc, test_mutations);
	return tu_run("sources", tc, 0);
}
