/*
 * Taking in what etcd holds: every value goes through the parsing and the
 * entry rules of a local write (cert_parse, entry_add, policy_parse), so
 * that whoever can write the prefix gets no further than a user of the
 * mount would.  The conflict rules (trustfs(8), THE FLEET):
 *  - the first change committed to etcd wins; a local change that lost
 *    is replaced, and a pin's losing certificate goes to rejected/
 *    (rejected/ itself keeps what a host presented last: a local entry
 *    waiting in the outbox is pushed over the fleet's);
 *  - a removal is a tombstone: it wins over the entry it removed;
 *  - distrust wins over trust: entry_add refuses a root or chain that is
 *    in distrusted/, and adding to distrusted/ drops the root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "apply.h"
#include "cert.h"
#include "entry.h"
#include "origin.h"
#include "pins.h"
#include "policy.h"

#define POLICY_KEY "policy"

struct val {
	char *node;
	char *pem;
	char *policy;
	int deleted;
	int has_pinned;
	unsigned char pinned_sha[32];
	int has_key;			/* a key-only pin (known_hosts) */
	unsigned char key_sha[32];
	int64_t expires;		/* its expiry, 0: never */
};

static void
val_free(struct val *v)
{
	free(v->node);
	free(v->pem);
	free(v->policy);
	memset(v, 0, sizeof(*v));
}

static const struct entry_actor *
sync_actor(void)
{
	static struct entry_actor who;

	who.uid = geteuid();
	who.pid = getpid();
	who.comm = "trustfs-sync";
	return &who;
}

static int
hex_to_sha(const char *s, unsigned char out[32])
{
	int i;

	if (strlen(s) != 64)
		return -EINVAL;
	for (i = 0; i < 32; i++) {
		unsigned hi, lo;
		char c1 = s[2 * i], c2 = s[2 * i + 1];

		if (sscanf((char[]){ c1, c2, 0 }, "%1x%1x", &hi, &lo) != 2)
			return -EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
node_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return 1;
}

/* Parses a value; -EINVAL with e saying what is wrong. */
static int
val_parse(const struct etcd_kv *kv, struct val *v, struct tf_error *e)
{
	json_object *j = NULL, *f;
	json_tokener *tok;
	int n = 0, rc = -EINVAL;

	memset(v, 0, sizeof(*v));
	if (kv->deleted) {	/* an etcd delete: taken as a tombstone */
		v->deleted = 1;
		return 0;
	}
	if (kv->val_len > SYNC_VALUE_MAX)
		return tf_error_setx(e, -EFBIG, "value of %zu bytes (at most "
		    "%u)", kv->val_len, SYNC_VALUE_MAX);
	if (kv->val == NULL || strlen((char *)kv->val) != kv->val_len)
		return tf_error_setx(e, -EINVAL, "the value is not text");
	tok = json_tokener_new();
	if (tok == NULL)
		return tf_error_set(e, -ENOMEM, "parsing");
	j = json_tokener_parse_ex(tok, (char *)kv->val, (int)kv->val_len);
	if (j == NULL || json_tokener_get_parse_end(tok) != kv->val_len ||
	    !json_object_is_type(j, json_type_object)) {
		tf_error_setx(e, -EINVAL, "the value is not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(j, "node", &f) ||
	    !json_object_is_type(f, json_type_string) ||
	    !node_name_ok(json_object_get_string(f))) {
		tf_error_setx(e, -EINVAL, "no valid \"node\" in the value");
		goto out;
	}
	v->node = strdup(json_object_get_string(f));
	if (json_object_object_get_ex(j, "deleted", &f)) {
		if (!json_object_is_type(f, json_type_boolean) ||
		    !json_object_get_boolean(f)) {
			tf_error_setx(e, -EINVAL, "\"deleted\" is not true");
			goto out;
		}
		v->deleted = 1;
		n++;
	}
	if (json_object_object_get_ex(j, "pem", &f)) {
		if (!json_object_is_type(f, json_type_string)) {
			tf_error_setx(e, -EINVAL, "\"pem\" is not a string");
			goto out;
		}
		v->pem = strdup(json_object_get_string(f));
		n++;
	}
	if (json_object_object_get_ex(j, "policy", &f)) {
		if (!json_object_is_type(f, json_type_string)) {
			tf_error_setx(e, -EINVAL, "\"policy\" is not a string");
			goto out;
		}
		v->policy = strdup(json_object_get_string(f));
		n++;
	}
	if (json_object_object_get_ex(j, "pinned_sha256", &f)) {
		if (!json_object_is_type(f, json_type_string) ||
		    hex_to_sha(json_object_get_string(f), v->pinned_sha) != 0) {
			tf_error_setx(e, -EINVAL, "\"pinned_sha256\" is not a "
			    "SHA-256 in hex");
			goto out;
		}
		v->has_pinned = 1;
	}
	if (json_object_object_get_ex(j, "key_sha256", &f)) {
		if (!json_object_is_type(f, json_type_string) ||
		    hex_to_sha(json_object_get_string(f), v->key_sha) != 0) {
			tf_error_setx(e, -EINVAL, "\"key_sha256\" is not a "
			    "SHA-256 in hex");
			goto out;
		}
		v->has_key = 1;
		n++;
		if (json_object_object_get_ex(j, "expires", &f) &&
		    (!json_object_is_type(f, json_type_int) ||
		    (v->expires = json_object_get_int64(f)) < 0)) {
			tf_error_setx(e, -EINVAL, "\"expires\" is not a time");
			goto out;
		}
	}
	if (n != 1) {
		tf_error_setx(e, -EINVAL, "the value holds %s of \"pem\", "
		    "\"key_sha256\", \"policy\" and \"deleted\"",
		    n ? "more than one" : "none");
		goto out;
	}
	if (v->node == NULL || (json_object_object_get_ex(j, "pem", &f) &&
	    v->pem == NULL) || (json_object_object_get_ex(j, "policy", &f) &&
	    v->policy == NULL)) {
		rc = tf_error_set(e, -ENOMEM, "parsing");
		goto out;
	}
	rc = 0;
out:
	json_object_put(j);
	json_tokener_free(tok);
	if (rc != 0)
		val_free(v);
	return rc;
}

/* rel_key -> db and name; -1 for the policy; -EINVAL if trustfs does not
 * write such a key. */
static int
key_split(const char *key, enum store_db *db, char *name, size_t namelen,
    struct tf_error *e)
{
	char dir[16], norm[256];
	const char *slash = strchr(key, '/');
	int d;

	if (strcmp(key, POLICY_KEY) == 0)
		return -1;
	if (slash == NULL || (size_t)(slash - key) >= sizeof(dir))
		return tf_error_setx(e, -EINVAL, "not a key trustfs writes");
	memcpy(dir, key, (size_t)(slash - key));
	dir[slash - key] = '\0';
	d = entry_db_from_dir(dir);
	if (d < 0)
		return tf_error_setx(e, -EINVAL, "not a key trustfs writes");
	if (entry_name((enum store_db)d, slash + 1, norm, sizeof(norm), e) != 0)
		return -EINVAL;
	if (strcmp(norm, slash + 1) != 0)
		return tf_error_setx(e, -EINVAL, "'%s' is not a normalized "
		    "name (%s)", slash + 1, norm);
	*db = (enum store_db)d;
	snprintf(name, namelen, "%s", norm);
	return 0;
}

int
sync_value_local(struct store_txn *txn, const char *key, const char *node,
    struct buf *out, struct tf_error *e)
{
	json_object *j = json_object_new_object();
	STACK_OF(X509) *sk = NULL;
	struct store_rec rec;
	struct buf pem = { 0 };
	enum store_db db;
	char name[256], hex[65], *pol = NULL;
	size_t len;
	int rc, i;
	static const unsigned char zero[32];

	if (j == NULL)
		return tf_error_set(e, -ENOMEM, "encoding");
	json_object_object_add(j, "node", json_object_new_string(node));
	json_object_object_add(j, "time", json_object_new_int64(time(NULL)));
	rc = key_split(key, &db, name, sizeof(name), e);
	if (rc == -1) {
		rc = store_meta_get(txn, POLICY_KEY, &pol, &len);
		if (rc == 0)
			json_object_object_add(j, "policy",
			    json_object_new_string_len(pol, (int)len));
	} else if (rc == 0) {
		rc = store_get(txn, db, name, &rec);
		if (rc == 0 && db == STORE_PINNED && pin_is_key_only(&rec)) {
			/* A key pin has no certificate: its key's SHA-256
			 * and its expiry go instead. */
			cert_hex(rec.other_sha256, 32, 0, hex);
			json_object_object_add(j, "key_sha256",
			    json_object_new_string(hex));
			json_object_object_add(j, "expires",
			    json_object_new_int64((int64_t)rec.slot));
			rc = 1;
		}
		if (rc == 0)
			rc = entry_certs(&rec, &sk);
		for (i = 0; rc == 0 && i < sk_X509_num(sk); i++)
			rc = cert_pem(&pem, sk_X509_value(sk, i));
		if (rc == 0) {
			json_object_object_add(j, "pem",
			    json_object_new_string_len(pem.data, (int)pem.len));
			if (memcmp(rec.other_sha256, zero, 32) != 0) {
				cert_hex(rec.other_sha256, 32, 0, hex);
				json_object_object_add(j, "pinned_sha256",
				    json_object_new_string(hex));
			}
		}
	}
	if (rc == -ENOENT) {
		json_object_object_add(j, "deleted", json_object_new_boolean(1));
		rc = 0;
	}
	if (rc == 1)
		rc = 0;
	buf_reset(out);
	if (rc == 0)
		rc = buf_puts(out, json_object_to_json_string_ext(j,
		    JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&pem);
	free(pol);
	return rc;
}

struct pending {
	const char *key;
	uint64_t *seqs;
	size_t n, cap;
};

static int
pending_cb(uint64_t seq, const char *key, void *arg)
{
	struct pending *p = arg;
	uint64_t *s;

	if (strcmp(key, p->key) != 0)
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4;
		s = realloc(p->seqs, p->cap * sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		p->seqs = s;
	}
	p->seqs[p->n++] = seq;
	return 0;
}

static int
pending_drop(struct store_txn *txn, struct pending *p)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < p->n && rc == 0; i++)
		rc = store_outbox_del(txn, p->seqs[i]);
	return rc;
}

/* A failure of the store, as opposed to a refusal of the value. */
static int
is_store_error(int rc)
{
	return rc == -EIO || rc == -ENOSPC || rc == -ENOMEM || rc == -EROFS ||
	    rc == -EDEADLK;
}

/* The loser of a pin conflict: its certificate (DER) to rejected/HOST,
 * other_sha256 the winner's, audited, and pushed like a local reject. */
static int
pin_loser(struct store_txn *txn, const char *host, const unsigned char *der,
    size_t der_len, const unsigned char winner[32], const char *origin)
{
	STACK_OF(X509) *sk = NULL;
	struct entry_result res;
	struct store_rec rec;
	struct store_key key;
	struct tf_error e = { 0 };
	unsigned char *copy = NULL;
	char path[300], why[200];
	int rc;

	rc = cert_decode_der(der, der_len, &sk);
	if (rc != 0)
		return 0;
	/* rejected/ holds one certificate: of a losing pin of several, the
	 * first (the record below keeps one key for one certificate). */
	while (sk_X509_num(sk) > 1)
		X509_free(sk_X509_pop(sk));
	rc = entry_add(txn, STORE_REJECTED, host, sk, ENTRY_REPLACE,
	    sync_actor(), &res, &e);
	if (rc == 0)
		rc = store_get(txn, STORE_REJECTED, host, &rec);
	if (rc == 0 && rec.nkeys > 0 && (copy = malloc(rec.der_len)) != NULL) {
		memcpy(copy, rec.der, rec.der_len);
		key = rec.keys[0];
		rec.keys = &key;
		rec.nkeys = 1;
		rec.der = copy;
		memcpy(rec.other_sha256, winner, 32);
		rc = store_put(txn, STORE_REJECTED, host, &rec);
	}
	if (rc == 0)
		rc = store_outbox_add(txn, (snprintf(path, sizeof(path),
		    "rejected/%s", host), path));
	snprintf(path, sizeof(path), "pinned/%s", host);
	snprintf(why, sizeof(why), "pin-mismatch: the pin from node %s was "
	    "committed first; this certificate is in rejected/%s", origin,
	    host);
	if (rc == 0)
		rc = entry_audit_change(txn, sync_actor(), "conflict", path,
		    res.sha256, winner, NULL, why);
	free(copy);
	sk_X509_pop_free(sk, X509_free);
	return is_store_error(rc) ? rc : 0;
}

static int
refuse(struct store_txn *txn, const char *key, const char *why,
    enum sync_outcome *out)
{
	*out = SYNC_REFUSED;
	return entry_audit(txn, sync_actor(), "sync", key, NULL, why);
}

static int
apply_policy(struct store_txn *txn, const struct val *v, int pending,
    const char *self, enum sync_outcome *out)
{
	struct policy *p = NULL;
	struct tf_error e = { 0 };
	char *cur = NULL;
	size_t len;
	int rc;

	if (v->deleted || v->pem != NULL)
		return refuse(txn, POLICY_KEY, v->deleted ? "a policy is not "
		    "removed, only replaced" : "\"pem\" for the policy", out);
	rc = store_meta_get(txn, POLICY_KEY, &cur, &len);
	if (rc == 0 && len == strlen(v->policy) && memcmp(cur, v->policy,
	    len) == 0) {
		free(cur);
		*out = SYNC_SAME;
		return 0;
	}
	free(cur);
	if (pending && strcmp(v->node, self) == 0) {
		*out = SYNC_KEPT;
		return 0;
	}
	if (policy_parse(v->policy, strlen(v->policy), &p, &e) != 0)
		return refuse(txn, POLICY_KEY, e.msg, out);
	policy_free(p);
	rc = store_meta_put(txn, POLICY_KEY, v->policy, strlen(v->policy));
	if (rc == 0)
		rc = entry_audit(txn, sync_actor(), "policy", POLICY_KEY, NULL,
		    NULL);
	entry_mark_changed(txn);
	*out = pending ? SYNC_CONFLICT : SYNC_APPLIED;
	return rc;
}

/* A key-only pin from another node (trustctl import-known-hosts there):
 * in pinned/ only; it takes the place of what the host had here, as any
 * newer value does, unless our own change waits to be pushed. */
static int
apply_key_pin(struct store_txn *txn, const char *key, enum store_db db,
    const char *name, const struct val *v, const char *self, int pending,
    const struct store_rec *have, enum sync_outcome *out)
{
	enum pin_key_outcome ko;
	char src[80];
	int rc;

	if (db != STORE_PINNED)
		return refuse(txn, key, "a key pin belongs in pinned/", out);
	if (have != NULL && pin_is_key_only(have) &&
	    memcmp(have->other_sha256, v->key_sha, 32) == 0 &&
	    (int64_t)have->slot == v->expires) {
		*out = SYNC_SAME;
		return 0;
	}
	if (pending && strcmp(v->node, self) == 0) {
		*out = SYNC_KEPT;
		return 0;
	}
	if (have != NULL && (rc = store_del(txn, STORE_PINNED, name)) != 0)
		return rc;
	rc = pin_key_add(txn, name, v->key_sha, (time_t)v->expires,
	    sync_actor(), &ko);
	if (rc != 0)
		return rc;
	if (ko == PIN_KEY_EXPIRED) {
		*out = SYNC_SAME;	/* expired on the way: nothing to keep */
		return 0;
	}
	*out = pending ? SYNC_CONFLICT : SYNC_APPLIED;
	snprintf(src, sizeof(src), "fleet %s", v->node);
	return origin_set(txn, db, name, src);
}

static int
apply_entry(struct store_txn *txn, const char *key, enum store_db db,
    const char *name, const struct val *v, int pending, const char *self,
    enum sync_outcome *out)
{
	STACK_OF(X509) *sk = NULL;
	struct entry_result res;
	struct store_rec rec;
	struct tf_error e = { 0 };
	unsigned char *der = NULL, *local = NULL, winner[32];
	size_t der_len = 0, local_len = 0;
	int rc, have;

	rc = store_get(txn, db, name, &rec);
	if (rc != 0 && rc != -ENOENT)
		return rc;
	have = rc == 0;
	if (have && (local = malloc(rec.der_len + 1)) == NULL)
		return -ENOMEM;
	if (have) {
		memcpy(local, rec.der, rec.der_len);
		local_len = rec.der_len;
	}
	if (v->deleted) {
		if (!have) {
			*out = SYNC_SAME;
			rc = 0;
		} else if (pending && strcmp(v->node, self) == 0) {
			*out = SYNC_KEPT;
			rc = 0;
		} else {
			rc = entry_remove(txn, db, name, sync_actor());
			*out = pending ? SYNC_CONFLICT : SYNC_APPLIED;
		}
		goto out;
	}
	if (v->has_key) {
		rc = apply_key_pin(txn, key, db, name, v, self, pending, have ?
		    &rec : NULL, out);
		goto out;
	}
	rc = cert_parse(v->pem, strlen(v->pem), CERT_INPUT_MAX_ONE, &sk, &e);
	if (rc == 0)
		rc = cert_der_all(sk, &der, &der_len);
	if (rc != 0) {
		rc = is_store_error(rc) && rc != -EIO ? rc :
		    refuse(txn, key, e.msg[0] ? e.msg : "no certificate", out);
		goto out;
	}
	/* rejected/ holds what a host presented: one certificate. */
	if (db == STORE_REJECTED && sk_X509_num(sk) != 1) {
		rc = refuse(txn, key, "rejected/ holds one certificate", out);
		goto out;
	}
	if (have && der_len == local_len && memcmp(der, local, der_len) == 0) {
		*out = SYNC_SAME;
		goto out;
	}
	/* Our own older value; and rejected/ holds what a host presented
	 * last: a local one waiting to be pushed is newer than etcd's. */
	if (pending && (strcmp(v->node, self) == 0 || db == STORE_REJECTED)) {
		*out = SYNC_KEPT;
		goto out;
	}
	rc = entry_add(txn, db, name, sk, ENTRY_REPLACE, sync_actor(), &res,
	    &e);
	if (rc != 0) {
		rc = is_store_error(rc) ? rc : refuse(txn, key, e.msg, out);
		goto out;
	}
	memcpy(winner, res.sha256, 32);
	*out = pending ? SYNC_CONFLICT : SYNC_APPLIED;
	/* DESIGN section 8: the entry says it came from the fleet. */
	if (res.outcome != ENTRY_UNCHANGED) {
		char src[80];

		snprintf(src, sizeof(src), "fleet %s", v->node);
		rc = origin_set(txn, db, res.name, src);
		if (rc != 0)
			goto out;
	}
	if (db == STORE_REJECTED && v->has_pinned &&
	    store_get(txn, db, name, &rec) == 0 && rec.nkeys > 0) {
		struct store_key k = rec.keys[0];
		unsigned char *copy = malloc(rec.der_len + 1);

		if (copy == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(copy, rec.der, rec.der_len);
		rec.keys = &k;
		rec.nkeys = 1;
		rec.der = copy;
		memcpy(rec.other_sha256, v->pinned_sha, 32);
		rc = store_put(txn, db, name, &rec);
		free(copy);
	}
	if (rc == 0 && pending && have && db == STORE_PINNED)
		rc = pin_loser(txn, name, local, local_len, winner, v->node);
out:
	free(der);
	free(local);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int
sync_apply(struct store_txn *txn, const char *self, const char *rel_key,
    const struct etcd_kv *kv, int force, enum sync_outcome *out)
{
	struct pending p = { .key = rel_key };
	struct tf_error ke = { 0 }, ve = { 0 };
	struct val v = { 0 };
	enum store_db db = STORE_PINNED;
	char name[256];
	uint64_t have;
	int rc, split;

	*out = SYNC_SEEN;
	store_txn_outbox_off(txn);
	if (strlen(rel_key) > 300)
		return refuse(txn, rel_key, "not a key trustfs writes", out);
	rc = store_cluster_rev_get(txn, rel_key, &have);
	if (rc != 0 || (!force && (uint64_t)kv->mod_rev <= have))
		return rc;
	split = key_split(rel_key, &db, name, sizeof(name), &ke);
	rc = val_parse(kv, &v, &ve);
	/* audit.log names the node a change came from (origin=); a value
	 * that does not say came from whoever wrote etcd. */
	if (rc == 0 || rc == -EINVAL || rc == -EFBIG) {
		int orc = store_cluster_origin(txn, v.node ? v.node : "etcd");

		if (orc != 0) {
			rc = orc;
			goto out;
		}
	}
	if (split == -EINVAL) {
		rc = refuse(txn, rel_key, ke.msg, out);
		goto done;
	}
	if (rc == -EINVAL || rc == -EFBIG) {
		rc = refuse(txn, rel_key, ve.msg, out);
		goto done;
	}
	if (rc != 0)
		goto out;
	rc = store_outbox_foreach(txn, pending_cb, &p);
	if (rc == 0 && split == -1)
		rc = apply_policy(txn, &v, p.n > 0, self, out);
	else if (rc == 0)
		rc = apply_entry(txn, rel_key, db, name, &v, p.n > 0, self, out);
	/* A local change that lost, or that etcd holds already, is done. */
	if (rc == 0 && *out != SYNC_KEPT && *out != SYNC_REFUSED)
		rc = pending_drop(txn, &p);
done:
	if (rc == 0)
		rc = store_cluster_origin(txn, NULL);
	if (rc == 0)
		rc = store_cluster_rev_put(txn, rel_key, (uint64_t)kv->mod_rev);
out:
	free(p.seqs);
	val_free(&v);
	return rc;
}

/* Every local key once: those in the outbox already are not added. */
struct enq {
	struct store_txn *txn;
	const char *dir;
	char **have;		/* the outbox's keys, sorted */
	size_t n, cap;
};

static int
have_cb(uint64_t seq, const char *key, void *arg)
{
	struct enq *q = arg;
	char **v;

	(void)seq;
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 64;
		v = realloc(q->have, q->cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		q->have = v;
	}
	if ((q->have[q->n] = strdup(key)) == NULL)
		return -ENOMEM;
	q->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
enqueue_key(struct enq *q, const char *key)
{
	if (q->n > 0 && bsearch(&key, q->have, q->n, sizeof(*q->have),
	    cmp_str) != NULL)
		return 0;
	return store_outbox_add(q->txn, key);
}

static int
enqueue_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct enq *q = arg;
	char key[300];

	(void)rec;
	snprintf(key, sizeof(key), "%s/%s", q->dir, name);
	return enqueue_key(q, key);
}

int
sync_enqueue_all(struct store_txn *txn)
{
	struct enq q = { txn, NULL, NULL, 0, 0 };
	char *pol = NULL;
	size_t len, i;
	int rc, db;

	rc = store_outbox_foreach(txn, have_cb, &q);
	if (rc == 0 && q.n > 1)
		qsort(q.have, q.n, sizeof(*q.have), cmp_str);
	for (db = 0; rc == 0 && db < STORE_NDBS; db++) {
		q.dir = entry_db_dir((enum store_db)db);
		rc = store_foreach(txn, (enum store_db)db, enqueue_cb, &q);
	}
	if (rc == 0 && store_meta_get(txn, POLICY_KEY, &pol, &len) == 0)
		rc = enqueue_key(&q, POLICY_KEY);
	free(pol);
	for (i = 0; i < q.n; i++)
		free(q.have[i]);
	free(q.have);
	return rc;
}
