/*
 * libtrustfs: the handle -- opening it, the store it shares with other
 * handles and with the X509_STORE objects it hands out, its error, and
 * the policy it reads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expiry.h"
#include "handle.h"

/* The handle's two setters (libtls): the first appends strerror(errno). */
void
trustfs_set_error(struct trustfs *t, const char *fmt, ...)
{
	char msg[sizeof(t->err.msg)];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tf_error_set(&t->err, saved > 0 ? -saved : -EIO, "%s", msg);
}

void
trustfs_set_errorx(struct trustfs *t, const char *fmt, ...)
{
	char msg[sizeof(t->err.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tf_error_setx(&t->err, -EIO, "%s", msg);
}

/*
 * One LMDB environment per store per process: lmdb.h (Caveats) forbids
 * opening the same environment twice in a process, and sharing it makes a
 * second trustfs_open() nearly free.  Handles and the X509_STOREs they
 * hand out share it, counted (libtls's tls_config_free style): the store
 * closes with its last user, whichever that is.
 */
struct shared_store {
	struct shared_store *next;
	char *path;		/* realpath, or the name given if none */
	unsigned flags;
	struct store *st;
	int refs;
};
static struct shared_store *shared;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

static int
shared_open(const char *dir, unsigned flags, struct store **out,
    struct tf_error *e)
{
	struct shared_store *s;
	char *path = realpath(dir, NULL);
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&shared_lock);
	/* No realpath (a directory not made yet): nothing to share, and the
	 * walk must not leave s on whichever store is first. */
	for (s = path != NULL ? shared : NULL; s != NULL; s = s->next)
		if (s->flags == flags && strcmp(s->path, path) == 0)
			break;
	if (s != NULL) {
		s->refs++;
		*out = s->st;
		goto out;
	}
	/* Counted even when it cannot be shared by path, so that every
	 * store a handle holds has exactly one owner record. */
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = tf_error_set(e, -ENOMEM, "opening store %s", dir);
		goto out;
	}
	rc = store_open(dir, flags, &s->st, e);
	if (rc != 0) {
		free(s);
		goto out;
	}
	if (path == NULL)
		path = realpath(dir, NULL);
	s->path = path != NULL ? path : strdup(dir);
	path = NULL;
	if (s->path == NULL) {
		store_close(s->st);
		free(s);
		rc = tf_error_set(e, -ENOMEM, "opening store %s", dir);
		goto out;
	}
	s->flags = flags;
	s->refs = 1;
	s->next = shared;
	shared = s;
	*out = s->st;
out:
	pthread_mutex_unlock(&shared_lock);
	free(path);
	return rc;
}

struct store *
handle_store_hold(struct store *st)
{
	struct shared_store *s;

	if (st == NULL)
		return NULL;
	pthread_mutex_lock(&shared_lock);
	for (s = shared; s != NULL && s->st != st; s = s->next)
		;
	if (s != NULL)
		s->refs++;
	pthread_mutex_unlock(&shared_lock);
	return s != NULL ? st : NULL;
}

void
handle_store_release(struct store *st)
{
	struct shared_store **pp, *s;

	if (st == NULL)
		return;
	pthread_mutex_lock(&shared_lock);
	for (pp = &shared; (s = *pp) != NULL; pp = &s->next)
		if (s->st == st)
			break;
	if (s != NULL && --s->refs == 0) {
		*pp = s->next;
		free(s->path);
		free(s);
	} else
		st = NULL;	/* still used, or not ours to close */
	pthread_mutex_unlock(&shared_lock);
	store_close(st);
}

struct trustfs *
trustfs_open(const char *dir)
{
	return trustfs_open_flags(dir, 0);
}

struct trustfs *
trustfs_open_flags(const char *dir, unsigned store_flags)
{
	struct trustfs *t = calloc(1, sizeof(*t));
	char def[4096];

	if (t == NULL)
		return NULL;
	if (dir == NULL) {
		store_default_dir(def, sizeof(def));
		dir = def;
	}
	(void)shared_open(dir, store_flags, &t->st, &t->err);
	return t;
}

void
trustfs_free(struct trustfs *t)
{
	if (t == NULL)
		return;
	handle_seen_flush(t);
	free(t->seen);
	policy_free(t->policy);
	handle_store_release(t->st);
	free(t);
}

const char *
trustfs_error(struct trustfs *t)
{
	if (t == NULL || t->err.msg[0] == '\0')
		return NULL;
	return t->err.msg;
}

static const char *const reason_names[] = {
	[TRUSTFS_REASON_NONE] = "none",
	[TRUSTFS_FIRST_USE] = "first-use",
	[TRUSTFS_PIN_MATCH] = "pin-match",
	[TRUSTFS_CHAIN_OK] = "chain-ok",
	[TRUSTFS_PIN_MISMATCH] = "pin-mismatch",
	[TRUSTFS_UNKNOWN_ISSUER] = "unknown-issuer",
	[TRUSTFS_NAME_MISMATCH] = "name-mismatch",
	[TRUSTFS_EXPIRED] = "expired",
	[TRUSTFS_NOT_YET_VALID] = "not-yet-valid",
	[TRUSTFS_DISTRUSTED] = "distrusted",
	[TRUSTFS_NO_PIN] = "no-pin",
	[TRUSTFS_BAD_CHAIN] = "bad-chain",
	[TRUSTFS_WEAK_KEY] = "weak-key",
	[TRUSTFS_BAD_EXTENSION] = "bad-extension",
	[TRUSTFS_BAD_KEY_USAGE] = "bad-key-usage",
	[TRUSTFS_CA_LEAF] = "ca-leaf",
	[TRUSTFS_BAD_EKU] = "bad-eku",
	[TRUSTFS_BAD_SERIAL] = "bad-serial",
	[TRUSTFS_V1_CA] = "v1-ca",
	[TRUSTFS_BAD_WILDCARD] = "bad-wildcard",
	[TRUSTFS_REVOKED] = "revoked",
	[TRUSTFS_BAD_CRL] = "bad-crl",
	[TRUSTFS_NO_CRL] = "no-crl",
	[TRUSTFS_NAME_CONSTRAINTS] = "name-constraints",
};

const char *
trustfs_reason_name(enum trustfs_reason r)
{
	if ((size_t)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "?";
	return reason_names[r];
}

const char *
trustfs_mode_name(enum trustfs_mode m)
{
	return policy_mode_name(m);
}

/*
 * The policy, re-read whenever the store changed.  Any failure to read or
 * parse it fails the check (issue 8): neither tofu nor a policy read
 * earlier stands in for a policy that cannot be read, since the one in
 * the store may be stricter than either.
 */
int
handle_policy(struct trustfs *t, const struct policy **out)
{
	struct store_txn *txn = NULL;
	struct policy *p = NULL;
	struct tf_error e = { 0 };
	uint64_t gen = store_generation(t->st);
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (t->policy != NULL && gen != 0 && t->policy_gen == gen) {
		*out = t->policy;
		return 0;
	}
	/* Whatever happens next, the old one is not the store's policy. */
	policy_free(t->policy);
	t->policy = NULL;
	rc = store_txn_begin(t->st, 0, &txn, &e);
	if (rc == 0)
		rc = store_meta_get(txn, "policy", &text, &len);
	store_txn_abort(txn);
	if (rc == -ENOENT) {
		rc = policy_parse(POLICY_DEFAULT_TEXT,
		    strlen(POLICY_DEFAULT_TEXT), &p, &e);
	} else if (rc != 0) {
		trustfs_set_errorx(t, "reading the policy: %s", e.msg[0] ?
		    e.msg : strerror(-rc));
		goto out;
	} else
		rc = policy_parse(text, len, &p, &e);
	if (rc != 0) {
		trustfs_set_errorx(t, "the stored policy does not parse: %s",
		    e.msg[0] ? e.msg : strerror(-rc));
		goto out;
	}
	t->policy = p;
	t->policy_gen = gen;
	*out = p;
out:
	free(text);
	return rc != 0 ? -1 : 0;
}

/* --- pin sightings -------------------------------------------------- */

/* Adds a sighting; written at most every TRUSTFS_SEEN_INTERVAL seconds. */
struct seen_args {
	const char *hp;
	uint64_t add;
};

static int
seen_write(struct store_txn *txn, void *arg)
{
	struct seen_args *a = arg;
	struct store_rec rec, nrec;
	struct store_key *keys = NULL;
	struct store_validity val[STORE_INFO_CERTS];
	unsigned char *der = NULL;
	int rc;

	rc = store_get(txn, STORE_PINNED, a->hp, &rec);
	if (rc != 0)
		return rc == -ENOENT ? 0 : rc;	/* removed meanwhile */
	/* Copy out: the record points into the map we are about to write. */
	keys = malloc(rec.nkeys * sizeof(*keys) + 1);
	der = malloc(rec.der_len + 1);
	if (keys == NULL || der == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* A record may hold no keys (rec.keys NULL): no memcpy from NULL. */
	if (rec.nkeys > 0)
		memcpy(keys, rec.keys, rec.nkeys * sizeof(*keys));
	if (rec.der_len > 0)
		memcpy(der, rec.der, rec.der_len);
	nrec = rec;
	nrec.keys = keys;
	nrec.der = der;
	nrec.last_seen = (uint64_t)time(NULL);
	if (nrec.first_seen == 0)
		nrec.first_seen = nrec.last_seen;
	nrec.seen_count += a->add;
	/* The text shows the sightings: its size for stat (issue 9); a pin
	 * that cannot be decoded is written as it was. */
	(void)expiry_fill_stored(txn, STORE_PINNED, a->hp, &nrec, val);
	rc = store_put(txn, STORE_PINNED, a->hp, &nrec);
out:
	free(keys);
	free(der);
	return rc;
}

static struct seen_pending *
seen_slot(struct trustfs *t, const char *hp)
{
	struct seen_pending *s;
	size_t i;

	for (i = 0; i < t->nseen; i++)
		if (strcmp(t->seen[i].name, hp) == 0)
			return &t->seen[i];
	s = realloc(t->seen, (t->nseen + 1) * sizeof(*s));
	if (s == NULL)
		return NULL;
	t->seen = s;
	s = &t->seen[t->nseen++];
	snprintf(s->name, sizeof(s->name), "%s", hp);
	s->count = 0;
	return s;
}

void
handle_seen_flush(struct trustfs *t)
{
	struct seen_args a;
	size_t i;

	for (i = 0; t->st != NULL && i < t->nseen; i++) {
		if (t->seen[i].count == 0)
			continue;
		a.hp = t->seen[i].name;
		a.add = t->seen[i].count;
		if (store_write(t->st, seen_write, &a, NULL) == 0)
			t->seen[i].count = 0;
	}
}

void
handle_seen_note(struct trustfs *t, const char *hp, uint64_t last_seen)
{
	struct seen_pending *s = seen_slot(t, hp);
	struct seen_args a = { hp, 1 };
	time_t now = time(NULL);

	if (s != NULL && (uint64_t)now < last_seen + TRUSTFS_SEEN_INTERVAL) {
		s->count++;
		return;
	}
	if (s != NULL)
		a.add += s->count;
	/* A failed sighting update costs history, not safety. */
	if (store_write(t->st, seen_write, &a, NULL) == 0 && s != NULL)
		s->count = 0;
}
