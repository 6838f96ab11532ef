/*
 * trustctl's JSON output, written with json-c: verdicts of connect and
 * verify, and the rows of list.  json-c escapes quotes, backslashes and
 * control characters; these helpers also make every string valid UTF-8
 * first (a certificate may carry any bytes), so that any JSON parser
 * reads the output.
 */
#ifndef TRUSTCTL_JSON_H
#define TRUSTCTL_JSON_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "trustfs.h"

/* Each adds key to o and returns 0, or -ENOMEM (o is then unchanged). */
/* s == NULL adds JSON null; invalid UTF-8 becomes U+FFFD. */
int ctl_json_str(struct json_object *o, const char *key, const char *s);
int ctl_json_int(struct json_object *o, const char *key, int64_t n);
int ctl_json_bool(struct json_object *o, const char *key, int b);
/* ISO 8601 UTC ("2026-01-16T18:12:23Z"); t == 0 (never) adds null. */
int ctl_json_time(struct json_object *o, const char *key, time_t t);

/* "2026-01-16T18:12:23Z" into out (at least 21 bytes). */
void ctl_iso_time(time_t t, char *out, size_t outlen);

/*
 * The verdict object: trusted, mode, reason, message, subject, sha256,
 * entry (null when the verdict names none).  With v == NULL the check
 * could not run: trusted false, reason "error", message `error', the
 * rest null.  NULL when out of memory.  Free with json_object_put().
 */
struct json_object *ctl_json_verdict(const struct trustfs_verdict *v,
    const char *error);

/* o on one line, then a newline.  0, or -EIO if the write failed. */
int ctl_json_print(FILE *f, struct json_object *o);

#endif
