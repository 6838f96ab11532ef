/*
 * The fleet's two threads (sync.h): follow etcd, push the outbox.  Locks:
 * fleet.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "apply.h"
#include "etcd.h"
#include "fleet.h"
#include "sync.h"

#define PAGE 5000		/* keys per range request when joining */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define PUSH_POLL_MS 10		/* how often the pusher looks for changes */

/* TRUSTFS_SYNC_DEBUG=1: every step on stderr (trustfs -f), with the
 * time in milliseconds. */
static int debug_on = -1;

static void __attribute__((format(printf, 1, 2)))
dbg(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (debug_on < 0)
		debug_on = getenv("TRUSTFS_SYNC_DEBUG") != NULL;
	if (!debug_on)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "sync %lld.%03ld: ", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
note(struct sync *s, const char *url, const char *err)
{
	if (err != NULL)
		dbg("error: %s", err);
	pthread_mutex_lock(&s->mu);
	if (url != NULL)
		snprintf(s->url, sizeof(s->url), "%s", url);
	if (err != NULL)
		snprintf(s->error, sizeof(s->error), "%s", err);
	pthread_mutex_unlock(&s->mu);
}

/* Sleeps ms unless stopped; 1 when stopped. */
static int
nap(struct sync *s, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	if (!s->stop)
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	pthread_mutex_unlock(&s->mu);
	return s->stop;
}

static void
count(struct sync *s, enum sync_outcome o)
{
	pthread_mutex_lock(&s->mu);
	if (o == SYNC_APPLIED)
		s->applied++;
	else if (o == SYNC_CONFLICT)
		s->conflicts++;
	else if (o == SYNC_REFUSED)
		s->refused++;
	pthread_mutex_unlock(&s->mu);
}

/* --- taking changes in ------------------------------------------------ */

struct batch {
	struct sync *s;
	struct etcd_kv *kvs;
	size_t n, cap;
	int64_t rev;		/* :revision after the batch (0: unchanged) */
	int force;
	enum sync_outcome *outs;
};

static int
batch_add(const struct etcd_kv *kv, void *arg)
{
	struct batch *b = arg;
	struct etcd_kv *c;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;

		c = realloc(b->kvs, cap * sizeof(*c));
		if (c == NULL)
			return -ENOMEM;
		b->kvs = c;
		b->cap = cap;
	}
	c = &b->kvs[b->n];
	*c = *kv;
	c->key = strdup(kv->key);
	c->val = NULL;
	if (kv->val != NULL && (c->val = malloc(kv->val_len + 1)) != NULL) {
		memcpy(c->val, kv->val, kv->val_len);
		c->val[kv->val_len] = '\0';
	}
	if (c->key == NULL || (kv->val != NULL && c->val == NULL)) {
		etcd_kv_free(c);
		return -ENOMEM;
	}
	b->n++;
	return 0;
}

static void
batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		etcd_kv_free(&b->kvs[i]);
	b->n = 0;
}

static int
batch_txn(struct store_txn *txn, void *arg)
{
	struct batch *b = arg;
	size_t plen = strlen(b->s->prefix), i;
	uint64_t have;
	int rc = 0;

	for (i = 0; i < b->n && rc == 0; i++) {
		const struct etcd_kv *kv = &b->kvs[i];

		b->outs[i] = SYNC_SEEN;
		if (strncmp(kv->key, b->s->prefix, plen) != 0)
			continue;
		rc = sync_apply(txn, b->s->node, kv->key + plen, kv, b->force,
		    &b->outs[i]);
		dbg("apply %s rev %lld: outcome %d rc %d", kv->key,
		    (long long)kv->mod_rev, (int)b->outs[i], rc);
	}
	if (rc == 0 && b->rev > 0)
		rc = store_cluster_rev_get(txn, REV_KEY, &have);
	if (rc == 0 && b->rev > 0 && (uint64_t)b->rev > have)
		rc = store_cluster_rev_put(txn, REV_KEY, (uint64_t)b->rev);
	return rc;
}

/* Applies the batch in one transaction and counts what it did. */
static int
batch_apply(struct batch *b, struct tf_error *e)
{
	size_t i;
	int rc;

	if (b->n == 0 && b->rev == 0)
		return 0;
	b->outs = calloc(b->n + 1, sizeof(*b->outs));
	if (b->outs == NULL)
		return tf_error_set(e, -ENOMEM, "applying");
	rc = store_write(b->s->st, batch_txn, b, e);
	for (i = 0; rc == 0 && i < b->n; i++)
		count(b->s, b->outs[i]);
	free(b->outs);
	b->outs = NULL;
	if (rc == 0 && b->rev > 0) {
		pthread_mutex_lock(&b->s->mu);
		if (b->rev > b->s->last_rev)
			b->s->last_rev = b->rev;
		pthread_mutex_unlock(&b->s->mu);
	}
	return rc;
}

static int
enqueue_txn(struct store_txn *txn, void *arg)
{
	(void)arg;
	return sync_enqueue_all(txn);
}

/*
 * Reads the whole prefix at one revision, a page at a time, and takes it
 * in.  A node that joins (join) first puts its own entries in the outbox:
 * those etcd lacks are pushed, those it holds otherwise lose to it.
 */
static int
full_sync(struct sync *s, struct etcd *et, int join, int64_t *rev,
    struct tf_error *e)
{
	struct batch b = { .s = s };
	char *end = etcd_prefix_end(s->prefix), *from = strdup(s->prefix);
	int64_t at = 0, r = 0;
	int more = 1, rc = 0;

	if (end == NULL || from == NULL) {
		rc = tf_error_set(e, -ENOMEM, "reading the prefix");
		goto out;
	}
	if (join)
		rc = store_write(s->st, enqueue_txn, NULL, e);
	while (rc == 0 && more && !s->stop) {
		rc = etcd_range(et, from, end, PAGE, at, batch_add, &b, &r,
		    &more, e);
		if (rc != 0)
			break;
		if (at == 0)
			at = r;
		if (b.n > 0) {
			/* The next page starts just after the last key (a key
			 * with a control byte after it is no trustfs key). */
			const char *last = b.kvs[b.n - 1].key;
			size_t n = strlen(last);

			free(from);
			from = malloc(n + 2);
			if (from == NULL) {
				rc = tf_error_set(e, -ENOMEM, "reading");
				break;
			}
			memcpy(from, last, n);
			from[n] = '\x01';
			from[n + 1] = '\0';
		}
		b.rev = more ? 0 : at;
		dbg("range: %zu keys read", b.n);
		rc = batch_apply(&b, e);
		dbg("range: %zu keys applied", b.n);
		batch_clear(&b);
	}
	*rev = at;
out:
	batch_clear(&b);
	free(b.kvs);
	free(end);
	free(from);
	return rc;
}

/* A watch message's events are taken in in one transaction. */
struct watch_arg {
	struct sync *s;
	struct tf_error *e;
	struct batch b;
};

static void
on_created(void *arg)
{
	struct sync *s = ((struct watch_arg *)arg)->s;

	pthread_mutex_lock(&s->mu);
	s->watching = 1;
	s->error[0] = '\0';
	pthread_mutex_unlock(&s->mu);
}

static int
on_event(const struct etcd_kv *kv, void *arg)
{
	struct watch_arg *w = arg;

	if (kv->mod_rev > w->b.rev)
		w->b.rev = kv->mod_rev;
	return batch_add(kv, &w->b);
}

static int
on_events_end(void *arg)
{
	struct watch_arg *w = arg;
	int rc;

	rc = batch_apply(&w->b, w->e);
	batch_clear(&w->b);
	w->b.rev = 0;
	if (rc != 0)
		note(w->s, NULL, w->e->msg);
	return rc;
}

void *
sync_watcher_main(void *arg)
{
	struct sync *s = arg;
	struct tf_error e = { 0 };
	struct etcd *et = NULL;
	struct store_txn *txn;
	uint64_t have = 0;
	int64_t rev = 0, compact;
	long backoff = BACKOFF_MIN_MS;
	int full = 0, join = 0, rc;

	if (store_txn_begin(s->st, 0, &txn, &e) == 0) {
		store_cluster_rev_get(txn, REV_KEY, &have);
		store_txn_abort(txn);
	}
	/* A node that never followed the prefix joins: it reads all of it.
	 * One that did resumes the watch where it stopped. */
	join = full = have == 0;
	rev = (int64_t)have;
	if (etcd_new(&s->eo, &et, &e) != 0) {
		note(s, NULL, e.msg);
		return NULL;
	}
	while (!s->stop) {
		struct watch_arg w = { s, &e, { .s = s } };

		tf_error_clear(&e);
		rc = 0;
		if (full) {
			rc = full_sync(s, et, join, &rev, &e);
			if (rc == 0)
				full = join = 0;
		}
		if (rc == 0) {
			pthread_mutex_lock(&s->mu);
			s->synced = 1;
			if (rev > s->last_rev)
				s->last_rev = rev;
			pthread_mutex_unlock(&s->mu);
			note(s, etcd_url(et), NULL);
			dbg("watch from %lld", (long long)rev + 1);
			rc = etcd_watch(et, s->prefix, rev + 1, on_event,
			    on_events_end, on_created, &w, &compact, &e);
			batch_clear(&w.b);
			free(w.b.kvs);
			dbg("watch ended: %d %s", rc, e.msg);
			pthread_mutex_lock(&s->mu);
			if (s->watching)
				backoff = BACKOFF_MIN_MS;
			s->watching = 0;
			rev = s->last_rev;
			pthread_mutex_unlock(&s->mu);
		}
		if (s->stop)
			break;
		/* A revision etcd compacted away: read the prefix again. */
		if (rc == -ESTALE)
			full = 1;
		note(s, NULL, e.msg[0] ? e.msg : "the watch ended");
		if (rc != -ESTALE && nap(s, backoff))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    backoff * 2;
	}
	etcd_free(et);
	return NULL;
}

/* --- pushing the outbox ------------------------------------------------ */

struct item {
	uint64_t seq;
	char *key;
};

struct items {
	struct item *v;
	size_t n, cap;
};

static int
items_add(uint64_t seq, const char *key, void *arg)
{
	struct items *it = arg;
	struct item *v;

	if (it->n == it->cap) {
		size_t cap = it->cap ? 2 * it->cap : 32;

		v = realloc(it->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		it->v = v;
		it->cap = cap;
	}
	it->v[it->n].seq = seq;
	it->v[it->n].key = strdup(key);
	if (it->v[it->n].key == NULL)
		return -ENOMEM;
	it->n++;
	return 0;
}

static void
items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->v[i].key);
	free(it->v);
	memset(it, 0, sizeof(*it));
}

struct pushed {
	const struct items *it;
	const char *key;
	uint64_t rev;
};

/* A push reached etcd: the key's revision, and its outbox entries of the
 * batch are done (a newer change of the key stays and is pushed next). */
static int
pushed_txn(struct store_txn *txn, void *arg)
{
	struct pushed *p = arg;
	uint64_t have;
	size_t i;
	int rc;

	rc = store_cluster_rev_get(txn, p->key, &have);
	if (rc == 0 && p->rev != have)
		rc = store_cluster_rev_put(txn, p->key, p->rev);
	for (i = 0; rc == 0 && i < p->it->n; i++)
		if (strcmp(p->it->v[i].key, p->key) == 0)
			rc = store_outbox_del(txn, p->it->v[i].seq);
	return rc;
}

static int
read_local(struct sync *s, const char *key, struct buf *val, uint64_t *rev,
    struct tf_error *e)
{
	struct store_txn *txn;
	int rc;

	rc = store_txn_begin(s->st, 0, &txn, e);
	if (rc != 0)
		return rc;
	rc = store_cluster_rev_get(txn, key, rev);
	if (rc == 0)
		rc = sync_value_local(txn, key, s->node, val, e);
	store_txn_abort(txn);
	return rc;
}

/* Pushes one key's local state.  0, 1 to push it again (it lost a
 * comparison and was settled), or a negative errno. */
static int
push_key(struct sync *s, struct etcd *et, const struct items *it,
    const char *key, struct buf *val, struct tf_error *e)
{
	struct etcd_kv cur;
	struct batch b = { .s = s, .force = 1 };
	char *full;
	uint64_t rev;
	int64_t newrev;
	int rc;

	rc = read_local(s, key, val, &rev, e);
	if (rc != 0)
		return rc;
	full = malloc(strlen(s->prefix) + strlen(key) + 1);
	if (full == NULL)
		return tf_error_set(e, -ENOMEM, "pushing");
	strcpy(full, s->prefix);
	strcat(full, key);
	dbg("push %s at rev %llu", key, (unsigned long long)rev);
	rc = etcd_put_if(et, full, val->data, val->len, (int64_t)rev, &newrev,
	    &cur, e);
	dbg("pushed %s: %d, rev %lld", key, rc, (long long)newrev);
	if (rc == 1) {
		struct pushed p = { it, key, (uint64_t)newrev };

		rc = store_write(s->st, pushed_txn, &p, e);
	} else if (rc == 0 && cur.key == NULL) {
		/* etcd lost the key (a new cluster, a delete by hand): push
		 * as a new key. */
		struct pushed p = { &(struct items){ 0 }, key, 0 };

		rc = store_write(s->st, pushed_txn, &p, e);
		rc = rc == 0 ? 1 : rc;
	} else if (rc == 0) {
		/* Somebody committed first: theirs wins (apply.c). */
		rc = batch_add(&cur, &b);
		if (rc == 0)
			rc = batch_apply(&b, e);
		batch_clear(&b);
		free(b.kvs);
		rc = rc == 0 ? 1 : rc;
	}
	etcd_kv_free(&cur);
	free(full);
	return rc;
}

/* Pushes what the outbox holds; *seen: the generation it was read at. */
static int
push_all(struct sync *s, struct etcd *et, uint64_t *seen, struct tf_error *e)
{
	struct items it = { 0 };
	struct store_txn *txn;
	struct buf val = { 0 };
	size_t i, j;
	int rc, again = 0;

	rc = store_txn_begin(s->st, 0, &txn, e);
	if (rc != 0)
		return rc;
	*seen = store_txn_generation(txn);
	rc = store_outbox_foreach(txn, items_add, &it);
	store_txn_abort(txn);
	for (i = 0; rc >= 0 && i < it.n && !s->stop; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(it.v[j].key, it.v[i].key) == 0)
				break;
		if (j < i)
			continue;	/* pushed with its first entry */
		rc = push_key(s, et, &it, it.v[i].key, &val, e);
		if (rc == 1)
			again = 1;
	}
	items_free(&it);
	buf_free(&val);
	return rc < 0 ? rc : again;
}

void *
sync_pusher_main(void *arg)
{
	struct sync *s = arg;
	struct tf_error e = { 0 };
	struct etcd *et = NULL;
	uint64_t gen, seen = 0, done_gen = 0;
	long backoff = BACKOFF_MIN_MS;
	int rc, synced;

	if (etcd_new(&s->eo, &et, &e) != 0) {
		note(s, NULL, e.msg);
		return NULL;
	}
	while (!s->stop) {
		pthread_mutex_lock(&s->mu);
		synced = s->synced;
		pthread_mutex_unlock(&s->mu);
		gen = store_generation(s->st);
		if (!synced || gen == done_gen) {
			if (nap(s, PUSH_POLL_MS))
				break;
			continue;
		}
		tf_error_clear(&e);
		dbg("generation %llu: pushing", (unsigned long long)gen);
		rc = push_all(s, et, &seen, &e);
		pthread_mutex_lock(&s->mu);
		s->push_ok = rc >= 0;
		pthread_mutex_unlock(&s->mu);
		if (rc == 0)
			done_gen = seen;
		if (rc >= 0) {
			backoff = BACKOFF_MIN_MS;
			continue;
		}
		if (s->stop)
			break;
		note(s, NULL, e.msg);
		if (nap(s, backoff))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    backoff * 2;
	}
	etcd_free(et);
	return NULL;
}
