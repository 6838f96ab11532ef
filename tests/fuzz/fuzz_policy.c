/*
 * libFuzzer harness for the policy file (DESIGN section 5): policy_parse
 * on any bytes and, for a policy it accepts, policy_mode on fixed names
 * and on names made from the policy's own patterns.  Besides crashes,
 * leaks and undefined behaviour it checks that a refusal says why, that
 * every answer is a real mode, and issue 8 defect 1: a pattern is not
 * case-sensitive, so a policy and the same policy in lower case (which
 * must parse too) give every normalized name the same mode.
 */
#include <ctype.h>

#include "names.h"
#include "policy.h"
#include "fuzz.h"

#define MAX_NAMES 64

static const char *const fixed_names[] = {
	"host.lab.example.com_443",
	"10.1.2.3_8082",
	"10.1.1.1_443",
	"2001:db8::1_443",
	"::1_1",
	"a_1",
	"xn--bcher-kva.example_65535",
	"*_443",
	"",
};

static void
check_mode(enum trustfs_mode m)
{
	FUZZ_CHECK((unsigned)m <= TRUSTFS_MODE_PINNED);
	FUZZ_CHECK(strcmp(policy_mode_name(m), "?") != 0);
	FUZZ_CHECK(policy_mode_from_name(policy_mode_name(m)) == (int)m);
}

/*
 * Names a line's pattern should match: its first word with '*' as "a",
 * '?' as "b", lower case (as names are after normalizing).  malloc'd into
 * names[]; returns how many.
 */
static size_t
names_from(const char *text, size_t len, char **names, size_t max)
{
	size_t i = 0, n = 0, k;
	char *s;

	while (i < len && n < max) {
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		k = i;
		while (k < len && !isspace((unsigned char)text[k]) &&
		    text[k] != '#')
			k++;
		if (k > i && k - i <= NAME_MAX_BYTES) {
			s = malloc(k - i + 1);
			FUZZ_CHECK(s != NULL);
			memcpy(s, text + i, k - i);
			s[k - i] = '\0';
			for (char *p = s; *p; p++)
				*p = *p == '*' ? 'a' : *p == '?' ? 'b' :
				    (char)tolower((unsigned char)*p);
			names[n++] = s;
		}
		while (k < len && text[k] != '\n')
			k++;
		i = k + 1;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct policy *p = (struct policy *)1, *lower = NULL;
	struct tf_error e;
	char *low = NULL, *names[MAX_NAMES];
	size_t i, n = 0;
	int rc, classes;

	FUZZ_CHECK(policy_mode(NULL, "a_1") == TRUSTFS_MODE_TOFU);
	FUZZ_CHECK(strcmp(policy_mode_name((enum trustfs_mode)99), "?") == 0);

	fuzz_error_stale(&e);
	rc = policy_parse(text, size, &p, &e);
	if (rc != 0) {
		FUZZ_CHECK(p == NULL);
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		fuzz_error_check(&e, rc);
		/* The same refusal without an error structure. */
		p = (struct policy *)1;
		FUZZ_CHECK(policy_parse(text, size, &p, NULL) == rc);
		FUZZ_CHECK(p == NULL);
		return 0;
	}
	FUZZ_CHECK(p != NULL);

	/* Classes ("[A-Z]" against "[a-z]") are left out of the case
	 * comparison: lowering a range can change what it means. */
	classes = memchr(text, '[', size) != NULL;
	low = malloc(size + 1);
	FUZZ_CHECK(low != NULL);
	for (i = 0; i < size; i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[size] = '\0';
	if (!classes) {
		rc = policy_parse(low, size, &lower, &e);
		if (rc != 0)
			fprintf(stderr, "lower-case policy refused: %s\n", e.msg);
		FUZZ_CHECK(rc == 0);
	}

	n = names_from(text, size, names, MAX_NAMES);
	for (i = 0; i < sizeof(fixed_names) / sizeof(fixed_names[0]); i++) {
		enum trustfs_mode m = policy_mode(p, fixed_names[i]);

		check_mode(m);
		if (lower != NULL)
			FUZZ_CHECK(policy_mode(lower, fixed_names[i]) == m);
	}
	for (i = 0; i < n; i++) {
		enum trustfs_mode m = policy_mode(p, names[i]);

		check_mode(m);
		if (lower != NULL && policy_mode(lower, names[i]) != m) {
			fprintf(stderr, "'%s': %s, but %s with the policy in "
			    "lower case\n", names[i], policy_mode_name(m),
			    policy_mode_name(policy_mode(lower, names[i])));
			FUZZ_CHECK(!"patterns match case-insensitively");
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(low);
	policy_free(lower);
	policy_free(p);
	return 0;
}
