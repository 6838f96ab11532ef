/*
 * The etcd v3 JSON gateway (etcd.io/docs/v3.4/dev-guide/api_grpc_gateway):
 * every RPC is a POST of the request message as JSON to /v3/SERVICE/METHOD
 * and a reply of the response message; bytes fields are base64, int64
 * fields strings, fields at their default value left out.  /v3/watch
 * streams one JSON object per message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "buf.h"
#include "etcd.h"

/* A reply bigger than this is refused (a page of keys is far smaller). */
#define REPLY_MAX (256u << 20)
#define CONNECT_TIMEOUT_MS 2000L
#define CALL_TIMEOUT_MS 30000L

#define CREATED_TIMEOUT_S 3

struct reply;

struct etcd {
	char **urls;
	size_t nurls, cur;
	char *cacert, *cert, *key, *user, *password;
	char *token;		/* after /v3/auth/authenticate */
	const volatile int *stop;
	CURL *curl;
	/* the stream in progress: a member that takes the watch but never
	 * confirms it (a gateway that lost its own server) is left */
	const struct reply *stream;
	struct timespec stream_start;
};

void
etcd_kv_free(struct etcd_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->key);
	free(kv->val);
	memset(kv, 0, sizeof(*kv));
}

static char *
dup_or_null(const char *s, int *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*fail = 1;
	return d;
}

int
etcd_new(const struct etcd_opts *o, struct etcd **out, struct tf_error *e)
{
	struct etcd *et;
	int fail = 0;
	size_t i;

	*out = NULL;
	if (o->nurls == 0)
		return tf_error_setx(e, -EINVAL, "no etcd URL");
	et = calloc(1, sizeof(*et));
	if (et == NULL || (et->urls = calloc(o->nurls, sizeof(char *))) ==
	    NULL) {
		free(et);
		return tf_error_set(e, -ENOMEM, "etcd client");
	}
	et->nurls = o->nurls;
	for (i = 0; i < o->nurls; i++)
		et->urls[i] = dup_or_null(o->urls[i], &fail);
	et->cacert = dup_or_null(o->cacert, &fail);
	et->cert = dup_or_null(o->cert, &fail);
	et->key = dup_or_null(o->key, &fail);
	et->user = dup_or_null(o->user, &fail);
	et->password = dup_or_null(o->password, &fail);
	et->stop = o->stop;
	et->curl = curl_easy_init();
	if (fail || et->curl == NULL) {
		etcd_free(et);
		return tf_error_set(e, -ENOMEM, "etcd client");
	}
	*out = et;
	return 0;
}

void
etcd_free(struct etcd *et)
{
	size_t i;

	if (et == NULL)
		return;
	for (i = 0; i < et->nurls; i++)
		free(et->urls[i]);
	free(et->urls);
	free(et->cacert);
	free(et->cert);
	free(et->key);
	free(et->user);
	if (et->password != NULL)
		OPENSSL_cleanse(et->password, strlen(et->password));
	free(et->password);
	free(et->token);
	if (et->curl != NULL)
		curl_easy_cleanup(et->curl);
	free(et);
}

const char *
etcd_url(const struct etcd *et)
{
	return et->urls[et->cur];
}

char *
etcd_prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);

	if (end == NULL)
		return NULL;
	while (n > 0) {
		if ((unsigned char)end[n - 1] < 0xff) {
			end[n - 1]++;
			end[n] = '\0';
			return end;
		}
		n--;
	}
	/* Every byte 0xff: to the end of the key space ("\0"). */
	end[0] = '\0';
	return end;
}

/* base64 (RFC 4648), as protobuf's JSON mapping writes bytes. */
static char *
b64_enc(const void *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static int
b64_dec(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *d;
	int m;

	*out = NULL;
	if (n % 4 != 0 || n > REPLY_MAX)
		return -EPROTO;
	d = malloc(n / 4 * 3 + 1);
	if (d == NULL)
		return -ENOMEM;
	m = n ? EVP_DecodeBlock(d, (const unsigned char *)s, (int)n) : 0;
	if (m < 0) {
		free(d);
		return -EPROTO;
	}
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	*outlen = (size_t)m - pad;
	d[*outlen] = '\0';
	*out = d;
	return 0;
}

static int
add_b64(json_object *o, const char *name, const void *p, size_t n)
{
	char *s = b64_enc(p, n);

	if (s == NULL)
		return -ENOMEM;
	json_object_object_add(o, name, json_object_new_string(s));
	free(s);
	return 0;
}

static int64_t
get_i64(json_object *o, const char *name)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v))
		return 0;
	return json_object_get_int64(v);
}

/* Fills kv from a mvccpb.KeyValue; -EPROTO if it is not one. */
static int
kv_from_json(json_object *j, struct etcd_kv *kv)
{
	json_object *k, *v;
	unsigned char *key;
	size_t klen;
	int rc;

	memset(kv, 0, sizeof(*kv));
	if (!json_object_is_type(j, json_type_object) ||
	    !json_object_object_get_ex(j, "key", &k) ||
	    !json_object_is_type(k, json_type_string))
		return -EPROTO;
	rc = b64_dec(json_object_get_string(k), &key, &klen);
	if (rc != 0)
		return rc;
	/* A NUL in a key (no trustfs key has one) becomes \x01, so that
	 * the key is refused by name instead of cutting it short. */
	for (size_t i = 0; i < klen; i++)
		if (key[i] == '\0')
			key[i] = 1;
	kv->key = (char *)key;
	if (json_object_object_get_ex(j, "value", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			etcd_kv_free(kv);
			return -EPROTO;
		}
		rc = b64_dec(json_object_get_string(v), &kv->val, &kv->val_len);
		if (rc != 0) {
			etcd_kv_free(kv);
			return rc;
		}
	}
	kv->mod_rev = get_i64(j, "mod_revision");
	kv->create_rev = get_i64(j, "create_revision");
	return 0;
}

struct reply {
	struct buf body;
	/* streaming (watch): objects are handed to on_obj as they end */
	json_tokener *tok;
	int (*on_obj)(json_object *o, void *arg);
	void *arg;
	int ret;		/* on_obj's non-zero return */
	int got;		/* objects handed to on_obj */
	int too_big;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, off = 0;

	if (r->tok == NULL) {
		if (r->body.len + len > REPLY_MAX) {
			r->too_big = 1;
			return 0;
		}
		return buf_append(&r->body, p, len) == 0 ? len : 0;
	}
	while (off < len) {
		json_object *o = json_tokener_parse_ex(r->tok, p + off,
		    (int)(len - off));
		enum json_tokener_error je = json_tokener_get_error(r->tok);
		size_t used = json_tokener_get_parse_end(r->tok);

		if (o == NULL && je == json_tokener_continue)
			return len;
		if (o == NULL) {
			r->ret = -EPROTO;
			return 0;
		}
		off += used ? used : len - off;
		json_tokener_reset(r->tok);
		r->got++;
		r->ret = r->on_obj(o, r->arg);
		json_object_put(o);
		if (r->ret != 0)
			return 0;
	}
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct etcd *et = arg;
	struct timespec now;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (et->stop != NULL && *et->stop)
		return 1;
	if (et->stream != NULL && et->stream->got == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - et->stream_start.tv_sec > CREATED_TIMEOUT_S)
			return 1;
	}
	return 0;
}

/* One POST to the current member.  0 with the HTTP status, or -errno. */
static int
post_once(struct etcd *et, const char *path, const char *body,
    struct reply *r, int stream, long *status, struct tf_error *e)
{
	struct curl_slist *h = NULL, *h2;
	char url[2048], auth[1024];
	CURL *c = et->curl;
	CURLcode cc;
	int rc = 0;

	snprintf(url, sizeof(url), "%s%s", et->urls[et->cur], path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	if (!stream)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, CALL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, et);
	if (et->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, et->cacert);
	if (et->cert != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, et->cert);
	if (et->key != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEY, et->key);
	h2 = curl_slist_append(h, "Content-Type: application/json");
	if (h2 != NULL)
		h = h2;
	if (et->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: %s", et->token);
		h2 = curl_slist_append(h, auth);
		if (h2 != NULL)
			h = h2;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	et->stream = stream ? r : NULL;
	clock_gettime(CLOCK_MONOTONIC, &et->stream_start);
	cc = curl_easy_perform(c);
	et->stream = NULL;
	curl_slist_free_all(h);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (et->stop != NULL && *et->stop)
		rc = tf_error_setx(e, -ECANCELED, "stopped");
	else if (r->ret != 0)
		rc = r->ret;
	else if (r->too_big)
		rc = tf_error_setx(e, -EPROTO, "%s: reply too big", url);
	else if (cc != CURLE_OK)
		rc = tf_error_setx(e, -ECONNREFUSED, "%s: %s", url,
		    curl_easy_strerror(cc));
	return rc;
}

static int authenticate(struct etcd *et, struct tf_error *e);

/*
 * A call: each member in turn until one answers; the reply's JSON object
 * in *out (non-stream).  A 401 (expired token) authenticates again once.
 */
static int
call(struct etcd *et, const char *path, json_object *req, int stream,
    struct reply *r, json_object **out, struct tf_error *e)
{
	const char *body = json_object_to_json_string_ext(req,
	    JSON_C_TO_STRING_PLAIN);
	size_t tries;
	long status;
	int rc = -ECONNREFUSED, authed = 0;

	if (out != NULL)
		*out = NULL;
	if (et->user != NULL && et->token == NULL &&
	    strcmp(path, "/v3/auth/authenticate") != 0) {
		rc = authenticate(et, e);
		if (rc != 0)
			return rc;
	}
	for (tries = 0; tries < et->nurls + 1; tries++) {
		buf_reset(&r->body);
		r->ret = 0;
		r->too_big = 0;
		if (r->tok != NULL)
			json_tokener_reset(r->tok);
		rc = post_once(et, path, body, r, stream, &status, e);
		if (rc == -ECONNREFUSED) {
			et->cur = (et->cur + 1) % et->nurls;
			/* A watch that ran resumes from the caller's newest
			 * revision, not from where it started. */
			if (stream && r->got > 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return rc;
		if (status == 401 && et->user != NULL && !authed &&
		    strcmp(path, "/v3/auth/authenticate") != 0) {
			free(et->token);
			et->token = NULL;
			authed = 1;
			rc = authenticate(et, e);
			if (rc != 0)
				return rc;
			tries--;
			continue;
		}
		break;
	}
	if (rc != 0)
		return rc;
	if (stream)
		return status == 200 ? 0 : tf_error_setx(e, -EPROTO,
		    "%s%s: HTTP %ld", et->urls[et->cur], path, status);
	if (r->body.len == 0 || (*out = json_tokener_parse(r->body.data)) ==
	    NULL || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return tf_error_setx(e, -EPROTO, "%s%s: HTTP %ld, not a JSON "
		    "reply", et->urls[et->cur], path, status);
	}
	if (status != 200) {
		json_object *m = NULL;
		const char *msg = "?";

		if (json_object_object_get_ex(*out, "error", &m) ||
		    json_object_object_get_ex(*out, "message", &m))
			msg = json_object_get_string(m);
		rc = tf_error_setx(e, status == 401 || status == 403 ?
		    -EACCES : -EPROTO, "%s%s: HTTP %ld: %s", et->urls[et->cur],
		    path, status, msg);
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

static int
authenticate(struct etcd *et, struct tf_error *e)
{
	struct reply r = { 0 };
	json_object *req = json_object_new_object(), *res = NULL, *t;
	int rc;

	if (req == NULL)
		return tf_error_set(e, -ENOMEM, "etcd");
	json_object_object_add(req, "name", json_object_new_string(et->user));
	json_object_object_add(req, "password", json_object_new_string(
	    et->password != NULL ? et->password : ""));
	rc = call(et, "/v3/auth/authenticate", req, 0, &r, &res, e);
	if (rc == 0 && (!json_object_object_get_ex(res, "token", &t) ||
	    (et->token = strdup(json_object_get_string(t))) == NULL))
		rc = tf_error_setx(e, -EACCES, "etcd: user %s: no token",
		    et->user);
	if (rc == -EPROTO)
		rc = -EACCES;
	json_object_put(res);
	json_object_put(req);
	buf_free(&r.body);
	return rc;
}

static int
simple_call(struct etcd *et, const char *path, json_object *req,
    json_object **out, struct tf_error *e)
{
	struct reply r = { 0 };
	int rc;

	if (req == NULL)
		return tf_error_set(e, -ENOMEM, "etcd");
	rc = call(et, path, req, 0, &r, out, e);
	buf_free(&r.body);
	return rc;
}

static json_object *
put_req(const char *key, const void *val, size_t len)
{
	json_object *p = json_object_new_object();

	if (p == NULL || add_b64(p, "key", key, strlen(key)) != 0 ||
	    add_b64(p, "value", val, len) != 0) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

int
etcd_put(struct etcd *et, const char *key, const void *val, size_t len,
    struct tf_error *e)
{
	json_object *req = put_req(key, val, len), *res = NULL;
	int rc;

	rc = simple_call(et, "/v3/kv/put", req, &res, e);
	json_object_put(res);
	json_object_put(req);
	return rc;
}

int
etcd_put_if(struct etcd *et, const char *key, const void *val, size_t len,
    int64_t rev, int64_t *newrev, struct etcd_kv *cur, struct tf_error *e)
{
	json_object *req = json_object_new_object(), *cmp, *c, *op, *rg;
	json_object *res = NULL, *ok, *resps, *first, *rr, *kvs, *hdr;
	char nb[32];
	int rc = -ENOMEM;

	memset(cur, 0, sizeof(*cur));
	*newrev = 0;
	cmp = json_object_new_array();
	c = json_object_new_object();
	op = json_object_new_object();
	rg = json_object_new_object();
	if (req == NULL || cmp == NULL || c == NULL || op == NULL ||
	    rg == NULL || add_b64(c, "key", key, strlen(key)) != 0 ||
	    add_b64(rg, "key", key, strlen(key)) != 0) {
		json_object_put(cmp);
		json_object_put(c);
		json_object_put(op);
		json_object_put(rg);
		goto out;
	}
	snprintf(nb, sizeof(nb), "%lld", (long long)rev);
	json_object_object_add(c, "target", json_object_new_string("MOD"));
	json_object_object_add(c, "result", json_object_new_string("EQUAL"));
	json_object_object_add(c, "mod_revision", json_object_new_string(nb));
	json_object_array_add(cmp, c);
	json_object_object_add(req, "compare", cmp);
	json_object_object_add(op, "request_put", put_req(key, val, len));
	json_object_object_add(req, "success", json_object_new_array());
	json_object_array_add(json_object_object_get(req, "success"), op);
	op = json_object_new_object();
	if (op == NULL) {
		json_object_put(rg);
		goto out;
	}
	json_object_object_add(op, "request_range", rg);
	json_object_object_add(req, "failure", json_object_new_array());
	json_object_array_add(json_object_object_get(req, "failure"), op);

	rc = simple_call(et, "/v3/kv/txn", req, &res, e);
	if (rc != 0)
		goto out;
	json_object_object_get_ex(res, "header", &hdr);
	if (json_object_object_get_ex(res, "succeeded", &ok) &&
	    json_object_get_boolean(ok)) {
		*newrev = get_i64(hdr, "revision");
		rc = *newrev > 0 ? 1 : tf_error_setx(e, -EPROTO, "etcd txn: "
		    "no revision in the reply");
		goto out;
	}
	rc = 0;
	if (json_object_object_get_ex(res, "responses", &resps) &&
	    (first = json_object_array_get_idx(resps, 0)) != NULL &&
	    json_object_object_get_ex(first, "response_range", &rr) &&
	    json_object_object_get_ex(rr, "kvs", &kvs) &&
	    json_object_array_length(kvs) > 0)
		rc = kv_from_json(json_object_array_get_idx(kvs, 0), cur);
	if (rc != 0)
		rc = tf_error_setx(e, rc, "etcd txn: a reply that is not a key");
out:
	json_object_put(res);
	json_object_put(req);
	if (rc == -ENOMEM)
		tf_error_set(e, rc, "etcd txn");
	return rc;
}

int
etcd_range(struct etcd *et, const char *key, const char *range_end,
    int64_t limit, int64_t at_rev, etcd_kv_fn fn, void *arg, int64_t *rev,
    int *more, struct tf_error *e)
{
	json_object *req = json_object_new_object(), *res = NULL, *kvs, *m;
	json_object *hdr;
	char nb[32];
	size_t i, n;
	int rc;

	*more = 0;
	if (req == NULL || add_b64(req, "key", key, strlen(key)) != 0 ||
	    (range_end != NULL && add_b64(req, "range_end", range_end,
	    strlen(range_end)) != 0)) {
		json_object_put(req);
		return tf_error_set(e, -ENOMEM, "etcd range");
	}
	if (limit > 0) {
		snprintf(nb, sizeof(nb), "%lld", (long long)limit);
		json_object_object_add(req, "limit", json_object_new_string(nb));
	}
	if (at_rev > 0) {
		snprintf(nb, sizeof(nb), "%lld", (long long)at_rev);
		json_object_object_add(req, "revision",
		    json_object_new_string(nb));
	}
	rc = simple_call(et, "/v3/kv/range", req, &res, e);
	if (rc != 0)
		goto out;
	json_object_object_get_ex(res, "header", &hdr);
	*rev = get_i64(hdr, "revision");
	if (json_object_object_get_ex(res, "more", &m))
		*more = json_object_get_boolean(m);
	if (!json_object_object_get_ex(res, "kvs", &kvs))
		goto out;
	n = json_object_array_length(kvs);
	for (i = 0; i < n && rc == 0; i++) {
		struct etcd_kv kv;

		rc = kv_from_json(json_object_array_get_idx(kvs, i), &kv);
		if (rc != 0) {
			rc = tf_error_setx(e, rc, "etcd range: a reply that is "
			    "not a key");
			break;
		}
		rc = fn(&kv, arg);
		etcd_kv_free(&kv);
	}
out:
	json_object_put(res);
	json_object_put(req);
	return rc;
}

struct watch_ctx {
	etcd_kv_fn fn;
	int (*end)(void *arg);
	void (*created)(void *arg);
	void *arg;
	int64_t *compact_rev;
	struct tf_error *e;
};

static int
on_watch_obj(json_object *o, void *arg)
{
	struct watch_ctx *w = arg;
	json_object *res, *evs, *f;
	size_t i, n;
	int rc = 0;

	if (!json_object_object_get_ex(o, "result", &res)) {
		json_object *err;

		if (json_object_object_get_ex(o, "error", &err))
			return tf_error_setx(w->e, -EPROTO, "etcd watch: %s",
			    json_object_get_string(err));
		return 0;
	}
	if (get_i64(res, "compact_revision") > 0) {
		*w->compact_rev = get_i64(res, "compact_revision");
		return tf_error_setx(w->e, -ESTALE, "etcd watch: revision "
		    "compacted (oldest left %lld)", (long long)*w->compact_rev);
	}
	if (json_object_object_get_ex(res, "canceled", &f) &&
	    json_object_get_boolean(f))
		return tf_error_setx(w->e, -EPROTO, "etcd watch: canceled");
	if (json_object_object_get_ex(res, "created", &f) &&
	    json_object_get_boolean(f) && w->created != NULL)
		w->created(w->arg);
	if (!json_object_object_get_ex(res, "events", &evs))
		return 0;
	n = json_object_array_length(evs);
	for (i = 0; i < n && rc == 0; i++) {
		json_object *ev = json_object_array_get_idx(evs, i), *kvj, *t;
		struct etcd_kv kv;

		if (!json_object_object_get_ex(ev, "kv", &kvj))
			return tf_error_setx(w->e, -EPROTO, "etcd watch: an "
			    "event without a key");
		rc = kv_from_json(kvj, &kv);
		if (rc != 0)
			return tf_error_setx(w->e, rc, "etcd watch: an event "
			    "that is not a key");
		kv.deleted = json_object_object_get_ex(ev, "type", &t) &&
		    strcmp(json_object_get_string(t), "DELETE") == 0;
		rc = w->fn(&kv, w->arg);
		etcd_kv_free(&kv);
	}
	if (rc == 0 && n > 0 && w->end != NULL)
		rc = w->end(w->arg);
	return rc;
}

int
etcd_watch(struct etcd *et, const char *prefix, int64_t start_rev,
    etcd_kv_fn fn, int (*end)(void *arg), void (*created)(void *arg),
    void *arg, int64_t *compact_rev, struct tf_error *e)
{
	struct watch_ctx w = { fn, end, created, arg, compact_rev, e };
	struct reply r = { 0 };
	json_object *req = json_object_new_object(), *cr;
	char *pend = etcd_prefix_end(prefix), nb[32];
	int rc = -ENOMEM;

	*compact_rev = 0;
	cr = json_object_new_object();
	r.tok = json_tokener_new();
	r.on_obj = on_watch_obj;
	r.arg = &w;
	if (req == NULL || cr == NULL || pend == NULL || r.tok == NULL ||
	    add_b64(cr, "key", prefix, strlen(prefix)) != 0 ||
	    add_b64(cr, "range_end", pend, strlen(pend)) != 0) {
		json_object_put(cr);
		tf_error_set(e, rc, "etcd watch");
		goto out;
	}
	snprintf(nb, sizeof(nb), "%lld", (long long)start_rev);
	json_object_object_add(cr, "start_revision", json_object_new_string(nb));
	json_object_object_add(req, "create_request", cr);
	rc = call(et, "/v3/watch", req, 1, &r, NULL, e);
	/* A stream that ends without an error broke all the same. */
	if (rc == 0 || (rc == -ECONNREFUSED && r.got == 0))
		rc = tf_error_setx(e, -ECONNRESET, "%s: the watch stream "
		    "ended%s", etcd_url(et), r.got ? "" : " before it started");
	/* The next watch tries the next member. */
	if (rc != -ESTALE && rc != -ECANCELED)
		et->cur = (et->cur + 1) % et->nurls;
out:
	if (r.tok != NULL)
		json_tokener_free(r.tok);
	buf_free(&r.body);
	json_object_put(req);
	free(pend);
	return rc;
}
