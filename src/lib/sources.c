/* The sources file: parse once, refuse whole with the line number. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "cert.h"
#include "fetch.h"
#include "origin.h"
#include "policy.h"
#include "sources.h"

/* NAME URL and at most one of each option. */
#define SOURCES_MAX_WORDS 7

static const char *const type_names[] = {
	[SOURCE_BUNDLE] = "bundle",
	[SOURCE_EST] = "est",
	[SOURCE_CRL] = "crl",
};

const char *
sources_type_name(enum source_type t)
{
	return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) ?
	    type_names[t] : "?";
}

void
sources_free(struct sources *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].url);
	free(s->v);
	free(s);
}

const struct source *
sources_find(const struct sources *s, const char *name)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/* A name or label: [A-Za-z0-9._-], not starting with '.' or '-'. */
static int
word_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0' || *p == '.' || *p == '-' || strlen(s) > max)
		return 0;
	for (; *p; p++)
		if (!isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return 1;
}

/* A URL as net_fetch takes it: scheme, then printable ASCII only (a
 * space or control character could hide a second URL). */
static int
url_ok(const char *u, enum source_type t)
{
	const unsigned char *p;
	size_t skip;

	if (strncasecmp(u, "https://", 8) == 0)
		skip = 8;
	else if (t != SOURCE_EST && strncasecmp(u, "http://", 7) == 0)
		skip = 7;
	else if (t != SOURCE_EST && strncasecmp(u, "file://", 7) == 0)
		skip = 7;
	else
		return 0;
	if (strlen(u) > SOURCES_URL_MAX || u[skip] == '\0')
		return 0;
	for (p = (const unsigned char *)u; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	return 1;
}

/* DURATION: N[s|m|h|d|w].  0, or -1 for anything else. */
static int
parse_duration(const char *v, long *out)
{
	char *end;
	long n, mult = 1;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || n <= 0 || n > SOURCES_EVERY_MAX)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -1;
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return -1;
		}
	}
	if (n > SOURCES_EVERY_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

static int
parse_sha256(const char *v, unsigned char out[32])
{
	unsigned char *b;
	long len = 0;
	size_t i;

	/* Hex digits and colons only: OpenSSL's parser would take more. */
	for (i = 0; v[i]; i++)
		if (!isxdigit((unsigned char)v[i]) && v[i] != ':')
			return -1;
	b = OPENSSL_hexstr2buf(v, &len);
	if (b == NULL || len != 32) {
		OPENSSL_free(b);
		return -1;
	}
	memcpy(out, b, 32);
	OPENSSL_free(b);
	return 0;
}

enum { OPT_SIGNER, OPT_SHA256, OPT_REPLACE, OPT_EVERY, OPT_TYPE, NOPTS };
static const char *const opt_names[NOPTS] = { "signer", "sha256", "replace",
	"every", "type" };

/* One option word into s; seen holds the options given so far. */
static int
parse_option(const char *w, int lineno, struct source *s, unsigned *seen,
    struct tf_error *e)
{
	const char *eq = strchr(w, '='), *v = eq ? eq + 1 : "";
	size_t i, klen = eq != NULL ? (size_t)(eq - w) : strlen(w);

	for (i = 0; i < NOPTS; i++)
		if (strlen(opt_names[i]) == klen &&
		    strncmp(w, opt_names[i], klen) == 0)
			break;
	if (i == NOPTS || (i == OPT_REPLACE) != (eq == NULL))
		return tf_error_setx(e, -EINVAL, "line %d: unknown option "
		    "'%.64s' (signer=LABEL, sha256=HEX, replace, "
		    "every=DURATION, type=bundle|est|crl)", lineno, w);
	if (*seen & (1u << i))
		return tf_error_setx(e, -EINVAL, "line %d: option %s given "
		    "twice", lineno, opt_names[i]);
	*seen |= 1u << i;
	switch (i) {
	case OPT_SIGNER:
		if (!word_ok(v, sizeof(s->signer) - 1))
			return tf_error_setx(e, -EINVAL, "line %d: bad signer "
			    "'%.64s' (a LABEL of roots/ or chains/)", lineno, v);
		snprintf(s->signer, sizeof(s->signer), "%s", v);
		return 0;
	case OPT_SHA256:
		if (parse_sha256(v, s->sha256) != 0)
			return tf_error_setx(e, -EINVAL, "line %d: bad sha256 "
			    "'%.80s' (64 hex digits, colons allowed)", lineno,
			    v);
		s->have_sha256 = 1;
		return 0;
	case OPT_REPLACE:
		s->replace = 1;
		return 0;
	case OPT_EVERY:
		if (parse_duration(v, &s->every) != 0 ||
		    s->every < SOURCES_EVERY_MIN)
			return tf_error_setx(e, -EINVAL, "line %d: bad every "
			    "'%.32s' (N with s, m, h, d or w: 1m to 366d)",
			    lineno, v);
		return 0;
	default:
		for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
			if (strcmp(v, type_names[i]) == 0) {
				s->type = (enum source_type)i;
				return 0;
			}
		return tf_error_setx(e, -EINVAL, "line %d: unknown type "
		    "'%.32s' (bundle, est or crl)", lineno, v);
	}
}

/* The options that do not go with the source's type. */
static int
check_type(const struct source *s, unsigned seen, int lineno,
    struct tf_error *e)
{
	const char *bad = NULL;

	if (s->type == SOURCE_CRL && (seen & (1u << OPT_SHA256)))
		bad = "sha256=";
	else if (s->type != SOURCE_BUNDLE && (seen & (1u << OPT_SIGNER)))
		bad = "signer=";
	else if (s->type != SOURCE_BUNDLE && s->replace)
		bad = "replace";
	if (bad != NULL)
		return tf_error_setx(e, -EINVAL, "line %d: %s does not go with "
		    "type=%s", lineno, bad, sources_type_name(s->type));
	return 0;
}

/* One line's words into a new source at the end of out. */
static int
parse_line(char **w, int n, int lineno, struct sources *out,
    struct tf_error *e)
{
	struct source s = { .every = SOURCES_EVERY_DEFAULT, .line = lineno };
	unsigned seen = 0;
	int i, rc;

	if (n < 2 || n > SOURCES_MAX_WORDS)
		return tf_error_setx(e, -EINVAL, "line %d: expected 'NAME URL "
		    "[OPTION...]', found %s", lineno, n == 1 ? "one word" :
		    "too many options");
	if (!word_ok(w[0], SOURCES_NAME_MAX))
		return tf_error_setx(e, -EINVAL, "line %d: bad name '%.80s' "
		    "(up to %d of A-Z a-z 0-9 . _ -, not starting with . or -)",
		    lineno, w[0], SOURCES_NAME_MAX);
	if (sources_find(out, w[0]) != NULL)
		return tf_error_setx(e, -EINVAL, "line %d: source %s is "
		    "already named on line %d", lineno, w[0],
		    sources_find(out, w[0])->line);
	snprintf(s.name, sizeof(s.name), "%s", w[0]);
	for (i = 2; i < n; i++) {
		rc = parse_option(w[i], lineno, &s, &seen, e);
		if (rc != 0)
			return rc;
	}
	rc = check_type(&s, seen, lineno, e);
	if (rc != 0)
		return rc;
	if (!url_ok(w[1], s.type))
		return tf_error_setx(e, -EINVAL, "line %d: bad URL '%.80s' (%s)",
		    lineno, w[1], s.type == SOURCE_EST ? "EST needs an "
		    "https:// URL" : "http://, https:// or file://, printable "
		    "ASCII");
	if (out->n >= SOURCES_MAX)
		return tf_error_setx(e, -EINVAL, "line %d: more than %d "
		    "sources", lineno, SOURCES_MAX);
	if (out->n % 16 == 0) {
		struct source *v = realloc(out->v, (out->n + 16) * sizeof(*v));

		if (v == NULL)
			return tf_error_set(e, -ENOMEM, "reading the sources");
		out->v = v;
	}
	s.url = strdup(w[1]);
	if (s.url == NULL)
		return tf_error_set(e, -ENOMEM, "reading the sources");
	out->v[out->n++] = s;
	return 0;
}

/* policy_lines' fn: parse_line with the sources as its argument. */
static int
source_line(char **w, int n, int lineno, void *arg, struct tf_error *e)
{
	return parse_line(w, n, lineno, arg, e);
}

int
sources_parse(const char *text, size_t len, struct sources **out,
    struct tf_error *e)
{
	struct sources *s;
	int rc;

	*out = NULL;
	if (len > SOURCES_TEXT_MAX)
		return tf_error_setx(e, -EFBIG, "the sources are over %u bytes",
		    SOURCES_TEXT_MAX);
	if (len == 0)
		text = "";
	if (memchr(text, '\0', len) != NULL)
		return tf_error_setx(e, -EINVAL, "the sources hold a NUL byte");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return tf_error_set(e, -ENOMEM, "reading the sources");
	rc = policy_lines(text, len, SOURCES_MAX_WORDS, "the sources",
	    source_line, s, e);
	if (rc != 0)
		sources_free(s);
	else
		*out = s;
	return rc;
}

int
sources_text(struct store_txn *txn, char **text, size_t *len)
{
	int rc = store_meta_get(txn, SOURCES_META_KEY, text, len);

	if (rc != -ENOENT)
		return rc;
	*text = strdup(SOURCES_DEFAULT_TEXT);
	*len = strlen(SOURCES_DEFAULT_TEXT);
	return *text != NULL ? 0 : -ENOMEM;
}

int
sources_load(struct store_txn *txn, struct sources **out, struct tf_error *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = sources_text(txn, &text, &len);
	if (rc != 0)
		return tf_error_set(e, rc, "reading the sources");
	rc = sources_parse(text, len, out, e);
	free(text);
	return rc;
}

/* --- state ---------------------------------------------------------- */

#define STATE_PREFIX "source_state:"

static void
state_key(const char *name, char *key, size_t keylen)
{
	snprintf(key, keylen, STATE_PREFIX "%s", name);
}

/*
 * The state is a few lines of "key=value", so that a newer trustctl can
 * add one and an older one still reads the rest:
 *   attempt=EPOCH  success=EPOCH  ok=0|1  roots=N  result=TEXT
 */
int
source_state_get(struct store_txn *txn, const char *name,
    struct source_state *st)
{
	char key[SOURCES_NAME_MAX + 32], *v = NULL, *line, *next;
	size_t len;
	int rc;

	memset(st, 0, sizeof(*st));
	state_key(name, key, sizeof(key));
	rc = store_meta_get(txn, key, &v, &len);
	if (rc != 0)
		return rc;
	/* store_meta_get's copy: make it a string of its own. */
	line = realloc(v, len + 1);
	if (line == NULL) {
		free(v);
		return -ENOMEM;
	}
	v = line;
	v[len] = '\0';
	for (line = v; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "attempt=", 8) == 0)
			st->attempt = (time_t)strtoll(line + 8, NULL, 10);
		else if (strncmp(line, "success=", 8) == 0)
			st->success = (time_t)strtoll(line + 8, NULL, 10);
		else if (strncmp(line, "ok=", 3) == 0)
			st->ok = strcmp(line + 3, "1") == 0;
		else if (strncmp(line, "roots=", 6) == 0)
			st->roots = (size_t)strtoull(line + 6, NULL, 10);
		else if (strncmp(line, "result=", 7) == 0)
			snprintf(st->result, sizeof(st->result), "%s",
			    line + 7);
	}
	free(v);
	return 0;
}

int
source_state_put(struct store_txn *txn, const char *name,
    const struct source_state *st)
{
	char key[SOURCES_NAME_MAX + 32], result[sizeof(st->result)];
	struct buf b = { 0 };
	size_t i;
	int rc;

	/* One line: a newline in a server's message must not start a key. */
	snprintf(result, sizeof(result), "%s", st->result);
	for (i = 0; result[i]; i++)
		if ((unsigned char)result[i] < 0x20)
			result[i] = ' ';
	state_key(name, key, sizeof(key));
	rc = buf_printf(&b, "attempt=%lld\nsuccess=%lld\nok=%d\nroots=%zu\n"
	    "result=%s\n", (long long)st->attempt, (long long)st->success,
	    st->ok ? 1 : 0, st->roots, result);
	if (rc == 0)
		rc = store_meta_put(txn, key, b.data, b.len);
	buf_free(&b);
	return rc;
}

int
source_due(const struct source *s, const struct source_state *st,
    time_t now)
{
	if (st->success == 0 || !st->ok)
		return 1;
	return now - st->success >= s->every;
}

/* --- status and metrics --------------------------------------------- */

void
source_origin(const struct source *s, char *out, size_t outlen)
{
	/* As the import and EST record it (origin.h), without a user or
	 * password the URL may carry: the Source line is for every reader
	 * of the mount.  Out of memory, nothing of the URL is shown. */
	char *pub = net_url_public(s->url);

	snprintf(out, outlen, "%s%s", s->type == SOURCE_EST ? "EST " : "",
	    pub != NULL ? pub : "(URL not shown: out of memory)");
	free(pub);
}

size_t
source_roots(struct store_txn *txn, const struct source *s)
{
	char src[ORIGIN_MAX];
	size_t n = 0;

	source_origin(s, src, sizeof(src));
	if (origin_count(txn, STORE_ROOTS, src, &n) != 0)
		n = 0;
	return n;
}

static void
when_str(time_t t, char *out, size_t outlen)
{
	if (t == 0)
		snprintf(out, outlen, "never");
	else
		cert_time_str(t, out, outlen);
}

int
sources_status(struct store_txn *txn, struct buf *out)
{
	struct sources *s = NULL;
	struct source_state st;
	char a[64], ok[64];
	size_t i;
	int rc;

	rc = sources_load(txn, &s, NULL);
	if (rc != 0)
		return buf_puts(out, "Sources: the saved sources do not "
		    "parse\n");
	if (s->n > 0)
		rc = buf_puts(out, "\nSources:\n");
	for (i = 0; i < s->n && rc == 0; i++) {
		rc = source_state_get(txn, s->v[i].name, &st);
		if (rc != 0 && rc != -ENOENT)
			break;
		when_str(st.attempt, a, sizeof(a));
		when_str(st.success, ok, sizeof(ok));
		rc = buf_printf(out, "  %s: last attempt %s, last success %s, "
		    "roots %zu, result: %s\n", s->v[i].name, a, ok,
		    source_roots(txn, &s->v[i]), st.attempt == 0 ?
		    "not fetched yet" : st.result);
	}
	sources_free(s);
	return rc;
}

/* A label value of the exposition format: NAMEs need no escaping
 * ([A-Za-z0-9._-]). */
int
sources_metrics(struct store_txn *txn, struct buf *out)
{
	static const char *const help[4][2] = {
		{ "trustfs_source_last_success_timestamp_seconds",
		    "When the source was last fetched and imported." },
		{ "trustfs_source_last_attempt_timestamp_seconds",
		    "When the source was last tried." },
		{ "trustfs_source_up",
		    "1 if the source's last update succeeded." },
		{ "trustfs_source_roots",
		    "roots/ entries that came from the source." },
	};
	struct source_state *st = NULL;
	struct sources *s = NULL;
	long long val;
	size_t i, k;
	int rc;

	rc = sources_load(txn, &s, NULL);
	if (rc != 0 || s->n == 0)
		goto out;
	st = calloc(s->n, sizeof(*st));
	if (st == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		rc = source_state_get(txn, s->v[i].name, &st[i]);
		if (rc != 0 && rc != -ENOENT)
			goto out;
	}
	rc = 0;
	for (k = 0; k < 4 && rc == 0; k++) {
		rc = buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n",
		    help[k][0], help[k][1], help[k][0]);
		for (i = 0; i < s->n && rc == 0; i++) {
			val = k == 0 ? (long long)st[i].success :
			    k == 1 ? (long long)st[i].attempt :
			    k == 2 ? (long long)(st[i].attempt && st[i].ok) :
			    (long long)source_roots(txn, &s->v[i]);
			rc = buf_printf(out, "%s{source=\"%s\"} %lld\n",
			    help[k][0], s->v[i].name, val);
		}
	}
out:
	free(st);
	sources_free(s);
	/* A saved text that no longer parses shows no samples. */
	return rc == -EINVAL ? 0 : rc;
}
