/*
 * EST /cacerts (RFC 7030 4.1): one GET, a base64 certs-only PKCS#7, and
 * the bootstrap of 4.1.1 when the server's root is not trusted yet.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "cert.h"
#include "est.h"

#define EST_PATH "/.well-known/est/cacerts"

static const char *const est_types[] = {
	"application/pkcs7-mime", NULL
};

/* The base must name a server before a path is added to it. */
static int
has_host(const char *base)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int ok;

	ok = u != NULL && curl_url_set(u, CURLUPART_URL, base, 0) ==
	    CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &host, 0) ==
	    CURLUE_OK && host[0] != '\0';
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* BASE/.well-known/est/cacerts, malloc'd. */
static char *
est_url(const char *base)
{
	size_t n = strlen(base);
	char *u;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n >= 8 && strncmp(base + n - 8, "/cacerts", 8) == 0)
		return strndup(base, n);
	if ((u = malloc(n + sizeof(EST_PATH))) == NULL)
		return NULL;
	memcpy(u, base, n);
	memcpy(u + n, EST_PATH, sizeof(EST_PATH));
	return u;
}

/*
 * The body: base64 (RFC 7030 4.1.3, whitespace allowed), or DER from a
 * server that sends binary.  0 with *certs, or -EINVAL.
 */
static int
decode(const char *url, struct buf *body, STACK_OF(X509) **certs,
    struct tf_error *e)
{
	unsigned char *der = NULL;
	char *b64 = NULL;
	size_t i, n = 0;
	int dlen, rc;
	struct tf_error pe = { 0 };

	if (body->len > 0 && (unsigned char)body->data[0] == 0x30) {
		rc = cert_parse(body->data, body->len, body->len, certs, &pe);
		goto out;
	}
	if ((b64 = malloc(body->len + 1)) == NULL ||
	    (der = malloc(body->len / 4 * 3 + 3)) == NULL) {
		rc = tf_error_setx(e, -ENOMEM, "%s: out of memory", url);
		goto out_nomsg;
	}
	for (i = 0; i < body->len; i++)
		if (!isspace((unsigned char)body->data[i]))
			b64[n++] = body->data[i];
	dlen = n > 0 && n % 4 == 0 ? EVP_DecodeBlock(der,
	    (unsigned char *)b64, (int)n) : -1;
	if (dlen <= 0) {
		rc = tf_error_setx(e, -EINVAL, "%s: the response is not "
		    "base64 (RFC 7030 4.1.3 application/pkcs7-mime)", url);
		goto out_nomsg;
	}
	/* EVP_DecodeBlock counts the padding's zero bytes. */
	if (b64[n - 1] == '=')
		dlen--;
	if (b64[n - 2] == '=')
		dlen--;
	rc = cert_parse(der, (size_t)dlen, (size_t)dlen, certs, &pe);
out:
	if (rc != 0)
		tf_error_setx(e, rc == -ENOMEM ? rc : -EINVAL, "%s: the "
		    "response is not a certs-only PKCS#7: %s", url, pe.msg);
out_nomsg:
	free(b64);
	free(der);
	return rc;
}

static int
get(const char *url, const struct net_opts *o, STACK_OF(X509) **certs,
    struct tf_error *e)
{
	struct net_opts eo = *o;
	struct buf body = { 0 };
	int rc;

	eo.ctypes = est_types;
	eo.schemes = o->schemes ? o->schemes : NET_HTTPS;
	rc = net_fetch(url, &eo, &body, NULL, 0, e);
	if (rc == 0)
		rc = decode(url, &body, certs, e);
	buf_free(&body);
	return rc;
}

/* RFC 7030 4.1.1: the root that arrives in the response is the anchor
 * only if it is the one the administrator named, and only what a server
 * verified against it says is kept. */
static int
bootstrap(const char *url, const struct net_opts *o,
    const unsigned char *sha, STACK_OF(X509) **certs, struct tf_error *e)
{
	struct net_opts bo = *o;
	STACK_OF(X509) *first = NULL;
	X509_STORE *xs = NULL;
	X509 *root;
	char hex[100];
	int rc;

	bo.trust = NULL;
	bo.check = NULL;
	bo.verify = NULL;
	bo.peer_chain = NULL;
	bo.insecure_no_verify = 1;
	if ((rc = get(url, &bo, &first, e)) != 0)
		goto out;
	cert_hex(sha, 32, ':', hex);
	if ((root = net_find_sha256(first, sha)) == NULL) {
		rc = tf_error_setx(e, -EACCES, "%s: no certificate with "
		    "SHA-256 %s in the response: nothing is trusted", url, hex);
		goto out;
	}
	if (!cert_is_ca(root) || !cert_is_self_signed(root)) {
		rc = tf_error_setx(e, -EACCES, "%s: the certificate with "
		    "SHA-256 %s is not a self-signed CA certificate", url, hex);
		goto out;
	}
	if ((xs = X509_STORE_new()) == NULL || !X509_STORE_add_cert(xs,
	    root)) {
		rc = tf_error_setx(e, -ENOMEM, "%s: out of memory", url);
		goto out;
	}
	bo = *o;
	bo.trust = xs;
	bo.verify = NULL;	/* only that root, and distrust (check) */
	if ((rc = get(url, &bo, certs, e)) != 0)
		goto out;
	if (net_find_sha256(*certs, sha) == NULL) {
		sk_X509_pop_free(*certs, X509_free);
		*certs = NULL;
		rc = tf_error_setx(e, -EACCES, "%s: the certificate with "
		    "SHA-256 %s left the response", url, hex);
	}
out:
	sk_X509_pop_free(first, X509_free);
	X509_STORE_free(xs);
	return rc;
}

int
net_est_cacerts(const char *base, const struct net_opts *o,
    const unsigned char *expect_sha256, STACK_OF(X509) **certs,
    int *bootstrapped, struct tf_error *e)
{
	char *url = est_url(base), hex[100];
	struct tf_error fe = { 0 };
	int rc;

	*certs = NULL;
	if (bootstrapped != NULL)
		*bootstrapped = 0;
	if (url == NULL)
		return tf_error_setx(e, -ENOMEM, "out of memory");
	if (!has_host(base)) {
		free(url);
		return tf_error_setx(e, -EINVAL, "%s: not a valid URL: no host",
		    base);
	}
	rc = o->trust != NULL || o->verify != NULL ? get(url, o, certs, &fe) :
	    -EACCES;
	if (rc == -EACCES && expect_sha256 != NULL) {
		rc = bootstrap(url, o, expect_sha256, certs, e);
		if (rc == 0 && bootstrapped != NULL)
			*bootstrapped = 1;
		goto out;
	}
	if (rc != 0) {
		if (fe.code != 0)
			tf_error_setx(e, rc, "%s", fe.msg);
		else
			tf_error_setx(e, rc, "%s: the server is not trusted: "
			    "no roots, and no expected SHA-256 to bootstrap "
			    "from", url);
		goto out;
	}
	if (expect_sha256 != NULL && net_find_sha256(*certs, expect_sha256) ==
	    NULL) {
		cert_hex(expect_sha256, 32, ':', hex);
		sk_X509_pop_free(*certs, X509_free);
		*certs = NULL;
		rc = tf_error_setx(e, -EACCES, "%s: no certificate with "
		    "SHA-256 %s in the response", url, hex);
	}
out:
	free(url);
	return rc;
}
