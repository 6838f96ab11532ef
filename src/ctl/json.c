/*
 * trustctl's JSON output (json.h).  json-c does the escaping; what it does
 * not do is check UTF-8 -- it copies bytes above 0x7f as they are -- so a
 * subject holding a stray Latin-1 byte would make the whole document
 * unreadable to a strict parser (RFC 8259 section 8.1).  Such bytes become
 * U+FFFD here, as a browser shows them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "json.h"

/* The length of the well-formed UTF-8 sequence at p (Unicode 15, table
 * 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* s as valid UTF-8, malloc'd; NULL when out of memory. */
static char *
utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, o = 0, n;
	char *out = malloc(3 * len + 1);	/* every byte may become 3 */

	if (out == NULL)
		return NULL;
	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}

/* Adds val (which may be NULL for JSON null) under key; on failure val
 * is freed and o is unchanged. */
static int
add(struct json_object *o, const char *key, struct json_object *val)
{
	if (json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

int
ctl_json_str(struct json_object *o, const char *key, const char *s)
{
	struct json_object *v = NULL;
	char *clean = NULL;
	int rc = 0;

	if (s != NULL) {
		clean = utf8_clean(s);
		if (clean == NULL || (v = json_object_new_string(clean)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = add(o, key, v);
out:
	free(clean);
	return rc;
}

int
ctl_json_int(struct json_object *o, const char *key, int64_t n)
{
	struct json_object *v = json_object_new_int64(n);

	return v == NULL ? -ENOMEM : add(o, key, v);
}

int
ctl_json_bool(struct json_object *o, const char *key, int b)
{
	struct json_object *v = json_object_new_boolean(b != 0);

	return v == NULL ? -ENOMEM : add(o, key, v);
}

void
ctl_iso_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
ctl_json_time(struct json_object *o, const char *key, time_t t)
{
	char iso[64];

	if (t == 0)
		return add(o, key, NULL);
	ctl_iso_time(t, iso, sizeof(iso));
	return ctl_json_str(o, key, iso);
}

struct json_object *
ctl_json_verdict(const struct trustfs_verdict *v, const char *error)
{
	struct json_object *o = json_object_new_object();
	char hex[100];
	int rc;

	if (o == NULL)
		return NULL;
	if (v == NULL) {
		rc = ctl_json_bool(o, "trusted", 0);
		rc = rc ? rc : ctl_json_str(o, "mode", NULL);
		rc = rc ? rc : ctl_json_str(o, "reason", "error");
		rc = rc ? rc : ctl_json_str(o, "message", error ? error : "");
		rc = rc ? rc : ctl_json_str(o, "subject", NULL);
		rc = rc ? rc : ctl_json_str(o, "sha256", NULL);
		rc = rc ? rc : ctl_json_str(o, "entry", NULL);
	} else {
		cert_hex(v->sha256, 32, ':', hex);
		rc = ctl_json_bool(o, "trusted", v->trusted);
		rc = rc ? rc : ctl_json_str(o, "mode",
		    trustfs_mode_name(v->mode));
		rc = rc ? rc : ctl_json_str(o, "reason",
		    trustfs_reason_name(v->reason));
		rc = rc ? rc : ctl_json_str(o, "message", v->message);
		rc = rc ? rc : ctl_json_str(o, "subject", v->subject);
		rc = rc ? rc : ctl_json_str(o, "sha256", hex);
		rc = rc ? rc : ctl_json_str(o, "entry",
		    v->entry[0] ? v->entry : NULL);
	}
	if (rc != 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

int
ctl_json_print(FILE *f, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (s == NULL || fputs(s, f) == EOF || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}
