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
#include <time.h>

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
	TRUSTFS_BAD_CHAIN,		/* refused: any other verification failure */
	/* The strict rules of the chain modes (issue 13); new reasons are
	 * only ever added at the end, so that the numbers above stay. */
	TRUSTFS_WEAK_KEY,		/* "weak-key": RSA under 2048 bits, an
					 * even or small RSA exponent, an even
					 * modulus, a curve under 224 bits, an
					 * explicit curve, DSA, an unknown key */
	TRUSTFS_BAD_EXTENSION,		/* "bad-extension": no subject key id on
					 * a CA, no authority key id on a
					 * certificate not self-signed, a CA
					 * without critical basicConstraints,
					 * nameConstraints, policyConstraints or
					 * inhibitAnyPolicy not critical, an
					 * authorityInfoAccess that is critical
					 * or malformed, one that does not decode */
	TRUSTFS_BAD_KEY_USAGE,		/* "bad-key-usage": an end-entity with
					 * keyCertSign, a CA without it */
	TRUSTFS_CA_LEAF,		/* "ca-leaf": an end-entity certificate
					 * with basicConstraints CA:TRUE */
	TRUSTFS_BAD_EKU,		/* "bad-eku": the leaf lacks the purpose's
					 * EKU, or a CA's EKU does not allow it */
	TRUSTFS_BAD_SERIAL,		/* "bad-serial": zero, negative, or longer
					 * than 20 octets (RFC 5280 4.1.2.2) */
	TRUSTFS_V1_CA,			/* "v1-ca": a version 1 certificate used
					 * as a CA */
	TRUSTFS_BAD_WILDCARD,		/* "bad-wildcard": a SAN wildcard that is
					 * not the whole leftmost label */
	TRUSTFS_REVOKED,		/* "revoked": a CRL lists a certificate */
	TRUSTFS_BAD_CRL,		/* "bad-crl": a CRL that must be refused
					 * (bad signature, critical unknown
					 * extension, issuer without cRLSign,
					 * no CRL number) */
	TRUSTFS_NO_CRL,			/* "no-crl": revocation=require and no
					 * current CRL for a certificate */
	TRUSTFS_NAME_CONSTRAINTS	/* "name-constraints": a name outside a
					 * CA's nameConstraints */
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
 * Strict, as the chain modes are unless a policy line says strict=no: on
 * top of OpenSSL's checks (X509_V_FLAG_X509_STRICT, security level 2, no
 * partial wildcards, never the subject CN for a name), the rules of
 * libtrustfs(3) STRICT RULES, each refusal with its own reason.  Purpose
 * sslserver.  A rule that cannot be evaluated refuses.
 * Returns 0 with *v filled in, or -1 (v->trusted 0) if it could not run.
 */
TRUSTFS_API int trustfs_verify_chain(struct trustfs *t, const char *host,
    STACK_OF(X509) *chain, struct trustfs_verdict *v);

/*
 * Verification options (libtls's tls_config style): made once, set, and
 * passed to the *_opts functions, which never change them; one options
 * object may be used by several handles, one call at a time.  Setters
 * copy what they are given (strings) or take their own reference (CRLs):
 * the caller keeps ownership of its arguments.  Setters return 0, or -1
 * with trustfs_verify_opts_error() saying why; a failed setter leaves the
 * option as it was.  With no setter called, the options are those of
 * trustfs_verify_chain(): now, sslserver, OpenSSL's depth, no IP, no CRL,
 * revocation "prefer", strict rules on.
 */
struct trustfs_verify_opts;

/* The purpose a chain is checked for (openssl verify -purpose). */
enum trustfs_purpose {
	TRUSTFS_PURPOSE_SSL_SERVER = 0,	/* the leaf must allow serverAuth */
	TRUSTFS_PURPOSE_SSL_CLIENT,	/* the leaf must allow clientAuth */
	TRUSTFS_PURPOSE_ANY		/* no EKU check */
};

/* Revocation, as the policy option revocation= says it. */
enum trustfs_revocation {
	TRUSTFS_REVOCATION_PREFER = 0,	/* check when a CRL is given (default) */
	TRUSTFS_REVOCATION_OFF,		/* never check */
	TRUSTFS_REVOCATION_REQUIRE	/* refuse ("no-crl") without a current
					 * CRL for every certificate of the path
					 * below the root */
};

/* NULL when out of memory.  Free with trustfs_verify_opts_free (NULL ok). */
TRUSTFS_API struct trustfs_verify_opts *trustfs_verify_opts_new(void);
TRUSTFS_API void trustfs_verify_opts_free(struct trustfs_verify_opts *o);
/* Why the last setter on o failed, or NULL.  Valid until the next call
 * on o. */
TRUSTFS_API const char *trustfs_verify_opts_error(
    const struct trustfs_verify_opts *o);

/* Verify as of `when' instead of now (certificate and CRL dates);
 * openssl verify -attime.  when must be >= 0. */
TRUSTFS_API int trustfs_verify_opts_set_time(struct trustfs_verify_opts *o,
    time_t when);
TRUSTFS_API int trustfs_verify_opts_set_purpose(
    struct trustfs_verify_opts *o, enum trustfs_purpose purpose);
/* At most `depth' intermediates between the leaf and the root (openssl
 * verify -verify_depth); 0..64. */
TRUSTFS_API int trustfs_verify_opts_set_depth(struct trustfs_verify_opts *o,
    int depth);
/* The leaf must also hold this IP address as an iPAddress SAN (IPv4 or
 * IPv6, brackets allowed).  Copied.  NULL clears it. */
TRUSTFS_API int trustfs_verify_opts_set_ip(struct trustfs_verify_opts *o,
    const char *ip);
/* A CRL to check revocation against; o takes its own reference.  Several
 * may be added.  The _file variant reads every CRL of a PEM or DER file. */
TRUSTFS_API int trustfs_verify_opts_add_crl(struct trustfs_verify_opts *o,
    X509_CRL *crl);
TRUSTFS_API int trustfs_verify_opts_add_crl_file(
    struct trustfs_verify_opts *o, const char *path);
/* Without this setter the policy line's revocation= applies (prefer for
 * trustfs_verify_chain_opts); with it, the stronger of the two. */
TRUSTFS_API int trustfs_verify_opts_set_revocation(
    struct trustfs_verify_opts *o, enum trustfs_revocation r);
/*
 * Turns the strict rules off (as the policy option strict=no): OpenSSL's
 * default checks only, as trustfs did before the strict rules.  Weak
 * keys, missing key identifiers, v1 CAs and the other classes of
 * TRUSTFS_WEAK_KEY..TRUSTFS_BAD_WILDCARD are then accepted.
 */
TRUSTFS_API void trustfs_verify_opts_set_insecure_nonstrict(
    struct trustfs_verify_opts *o);

/*
 * trustfs_verify_chain() with options; opts NULL is trustfs_verify_chain().
 * host may be NULL when opts gives an IP (or for no name check at all).
 */
TRUSTFS_API int trustfs_verify_chain_opts(struct trustfs *t,
    const char *host, STACK_OF(X509) *chain,
    const struct trustfs_verify_opts *opts, struct trustfs_verdict *v);

/*
 * trustfs_check() with options; opts NULL is trustfs_check().  The policy
 * still decides the mode; in the chain modes the options apply, with the
 * stronger revocation of the two when the options set one (else the
 * line's), and strict rules off if either the
 * policy line (strict=no) or the options say so.
 */
TRUSTFS_API int trustfs_check_opts(struct trustfs *t, const char *host,
    unsigned int port, STACK_OF(X509) *chain,
    const struct trustfs_verify_opts *opts, struct trustfs_verdict *v);

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

/* --- key pins (issue 14) -------------------------------------------- */

/* What trustfs_pin_key did. */
enum trustfs_pin_result {
	TRUSTFS_PIN_ADDED = 0,		/* a new key pin for the host */
	TRUSTFS_PIN_UNCHANGED,		/* the host is pinned to this key
					 * already (a key pin, or a certificate
					 * with this key) */
	TRUSTFS_PIN_REFUSED,		/* the host is pinned to something
					 * else: left as it is */
	TRUSTFS_PIN_EXPIRED		/* `expires' has passed: nothing
					 * written */
};

/*
 * Pre-pins host:port to a public key, as GnuTLS's known_hosts does: spki
 * is a DER SubjectPublicKeyInfo.  The pin holds the key and no
 * certificate (`cat' shows "Pinned Key SHA256:"); it matches any
 * certificate with that key, whatever the policy's pin= says, and the
 * first handshake that presents one stores that certificate in it.  From
 * `expires' on (0: never) the pin counts as none.  A host that has a pin
 * that has not expired is never changed.  Returns 0 with *result, or -1
 * (a bad host, port or key; the store could not be written) with the
 * error in trustfs_error(t) and nothing written.
 */
TRUSTFS_API int trustfs_pin_key(struct trustfs *t, const char *host,
    unsigned int port, const unsigned char *spki, size_t spki_len,
    time_t expires, enum trustfs_pin_result *result);

/* --- many pins at once (issue 9) ------------------------------------- */

/* One pin of trustfs_pin_bulk: in, host, port and cert; out, the rest. */
struct trustfs_pin_item {
	const char *host;	/* a DNS name or an IP address */
	unsigned int port;	/* 1..65535 */
	X509 *cert;		/* the certificate to pin; the caller keeps it */
	int done;		/* out: 1 once what it did is committed */
	int error;		/* out: 0, or EINVAL for a host, port or
				 * certificate that cannot be pinned (then
				 * nothing was written for it) */
	enum trustfs_pin_result result;	/* out, when done and error 0:
				 * TRUSTFS_PIN_ADDED, _UNCHANGED (pinned to
				 * this certificate already) or _REFUSED
				 * (pinned to something else: left as it
				 * is) */
};

/*
 * Pins each item's host:port to its certificate, as a first use would,
 * under the rules of a pin written to MOUNT/pinned/ (one audit line per
 * pin; a host pinned to something else is never changed), thousands of
 * pins per write transaction: 1,000,000 pins in well under a minute.
 * flags must be 0.  Returns 0 when every item is done (each with its
 * result or its error), or -1 when the store could not be written
 * (trustfs_error() says why): the items done were committed, the others
 * were not written.
 */
TRUSTFS_API int trustfs_pin_bulk(struct trustfs *t,
    struct trustfs_pin_item *items, size_t n, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif
