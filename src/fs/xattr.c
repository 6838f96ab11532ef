/*
 * user.trustfs.* extended attributes: the inspect values of an entry's
 * first certificate, for scripts.  Each value is built whole in a buffer
 * by the same formatters as the inspect text (cert_name_append,
 * cert_serial_append): getxattr(2) with size 0 gets its full length, a
 * buffer too small gets ERANGE, never a value cut short.  Pins add
 * their host and what the TLS clients saw (first and last handshake, the
 * count), as the inspect text shows them.  They are read-only: setting or
 * removing one is refused in perm.c.  A temporary name is no entry yet
 * and lists none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "fs.h"
#include "names.h"
#include "origin.h"
#include "pins.h"

static const char *const xattr_names[] = {
	"user.trustfs.subject", "user.trustfs.issuer", "user.trustfs.serial",
	"user.trustfs.not_before", "user.trustfs.not_after",
	"user.trustfs.sha1", "user.trustfs.sha256", "user.trustfs.status",
	"user.trustfs.label",
	/* pinned/ only, from here */
	"user.trustfs.host", "user.trustfs.first_seen",
	"user.trustfs.last_seen", "user.trustfs.seen_count",
	"user.trustfs.key_sha256",	/* issue 14: the pinned key */
};
#define NXATTR (sizeof(xattr_names) / sizeof(xattr_names[0]))
#define NXATTR_ALL 9	/* the ones every entry has */

/* What a pin's record says, copied out of the transaction. */
struct pin_seen {
	uint64_t first, last, count;
	int key_only;			/* a key pin with no certificate */
	unsigned char key[32];		/* then: its key's SHA-256 */
};

/* A time as the inspect text shows it: "never" for none. */
static int
seen_time(uint64_t t, struct buf *out)
{
	char s[64];

	if (t == 0)
		return buf_puts(out, "never");
	cert_time_str((time_t)t, s, sizeof(s));
	return buf_puts(out, s);
}

static int
xattr_value(X509 *x, const char *entry, size_t which,
    const struct pin_seen *seen, struct buf *out)
{
	unsigned char md[32];
	char s[128], host[256];
	unsigned port;
	size_t n;

	switch (which) {
	case 0:
		return cert_name_append(out, X509_get_subject_name(x));
	case 1:
		return cert_name_append(out, X509_get_issuer_name(x));
	case 2:
		return cert_serial_append(out, x);
	case 3:
	case 4:
		cert_time_str(which == 3 ? cert_not_before(x) :
		    cert_not_after(x), s, sizeof(s));
		return buf_puts(out, s);
	case 5:
		cert_sha1(x, md);
		cert_hex(md, 20, ':', s);
		return buf_puts(out, s);
	case 6:
		cert_sha256(x, md);
		cert_hex(md, 32, ':', s);
		return buf_puts(out, s);
	case 7:
		cert_status_str(x, time(NULL), s, sizeof(s));
		return buf_puts(out, s);
	case 8:
		n = strlen(entry);
		if (n > 4 && strcmp(entry + n - 4, ".pem") == 0)
			n -= 4;
		return buf_append(out, entry, n);
	case 9:
		/* "host:port", "[2001:db8::1]:443": the inspect text's Host. */
		if (name_host_port_split(entry, host, sizeof(host), &port) != 0)
			return buf_puts(out, entry);
		return buf_printf(out, strchr(host, ':') ? "[%s]:%u" : "%s:%u",
		    host, port);
	case 10:
		return seen_time(seen->first, out);
	case 11:
		return seen_time(seen->last, out);
	case 12:
		return buf_printf(out, "%llu", (unsigned long long)seen->count);
	case 13:
		if (seen->key_only)
			memcpy(md, seen->key, 32);
		else if (pin_key_sha256(x, md) != 0)
			return -ENODATA;
		cert_hex(md, 32, ':', s);
		return buf_puts(out, s);
	}
	return -ENODATA;
}

/* The value of attribute `which' of db/name into out. */
static int
entry_xattr(struct fs *fs, enum store_db db, const char *name, size_t which,
    struct buf *out)
{
	struct tf_error err = { 0 };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	struct pin_seen seen = { 0 };
	STACK_OF(X509) *sk = NULL;
	int rc;

	rc = store_txn_begin(fs->st, 0, &txn, &err);
	if (rc == 0)
		rc = store_get(txn, db, name, &rec);
	if (rc == 0) {
		seen = (struct pin_seen){ rec.first_seen, rec.last_seen,
		    rec.seen_count, 0, { 0 } };
		if (db == STORE_PINNED && pin_is_key_only(&rec)) {
			seen.key_only = 1;
			memcpy(seen.key, rec.other_sha256, 32);
		}
		rc = entry_certs(&rec, &sk);
	}
	store_txn_abort(txn);
	/* A key-only pin has the pin's own attributes and no others. */
	if (rc == 0 && sk_X509_num(sk) < 1 && !(seen.key_only &&
	    which >= NXATTR_ALL))
		rc = -ENODATA;
	if (rc == 0)
		rc = xattr_value(sk_X509_num(sk) > 0 ? sk_X509_value(sk, 0) :
		    NULL, name, which, &seen, out);
	sk_X509_pop_free(sk, X509_free);
	if (rc != 0 && rc != -ENOENT && err.msg[0])
		fs_log(LOG_ERR, "%s/%s: %s", entry_db_dir(db), name, err.msg);
	return rc;
}

/* user.trustfs.source: what added the entry (origin.h); none when it was
 * added by hand, as the inspect text shows no Source: then. */
static int
source_xattr(struct fs *fs, const struct node *n, char *value, size_t size)
{
	struct tf_error err = { 0 };
	struct store_txn *txn = NULL;
	char name[256], src[ORIGIN_MAX + 1];
	size_t len;
	int rc;

	if (entry_name(n->db, n->name, name, sizeof(name), &err) != 0)
		return -ENODATA;
	rc = store_txn_begin(fs->st, 0, &txn, &err);
	if (rc == 0)
		rc = origin_get(txn, n->db, name, src, sizeof(src));
	store_txn_abort(txn);
	if (rc == -ENOENT)
		return -ENODATA;
	if (rc != 0)
		return fs_errno(rc);
	len = strlen(src);
	if (size > 0 && size < len)
		return -ERANGE;
	if (size > 0)
		memcpy(value, src, len);
	return (int)len;
}

int
fs_getxattr(const char *path, const char *attr, char *value, size_t size)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct buf b = { 0 };
	struct node n;
	char name[256];
	size_t i;
	int rc;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	if (n.type != NODE_ENTRY)
		return -ENODATA;
	if (strcmp(attr, "user.trustfs.source") == 0)
		return source_xattr(fs, &n, value, size);
	for (i = 0; i < NXATTR; i++)
		if (strcmp(attr, xattr_names[i]) == 0)
			break;
	if (i == NXATTR || (i >= NXATTR_ALL && n.db != STORE_PINNED))
		return -ENODATA;
	if (entry_name(n.db, n.name, name, sizeof(name), &err) != 0)
		return -ENODATA;
	rc = entry_xattr(fs, n.db, name, i, &b);
	if (rc == -ENOENT)
		rc = -ENODATA;
	else if (rc == 0 && b.len > (size_t)INT32_MAX)
		rc = -E2BIG;
	else if (rc == 0 && size > 0 && size < b.len)
		rc = -ERANGE;
	else if (rc == 0) {
		if (size > 0 && b.len > 0)
			memcpy(value, b.data, b.len);
		rc = (int)b.len;
	} else
		rc = fs_errno(rc);
	buf_free(&b);
	return rc;
}

int
fs_listxattr(const char *path, char *list, size_t size)
{
	struct node n;
	size_t i, need = 0, l, nx;
	int rc, src;

	rc = fs_route(path, &n);
	if (rc != 0)
		return rc;
	/* A temporary (an editor's, Ansible's backup) is no entry: none, so
	 * that copying its attributes (Python's copy2) has nothing to copy. */
	if (n.type != NODE_ENTRY || name_is_temporary(n.name))
		return 0;
	nx = n.db == STORE_PINNED ? NXATTR : NXATTR_ALL;
	for (i = 0; i < nx; i++)
		need += strlen(xattr_names[i]) + 1;
	/* user.trustfs.source only where there is one (issue 12). */
	src = source_xattr(fs_get(), &n, NULL, 0) > 0;
	if (src)
		need += sizeof("user.trustfs.source");
	if (size == 0)
		return (int)need;
	if (size < need)
		return -ERANGE;
	for (i = 0; i < nx; i++) {
		l = strlen(xattr_names[i]) + 1;
		memcpy(list, xattr_names[i], l);
		list += l;
	}
	if (src)
		memcpy(list, "user.trustfs.source", sizeof("user.trustfs.source"));
	return (int)need;
}
