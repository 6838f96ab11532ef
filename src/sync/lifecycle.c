/*
 * The fleet's life cycle (sync.h): the daemon's options, starting and
 * stopping the threads (sync.c), and what status and metrics say.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fleet.h"
#include "sync.h"

static int
node_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/* Splits the comma-separated URLs into eo (malloc'd). */
static int
split_urls(const char *urls, struct etcd_opts *eo, struct tf_error *e)
{
	char *copy = strdup(urls), *p, *save = NULL;
	int rc = 0;

	if (copy == NULL)
		return tf_error_set(e, -ENOMEM, "--cluster");
	for (p = strtok_r(copy, ",", &save); p != NULL && rc == 0;
	    p = strtok_r(NULL, ",", &save)) {
		char **u;
		size_t n = strlen(p);

		if (strncmp(p, "http://", 7) != 0 &&
		    strncmp(p, "https://", 8) != 0) {
			rc = tf_error_setx(e, -EINVAL, "--cluster: '%s' is not "
			    "an http:// or https:// URL", p);
			break;
		}
		while (n > 0 && p[n - 1] == '/')
			p[--n] = '\0';
		u = realloc(eo->urls, (eo->nurls + 1) * sizeof(*u));
		if (u == NULL || (u[eo->nurls] = strdup(p)) == NULL) {
			if (u != NULL)
				eo->urls = u;
			rc = tf_error_set(e, -ENOMEM, "--cluster");
			break;
		}
		eo->urls = u;
		eo->nurls++;
	}
	if (rc == 0 && eo->nurls == 0)
		rc = tf_error_setx(e, -EINVAL, "--cluster: no URL");
	free(copy);
	return rc;
}

static void
urls_free(struct etcd_opts *eo)
{
	size_t i;

	for (i = 0; i < eo->nurls; i++)
		free(eo->urls[i]);
	free(eo->urls);
	eo->urls = NULL;
	eo->nurls = 0;
}

/* The password: the file's first line. */
static int
read_password(const char *file, char **out, struct tf_error *e)
{
	char line[1024];
	FILE *f = fopen(file, "re");
	size_t n;

	*out = NULL;
	if (f == NULL)
		return tf_error_set(e, -errno, "--cluster-password-file %s",
		    file);
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0)
		return tf_error_setx(e, -EINVAL, "--cluster-password-file %s: "
		    "empty", file);
	*out = strdup(line);
	memset(line, 0, sizeof(line));
	return *out != NULL ? 0 : tf_error_set(e, -ENOMEM, "password");
}

int
sync_check_opts(const struct sync_opts *o, struct tf_error *e)
{
	struct etcd_opts eo = { 0 };
	const char *files[3] = { o->cacert, o->cert, o->key };
	char *pw = NULL;
	int rc, i;

	if (!node_ok(o->node))
		return tf_error_setx(e, -EINVAL, "--node-name: give this "
		    "node a name of 1 to 64 letters, digits, '.', '_' or '-'");
	if (o->prefix != NULL && (o->prefix[0] == '\0' ||
	    strlen(o->prefix) > 128 || strchr(o->prefix, '\n') != NULL))
		return tf_error_setx(e, -EINVAL, "--cluster-prefix: 1 to 128 "
		    "bytes, one line");
	if ((o->cert == NULL) != (o->key == NULL))
		return tf_error_setx(e, -EINVAL, "--cluster-cert and "
		    "--cluster-key go together");
	if ((o->user == NULL) != (o->password_file == NULL))
		return tf_error_setx(e, -EINVAL, "--cluster-user and "
		    "--cluster-password-file go together");
	for (i = 0; i < 3; i++)
		if (files[i] != NULL && access(files[i], R_OK) != 0)
			return tf_error_set(e, -errno, "%s", files[i]);
	rc = split_urls(o->urls, &eo, e);
	urls_free(&eo);
	if (rc == 0 && o->password_file != NULL)
		rc = read_password(o->password_file, &pw, e);
	free(pw);
	return rc;
}

static int
set_txn(struct store_txn *txn, void *arg)
{
	return store_cluster_set(txn, arg);
}

/* Leaving cluster mode: no outbox from now on, and the next --cluster
 * mount joins again (its entries merged under the conflict rules), since
 * changes made meanwhile are in no outbox. */
static int
leave_txn(struct store_txn *txn, void *arg)
{
	int rc;

	(void)arg;
	rc = store_cluster_set(txn, NULL);
	if (rc == 0)
		rc = store_cluster_rev_put(txn, REV_KEY, 0);
	return rc;
}

int
sync_leave(struct store *st, struct tf_error *e)
{
	struct store_txn *txn;
	char *v = NULL;
	size_t len;
	int rc;

	rc = store_txn_begin(st, 0, &txn, e);
	if (rc != 0)
		return rc;
	rc = store_meta_get(txn, "cluster:node", &v, &len);
	store_txn_abort(txn);
	free(v);
	if (rc == -ENOENT)
		return 0;
	return store_write(st, leave_txn, NULL, e);
}

static void
opts_free(struct sync *s)
{
	urls_free(&s->eo);
	free((char *)s->eo.cacert);
	free((char *)s->eo.cert);
	free((char *)s->eo.key);
	free((char *)s->eo.user);
	if (s->eo.password != NULL)
		memset((char *)s->eo.password, 0, strlen(s->eo.password));
	free((char *)s->eo.password);
}

static char *
dup_opt(const char *s, int *fail)
{
	char *d = s != NULL ? strdup(s) : NULL;

	if (s != NULL && d == NULL)
		*fail = 1;
	return d;
}

int
sync_start(struct store *st, const struct sync_opts *o, struct sync **out,
    struct tf_error *e)
{
	struct sync *s;
	char *pw = NULL;
	int rc, fail = 0;

	*out = NULL;
	rc = sync_check_opts(o, e);
	if (rc != 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return tf_error_set(e, -ENOMEM, "starting the fleet");
	s->st = st;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->node = dup_opt(o->node, &fail);
	s->prefix = dup_opt(o->prefix ? o->prefix : SYNC_PREFIX_DEFAULT, &fail);
	s->eo.cacert = dup_opt(o->cacert, &fail);
	s->eo.cert = dup_opt(o->cert, &fail);
	s->eo.key = dup_opt(o->key, &fail);
	s->eo.user = dup_opt(o->user, &fail);
	s->eo.stop = &s->stop;
	snprintf(s->error, sizeof(s->error), "not connected yet");
	s->push_ok = 1;		/* until a push fails */
	rc = fail ? tf_error_set(e, -ENOMEM, "starting the fleet") : 0;
	if (rc == 0)
		rc = split_urls(o->urls, &s->eo, e);
	if (rc == 0 && o->password_file != NULL) {
		rc = read_password(o->password_file, &pw, e);
		s->eo.password = pw;
	}
	if (rc == 0)
		rc = store_write(st, set_txn, s->node, e);
	if (rc == 0 && pthread_create(&s->watcher, NULL, sync_watcher_main, s) != 0)
		rc = tf_error_set(e, -EAGAIN, "starting the fleet's thread");
	s->started_w = rc == 0;
	if (rc == 0 && pthread_create(&s->pusher, NULL, sync_pusher_main, s) != 0)
		rc = tf_error_set(e, -EAGAIN, "starting the fleet's thread");
	s->started_p = rc == 0;
	if (rc != 0) {
		sync_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
sync_stop(struct sync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->started_w)
		pthread_join(s->watcher, NULL);
	if (s->started_p)
		pthread_join(s->pusher, NULL);
	opts_free(s);
	free(s->node);
	free(s->prefix);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int
sync_report(struct sync *s, struct store *st, int metrics, struct buf *out)
{
	struct store_txn *txn;
	size_t waiting = 0;
	int rc, connected;

	if (store_txn_begin(st, 0, &txn, NULL) == 0) {
		store_outbox_count(txn, &waiting);
		store_txn_abort(txn);
	}
	pthread_mutex_lock(&s->mu);
	connected = s->watching && s->push_ok;
	if (metrics)
		rc = buf_printf(out, "# HELP trustfs_cluster_connected 1 when "
		    "the node follows etcd and its pushes reach it.\n"
		    "# TYPE trustfs_cluster_connected gauge\n"
		    "trustfs_cluster_connected %d\n"
		    "# HELP trustfs_cluster_changes_waiting Local changes not "
		    "yet in etcd.\n"
		    "# TYPE trustfs_cluster_changes_waiting gauge\n"
		    "trustfs_cluster_changes_waiting %zu\n"
		    "# HELP trustfs_cluster_revision The last etcd revision "
		    "applied.\n# TYPE trustfs_cluster_revision gauge\n"
		    "trustfs_cluster_revision %lld\n"
		    "# HELP trustfs_cluster_applied_total Changes taken in from "
		    "other nodes since the mount.\n"
		    "# TYPE trustfs_cluster_applied_total counter\n"
		    "trustfs_cluster_applied_total %lld\n"
		    "# HELP trustfs_cluster_refused_total Values from etcd "
		    "refused since the mount.\n"
		    "# TYPE trustfs_cluster_refused_total counter\n"
		    "trustfs_cluster_refused_total %lld\n"
		    "# HELP trustfs_cluster_conflicts_total Local changes that "
		    "lost to one committed first, since the mount.\n"
		    "# TYPE trustfs_cluster_conflicts_total counter\n"
		    "trustfs_cluster_conflicts_total %lld\n", connected,
		    waiting, s->last_rev, s->applied, s->refused,
		    s->conflicts);
	else
		rc = buf_printf(out, "\nCluster: %s (node %s, prefix %s)\n"
		    "Cluster Member: %s\n"
		    "Cluster Changes Waiting: %zu\n"
		    "Cluster Last Revision: %lld\n"
		    "Cluster Applied: %lld, refused %lld, conflicts %lld\n"
		    "%s%s%s",
		    connected ? "connected" : "disconnected", s->node,
		    s->prefix, s->url[0] ? s->url : "-", waiting, s->last_rev,
		    s->applied, s->refused, s->conflicts,
		    connected || !s->error[0] ? "" : "Cluster Error: ",
		    connected ? "" : s->error,
		    connected || !s->error[0] ? "" : "\n");
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
sync_opt_url(struct sync_opts *o, const char *arg)
{
	char *u;

	if (o->urls == NULL || (strncmp(arg, "http://", 7) != 0 &&
	    strncmp(arg, "https://", 8) != 0))
		return 1;
	u = malloc(strlen(o->urls) + strlen(arg) + 2);
	if (u == NULL)
		return -1;
	sprintf(u, "%s,%s", o->urls, arg);
	free((char *)o->urls);
	o->urls = u;
	return 0;
}

int
sync_opt_cluster(struct sync_opts *o, const char *arg)
{
	const char *v = arg + strlen("--cluster");

	/* "--cluster-key" and "--cluster=URLS" are other templates'. */
	if (strncmp(arg, "--cluster", strlen("--cluster")) != 0 ||
	    *v == '-' || *v == '=' || *v == '\0')
		return 0;
	free((char *)o->urls);
	o->urls = strdup(v);
	return o->urls != NULL ? 0 : -1;
}

int
sync_opts_check(const struct sync_opts *o, int ro, struct tf_error *e)
{
	if (o->urls == NULL) {
		if (o->node != NULL || o->prefix != NULL || o->cacert != NULL ||
		    o->cert != NULL || o->key != NULL || o->user != NULL ||
		    o->password_file != NULL)
			return tf_error_setx(e, -EINVAL, "--node-name and the "
			    "other --cluster-* options need --cluster URLS");
		return 0;
	}
	if (ro)
		return tf_error_setx(e, -EINVAL, "--cluster and -o ro do not "
		    "go together: a node takes in the fleet's changes");
	if (o->node == NULL)
		return tf_error_setx(e, -EINVAL, "--cluster needs --node-name "
		    "NAME (-o node=NAME), unique in the fleet");
	return sync_check_opts(o, e);
}

int
sync_mount(struct store *st, const struct sync_opts *o, struct sync **out,
    struct tf_error *e)
{
	*out = NULL;
	if (o->urls == NULL)
		return sync_leave(st, e);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return sync_start(st, o, out, e);
}

void
sync_opts_free(struct sync_opts *o)
{
	free((char *)o->urls);
	free((char *)o->node);
	free((char *)o->prefix);
	free((char *)o->cacert);
	free((char *)o->cert);
	free((char *)o->key);
	free((char *)o->user);
	free((char *)o->password_file);
	memset(o, 0, sizeof(*o));
}
