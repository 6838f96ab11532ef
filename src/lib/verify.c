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

#include "cert.h"
#include "entry.h"
#include "handle.h"
#include "names.h"

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
	TOFU_MATCH,		/* the pin is this certificate */
	TOFU_MISMATCH,		/* another pin: recorded in rejected/ */
	TOFU_NO_PIN		/* no pin, and pinning is not allowed */
};

struct tofu_args {
	const char *hp;
	X509 *leaf;
	unsigned char sha[32];
	int may_pin;
	enum tofu_outcome outcome;
};

static void
mismatch_message(struct trustfs_verdict *v)
{
	/* Cisco Prime Infrastructure's words, so that runbooks match. */
	snprintf(v->message, sizeof(v->message), "Current certificate of the "
	    "remote host is different from what was used earlier - %s",
	    v->subject);
}

/*
 * First use, or a mismatch recorded in rejected/: one write transaction
 * that looks at the pin again, since another process may have pinned
 * the host since we read it.  store_write runs this again when the map
 * must grow, and another process may pin in between: so it only notes
 * what it found, starting afresh each run, and the verdict is made from
 * the run that committed (issue 8).
 */
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
	size_t len;
	time_t now = time(NULL);
	int rc;

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
	if (rc == -ENOENT) {
		if (!a->may_pin) {
			/* Kept so that the admin can accept it with `mv
			 * rejected/H pinned/H' instead of fetching it by hand
			 * (issue 10); other_sha256 stays zero: no pin. */
			rc = store_put(txn, STORE_REJECTED, a->hp, &nrec);
			snprintf(path, sizeof(path), "rejected/%s", a->hp);
			if (rc == 0)
				rc = entry_audit(txn, &who, "reject", path,
				    a->sha, "no pin");
			if (rc == 0)
				a->outcome = TOFU_NO_PIN;
			goto out;
		}
		rc = store_put(txn, STORE_PINNED, a->hp, &nrec);
		snprintf(path, sizeof(path), "pinned/%s", a->hp);
		/* A host pinned to what rejected/ holds is not rejected. */
		if (rc == 0)
			rc = entry_clear_rejected(txn, a->hp, a->sha, cleared,
			    sizeof(cleared));
		if (rc == 0)
			rc = entry_audit_change(txn, &who, "pin", path, a->sha,
			    NULL, cleared[0] ? cleared : NULL, NULL);
		if (rc == 0)
			rc = entry_counter_add(txn, "tofu_first_use");
		if (rc == 0)
			a->outcome = TOFU_FIRST_USE;
		goto out;
	}
	if (rc != 0)
		goto out;
	if (rec.nkeys > 0 && memcmp(rec.keys[0].sha256, a->sha, 32) == 0) {
		a->outcome = TOFU_MATCH;
		rc = 0;
		goto out;
	}
	memcpy(pin_sha, rec.nkeys ? rec.keys[0].sha256 : a->sha, 32);
	memcpy(nrec.other_sha256, pin_sha, 32);
	nrec.seen_count = 1;
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
	free(der);
	return rc;
}

static int
is_distrusted_sha(struct trustfs *t, const unsigned char *sha, char *name,
    size_t namelen);

static int
check_tofu(struct trustfs *t, const char *hp, X509 *leaf, int may_pin,
    struct trustfs_verdict *v)
{
	struct tofu_args a = { .hp = hp, .leaf = leaf, .may_pin = may_pin };
	struct store_txn *txn = NULL;
	struct store_rec rec;
	struct tf_error se = { 0 };
	uint64_t last = 0;
	int rc;

	memcpy(a.sha, v->sha256, 32);
	snprintf(v->entry, sizeof(v->entry), "pinned/%s", hp);
	/* The common case, a known pin presented again, is one read. */
	rc = store_txn_begin(t->st, 0, &txn, &se);
	if (rc == 0) {
		rc = store_get(txn, STORE_PINNED, hp, &rec);
		if (rc == 0 && rec.nkeys > 0 &&
		    memcmp(rec.keys[0].sha256, a.sha, 32) == 0) {
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
	switch (v->reason) {
	case TRUSTFS_FIRST_USE:
		snprintf(v->message, sizeof(v->message), "first use: pinned "
		    "%s as pinned/%s", v->subject, hp);
		break;
	case TRUSTFS_PIN_MATCH:
		snprintf(v->message, sizeof(v->message), "matches the pin "
		    "pinned/%s", hp);
		break;
	case TRUSTFS_PIN_MISMATCH:
		mismatch_message(v);
		snprintf(v->entry, sizeof(v->entry), "rejected/%s", hp);
		break;
	case TRUSTFS_NO_PIN:
		snprintf(v->message, sizeof(v->message), "no pin for %s and "
		    "the policy is pinned: nothing is pinned automatically; "
		    "what it presented is in rejected/%s (mv rejected/%s "
		    "pinned/%s to trust it)", hp, hp, hp, hp);
		snprintf(v->entry, sizeof(v->entry), "rejected/%s", hp);
		break;
	default:
		break;
	}
	return 0;
}

/* --- chain ---------------------------------------------------------- */

struct find_distrust {
	char name[256];
	int found;
};

static int
distrust_cb(enum store_db db, const char *name, void *arg)
{
	struct find_distrust *f = arg;

	if (db != STORE_DISTRUSTED)
		return 0;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->found = 1;
	return 1;
}

/* 1 if distrusted (name set), 0 if not, -1 on a store error. */
static int
is_distrusted_sha(struct trustfs *t, const unsigned char *sha, char *name,
    size_t namelen)
{
	struct find_distrust f = { .found = 0 };
	struct store_txn *txn = NULL;
	struct tf_error se = { 0 };
	int rc;

	rc = store_txn_begin(t->st, 0, &txn, &se);
	if (rc == 0)
		rc = store_find_sha256(txn, sha, distrust_cb, &f);
	store_txn_abort(txn);
	if (rc < 0) {
		trustfs_set_errorx(t, "reading distrusted/: %s",
		    se.msg[0] ? se.msg : strerror(-rc));
		return -1;
	}
	if (f.found)
		snprintf(name, namelen, "%s", f.name);
	return f.found;
}

/* 1 if any certificate of sk is distrusted, filling in the verdict. */
static int
check_distrusted(struct trustfs *t, STACK_OF(X509) *sk,
    struct trustfs_verdict *v)
{
	unsigned char sha[32];
	char name[256], *subj;
	int i, rc;

	for (i = 0; i < sk_X509_num(sk); i++) {
		cert_sha256(sk_X509_value(sk, i), sha);
		rc = is_distrusted_sha(t, sha, name, sizeof(name));
		if (rc != 0) {
			if (rc == 1) {
				subj = cert_name_str(X509_get_subject_name(
				    sk_X509_value(sk, i)));
				v->trusted = 0;
				v->reason = TRUSTFS_DISTRUSTED;
				snprintf(v->entry, sizeof(v->entry),
				    "distrusted/%s", name);
				snprintf(v->message, sizeof(v->message),
				    "certificate is distrusted: %s "
				    "(distrusted/%s)", subj ? subj : "?", name);
				free(subj);
			}
			return rc;
		}
	}
	return 0;
}

/* Intermediates from chains/ for the issuers the peer did not send: one
 * index look-up per missing link, at most 8 links. */
struct chain_pick {
	struct store_txn *txn;
	X509 *child;
	STACK_OF(X509) *out;
	X509 *added;
	int failed;		/* a chains/ record could not be read */
};

static int
chain_pick_cb(enum store_db db, const char *name, void *arg)
{
	struct chain_pick *p = arg;
	STACK_OF(X509) *sk = NULL;
	struct store_rec rec;
	int i, hit = 0;

	if (db != STORE_CHAINS)
		return 0;
	i = store_get(p->txn, db, name, &rec);
	if (i == 0)
		i = entry_certs(&rec, &sk);
	if (i != 0) {
		p->failed |= i != -ENOENT;
		return 0;
	}
	for (i = 0; i < sk_X509_num(sk) && !hit; i++) {
		X509 *x = sk_X509_value(sk, i);

		if (X509_check_issued(x, p->child) == X509_V_OK &&
		    X509_check_issued(x, x) != X509_V_OK) {
			X509_up_ref(x);
			if (!sk_X509_push(p->out, x))
				X509_free(x);
			else
				p->added = x;
			hit = 1;
		}
	}
	sk_X509_pop_free(sk, X509_free);
	return hit;
}

/* 0, or -1 with the handle's error set when chains/ could not be read:
 * a missing intermediate must come from the store, not from a failure. */
static int
add_chain_intermediates(struct trustfs *t, STACK_OF(X509) *untrusted,
    X509 *leaf)
{
	struct chain_pick p = { .out = untrusted };
	struct tf_error se = { 0 };
	X509 *cur = leaf;
	int depth, i, have, ok, rc;
	uint32_t h;

	rc = store_txn_begin(t->st, 0, &p.txn, &se);
	for (depth = 0; rc == 0 && depth < 8 && cur != NULL; depth++) {
		/* Already supplied by the peer? Follow it instead. */
		have = 0;
		for (i = 0; i < sk_X509_num(untrusted) && !have; i++)
			if (X509_check_issued(sk_X509_value(untrusted, i),
			    cur) == X509_V_OK && sk_X509_value(untrusted, i) !=
			    cur) {
				cur = sk_X509_value(untrusted, i);
				have = 1;
			}
		if (have)
			continue;
		if (X509_check_issued(cur, cur) == X509_V_OK)
			break;
		h = (uint32_t)X509_NAME_hash_ex(X509_get_issuer_name(cur), NULL,
		    NULL, &ok);
		if (!ok)
			break;
		p.child = cur;
		p.added = NULL;
		rc = store_find_subject(p.txn, h, chain_pick_cb, &p);
		if (rc > 0)
			rc = 0;
		cur = p.added;
	}
	store_txn_abort(p.txn);
	if (rc == 0 && p.failed)
		rc = -EIO;
	if (rc < 0) {
		trustfs_set_errorx(t, "reading chains/: %s", se.msg[0] ?
		    se.msg : strerror(-rc));
		return -1;
	}
	return 0;
}

/* A new X509_STORE over roots/ (lookup.c). */
static X509_STORE *
x509_store_new(struct trustfs *t, int *failed)
{
	X509_STORE *xs;

	if (t == NULL || t->st == NULL) {
		if (t != NULL && !t->err.msg[0])
			trustfs_set_errorx(t, "the store is not open");
		return NULL;
	}
	xs = X509_STORE_new();
	if (xs == NULL || lookup_add(xs, t->st, failed) != 0) {
		X509_STORE_free(xs);
		trustfs_set_errorx(t, "out of memory");
		return NULL;
	}
	return xs;
}

X509_STORE *
trustfs_x509_store(struct trustfs *t)
{
	/* Holds its own reference to the store: it may outlive t. */
	return x509_store_new(t, NULL);
}

static enum trustfs_reason
reason_of(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return TRUSTFS_UNKNOWN_ISSUER;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return TRUSTFS_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TRUSTFS_NOT_YET_VALID;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return TRUSTFS_NAME_MISMATCH;
	default:
		return TRUSTFS_BAD_CHAIN;
	}
}

/*
 * The message of a failed chain: OpenSSL's words first (DESIGN section
 * 6), then what a person needs to act: which certificate, the issuer that
 * is missing and where it goes, the time a certificate starts or ends.
 * cause (may be NULL) gets the same in short, for chain-or-tofu's
 * fallback message.
 */
static void
chain_failure(X509_STORE_CTX *ctx, const char *host,
    struct trustfs_verdict *v, char *cause, size_t causelen)
{
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
	X509 *bad = X509_STORE_CTX_get_current_cert(ctx), *top;
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	const char *what = X509_verify_cert_error_string(err);
	char *subj = NULL, *issuer = NULL, tm[64], dummy[1];

	if (cause == NULL) {
		cause = dummy;
		causelen = sizeof(dummy);
	}
	if (v->reason == TRUSTFS_NAME_MISMATCH) {
		snprintf(v->message, sizeof(v->message), "hostname mismatch: "
		    "the certificate (%s) is not valid for %s", v->subject,
		    host);
		snprintf(cause, causelen, "hostname mismatch (not valid for "
		    "%s)", host);
		return;
	}
	subj = bad ? cert_name_str(X509_get_subject_name(bad)) : NULL;
	if (subj == NULL || subj[0] == '\0') {
		free(subj);
		subj = strdup(depth == 0 && v->subject[0] ? v->subject :
		    "no subject");
	}
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		/* The top of the path OpenSSL built names the issuer it
		 * looked for and did not find. */
		top = built != NULL && sk_X509_num(built) > 0 ?
		    sk_X509_value(built, sk_X509_num(built) - 1) : bad;
		issuer = top ? cert_name_str(X509_get_issuer_name(top)) : NULL;
		snprintf(v->message, sizeof(v->message), "%s (depth %d: %s): "
		    "its issuer %s is not in the store; add it to chains/ (an "
		    "intermediate) or roots/ (a root)", what, depth,
		    subj ? subj : "?", issuer ? issuer : "?");
		snprintf(cause, causelen, "%s (issuer %s)", what,
		    issuer ? issuer : "?");
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		snprintf(v->message, sizeof(v->message), "%s (depth %d: %s): "
		    "that certificate is not in roots/", what, depth,
		    subj ? subj : "?");
		snprintf(cause, causelen, "%s (%s)", what, subj ? subj : "?");
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		if (bad == NULL)
			snprintf(tm, sizeof(tm), "?");
		else
			cert_time_str(err == X509_V_ERR_CERT_HAS_EXPIRED ?
			    cert_not_after(bad) : cert_not_before(bad), tm,
			    sizeof(tm));
		snprintf(v->message, sizeof(v->message), "%s (depth %d: %s): "
		    "%s %s", what, depth, subj ? subj : "?",
		    err == X509_V_ERR_CERT_HAS_EXPIRED ? "expired" :
		    "valid from", tm);
		snprintf(cause, causelen, "%s (%s, %s %s)", what,
		    subj ? subj : "?", err == X509_V_ERR_CERT_HAS_EXPIRED ?
		    "expired" : "valid from", tm);
		break;
	default:
		snprintf(v->message, sizeof(v->message), "%s (depth %d: %s)",
		    what, depth, subj ? subj : "?");
		snprintf(cause, causelen, "%s (%s)", what, subj ? subj : "?");
		break;
	}
	free(issuer);
	free(subj);
}

static int
check_chain(struct trustfs *t, const char *host, STACK_OF(X509) *chain,
    struct trustfs_verdict *v, char *cause, size_t causelen)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *xs = NULL;
	X509_VERIFY_PARAM *param;
	X509 *leaf = sk_X509_value(chain, 0), *top;
	char anchor[256], ip[64];
	int i, rc = -1, is_ip, lookup_failed = 0;
	unsigned char sha[32];

	rc = check_distrusted(t, chain, v);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = -1;
	untrusted = sk_X509_new_null();
	xs = x509_store_new(t, &lookup_failed);
	ctx = X509_STORE_CTX_new();
	if (untrusted == NULL || xs == NULL || ctx == NULL)
		goto out;
	for (i = 1; i < sk_X509_num(chain); i++) {
		X509_up_ref(sk_X509_value(chain, i));
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i))) {
			X509_free(sk_X509_value(chain, i));
			goto out;
		}
	}
	if (add_chain_intermediates(t, untrusted, leaf) != 0)
		goto out;
	if (!X509_STORE_CTX_init(ctx, xs, leaf, untrusted))
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	/* RFC 6125 name checks as OpenSSL does them; an IP literal is
	 * matched against iPAddress SANs only (RFC 6125 1.7.2). */
	snprintf(ip, sizeof(ip), "%s", host ? host : "");
	if (ip[0] == '[' && strchr(ip, ']') != NULL) {
		memmove(ip, ip + 1, strlen(ip));
		*strchr(ip, ']') = '\0';
	}
	{
		ASN1_OCTET_STRING *a = a2i_IPADDRESS(ip);

		is_ip = a != NULL;
		ASN1_OCTET_STRING_free(a);
	}
	if (host != NULL && (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(param,
	    ip) : !X509_VERIFY_PARAM_set1_host(param, host, 0)))
		goto out;
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);

	if (X509_verify_cert(ctx) == 1) {
		/* The path OpenSSL built may run through a distrusted
		 * certificate that the peer did not send. */
		rc = check_distrusted(t, X509_STORE_CTX_get0_chain(ctx), v);
		if (rc != 0) {
			rc = rc < 0 ? -1 : 0;
			goto out;
		}
		top = sk_X509_value(X509_STORE_CTX_get0_chain(ctx),
		    sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) - 1);
		cert_sha256(top, sha);
		anchor[0] = '\0';
		{
			struct store_txn *txn = NULL;

			if (store_txn_begin(t->st, 0, &txn, NULL) == 0)
				(void)entry_anchor(txn, top, anchor,
				    sizeof(anchor));
			store_txn_abort(txn);
		}
		v->trusted = 1;
		v->reason = TRUSTFS_CHAIN_OK;
		snprintf(v->entry, sizeof(v->entry), "roots/%s", anchor);
		snprintf(v->message, sizeof(v->message), "chain verified to "
		    "roots/%s", anchor);
		rc = 0;
		goto out;
	}
	/* "No issuer" because roots/ could not be read is no verdict. */
	if (lookup_failed) {
		trustfs_set_errorx(t, "reading roots/: the store could not be "
		    "read while the chain was verified");
		goto out;
	}
	v->trusted = 0;
	v->reason = reason_of(X509_STORE_CTX_get_error(ctx));
	chain_failure(ctx, host, v, cause, causelen);
	rc = 0;
out:
	if (rc < 0) {
		v->trusted = 0;
		if (!t->err.msg[0])
			trustfs_set_errorx(t, "chain verification could not "
			    "run");
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	sk_X509_pop_free(untrusted, X509_free);
	ERR_clear_error();
	return rc;
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
	rc = check_chain(t, host, chain, v, NULL, 0);
	if (rc != 0)
		v->trusted = 0;
	return rc;
}

static int
check_mode(struct trustfs *t, enum trustfs_mode mode, const char *host,
    unsigned int port, STACK_OF(X509) *chain, struct trustfs_verdict *v)
{
	char hp[300], name[256], cause[300] = "", msg[sizeof(v->message)];
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

	switch (mode) {
	case TRUSTFS_MODE_TOFU:
	case TRUSTFS_MODE_PINNED:
		/* A pin never overrides a distrust decision. */
		rc = is_distrusted_sha(t, v->sha256, name, sizeof(name));
		if (rc < 0)
			return -1;
		if (rc == 1)
			return check_distrusted(t, chain, v) < 0 ? -1 : 0;
		return check_tofu(t, hp, leaf, mode == TRUSTFS_MODE_TOFU, v);
	case TRUSTFS_MODE_CHAIN:
		return check_chain(t, host, chain, v, NULL, 0);
	case TRUSTFS_MODE_CHAIN_OR_TOFU:
		rc = check_chain(t, host, chain, v, cause, sizeof(cause));
		if (rc != 0 || v->trusted || v->reason == TRUSTFS_DISTRUSTED)
			return rc;
		rc = check_tofu(t, hp, leaf, 1, v);
		v->mode = mode;
		/* Say that the chain failed and why, before what tofu did:
		 * a first-use pin must not hide a missing intermediate. */
		if (rc == 0) {
			snprintf(msg, sizeof(msg), "chain: %s; %s", cause,
			    v->message);
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
	int rc;

	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if (v == NULL || t == NULL || handle_ready(t) != 0)
		return -1;
	rc = check_mode(t, mode, host, port, chain, v);
	/* -1 never leaves a verdict that reads as trust. */
	if (rc != 0)
		v->trusted = 0;
	return rc;
}

int
trustfs_check(struct trustfs *t, const char *host, unsigned int port,
    STACK_OF(X509) *chain, struct trustfs_verdict *v)
{
	const struct policy *p;
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
	rc = check_mode(t, policy_mode(p, hp), host, port, chain, v);
	if (rc != 0)
		v->trusted = 0;
	return rc;
}

int
trustfs_ssl_check(struct trustfs *t, SSL *ssl, const char *host,
    unsigned int port, struct trustfs_verdict *v)
{
	STACK_OF(X509) *chain;

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
	return trustfs_check(t, host, port, chain, v);
}
