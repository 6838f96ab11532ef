/*
 * The verification policy (DESIGN section 5): lines of "PATTERN MODE",
 * '#' starts a comment, the first matching pattern wins, and with no match
 * the mode is tofu.
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

/* Mode names as the policy file spells them; -1 if unknown. */
int policy_mode_from_name(const char *name);
const char *policy_mode_name(enum trustfs_mode m);

#endif
