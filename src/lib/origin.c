/*
 * The source of an entry, kept in meta beside it (origin.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "origin.h"

static int
origin_key(enum store_db db, const char *name, char *key, size_t keylen)
{
	int n = snprintf(key, keylen, ORIGIN_PREFIX "%s/%s", entry_db_dir(db),
	    name);

	return n < 0 || (size_t)n >= keylen ? -ENAMETOOLONG : 0;
}

int
origin_set(struct store_txn *txn, enum store_db db, const char *name,
    const char *src)
{
	char key[STORE_META_KEY_MAX + 1];
	size_t len = strlen(src);
	int rc;

	if (len == 0 || len > ORIGIN_MAX)
		return -EINVAL;
	if ((rc = origin_key(db, name, key, sizeof(key))) != 0)
		return rc;
	return store_meta_xput(txn, key, src, len);
}

int
origin_get(struct store_txn *txn, enum store_db db, const char *name,
    char *out, size_t outlen)
{
	char key[STORE_META_KEY_MAX + 1], *v = NULL;
	size_t len;
	int rc;

	if ((rc = origin_key(db, name, key, sizeof(key))) != 0)
		return rc;
	if ((rc = store_meta_xget(txn, key, &v, &len)) != 0)
		return rc;
	snprintf(out, outlen, "%s", v);
	free(v);
	return 0;
}

int
origin_forget(struct store_txn *txn, enum store_db db, const char *name)
{
	char key[STORE_META_KEY_MAX + 1];

	if (origin_key(db, name, key, sizeof(key)) != 0)
		return 0;	/* no such key could have been written */
	return store_meta_xdel(txn, key);
}

struct walk {
	int db;
	const char *src;
	origin_fn fn;
	void *arg;
};

static int
walk_cb(const char *key, const void *val, size_t len, void *arg)
{
	struct walk *w = arg;
	char dir[32], src[ORIGIN_MAX + 1];
	const char *k = key + strlen(ORIGIN_PREFIX), *slash;
	int db;

	slash = strchr(k, '/');
	if (slash == NULL || (size_t)(slash - k) >= sizeof(dir) ||
	    len > ORIGIN_MAX)
		return 0;	/* not one of ours */
	memcpy(dir, k, (size_t)(slash - k));
	dir[slash - k] = '\0';
	if ((db = entry_db_from_dir(dir)) < 0 || (w->db >= 0 && db != w->db))
		return 0;
	memcpy(src, val, len);
	src[len] = '\0';
	if (w->src != NULL && strcmp(w->src, src) != 0)
		return 0;
	return w->fn((enum store_db)db, slash + 1, src, w->arg);
}

int
origin_foreach(struct store_txn *txn, int db, const char *src, origin_fn fn,
    void *arg)
{
	struct walk w = { db, src, fn, arg };

	return store_meta_xforeach(txn, ORIGIN_PREFIX, walk_cb, &w);
}

static int
count_cb(enum store_db db, const char *name, const char *src, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

int
origin_count(struct store_txn *txn, enum store_db db, const char *src,
    size_t *n)
{
	*n = 0;
	return origin_foreach(txn, (int)db, src, count_cb, n);
}
