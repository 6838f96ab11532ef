/*
 * libtrustfs: ask a trustfs store whether a TLS peer is trusted.
 *
 * The store is the one the trustfs daemon shows under its mount point; the
 * daemon, trustctl and every program linking this library use it at the
 * same time (LMDB is multi-process).  A pin made here shows in
 * `ls MOUNT/pinned' at once; an `rm' there is seen by the next check.
 *
 * Conventions (after OpenBSD's libtls):
 *  - struct trustfs is opaque.  Functions return 0 on success and -1 on
 *    failure; trustfs_error() then says why.
 *  - A verdict is an out-parameter, never a return value: -1 means the
 *    check could not run, and a verdict is only meaningful after 0.  An
 *    error never means "trusted".
 *  - Strings passed in are copied; pointers handed out are const and live
 *    as long as stated next to each function.
 *  - Secure by default.
 *
 * Thread safety: one struct trustfs may be used by one thread at a time;
 * open one handle per thread (opening is cheap).
 */
#ifndef TRUSTFS_H
#define TRUSTFS_H

#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRUSTFS_API __attribute__((visibility("default")))

struct trustfs;

/* Why a peer is, or is not, trusted. */
enum trustfs_reason {
	TRUSTFS_REASON_NONE = 0,
	TRUSTFS_FIRST_USE,		/* trusted: no pin yet, now pinned (tofu) */
	TRUSTFS_PIN_MATCH,		/* trusted: presented the pinned certificate */
	TRUSTFS_CHAIN_OK,		/* trusted: chain verified to roots/ */
	TRUSTFS_PIN_MISMATCH,		/* refused: not the pinned certificate */
	TRUSTFS_UNKNOWN_ISSUER,		/* refused: no path to a root in roots/ */
	TRUSTFS_NAME_MISMATCH,		/* refused: host name or IP does not match */
	TRUSTFS_EXPIRED,		/* refused: a certificate has expired */
	TRUSTFS_NOT_YET_VALID,		/* refused: a certificate is not yet valid */
	TRUSTFS_DISTRUSTED,		/* refused: the path goes through distrusted/ */
	TRUSTFS_NO_PIN,			/* refused: pinned mode and no pin */
	TRUSTFS_BAD_CHAIN		/* refused: any other verification failure */
};

/* The policy modes of DESIGN section 5. */
enum trustfs_mode {
	TRUSTFS_MODE_TOFU = 0,
	TRUSTFS_MODE_CHAIN,
	TRUSTFS_MODE_CHAIN_OR_TOFU,
	TRUSTFS_MODE_PINNED
};

struct trustfs_verdict {
	int trusted;			/* 1 trusted, 0 refused */
	enum trustfs_reason reason;
	enum trustfs_mode mode;		/* the policy mode that applied */
	char message[512];		/* for people: why, in one line;
					 * chain errors in OpenSSL's words
					 * first, then the certificate, the
					 * missing issuer or the date */
	char subject[512];		/* the peer certificate's subject */
	unsigned char sha256[32];	/* the peer certificate's SHA-256 */
	char entry[300];		/* the store entry involved, e.g.
					 * "pinned/h_443", "roots/X.pem" */
};

/*
 * Opens the store in `dir'; NULL means $TRUSTFS_STORE, else
 * /var/lib/trustfs for root, else ${XDG_DATA_HOME:-~/.local/share}/trustfs.
 * The store is created if missing.  Returns NULL only when out of memory;
 * otherwise check trustfs_error(): a handle whose open failed has a
 * message and fails every call.  Free with trustfs_free().
 */
TRUSTFS_API struct trustfs *trustfs_open(const char *dir);
TRUSTFS_API void trustfs_free(struct trustfs *t);	/* NULL is fine */

/* The last error on t, or NULL.  Valid until the next call on t.
 * After a failed trustfs_open() it says why until t is freed. */
TRUSTFS_API const char *trustfs_error(struct trustfs *t);

/*
 * Checks a peer at host:port that presented `chain' (leaf first, as
 * SSL_get_peer_cert_chain() gives it) under the store's policy, and fills
 * in *v.  host may be a DNS name, an IPv4 address or an IPv6 address
 * (with or without brackets); NULL or "" is an error.  May write to the
 * store: a first-use pin, last-seen updates, a rejected/ entry on
 * mismatch, or in pinned mode for a peer with no pin (v->entry names it:
 * `mv rejected/H pinned/H' accepts it).  If a required write fails the
 * peer is refused (never fails open).
 * Returns 0 with *v filled in, or -1 if the check could not run, with
 * trustfs_error() set and v->trusted 0: bad arguments, a store that is
 * not open or cannot be read or written, or a policy that cannot be read
 * or parsed (then no check runs: never tofu, never an older policy).
 */
TRUSTFS_API int trustfs_check(struct trustfs *t, const char *host,
    unsigned int port, STACK_OF(X509) *chain, struct trustfs_verdict *v);

/* The same with an explicit mode, ignoring the policy file. */
TRUSTFS_API int trustfs_check_mode(struct trustfs *t, enum trustfs_mode mode,
    const char *host, unsigned int port, STACK_OF(X509) *chain,
    struct trustfs_verdict *v);

/*
 * Chain verification alone, as the chain mode does it, with no pin and no
 * write: roots from roots/, intermediates from `chain' and chains/, times,
 * distrusted/, and the name when host is not NULL.  For offline checks.
 * An empty host is an error, never a skipped name check.
 * Returns 0 with *v filled in, or -1 (v->trusted 0) if it could not run.
 */
TRUSTFS_API int trustfs_verify_chain(struct trustfs *t, const char *host,
    STACK_OF(X509) *chain, struct trustfs_verdict *v);

/*
 * OpenSSL glue.
 *
 * trustfs_x509_store() returns a new X509_STORE whose roots are found in
 * the store by subject (an X509_LOOKUP over the LMDB index: nothing is
 * loaded up front), with partial-chain checks off.  The caller owns it
 * (X509_STORE_free).  It holds its own counted reference to t's store,
 * not to t: it stays valid after trustfs_free(t) (SSL_CTX_set_cert_store
 * keeps it as long as the SSL_CTX), and the store is closed when the last
 * handle or X509_STORE using it is freed.  NULL on failure.
 */
TRUSTFS_API X509_STORE *trustfs_x509_store(struct trustfs *t);

/*
 * Checks a finished handshake: the peer chain of `ssl' at host:port under
 * the policy.  Use with SSL_VERIFY_NONE (the policy decides, not the
 * handshake) and drop the connection unless v->trusted.
 * Returns 0 with *v filled in, or -1.
 */
TRUSTFS_API int trustfs_ssl_check(struct trustfs *t, SSL *ssl,
    const char *host, unsigned int port, struct trustfs_verdict *v);

/* The name of a reason or mode ("pin-mismatch", "chain-or-tofu").  Static. */
TRUSTFS_API const char *trustfs_reason_name(enum trustfs_reason r);
TRUSTFS_API const char *trustfs_mode_name(enum trustfs_mode m);

#ifdef __cplusplus
}
#endif

#endif
