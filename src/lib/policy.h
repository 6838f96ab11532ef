/*
 * The verification policy (DESIGN sections 5 and 8): lines of
 * "PATTERN MODE [OPTION...]", '#' starts a comment, the first matching
 * pattern wins, and with no match the mode is tofu.  Options are
 * key=value: strict=yes|no, revocation=off|prefer|require, aia=fetch|off,
 * pin=key|cert.
 */
#ifndef TRUSTFS_POLICY_H
#define TRUSTFS_POLICY_H

#include <stddef.h>

#include "error.h"
#include "trustfs.h"

struct policy;

/* The policy of a store that has none saved. */
#define POLICY_DEFAULT_TEXT \
	"# trustfs policy: PATTERN MODE, first match wins; see trustfs-policy(5)\n" \
	"*                    tofu\n"

/*
 * Parses policy text.  Returns 0 and *out, or -EINVAL with e naming
 * the line ("line 3: unknown mode 'chian'"), or -ENOMEM.  Free with
 * policy_free().
 */
int policy_parse(const char *text, size_t len, struct policy **out,
    struct tf_error *e);
void policy_free(struct policy *p);	/* NULL-safe */

/* What the line that governs a name says; the defaults when none does. */
struct policy_line {
	enum trustfs_mode mode;		/* tofu when no line matches */
	int strict;			/* 0 only for strict=no */
	enum trustfs_revocation revocation;	/* prefer unless given */
	int aia_fetch;			/* aia=fetch (stored; fetching comes
					 * with src/net) */
	int pin_key;			/* pin=key: a pin matches on the public
					 * key (SPKI SHA-256); pin=cert (0) is
					 * the default */
	int line;			/* its line number; 0: no line */
};

/* The line for a normalized HOST_PORT name (as policy_mode matches). */
void policy_lookup(const struct policy *p, const char *host_port,
    struct policy_line *out);

/* The mode for a normalized HOST_PORT name.  Patterns match whatever the
 * case of either side (FNM_CASEFOLD); no policy (NULL) is tofu. */
enum trustfs_mode policy_mode(const struct policy *p, const char *host_port);

/*
 * Lines that can never match because an earlier line matches every name
 * they could: a pattern of only '*', the same pattern again (whatever its
 * case), or an earlier glob that matches a later pattern without glob
 * characters.  Appends one line for each to out:
 *   "line N: PATTERN can never match (line M: PATTERN matches first)\n"
 * and returns how many (0 for none or p == NULL), or -ENOMEM.  The daemon
 * shows them in `status' and logs them when the policy is saved; they
 * are warnings, never a refusal.
 */
struct buf;
int policy_shadowed(const struct policy *p, struct buf *out);

/*
 * The line format, shared with the sources file (sources.c): calls fn for
 * each line of text (len bytes, no NUL: the caller refuses those) that
 * holds words once a '#' comment is cut, with the line split in place
 * into at most max whitespace-separated words w[0..n) (n is max + 1 when
 * there are more; max at most POLICY_LINE_WORDS).  Returns 0, the first
 * non-zero return of fn, or -ENOMEM with e saying "reading WHAT".
 */
#define POLICY_LINE_WORDS 16
typedef int (*policy_line_fn)(char **w, int n, int lineno, void *arg,
    struct tf_error *e);
int policy_lines(const char *text, size_t len, int max, const char *what,
    policy_line_fn fn, void *arg, struct tf_error *e);

/* Mode names as the policy file spells them; -1 if unknown. */
int policy_mode_from_name(const char *name);
const char *policy_mode_name(enum trustfs_mode m);

#endif
