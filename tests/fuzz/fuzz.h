/*
 * What the libFuzzer harnesses share: a check that aborts (libFuzzer then
 * saves the input as a crash), and the properties every rendered string
 * and every reported failure must have.
 */
#ifndef TRUSTFS_FUZZ_H
#define TRUSTFS_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that failed is a finding like a crash: say which, abort. */
#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: property failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* An error structure holding an earlier failure, so that a call that
 * fails without saying why (and would let an audit line carry the old
 * reason, issue 8) is caught. */
static inline void
fuzz_error_stale(struct tf_error *e)
{
	e->code = -EIO;
	snprintf(e->msg, sizeof(e->msg), "stale message from an earlier call");
}

/* After a failure with -EINVAL: the code is recorded and the message is
 * this failure's own, one NUL-terminated string. */
static inline void
fuzz_error_check(const struct tf_error *e, int rc)
{
	if (e == NULL || rc != -EINVAL)
		return;
	FUZZ_CHECK(memchr(e->msg, '\0', sizeof(e->msg)) != NULL);
	FUZZ_CHECK(e->code == rc);
	FUZZ_CHECK(e->msg[0] != '\0');
	FUZZ_CHECK(strcmp(e->msg, "stale message from an earlier call") != 0);
}

/* Strict UTF-8 (RFC 3629 section 4). */
static inline int
fuzz_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned long cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if (len - i <= n)	/* cut short */
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* One line for a person or a script: no control characters, no DEL. */
static inline int
fuzz_one_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

#endif
