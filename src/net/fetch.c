/*
 * net_fetch(): one GET with libcurl, bounded in size and time, redirects
 * followed by hand so that each hop's scheme is checked and each HTTPS
 * hop is verified in the handshake, in place of libcurl's own check:
 * by the caller's verify (libtrustfs's chain mode), or against the
 * caller's X509_STORE by OpenSSL itself (X509_verify_cert with the hop's
 * host name set in the verify parameters) -- either way a refusal is
 * reported in OpenSSL's words.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fetch.h"

/* The state of one hop of a fetch. */
struct hop {
	const struct net_opts *o;
	struct buf *out;
	size_t start;			/* out->len before this hop */
	size_t max;
	char host[256];			/* of the URL, without brackets */
	long status;			/* HTTP status, 0 for file:// */
	char reason[128];		/* its reason phrase */
	int oversize, badtype, cancelled, body_checked;
	char ctype[128];
	char verify[512];		/* OpenSSL's words, when it refused */
	struct tf_error check;		/* the caller's check, when it refused */
	STACK_OF(X509) *peer;
};

static pthread_once_t net_once = PTHREAD_ONCE_INIT;
static CURLcode net_init_rc;

static void
net_init(void)
{
	net_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
net_is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0 ||
	    strncasecmp(s, "file://", 7) == 0;
}

char *
net_url_public(const char *url)
{
	CURLU *u = curl_url();
	char *out = NULL, *user = NULL, *pub;

	/* Only a URL with a user is rewritten: libcurl's form of any other
	 * (a "/" added after the host) would not be the URL as given. */
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
		pub = strdup(out);
	else
		pub = strdup(url);
	curl_free(out);
	curl_free(user);
	curl_url_cleanup(u);
	return pub;
}

static unsigned int
scheme_bit(const char *scheme)
{
	if (strcasecmp(scheme, "http") == 0)
		return NET_HTTP;
	if (strcasecmp(scheme, "https") == 0)
		return NET_HTTPS;
	if (strcasecmp(scheme, "file") == 0)
		return NET_FILE;
	return 0;
}

/* "text/html; charset=x" -> "text/html", lowercased. */
static void
media_type(const char *in, char *out, size_t outlen)
{
	size_t i = 0;

	if (outlen == 0)
		return;
	while (in != NULL && *in == ' ')
		in++;
	for (; in != NULL && in[i] && in[i] != ';' && in[i] != ' ' &&
	    i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static int
ctype_allowed(const struct net_opts *o, const char *t)
{
	size_t i;

	if (o->ctypes == NULL || t[0] == '\0')
		return 1;
	for (i = 0; o->ctypes[i] != NULL; i++)
		if (strcasecmp(o->ctypes[i], t) == 0)
			return 1;
	return 0;
}

static int
check_ctype(CURL *c, struct hop *h)
{
	char *ct = NULL;

	h->body_checked = 1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	media_type(ct, h->ctype, sizeof(h->ctype));
	if (h->status >= 200 && h->status < 300 &&
	    !ctype_allowed(h->o, h->ctype)) {
		h->badtype = 1;
		return -1;
	}
	return 0;
}

struct wctx {
	CURL *c;
	struct hop *h;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct wctx *w = arg;
	struct hop *h = w->h;

	n *= sz;
	if (!h->body_checked && check_ctype(w->c, h) != 0)
		return 0;
	/* An error page or a redirect's body is not kept, but bounded. */
	if (h->out->len - h->start + n > h->max) {
		h->oversize = 1;
		return 0;
	}
	if (h->status >= 300)
		return n;
	if (buf_append(h->out, p, n) != 0)
		return 0;
	return n;
}

/* The status line's reason phrase ("Not Found"), for the message. */
static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct hop *h = arg;
	size_t len = sz * n, i;
	const char *sp;

	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		sp = memchr(p, ' ', len);
		sp = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - p)) : NULL;
		h->reason[0] = '\0';
		if (sp != NULL) {
			sp++;
			for (i = 0; sp + i < p + len && sp[i] != '\r' &&
			    sp[i] != '\n' && i + 1 < sizeof(h->reason); i++)
				h->reason[i] = isprint((unsigned char)sp[i]) ?
				    sp[i] : '?';
			h->reason[i] = '\0';
		}
	}
	return len;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut,
    curl_off_t un)
{
	struct hop *h = arg;

	if (h->o->progress == NULL || h->status >= 300)
		return 0;
	if (h->o->progress((size_t)dlnow, (size_t)dltotal,
	    h->o->progress_arg) != 0) {
		h->cancelled = 1;
		return 1;
	}
	return 0;
}

static int
host_is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/*
 * OpenSSL's verification of the server, in place of the handshake's own:
 * a context of our own on the caller's store (libcurl's SSL_CTX store may
 * carry PARTIAL_CHAIN or the system's CA file), the host name in its
 * parameters, so that a refusal is in OpenSSL's words.  The chain is kept
 * for the caller.
 */
static int
verify_peer(struct hop *h, X509 *leaf, STACK_OF(X509) *sk)
{
	X509_STORE_CTX *vc = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	X509 *bad;
	char subj[256] = "";
	int ok = 0, err;

	if (vc == NULL || X509_STORE_CTX_init(vc, h->o->trust, leaf, sk) != 1
	    || X509_STORE_CTX_set_default(vc, "ssl_server") != 1) {
		snprintf(h->verify, sizeof(h->verify), "out of memory");
		goto out;
	}
	vp = X509_STORE_CTX_get0_param(vc);
	if ((host_is_ip(h->host) ? X509_VERIFY_PARAM_set1_ip_asc(vp, h->host)
	    : X509_VERIFY_PARAM_set1_host(vp, h->host, 0)) != 1) {
		snprintf(h->verify, sizeof(h->verify), "cannot check the "
		    "name %s", h->host);
		goto out;
	}
	if (X509_verify_cert(vc) == 1) {
		ok = h->o->check == NULL || h->o->check(
		    X509_STORE_CTX_get0_chain(vc), h->host, h->o->check_arg,
		    &h->check) == 0;
		goto out;
	}
	err = X509_STORE_CTX_get_error(vc);
	bad = X509_STORE_CTX_get_current_cert(vc);
	if (bad != NULL)
		X509_NAME_oneline(X509_get_subject_name(bad), subj,
		    sizeof(subj));
	snprintf(h->verify, sizeof(h->verify), "%s (depth %d%s%s)",
	    X509_verify_cert_error_string(err),
	    X509_STORE_CTX_get_error_depth(vc), subj[0] ? ", " : "", subj);
out:
	X509_STORE_CTX_free(vc);
	return ok;
}

static int
on_verify(X509_STORE_CTX *xs, void *arg)
{
	struct hop *h = arg;
	STACK_OF(X509) *sk = X509_STORE_CTX_get0_untrusted(xs);

	if (h->o->peer_chain != NULL && sk != NULL) {
		sk_X509_pop_free(h->peer, X509_free);
		h->peer = X509_chain_up_ref(sk);
	}
	if (h->o->insecure_no_verify)
		return 1;
	if (h->o->verify != NULL) {
		if (sk != NULL && h->o->verify(sk, h->host, h->o->verify_arg,
		    &h->check) == 0)
			return 1;
		if (h->check.code == 0)
			tf_error_setx(&h->check, -EACCES, "no certificate");
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	if (h->o->trust == NULL || !verify_peer(h,
	    X509_STORE_CTX_get0_cert(xs), sk)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	return 1;
}

static CURLcode
on_ssl_ctx(CURL *c, void *sslctx, void *arg)
{
	SSL_CTX_set_cert_verify_callback(sslctx, on_verify, arg);
	return CURLE_OK;
}

/* The parts of url that the hop needs; 0 or -EINVAL. */
static int
parse_url(const char *url, char *scheme, size_t schemelen, char *host,
    size_t hostlen, struct tf_error *e)
{
	CURLU *u = curl_url();
	char *s = NULL, *hn = NULL;
	size_t len;
	int rc = 0;

	if (u == NULL)
		return tf_error_setx(e, -ENOMEM, "%s: out of memory", url);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK) {
		rc = tf_error_setx(e, -EINVAL, "%s: not a valid URL", url);
		goto out;
	}
	snprintf(scheme, schemelen, "%s", s);
	host[0] = '\0';
	if (curl_url_get(u, CURLUPART_HOST, &hn, 0) == CURLUE_OK) {
		len = strlen(hn);
		if (len >= 2 && hn[0] == '[' && hn[len - 1] == ']')
			snprintf(host, hostlen, "%.*s", (int)len - 2, hn + 1);
		else
			snprintf(host, hostlen, "%s", hn);
	}
	if (strcasecmp(scheme, "file") != 0 && host[0] == '\0')
		rc = tf_error_setx(e, -EINVAL, "%s: no host in the URL", url);
out:
	curl_free(s);
	curl_free(hn);
	curl_url_cleanup(u);
	return rc;
}

/* What went wrong with a finished hop, as fetch.h lists it. */
static int
hop_error(const char *url, CURL *c, CURLcode cc, const char *errbuf,
    struct hop *h, long timeout, struct tf_error *e)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	curl_off_t total = 0;

	if (h->check.code != 0)
		return tf_error_setx(e, -EACCES, "%s: the server is not "
		    "trusted: %s", url, h->check.msg);
	if (h->verify[0])
		return tf_error_setx(e, -EACCES, "%s: the server's "
		    "certificate does not verify: %s", url, h->verify);
	if (h->oversize)
		return tf_error_setx(e, -EFBIG, "%s: larger than %zu bytes, "
		    "the limit", url, h->max);
	if (h->badtype)
		return tf_error_setx(e, -EPROTO, "%s: served as %s, which is "
		    "not a certificate bundle", url, h->ctype);
	if (h->cancelled)
		return tf_error_setx(e, -ECANCELED, "%s: cancelled", url);
	switch (cc) {
	case CURLE_FILESIZE_EXCEEDED:
		return tf_error_setx(e, -EFBIG, "%s: larger than %zu bytes, "
		    "the limit", url, h->max);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return tf_error_setx(e, -EHOSTUNREACH, "%s: cannot resolve "
		    "the host: %s", url, why);
	case CURLE_COULDNT_CONNECT:
		return tf_error_setx(e, -EHOSTUNREACH, "%s: cannot connect: "
		    "%s", url, why);
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total);
		if (total / 1000000 + 1 < timeout)
			return tf_error_setx(e, -ETIMEDOUT, "%s: the transfer "
			    "stalled (%s)", url, why);
		return tf_error_setx(e, -ETIMEDOUT, "%s: no complete answer "
		    "within %ld seconds", url, timeout);
	case CURLE_FILE_COULDNT_READ_FILE:
		return tf_error_setx(e, -ENOENT, "%s: %s", url, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return tf_error_setx(e, -EACCES, "%s: the server is not "
		    "trusted: %s", url, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return tf_error_setx(e, -EINVAL, "%s: %s", url, why);
	default:
		return tf_error_setx(e, -EIO, "%s: %s", url, why);
	}
}

/*
 * One GET of url.  0 and *next (malloc'd) for a redirect, 0 and *next
 * NULL when the body is in h->out, or a negative errno.
 */
static int
fetch_hop(const char *url, unsigned int schemes, struct hop *h,
    char **next, struct tf_error *e)
{
	const struct net_opts *o = h->o;
	char scheme[16], errbuf[CURL_ERROR_SIZE] = "", *loc = NULL;
	struct wctx w;
	long timeout = o->timeout > 0 ? o->timeout : NET_TIMEOUT;
	long stall = o->stall_seconds > 0 ? o->stall_seconds : NET_STALL;
	unsigned int bit;
	CURLcode cc;
	CURL *c;
	int rc;

	*next = NULL;
	if ((rc = parse_url(url, scheme, sizeof(scheme), h->host,
	    sizeof(h->host), e)) != 0)
		return rc;
	bit = scheme_bit(scheme);
	if (bit == 0 || (schemes & bit) == 0)
		return tf_error_setx(e, -EINVAL, "%s: the scheme %s is not "
		    "allowed here", url, scheme);
	if (bit == NET_HTTPS && o->trust == NULL && o->verify == NULL &&
	    !o->insecure_no_verify)
		return tf_error_setx(e, -EACCES, "%s: no roots to verify the "
		    "server against", url);
	if ((c = curl_easy_init()) == NULL)
		return tf_error_setx(e, -ENOMEM, "%s: cannot start libcurl",
		    url);
	w.c = c;
	w.h = h;
	h->start = h->out->len;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, scheme);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "trustfs");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 30 ? timeout :
	    30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	if (bit == NET_HTTPS) {
		/* No CA file of the system: the caller's store decides. */
		curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER,
		    o->insecure_no_verify ? 0L : 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST,
		    o->insecure_no_verify ? 0L : 2L);
		/* A resumed session skips the certificate check. */
		curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
		curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h);
	}
	cc = curl_easy_perform(c);
	if (!h->body_checked && cc == CURLE_OK && check_ctype(c, h) != 0)
		cc = CURLE_WRITE_ERROR;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	if (cc != CURLE_OK) {
		rc = hop_error(url, c, cc, errbuf, h, timeout, e);
		goto out;
	}
	if (bit == NET_FILE || (h->status >= 200 && h->status < 300))
		goto out;
	if (h->status >= 300 && h->status < 400) {
		curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
		if (loc == NULL)
			rc = tf_error_setx(e, -EIO, "%s: HTTP %ld %s without a "
			    "Location", url, h->status, h->reason);
		else if ((*next = strdup(loc)) == NULL)
			rc = tf_error_setx(e, -ENOMEM, "%s: out of memory",
			    url);
		goto out;
	}
	rc = tf_error_setx(e, h->status == 404 || h->status == 410 ?
	    -ENOENT : -EIO, "%s: HTTP %ld%s%s", url, h->status,
	    h->reason[0] ? " " : "", h->reason);
out:
	curl_easy_cleanup(c);
	return rc;
}

int
net_fetch(const char *url, const struct net_opts *o, struct buf *out,
    char *ctype, size_t ctypelen, struct tf_error *e)
{
	static const struct net_opts none = { 0 };
	unsigned int schemes;
	char scheme[16], host[256], first[16], *cur = NULL, *next = NULL;
	struct hop h;
	int rc, hops;

	if (o == NULL)
		o = &none;
	schemes = o->schemes ? o->schemes : NET_HTTP | NET_HTTPS | NET_FILE;
	if (ctype != NULL && ctypelen > 0)
		ctype[0] = '\0';
	pthread_once(&net_once, net_init);
	if (net_init_rc != CURLE_OK)
		return tf_error_setx(e, -ENOMEM, "%s: libcurl: %s", url,
		    curl_easy_strerror(net_init_rc));
	if ((rc = parse_url(url, first, sizeof(first), host, sizeof(host),
	    e)) != 0)
		return rc;
	if ((cur = strdup(url)) == NULL)
		return tf_error_setx(e, -ENOMEM, "%s: out of memory", url);
	for (hops = 0;; hops++) {
		memset(&h, 0, sizeof(h));
		h.o = o;
		h.out = out;
		h.max = o->max_bytes ? o->max_bytes : NET_MAX_BYTES;
		rc = fetch_hop(cur, schemes, &h, &next, e);
		if (rc != 0 || next == NULL)
			break;
		if (hops + 1 > NET_MAX_REDIRS) {
			rc = tf_error_setx(e, -EIO, "%s: more than %d "
			    "redirects", url, NET_MAX_REDIRS);
			break;
		}
		/* A redirect keeps the scheme: https never becomes http,
		 * and http never reaches file. */
		if ((rc = parse_url(next, scheme, sizeof(scheme), host,
		    sizeof(host), e)) != 0)
			break;
		if (strcasecmp(scheme, first) != 0) {
			rc = tf_error_setx(e, -EINVAL, "%s: redirect to %s "
			    "refused: another scheme than %s", url, next,
			    first);
			break;
		}
		sk_X509_pop_free(h.peer, X509_free);
		free(cur);
		cur = next;
		next = NULL;
	}
	if (rc == 0 && o->peer_chain != NULL) {
		*o->peer_chain = h.peer;
		h.peer = NULL;
	}
	if (rc == 0 && ctype != NULL)
		snprintf(ctype, ctypelen, "%s", h.ctype);
	sk_X509_pop_free(h.peer, X509_free);
	free(next);
	free(cur);
	return rc;
}
