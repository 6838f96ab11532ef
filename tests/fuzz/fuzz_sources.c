/*
 * libFuzzer harness for the sources file (issue 12): sources_parse on any
 * bytes.  Besides crashes, leaks and undefined behaviour it checks that a
 * refusal says why and leaves nothing behind, and that what it accepts
 * keeps the rules sources.h promises: unique names of the allowed
 * characters, URLs of the allowed schemes (est over https only), a
 * period within bounds, signer= and replace on bundles only, increasing
 * line numbers, and the same answer for the same text.
 */
#include <ctype.h>
#include <strings.h>

#include "sources.h"
#include "fuzz.h"

static int
name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > SOURCES_NAME_MAX || n[0] == '.' || n[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '.' &&
		    n[i] != '_' && n[i] != '-')
			return 0;
	return 1;
}

static int
scheme_ok(const struct source *s)
{
	if (s->type == SOURCE_EST)
		return strncasecmp(s->url, "https://", 8) == 0;
	return strncasecmp(s->url, "http://", 7) == 0 ||
	    strncasecmp(s->url, "https://", 8) == 0 ||
	    strncasecmp(s->url, "file://", 7) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sources *s = (struct sources *)1, *again = NULL;
	struct source_state st;
	struct tf_error e;
	char origin[SOURCES_URL_MAX + 64];
	size_t i, j;
	int rc, last_line = 0;

	fuzz_error_stale(&e);
	rc = sources_parse(text, size, &s, &e);
	if (rc != 0) {
		FUZZ_CHECK(s == NULL);
		FUZZ_CHECK(rc == -EINVAL || rc == -EFBIG || rc == -ENOMEM);
		fuzz_error_check(&e, rc);
		s = (struct sources *)1;
		FUZZ_CHECK(sources_parse(text, size, &s, NULL) == rc);
		FUZZ_CHECK(s == NULL);
		return 0;
	}
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(s->n <= SOURCES_MAX);
	for (i = 0; i < s->n; i++) {
		const struct source *x = &s->v[i];

		FUZZ_CHECK(name_ok(x->name));
		FUZZ_CHECK(x->url != NULL && strlen(x->url) <= SOURCES_URL_MAX);
		FUZZ_CHECK(scheme_ok(x));
		FUZZ_CHECK(x->every >= SOURCES_EVERY_MIN &&
		    x->every <= SOURCES_EVERY_MAX);
		if (x->type != SOURCE_BUNDLE)
			FUZZ_CHECK(x->signer[0] == '\0' && !x->replace);
		if (x->type == SOURCE_CRL)
			FUZZ_CHECK(!x->have_sha256);
		FUZZ_CHECK(memchr(x->signer, '\0', sizeof(x->signer)) != NULL);
		FUZZ_CHECK(x->line > last_line);
		last_line = x->line;
		FUZZ_CHECK(sources_find(s, x->name) == x);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(s->v[j].name, x->name) != 0);
		/* Never tried: always due; just succeeded: not due. */
		memset(&st, 0, sizeof(st));
		FUZZ_CHECK(source_due(x, &st, 1000000000) == 1);
		st.attempt = st.success = 1000000000;
		st.ok = 1;
		FUZZ_CHECK(source_due(x, &st, 1000000000) == 0);
		source_origin(x, origin, sizeof(origin));
		FUZZ_CHECK(memchr(origin, '\0', sizeof(origin)) != NULL);
		/* The URL as written, unless it names a user: the Source
		 * shows no user or password (net_url_public). */
		if (strchr(x->url, '@') == NULL)
			FUZZ_CHECK(strstr(origin, x->url) != NULL);
	}
	FUZZ_CHECK(sources_parse(text, size, &again, &e) == 0);
	FUZZ_CHECK(again != NULL && again->n == s->n);
	for (i = 0; i < s->n; i++) {
		FUZZ_CHECK(strcmp(again->v[i].name, s->v[i].name) == 0);
		FUZZ_CHECK(strcmp(again->v[i].url, s->v[i].url) == 0);
		FUZZ_CHECK(again->v[i].every == s->v[i].every);
		FUZZ_CHECK(again->v[i].type == s->v[i].type);
	}
	sources_free(again);
	sources_free(s);
	return 0;
}
