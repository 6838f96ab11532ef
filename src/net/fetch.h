/*
 * Fetching bytes over HTTP(S) (and file://) with libcurl: the one client
 * behind `trustctl import URL', EST, sources and AIA.  It knows no store:
 * a caller that wants HTTPS hands it the X509_STORE whose roots the
 * server must chain to (trustfs_x509_store()) and, for the chain rules it
 * cannot know (distrusted/), a check of the verified chain.
 *
 * Everything is bounded: the size of the body (max_bytes, 64 MiB by
 * default, the limit of an import), the time of the whole transfer
 * (timeout) and of a stalled body (a transfer below 1 byte/s for
 * stall_seconds).  Redirects are followed by hand, at most NET_MAX_REDIRS,
 * each one to an allowed scheme only: an https:// URL that redirects to
 * http:// is refused, not followed.
 */
#ifndef TRUSTFS_NET_FETCH_H
#define TRUSTFS_NET_FETCH_H

#include <stddef.h>

#include <openssl/x509.h>

#include "buf.h"
#include "error.h"

#define NET_MAX_BYTES	(64u << 20)	/* as CERT_INPUT_MAX_BUNDLE */
#define NET_TIMEOUT	60		/* seconds, the whole transfer */
#define NET_STALL	15		/* seconds under 1 byte/s */
#define NET_MAX_REDIRS	5

/* Schemes, for net_opts.schemes (0: all three). */
#define NET_HTTP	0x1u
#define NET_HTTPS	0x2u
#define NET_FILE	0x4u

/*
 * Called as the body arrives (got bytes so far, of total; total 0 when
 * the server did not say).  A non-zero return aborts the fetch (-ECANCELED).
 */
typedef int (*net_progress_fn)(size_t got, size_t total, void *arg);

/*
 * Called during an HTTPS handshake once OpenSSL has verified the server's
 * chain against `trust' (chain: leaf first, trust anchor last; host: the
 * URL's host).  Return 0 to accept, or a negative errno with e set to
 * refuse (e.g. a distrusted certificate in the path); the fetch then fails
 * with that message.
 */
typedef int (*net_check_fn)(STACK_OF(X509) *chain, const char *host,
    void *arg, struct tf_error *e);

struct net_opts {
	/* HTTPS: the roots the server must chain to (the caller keeps its
	 * reference).  Name (DNS or IP), dates and chain are checked by
	 * OpenSSL and its words are in the error: "unable to get local
	 * issuer certificate", "hostname mismatch", "certificate is not yet
	 * valid", "certificate has expired".  NULL: https is refused unless
	 * verify or insecure_no_verify is set. */
	X509_STORE *trust;
	net_check_fn check;		/* optional, see above */
	void *check_arg;
	/* In place of trust and check: the caller judges the chain the
	 * server presented (leaf first, as sent) for the URL's host itself,
	 * e.g. with libtrustfs's chain mode (chains/ for an intermediate the
	 * server did not send, strict rules, revocation, distrust).  Same
	 * return as check; its message is the refusal's.  When it is set,
	 * trust and check are not used. */
	net_check_fn verify;
	void *verify_arg;
	/* The chain the server presented (leaf first), copied out of the
	 * handshake of the last hop when not NULL; the caller frees it with
	 * sk_X509_pop_free(*peer_chain, X509_free).  For EST's bootstrap
	 * (verify the server against a root that arrives in the body). */
	STACK_OF(X509) **peer_chain;
	/* No verification of the HTTPS server at all: only with peer_chain,
	 * for a caller that verifies it itself before using the body. */
	int insecure_no_verify;
	size_t max_bytes;		/* 0: NET_MAX_BYTES */
	long timeout;			/* seconds; 0: NET_TIMEOUT */
	long stall_seconds;		/* 0: NET_STALL */
	unsigned int schemes;		/* NET_HTTP|NET_HTTPS|NET_FILE; 0: all */
	/* Accepted Content-Types (media type only, case-insensitive,
	 * NULL-terminated); NULL: any.  A mismatch fails with -EPROTO.
	 * file:// has no Content-Type and always passes. */
	const char *const *ctypes;
	net_progress_fn progress;	/* optional */
	void *progress_arg;
};

/*
 * GETs url into out (appended; out->data NUL-terminated), following
 * redirects as above.  ctype, when not NULL, gets the media type the
 * server sent ("" if none), lowercased, without parameters.
 *
 * Returns 0, or a negative errno with e saying why, the URL first:
 *   -EINVAL        a malformed URL, or a scheme not allowed (also after a
 *                  redirect: "redirect to http://... refused")
 *   -EHOSTUNREACH  the host could not be resolved or reached
 *   -ETIMEDOUT     the transfer took longer than timeout, or stalled
 *   -EACCES        the HTTPS server is not trusted (OpenSSL's words, or
 *                  what verify said)
 *   -ENOENT        HTTP 404/410, or a file:// that does not exist
 *   -EIO           another HTTP status ("HTTP 500 Internal Server Error"),
 *                  or a transport failure
 *   -EFBIG         the body is larger than max_bytes
 *   -EPROTO        the Content-Type is not one of ctypes
 *   -ECANCELED     the progress function said stop
 *   -ENOMEM
 * Whatever the result, out holds what was received; the caller frees it.
 */
int net_fetch(const char *url, const struct net_opts *o, struct buf *out,
    char *ctype, size_t ctypelen, struct tf_error *e);

/*
 * url without its user name and password (https://user:pw@host/x ->
 * https://host/x), malloc'd, for what is recorded or shown (an entry's
 * Source, which every reader of the mount sees); a URL that does not
 * parse is copied as it is.  NULL only when out of memory.
 */
char *net_url_public(const char *url);

/* 1 if s looks like a URL net_fetch() takes (http://, https://, file://). */
int net_is_url(const char *s);

#endif
