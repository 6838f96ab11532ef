/*
 * audit.log (DESIGN section 7): one line per change and per refusal,
 * appended in the change's own transaction, and the counters the metrics
 * show.  The line's fields, in order, are those entry.h lists for
 * entry_audit_change(); new fields only ever go after the old ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cert.h"
#include "entry.h"

/* Audit values are one token each: spaces, '%' and controls are %XX. */
static int
audit_token(struct buf *b, const char *s)
{
	const unsigned char *p;
	int rc = 0;

	for (p = (const unsigned char *)s; *p && rc == 0; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '%' || *p == '"')
			rc = buf_printf(b, "%%%02X", *p);
		else
			rc = buf_append(b, p, 1);
	}
	return rc;
}

int
entry_audit(struct store_txn *txn, const struct entry_actor *who,
    const char *action, const char *path, const unsigned char *sha256,
    const char *refused)
{
	return entry_audit_change(txn, who, action, path, sha256, NULL, NULL,
	    refused);
}

int
entry_audit_change(struct store_txn *txn, const struct entry_actor *who,
    const char *action, const char *path, const unsigned char *sha256,
    const unsigned char *old_sha256, const char *cleared,
    const char *refused)
{
	struct buf b = { 0 };
	char t[32], hex[65];
	time_t now = time(NULL);
	struct tm tm;
	char *v = NULL;
	size_t len, max = ENTRY_AUDIT_MAX_DEFAULT;
	int rc;

	gmtime_r(&now, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (sha256 != NULL)
		cert_hex(sha256, 32, 0, hex);
	else
		strcpy(hex, "-");
	rc = buf_printf(&b, "%s uid=%ld pid=%ld comm=", t,
	    who ? (long)who->uid : -1L, who ? (long)who->pid : -1L);
	if (rc == 0)
		rc = audit_token(&b, who && who->comm ? who->comm : "?");
	if (rc == 0)
		rc = buf_printf(&b, " action=%s path=", action);
	if (rc == 0)
		rc = audit_token(&b, path);
	if (rc == 0)
		rc = buf_printf(&b, " sha256=%s", hex);
	/* New fields go after the old ones, so that readers of DESIGN
	 * section 7's line (awk '{print $5, $6}') still parse it. */
	if (rc == 0 && old_sha256 != NULL) {
		cert_hex(old_sha256, 32, 0, hex);
		rc = buf_printf(&b, " old_sha256=%s", hex);
	}
	if (rc == 0 && cleared != NULL) {
		rc = buf_puts(&b, " cleared=");
		if (rc == 0)
			rc = audit_token(&b, cleared);
	}
	if (rc == 0 && refused != NULL) {
		rc = buf_puts(&b, " refused=");
		if (rc == 0)
			rc = audit_token(&b, refused);
	}
	/* A change that came from another node of the fleet names it
	 * (issue 11): the sync thread sets the origin for its transaction. */
	if (rc == 0 && store_meta_get(txn, "cluster:origin", &v, &len) == 0) {
		rc = buf_puts(&b, " origin=");
		if (rc == 0)
			rc = audit_token(&b, v);
	}
	free(v);
	v = NULL;
	if (rc != 0)
		goto out;
	if (store_meta_get(txn, "audit_max", &v, &len) == 0)
		max = (size_t)strtoull(v, NULL, 10);
	rc = store_audit_append(txn, b.data, max);
out:
	free(v);
	buf_free(&b);
	return rc;
}

int
entry_counter_add(struct store_txn *txn, const char *key)
{
	unsigned long long n = 0;
	char *v = NULL, nv[32];
	size_t len;
	int rc;

	rc = store_meta_get(txn, key, &v, &len);
	if (rc == 0)
		n = strtoull(v, NULL, 10);
	else if (rc != -ENOENT)
		return rc;
	free(v);
	snprintf(nv, sizeof(nv), "%llu", n + 1);
	return store_meta_put(txn, key, nv, strlen(nv));
}
