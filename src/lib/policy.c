/* The policy file: parse once, match with fnmatch(3) globs. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "names.h"
#include "policy.h"

struct rule {
	char *pattern;
	struct policy_line opt;	/* mode, options and line number */
};

/* Options after the mode: at most one of each key (strict, revocation,
 * aia, pin), so a line has at most 2 + 4 words. */
#define POLICY_MAX_OPTIONS 4
#define POLICY_MAX_WORDS (2 + POLICY_MAX_OPTIONS)

struct policy {
	struct rule *rules;
	size_t n;
};

static const char *const mode_names[] = {
	[TRUSTFS_MODE_TOFU] = "tofu",
	[TRUSTFS_MODE_CHAIN] = "chain",
	[TRUSTFS_MODE_CHAIN_OR_TOFU] = "chain-or-tofu",
	[TRUSTFS_MODE_PINNED] = "pinned",
};
#define NMODES (sizeof(mode_names) / sizeof(mode_names[0]))

int
policy_mode_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < NMODES; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
policy_mode_name(enum trustfs_mode m)
{
	if ((size_t)m >= NMODES)
		return "?";
	return mode_names[m];
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->rules[i].pattern);
	free(p->rules);
	free(p);
}

/* Splits one line into at most max whitespace-separated words; max + 1
 * when there are more. */
static int
split_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;

	while (*p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (n == max)
			return max + 1;
		w[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

int
policy_lines(const char *text, size_t len, int max, const char *what,
    policy_line_fn fn, void *arg, struct tf_error *e)
{
	char *copy, *line, *next, *hash, *w[POLICY_LINE_WORDS + 1];
	int lineno = 0, n, rc = 0;

	if (max > POLICY_LINE_WORDS)
		return tf_error_setx(e, -EINVAL, "%d words a line", max);
	copy = malloc(len + 1);
	if (copy == NULL)
		return tf_error_set(e, -ENOMEM, "reading %s", what);
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line != NULL && rc == 0; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		n = split_words(line, w, max);
		if (n > 0)
			rc = fn(w, n, lineno, arg, e);
	}
	free(copy);
	return rc;
}

/*
 * One key=value option of a line into r (DESIGN section 8).  seen holds
 * the keys given so far on the line: each at most once.  0, or -EINVAL
 * with e naming the line.
 */
static int
parse_option(const char *w, int lineno, struct policy_line *r,
    unsigned *seen, struct tf_error *e)
{
	static const char *const keys[] = { "strict", "revocation", "aia",
	    "pin" };
	const char *eq = strchr(w, '='), *v;
	size_t i, klen;

	klen = eq != NULL ? (size_t)(eq - w) : strlen(w);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == klen && strncmp(w, keys[i], klen) == 0)
			break;
	if (eq == NULL || i == sizeof(keys) / sizeof(keys[0]))
		return tf_error_setx(e, -EINVAL, "line %d: unknown option "
		    "'%.64s' (strict=no, revocation=off|prefer|require, "
		    "aia=fetch, pin=key|cert)", lineno, w);
	if (*seen & (1u << i))
		return tf_error_setx(e, -EINVAL, "line %d: option %s given "
		    "twice", lineno, keys[i]);
	*seen |= 1u << i;
	v = eq + 1;
	if (i == 0 && (strcmp(v, "no") == 0 || strcmp(v, "yes") == 0))
		r->strict = strcmp(v, "yes") == 0;
	else if (i == 1 && strcmp(v, "off") == 0)
		r->revocation = TRUSTFS_REVOCATION_OFF;
	else if (i == 1 && strcmp(v, "prefer") == 0)
		r->revocation = TRUSTFS_REVOCATION_PREFER;
	else if (i == 1 && strcmp(v, "require") == 0)
		r->revocation = TRUSTFS_REVOCATION_REQUIRE;
	else if (i == 2 && (strcmp(v, "fetch") == 0 || strcmp(v, "off") == 0))
		r->aia_fetch = strcmp(v, "fetch") == 0;
	else if (i == 3 && (strcmp(v, "key") == 0 || strcmp(v, "cert") == 0))
		r->pin_key = strcmp(v, "key") == 0;
	else
		return tf_error_setx(e, -EINVAL, "line %d: bad value '%.32s' for "
		    "%s (%s)", lineno, v, keys[i], i == 0 ? "yes or no" :
		    i == 1 ? "off, prefer or require" : i == 2 ? "fetch or off" :
		    "key or cert");
	return 0;
}

/* A pattern is a glob over HOST_PORT names: their characters, plus the
 * glob characters * ? [ ] ! and '-' in classes. */
static int
pattern_ok(const char *pat)
{
	const unsigned char *p;

	if (strlen(pat) > NAME_MAX_BYTES)
		return 0;
	for (p = (const unsigned char *)pat; *p; p++)
		if (!isalnum(*p) && !strchr("._-:*?[]!", *p))
			return 0;
	return 1;
}

/* One line of the policy into the rules of p (policy_lines' fn). */
static int
parse_rule(char **w, int n, int lineno, void *arg, struct tf_error *e)
{
	struct policy *p = arg;
	struct policy_line opt;
	unsigned seen = 0;
	int i, mode, rc = 0;

	if (n < 2 || n > POLICY_MAX_WORDS)
		return tf_error_setx(e, -EINVAL, "line %d: expected 'PATTERN "
		    "MODE [OPTION...]', found %s", lineno, n == 1 ?
		    "one word" : "more than four options (strict, revocation, "
		    "aia and pin, each once)");
	if (!pattern_ok(w[0]))
		return tf_error_setx(e, -EINVAL, "line %d: bad pattern "
		    "'%.64s' (a glob over HOST_PORT names)", lineno, w[0]);
	mode = policy_mode_from_name(w[1]);
	if (mode < 0)
		return tf_error_setx(e, -EINVAL, "line %d: unknown mode "
		    "'%.32s' (tofu, chain, chain-or-tofu or pinned)", lineno,
		    w[1]);
	opt = (struct policy_line){ .mode = (enum trustfs_mode)mode,
	    .strict = 1, .revocation = TRUSTFS_REVOCATION_PREFER,
	    .line = lineno };
	for (i = 2; i < n && rc == 0; i++)
		rc = parse_option(w[i], lineno, &opt, &seen, e);
	if (rc != 0)
		return rc;
	if (p->n % 16 == 0) {
		struct rule *r = realloc(p->rules, (p->n + 16) * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		p->rules = r;
	}
	p->rules[p->n].pattern = strdup(w[0]);
	if (p->rules[p->n].pattern == NULL)
		return -ENOMEM;
	p->rules[p->n++].opt = opt;
	return 0;
}

int
policy_parse(const char *text, size_t len, struct policy **out, struct tf_error *e)
{
	struct policy *p;
	int rc;

	*out = NULL;
	if (len == 0)
		text = "";	/* memchr/memcpy never see a NULL pointer */
	if (memchr(text, '\0', len) != NULL) {
		tf_error_setx(e, -EINVAL, "the policy holds a NUL byte");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return tf_error_set(e, -ENOMEM, "reading the policy");
	rc = policy_lines(text, len, POLICY_MAX_WORDS, "the policy",
	    parse_rule, p, e);
	if (rc != 0)
		policy_free(p);
	else
		*out = p;
	return rc;
}

void
policy_lookup(const struct policy *p, const char *host_port,
    struct policy_line *out)
{
	size_t i;

	*out = (struct policy_line){ .mode = TRUSTFS_MODE_TOFU, .strict = 1,
	    .revocation = TRUSTFS_REVOCATION_PREFER };
	for (i = 0; p != NULL && i < p->n; i++)
		/* No FNM_PATHNAME: names hold no '/'.  DNS names are
		 * case-insensitive (RFC 4343), so patterns are too: a
		 * pattern written with capitals must not fall through to
		 * a weaker line (DESIGN section 8). */
		if (fnmatch(p->rules[i].pattern, host_port, FNM_CASEFOLD) == 0) {
			*out = p->rules[i].opt;
			return;
		}
}

enum trustfs_mode
policy_mode(const struct policy *p, const char *host_port)
{
	struct policy_line l;

	policy_lookup(p, host_port, &l);
	return l.mode;
}

/* Only '*': matches every name. */
static int
matches_all(const char *pat)
{
	return pat[0] != '\0' && strspn(pat, "*") == strlen(pat);
}

/* 1 if every name `later' matches is matched by `earlier' first.  Exact
 * for the cases people write; a glob that only covers another glob
 * (`*_443' before `*.lab_443') is not looked for. */
static int
covers(const char *earlier, const char *later)
{
	if (matches_all(earlier) || strcasecmp(earlier, later) == 0)
		return 1;
	/* A name with no glob characters is the one name it matches. */
	if (strpbrk(later, "*?[") == NULL)
		return fnmatch(earlier, later, FNM_CASEFOLD) == 0;
	return 0;
}

int
policy_shadowed(const struct policy *p, struct buf *out)
{
	size_t i, j;
	int n = 0, rc = 0;

	for (j = 1; p != NULL && j < p->n && rc == 0; j++)
		for (i = 0; i < j; i++) {
			if (!covers(p->rules[i].pattern, p->rules[j].pattern))
				continue;
			rc = buf_printf(out, "line %d: %s can never match "
			    "(line %d: %s matches first)\n", p->rules[j].opt.line,
			    p->rules[j].pattern, p->rules[i].opt.line,
			    p->rules[i].pattern);
			n++;
			break;
		}
	return rc != 0 ? rc : n;
}
