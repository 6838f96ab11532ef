/*
 * libtrustfs: TOFU and chain checks (DESIGN sections 5 and 6); the handle
 * itself is in handle.c.  Every path that cannot decide refuses: a verdict
 * starts as "not trusted", only a completed check changes that, and a
 * check that could not run returns -1 with the verdict still untrusted.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "aia.h"
#include "cert.h"
#include "chain.h"
#include "crl.h"
#include "entry.h"
#include "expiry.h"
#include "handle.h"
#include "names.h"
#include "pins.h"
#include "vopts.h"

extern char *program_invocation_short_name;

static void
actor(struct entry_actor *who)
{
	who->uid = getuid();
	who->pid = getpid();
	who->comm = program_invocation_short_name;
}

/* --- TOFU ---------------------------------------------------------- */

/* What the committed run of tofu_write found. */
enum tofu_outcome {
	TOFU_NONE = 0,
	TOFU_FIRST_USE,		/* no pin: pinned now */
	TOFU_MATCH,		/* the pin holds this certificate */
	TOFU_RENEW,		/* a pinned key in a new certificate: stored */
	TOFU_FILL,		/* a key-only pin: its certificate filled in */
	TOFU_MISMATCH,		/* another pin: recorded in rejected/ */
	TOFU_NO_PIN		/* no pin, and pinning is not allowed */
};

struct tofu_args {
	const char *hp;
	X509 *leaf;
	unsigned char sha[32];
	unsigned char key[32];	/* the leaf's key (SPKI SHA-256) */
	int may_pin;
	int by_key;		/* pin=key */
	enum tofu_outcome outcome;
	unsigned char old[32];	/* TOFU_RENEW: the certificate replaced */
};

static void
mismatch_message(struct trustfs_verdict *v)
{
	/* Cisco Prime Infrastructure's words, so that runbooks match. */
	snprintf(v->message, sizeof(v->message), "Current certificate of the "
	    "remote host is different from what was used earlier - %s",
	    v->subject);
}

/* What rejected/ compares with: the pin's first certificate, or the key
 * of a key-only pin. */
static void
pin_first_sha(const struct store_rec *rec, const unsigned char *dflt,
    unsigned char out[32])
{
	if (rec->nkeys > 0)
		memcpy(out, rec->keys[0].sha256, 32);
	else if (pin_is_key_only(rec))
		memcpy(out, rec->other_sha256, 32);
	else
		memcpy(out, dflt, 32);
}

/*
 * First use, a renewal, or a mismatch recorded in rejected/: one write
 * transaction that looks at the pin again, since another process may
 * have pinned the host since we read it.  store_write runs this again
 * when the map must grow, and another process may pin in between: so it
 * only notes what it found, starting afresh each run, and the verdict is
 * made from the run that committed (issue 8).
 */
/* The expiry index's fields of a pin or rejected record of one leaf
 * (issue 9), so that status and ls -l know it without decoding it.  Out
 * of memory, the record is stored unindexed and indexed at the next
 * status read: never a failed handshake for it. */
static void
fill_index(struct store_txn *txn, enum store_db db, const char *name,
    struct store_rec *rec, X509 *leaf, STACK_OF(X509) **one,
    struct store_validity val[STORE_INFO_CERTS])
{
	if (*one == NULL && (*one = sk_X509_new_null()) != NULL &&
	    !sk_X509_push(*one, leaf)) {
		sk_X509_free(*one);
		*one = NULL;
	}
	if (*one != NULL)
		expiry_fill_rec(txn, db, name, rec, *one, val);
}

static int
tofu_write(struct store_txn *txn, void *arg)
{
	struct tofu_args *a = arg;
	struct store_rec rec, nrec;
	struct store_key key;
	struct entry_actor who;
	unsigned char *der = NULL;
	unsigned char pin_sha[32];
	char path[300], cleared[300] = "";
	enum pin_match m;
	size_t len, idx = 0;
	time_t now = time(NULL);
	struct store_validity val[STORE_INFO_CERTS];
	STACK_OF(X509) *one = NULL;
	int rc, had;

	a->outcome = TOFU_NONE;
	actor(&who);
	rc = cert_der(a->leaf, &der, &len);
	if (rc != 0)
		return rc;
	memcpy(key.sha256, a->sha, 32);
	key.subject_hash = cert_subject_hash(a->leaf);
	memset(&nrec, 0, sizeof(nrec));
	nrec.ctime = nrec.mtime = nrec.first_seen = nrec.last_seen =
	    (uint64_t)now;
	nrec.seen_count = 1;
	nrec.keys = &key;
	nrec.nkeys = 1;
	nrec.der = der;
	nrec.der_len = len;

	rc = store_get(txn, STORE_PINNED, a->hp, &rec);
	if (rc != 0 && rc != -ENOENT)
		goto out;
	had = rc == 0;
	m = pin_match(had ? &rec : NULL, a->sha, a->key, a->by_key, now, &idx);
	if (m == PIN_MATCH_NONE) {
		if (!a->may_pin) {
			/* Kept so that the admin can accept it with `mv
			 * rejected/H pinned/H' instead of fetching it by hand
			 * (issue 10); other_sha256 stays zero: no pin. */
			fill_index(txn, STORE_REJECTED, a->hp, &nrec, a->leaf,
			    &one, val);
			rc = store_put(txn, STORE_REJECTED, a->hp, &nrec);
			snprintf(path, sizeof(path), "rejected/%s", a->hp);
			if (rc == 0)
				rc = entry_audit(txn, &who, "reject", path,
				    a->sha, had ? "pin expired" : "no pin");
			if (rc == 0)
				a->outcome = TOFU_NO_PIN;
			goto out;
		}
		/* No pin, or one whose expiry has passed (known_hosts):
		 * first use either way. */
		fill_index(txn, STORE_PINNED, a->hp, &nrec, a->leaf, &one,
		    val);
		rc = store_put(txn, STORE_PINNED, a->hp, &nrec);
		snprintf(path, sizeof(path), "pinned/%s", a->hp);
		/* A host pinned to what rejected/ holds is not rejected. */
		if (rc == 0)
			rc = entry_clear_rejected(txn, a->hp, had ? NULL :
			    a->sha, cleared, sizeof(cleared));
		if (rc == 0)
			rc = entry_audit_change(txn, &who, "pin", path, a->sha,
			    NULL, cleared[0] ? cleared : NULL, NULL);
		if (rc == 0)
			rc = entry_counter_add(txn, "tofu_first_use");
		if (rc == 0)
			a->outcome = TOFU_FIRST_USE;
		goto out;
	}
	if (m == PIN_MATCH_CERT) {
		a->outcome = TOFU_MATCH;
		rc = 0;
		goto out;
	}
	if (m == PIN_MATCH_KEY || m == PIN_MATCH_FILL) {
		if (m == PIN_MATCH_KEY)
			memcpy(a->old, rec.keys[idx].sha256, 32);
		rc = pin_renew(txn, a->hp, &rec, m, idx, a->leaf, &who, now);
		if (rc == 0)
			a->outcome = m == PIN_MATCH_KEY ? TOFU_RENEW : TOFU_FILL;
		goto out;
	}
	pin_first_sha(&rec, a->sha, pin_sha);
	memcpy(nrec.other_sha256, pin_sha, 32);
	nrec.seen_count = 1;
	fill_index(txn, STORE_REJECTED, a->hp, &nrec, a->leaf, &one, val);
	rc = store_put(txn, STORE_REJECTED, a->hp, &nrec);
	snprintf(path, sizeof(path), "rejected/%s", a->hp);
	if (rc == 0)
		rc = entry_audit(txn, &who, "reject", path, a->sha,
		    "pin mismatch");
	if (rc == 0)
		rc = entry_counter_add(txn, "tofu_mismatch");
	if (rc == 0)
		a->outcome = TOFU_MISMATCH;
out:
	sk_X509_free(one);
	free(der);
	return rc;
}

/* The verdict's words for what tofu_write committed. */
static void
tofu_message(const struct tofu_args *a, struct trustfs_verdict *v)
{
	const char *hp = a->hp;
	char old[100];

	switch (a->outcome) {
	case TOFU_FIRST_USE:
		snprintf(v->message, sizeof(v->message), "first use: pinned "
		    "%s as pinned/%s", v->subject, hp);
		break;
	case TOFU_MATCH:
		snprintf(v->message, sizeof(v->message), "matches the pin "
		    "pinned/%s", hp);
		break;
	case TOFU_RENEW:
		cert_hex(a->old, 32, ':', old);
		snprintf(v->message, sizeof(v->message), "matches the pinned "
		    "key of pinned/%s: a renewed certificate with the same key, "
		    "now stored in place of %s", hp, old);
		break;
	case TOFU_FILL:
		snprintf(v->message, sizeof(v->message), "matches the key pin "
		    "pinned/%s: its certificate is now stored", hp);
		break;
	case TOFU_MISMATCH:
		mismatch_message(v);
		snprintf(v->entry, sizeof(v->entry), "rejected/%s", hp);
		break;
	case TOFU_NO_PIN:
		snprintf(v->message, sizeof(v->message), "no pin for %s and "
		    "the policy is pinned: nothing is pinned automatically; "
		    "what it presented is in rejected/%s (mv rejected/%s "
		    "pinned/%s to trust it)", hp, hp, hp, hp);
		snprintf(v->entry, sizeof(v->entry), "rejected/%s", hp);
		break;
	case TOFU_NONE:
		break;
	}
}

/* 1 if the read-only look settles it: the pin holds this very
 * certificate and has not expired (the common case, one B-tree read). */
static int
pin_holds(const struct store_rec *rec, const unsigned char sha[32])
{
	size_t i;

	if (pin_expired(rec, time(NULL)))
		return 0;
	for (i = 0; i < rec->nkeys; i++)
		if (memcmp(rec->keys[i].sha256, sha, 32) == 0)
			return 1;
	return 0;
}

static int
check_tofu(struct trustfs *t, const char *hp, X509 *leaf, int may_pin,
    int by_key, struct trustfs_verdict *v)
{
	struct tofu_args a = { .hp = hp, .leaf = leaf, .may_pin = may_pin,
	    .by_key = by_key };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	struct tf_error se = { 0 };
	uint64_t last = 0;
	int rc;

	memcpy(a.sha, v->sha256, 32);
	if (pin_key_sha256(leaf, a.key) != 0) {
		trustfs_set_errorx(t, "the peer certificate's public key "
		    "cannot be encoded");
		return -1;
	}
	snprintf(v->entry, sizeof(v->entry), "pinned/%s", hp);
	/* The common case, a known pin presented again, is one read. */
	rc = store_txn_begin(t->st, 0, &txn, &se);
	if (rc == 0) {
		rc = store_get(txn, STORE_PINNED, hp, &rec);
		if (rc == 0 && pin_holds(&rec, a.sha)) {
			a.outcome = TOFU_MATCH;
			last = rec.last_seen;
		}
	}
	/* Ended before any write: a writer that must grow the map waits
	 * for every reader, this thread's too. */
	store_txn_abort(txn);
	if (rc != 0 && rc != -ENOENT) {
		trustfs_set_errorx(t, "reading pinned/%s: %s", hp,
		    se.msg[0] ? se.msg : strerror(-rc));
		return -1;
	}
	if (a.outcome == TOFU_MATCH)
		handle_seen_note(t, hp, last);
	else {
		rc = store_write(t->st, tofu_write, &a, &se);
		if (rc != 0) {
			/* Never fails open: no pin written, no trust. */
			trustfs_set_errorx(t, "recording %s/%s: %s", may_pin ?
			    "pinned" : "rejected", hp, se.msg[0] ? se.msg :
			    strerror(-rc));
			return -1;
		}
	}
	/* The verdict, from what was committed. */
	switch (a.outcome) {
	case TOFU_FIRST_USE:
		v->trusted = 1;
		v->reason = TRUSTFS_FIRST_USE;
		break;
	case TOFU_MATCH:
	case TOFU_RENEW:
	case TOFU_FILL:
		v->trusted = 1;
		v->reason = TRUSTFS_PIN_MATCH;
		break;
	case TOFU_MISMATCH:
		v->trusted = 0;
		v->reason = TRUSTFS_PIN_MISMATCH;
		break;
	case TOFU_NO_PIN:
		v->trusted = 0;
		v->reason = TRUSTFS_NO_PIN;
		break;
	case TOFU_NONE:
		trustfs_set_errorx(t, "recording pinned/%s: nothing was "
		    "decided", hp);
		return -1;
	}
	tofu_message(&a, v);
	return 0;
}

/* --- the checks ----------------------------------------------------- */

/* Fills in what every verdict says about the peer certificate. */
static void
verdict_init(struct trustfs_verdict *v, X509 *leaf, enum trustfs_mode mode)
{
	char *subj;

	memset(v, 0, sizeof(*v));
	v->mode = mode;
	cert_sha256(leaf, v->sha256);
	subj = cert_name_str(X509_get_subject_name(leaf));
	snprintf(v->subject, sizeof(v->subject), "%s", subj ? subj : "");
	free(subj);
}

/* A handle that can check: 0, or -1 with its error set. */
static int
handle_ready(struct trustfs *t)
{
	if (t->st == NULL) {
		/* The open's reason stays; there is always one. */
		if (!t->err.msg[0])
			trustfs_set_errorx(t, "the store is not open");
		return -1;
	}
	tf_error_clear(&t->err);
	return 0;
}

int
trustfs_verify_chain(struct trustfs *t, const char *host,
    STACK_OF(X509) *chain, struct trustfs_verdict *v)
{
	return trustfs_verify_chain_opts(t, host, chain, NULL, v);
}

int
trustfs_verify_chain_opts(struct trustfs *t, const char *host,
    STACK_OF(X509) *chain, const struct trustfs_verify_opts *opts,
    struct trustfs_verdict *v)
{
	struct chain_params cp;
	int rc;

	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if (t == NULL || v == NULL || handle_ready(t) != 0)
		return -1;
	if (chain == NULL || sk_X509_num(chain) < 1) {
		trustfs_set_errorx(t, "no certificate to verify");
		return -1;
	}
	/* OpenSSL takes an empty name as "no name check": NULL says that
	 * on purpose, "" is a mistake (issue 8). */
	if (host != NULL && host[0] == '\0') {
		trustfs_set_errorx(t, "the host name is empty: give the host "
		    "to check the certificate for (NULL skips the name check)");
		return -1;
	}
	verdict_init(v, sk_X509_value(chain, 0), TRUSTFS_MODE_CHAIN);
	/* No policy line: the options decide, prefer if they do not. */
	chain_params_make(&cp, opts, 1, opts && opts->revocation_set ?
	    opts->revocation : TRUSTFS_REVOCATION_PREFER);
	rc = chain_check(t, host, chain, &cp, v, NULL, 0);
	if (rc != 0)
		v->trusted = 0;
	return rc;
}

/* A stapled OCSP response, as the handshake gave it (DER). */
struct staple {
	const unsigned char *der;
	size_t len;
};

/*
 * The stapled response under the revocation the line asks for (not under
 * off): *st, and why in words.  0, or -1 with the handle's error set.
 */
static int
staple_check(struct trustfs *t, STACK_OF(X509) *chain,
    const struct staple *sp, enum crl_ocsp_status *st, char *why,
    size_t whylen)
{
	X509 *issuer = NULL;

	*st = CRL_OCSP_NONE;
	if (chain_find_issuer(t, chain, &issuer) != 0)
		return -1;
	*st = crl_ocsp_check(sp->der, sp->len, sk_X509_value(chain, 0),
	    issuer, time(NULL), why, whylen);
	X509_free(issuer);
	return 0;
}

static int check_mode_run(struct trustfs *t, const struct chain_params *cpp,
    enum trustfs_mode mode, int pin_key, const char *hp, const char *host,
    X509 *leaf, STACK_OF(X509) *chain, char *cause, size_t causelen,
    char *name, size_t namelen, char *msg, struct trustfs_verdict *v);

/* The check of a policy line (its mode and options) with the caller's
 * options (may be NULL) and a stapled OCSP response (may be NULL). */
static int
check_mode(struct trustfs *t, const struct policy_line *pl,
    const struct trustfs_verify_opts *opts, const struct staple *sp,
    const char *host, unsigned int port, STACK_OF(X509) *chain,
    struct trustfs_verdict *v)
{
	char hp[300], name[256], cause[300] = "", msg[sizeof(v->message)];
	char ocsp[200] = "", aia[400] = "";
	enum crl_ocsp_status ost = CRL_OCSP_NONE;
	enum trustfs_mode mode = pl->mode;
	struct chain_params cp;
	X509 *leaf;
	int rc;

	if (chain == NULL || sk_X509_num(chain) < 1) {
		trustfs_set_errorx(t, "the peer presented no certificate");
		return -1;
	}
	if (host == NULL || name_host_port_make(host, port, hp, sizeof(hp))) {
		trustfs_set_errorx(t, "'%s' port %u is not a valid host and "
		    "port", host ? host : "(null)", port);
		return -1;
	}
	leaf = sk_X509_value(chain, 0);
	verdict_init(v, leaf, mode);
	chain_params_make(&cp, opts, pl->strict, pl->revocation);
	/* A revoked status signed by the issuer refuses the peer in every
	 * mode; a response that is not the issuer's (or its responder's) is
	 * refused too rather than ignored: never fail open. */
	if (sp != NULL && cp.revocation != TRUSTFS_REVOCATION_OFF) {
		if (staple_check(t, chain, sp, &ost, ocsp, sizeof(ocsp)) != 0)
			return -1;
		if (ost == CRL_OCSP_REVOKED || ost == CRL_OCSP_BAD) {
			v->trusted = 0;
			v->reason = ost == CRL_OCSP_REVOKED ? TRUSTFS_REVOKED :
			    TRUSTFS_BAD_CHAIN;
			snprintf(v->message, sizeof(v->message), "%s (depth 0: "
			    "%s): %s", ost == CRL_OCSP_REVOKED ?
			    "certificate revoked" : "OCSP response refused",
			    v->subject, ocsp);
			return 0;
		}
		cp.leaf_ocsp_good = ost == CRL_OCSP_GOOD;
	}
	/* aia=fetch: a missing issuer fetched into chains/ first (aia.c). */
	if (aia_before(t, pl, host, chain, &cp, aia, sizeof(aia)) != 0)
		return -1;
	rc = check_mode_run(t, &cp, mode, pl->pin_key, hp, host, leaf, chain, cause,
	    sizeof(cause), name, sizeof(name), msg, v);
	if (rc == 0 && (rc = aia_again(t, pl, host, chain, &cp, v, aia,
	    sizeof(aia))) > 0)
		rc = check_mode_run(t, &cp, mode, pl->pin_key, hp, host, leaf,
		    chain, cause, sizeof(cause), name, sizeof(name), msg, v);
	if (rc == 0)
		aia_after(v, aia);
	if (rc == 0 && v->trusted && ost == CRL_OCSP_GOOD) {
		snprintf(msg, sizeof(msg), "%s; %s", v->message, ocsp);
		memcpy(v->message, msg, sizeof(v->message));
	}
	return rc;
}

/* check_mode's mode, once the options and the staple are settled. */
static int
check_mode_run(struct trustfs *t, const struct chain_params *cpp,
    enum trustfs_mode mode, int pin_key, const char *hp, const char *host,
    X509 *leaf, STACK_OF(X509) *chain, char *cause, size_t causelen,
    char *name, size_t namelen, char *msg, struct trustfs_verdict *v)
{
	int rc;

	switch (mode) {
	case TRUSTFS_MODE_TOFU:
	case TRUSTFS_MODE_PINNED:
		/* A pin never overrides a distrust decision. */
		rc = chain_is_distrusted_sha(t, v->sha256, name, namelen);
		if (rc < 0)
			return -1;
		if (rc == 1)
			return chain_check_distrusted(t, chain, v) < 0 ? -1 : 0;
		return check_tofu(t, hp, leaf, mode == TRUSTFS_MODE_TOFU,
		    pin_key, v);
	case TRUSTFS_MODE_CHAIN:
		return chain_check(t, host, chain, cpp, v, NULL, 0);
	case TRUSTFS_MODE_CHAIN_OR_TOFU:
		rc = chain_check(t, host, chain, cpp, v, cause, causelen);
		if (rc != 0 || v->trusted || v->reason == TRUSTFS_DISTRUSTED)
			return rc;
		rc = check_tofu(t, hp, leaf, 1, pin_key, v);
		v->mode = mode;
		/* Say that the chain failed and why, before what tofu did:
		 * a first-use pin must not hide a missing intermediate. */
		if (rc == 0) {
			snprintf(msg, sizeof(v->message), "chain: %s; %s",
			    cause, v->message);
			memcpy(v->message, msg, sizeof(v->message));
		}
		return rc;
	}
	trustfs_set_errorx(t, "unknown mode %d", (int)mode);
	return -1;
}

int
trustfs_check_mode(struct trustfs *t, enum trustfs_mode mode,
    const char *host, unsigned int port, STACK_OF(X509) *chain,
    struct trustfs_verdict *v)
{
	/* No policy line: its defaults (strict, revocation=prefer). */
	struct policy_line pl = { .mode = mode, .strict = 1,
	    .revocation = TRUSTFS_REVOCATION_PREFER };
	int rc;

	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if (v == NULL || t == NULL || handle_ready(t) != 0)
		return -1;
	rc = check_mode(t, &pl, NULL, NULL, host, port, chain, v);
	/* -1 never leaves a verdict that reads as trust. */
	if (rc != 0)
		v->trusted = 0;
	return rc;
}

int
trustfs_check(struct trustfs *t, const char *host, unsigned int port,
    STACK_OF(X509) *chain, struct trustfs_verdict *v)
{
	return trustfs_check_opts(t, host, port, chain, NULL, v);
}

static int
check_policy(struct trustfs *t, const char *host, unsigned int port,
    STACK_OF(X509) *chain, const struct trustfs_verify_opts *opts,
    const struct staple *sp, struct trustfs_verdict *v)
{
	const struct policy *p;
	struct policy_line pl;
	char hp[300];
	int rc;

	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if (t == NULL || v == NULL || handle_ready(t) != 0)
		return -1;
	if (host == NULL || name_host_port_make(host, port, hp, sizeof(hp))) {
		trustfs_set_errorx(t, "'%s' port %u is not a valid host and "
		    "port", host ? host : "(null)", port);
		return -1;
	}
	/* No policy, no check: never tofu in its place (issue 8). */
	if (handle_policy(t, &p) != 0)
		return -1;
	policy_lookup(p, hp, &pl);
	rc = check_mode(t, &pl, opts, sp, host, port, chain, v);
	if (rc != 0)
		v->trusted = 0;
	return rc;
}

int
trustfs_check_opts(struct trustfs *t, const char *host, unsigned int port,
    STACK_OF(X509) *chain, const struct trustfs_verify_opts *opts,
    struct trustfs_verdict *v)
{
	return check_policy(t, host, port, chain, opts, NULL, v);
}

int
trustfs_ssl_check(struct trustfs *t, SSL *ssl, const char *host,
    unsigned int port, struct trustfs_verdict *v)
{
	STACK_OF(X509) *chain;
	const unsigned char *der = NULL;
	struct staple sp;
	long len;

	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if (t == NULL || ssl == NULL || v == NULL)
		return -1;
	/* Client side: the peer's chain with the leaf first. */
	chain = SSL_get_peer_cert_chain(ssl);
	if (chain == NULL || sk_X509_num(chain) == 0) {
		trustfs_set_errorx(t, "the handshake gave no peer certificate");
		return -1;
	}
	/* A response the server stapled (trustctl connect asks for one:
	 * SSL_set_tlsext_status_type). */
	len = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
	sp.der = der;
	sp.len = len > 0 && der != NULL ? (size_t)len : 0;
	return check_policy(t, host, port, chain, NULL, sp.len ? &sp : NULL,
	    v);
}
