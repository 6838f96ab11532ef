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
	enum trustfs_mode mode;
	int line;		/* in the text, for messages */
};

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

/* Splits one line into at most three whitespace-separated words. */
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

int
policy_parse(const char *text, size_t len, struct policy **out, struct tf_error *e)
{
	struct policy *p;
	char *copy, *line, *next, *hash, *w[3];
	int lineno = 0, n, mode, rc = 0;

	*out = NULL;
	if (len == 0)
		text = "";	/* memchr/memcpy never see a NULL pointer */
	if (memchr(text, '\0', len) != NULL) {
		tf_error_setx(e, -EINVAL, "the policy holds a NUL byte");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	copy = malloc(len + 1);
	if (p == NULL || copy == NULL) {
		rc = tf_error_set(e, -ENOMEM, "reading the policy");
		goto out;
	}
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
		n = split_words(line, w, 2);
		if (n == 0)
			continue;
		if (n != 2) {
			tf_error_setx(e, -EINVAL, "line %d: expected 'PATTERN MODE', "
			    "found %s", lineno, n == 1 ? "one word" :
			    "more than two words");
			rc = -EINVAL;
			break;
		}
		if (!pattern_ok(w[0])) {
			tf_error_setx(e, -EINVAL, "line %d: bad pattern '%.64s' "
			    "(a glob over HOST_PORT names)", lineno, w[0]);
			rc = -EINVAL;
			break;
		}
		mode = policy_mode_from_name(w[1]);
		if (mode < 0) {
			tf_error_setx(e, -EINVAL, "line %d: unknown mode '%.32s' "
			    "(tofu, chain, chain-or-tofu or pinned)", lineno,
			    w[1]);
			rc = -EINVAL;
			break;
		}
		if (p->n % 16 == 0) {
			struct rule *r = realloc(p->rules,
			    (p->n + 16) * sizeof(*r));

			if (r == NULL) {
				rc = -ENOMEM;
				break;
			}
			p->rules = r;
		}
		p->rules[p->n].pattern = strdup(w[0]);
		if (p->rules[p->n].pattern == NULL) {
			rc = -ENOMEM;
			break;
		}
		p->rules[p->n].line = lineno;
		p->rules[p->n++].mode = (enum trustfs_mode)mode;
	}
out:
	free(copy);
	if (rc != 0)
		policy_free(p);
	else
		*out = p;
	return rc;
}

enum trustfs_mode
policy_mode(const struct policy *p, const char *host_port)
{
	size_t i;

	for (i = 0; p != NULL && i < p->n; i++)
		/* No FNM_PATHNAME: names hold no '/'.  DNS names are
		 * case-insensitive (RFC 4343), so patterns are too: a
		 * pattern written with capitals must not fall through to
		 * a weaker line (DESIGN section 8). */
		if (fnmatch(p->rules[i].pattern, host_port, FNM_CASEFOLD) == 0)
			return p->rules[i].mode;
	return TRUSTFS_MODE_TOFU;
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
			    "(line %d: %s matches first)\n", p->rules[j].line,
			    p->rules[j].pattern, p->rules[i].line,
			    p->rules[i].pattern);
			n++;
			break;
		}
	return rc != 0 ? rc : n;
}
