/*
 * libtrustfs: the chain modes' verification (DESIGN sections 5 and 6,
 * issue 13): roots from roots/ through the LMDB look-up, intermediates
 * from the peer and chains/, distrusted/, and on top of OpenSSL's checks
 * the strict rules (strict.c) and the CRLs of crls/ with those handed in
 * through the options.
 * Every path that cannot decide refuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "chain.h"
#include "crl.h"
#include "entry.h"
#include "strict.h"

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

int
chain_is_distrusted_sha(struct trustfs *t, const unsigned char *sha, char *name,
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

int
chain_check_distrusted(struct trustfs *t, STACK_OF(X509) *sk,
    struct trustfs_verdict *v)
{
	unsigned char sha[32];
	char name[256], *subj;
	int i, rc;

	for (i = 0; i < sk_X509_num(sk); i++) {
		cert_sha256(sk_X509_value(sk, i), sha);
		rc = chain_is_distrusted_sha(t, sha, name, sizeof(name));
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
	/* host is the name or address checked; never NULL here. */
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


/*
 * The message of a strict refusal, in the style of OpenSSL's: what the
 * rule found, then the depth and subject of the certificate, as
 * "RSA key too small: 1024 bits (2048 at least) (depth 0: CN=x)".
 */
static void
strict_failure(const struct strict_refusal *r, STACK_OF(X509) *path,
    const char *name, struct trustfs_verdict *v, char *cause,
    size_t causelen)
{
	X509 *x = path != NULL && r->depth >= 0 && r->depth <
	    sk_X509_num(path) ? sk_X509_value(path, r->depth) : NULL;
	char *subj = x ? cert_name_str(X509_get_subject_name(x)) : NULL;
	char dummy[1];

	if (cause == NULL) {
		cause = dummy;
		causelen = sizeof(dummy);
	}
	if (r->reason == TRUSTFS_NAME_MISMATCH) {
		snprintf(v->message, sizeof(v->message), "hostname mismatch: "
		    "the certificate (%s) is not valid for %s: %s", v->subject,
		    name, r->what);
		snprintf(cause, causelen, "hostname mismatch (not valid for "
		    "%s: no subjectAltName)", name);
	} else {
		snprintf(v->message, sizeof(v->message), "%s (depth %d: %s)",
		    r->what, r->depth, subj && subj[0] ? subj : "no subject");
		snprintf(cause, causelen, "%s (%s)", r->what, subj &&
		    subj[0] ? subj : "no subject");
	}
	free(subj);
}

/* "[::1]" as a URL writes it: "::1" in ip, and 1; 0 for a DNS name. */
static int
host_ip(const char *host, char *ip, size_t iplen)
{
	ASN1_OCTET_STRING *a;
	char *end;

	snprintf(ip, iplen, "%s", host);
	if (ip[0] == '[' && (end = strchr(ip, ']')) != NULL) {
		*end = '\0';
		memmove(ip, ip + 1, strlen(ip));
	}
	a = a2i_IPADDRESS(ip);
	ERR_clear_error();
	ASN1_OCTET_STRING_free(a);
	return a != NULL;
}

static int
purpose_id(enum trustfs_purpose p)
{
	switch (p) {
	case TRUSTFS_PURPOSE_SSL_CLIENT:
		return X509_PURPOSE_SSL_CLIENT;
	case TRUSTFS_PURPOSE_ANY:
		return X509_PURPOSE_ANY;
	default:
		return X509_PURPOSE_SSL_SERVER;
	}
}

/*
 * The verification parameters of a check: the name, and then what cp
 * asks.  Strict: X509_V_FLAG_X509_STRICT, security level 2 (112-bit
 * keys: RSA 2048, P-224), no partial wildcards, never the subject CN
 * (RFC 6125 6.4.4).  0, or -1 with the handle's error set.
 */
static int
chain_param(struct trustfs *t, X509_STORE_CTX *ctx, const char *host,
    const struct chain_params *cp, STACK_OF(X509_CRL) *crls,
    struct strict_state *s)
{
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	const struct trustfs_verify_opts *o = cp->opts;
	char ip[64];
	int is_ip = host != NULL && host_ip(host, ip, sizeof(ip));
	unsigned long flags = 0;

	if (o != NULL && o->ip != NULL && is_ip) {
		trustfs_set_errorx(t, "give the address as the host or as the "
		    "IP option, not both");
		return -1;
	}
	if (cp->strict)
		X509_VERIFY_PARAM_set_hostflags(param,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
		    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	/* An IP literal is matched against iPAddress SANs only (RFC 6125
	 * 1.7.2). */
	if (host != NULL && (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(param,
	    ip) : !X509_VERIFY_PARAM_set1_host(param, host, 0)))
		goto bad;
	if (o != NULL && o->ip != NULL &&
	    !X509_VERIFY_PARAM_set1_ip_asc(param, o->ip))
		goto bad;
	s->purpose = o ? o->purpose : TRUSTFS_PURPOSE_SSL_SERVER;
	if (!X509_VERIFY_PARAM_set_purpose(param, purpose_id(s->purpose)))
		goto bad;
	if (o != NULL && o->depth >= 0)
		X509_VERIFY_PARAM_set_depth(param, o->depth);
	if (o != NULL && o->have_time)
		X509_VERIFY_PARAM_set_time(param, o->at);
	s->strict = cp->strict;
	s->revocation = cp->revocation;
	if (cp->strict) {
		flags |= X509_V_FLAG_X509_STRICT;
		X509_VERIFY_PARAM_set_auth_level(param, 2);
	}
	/* prefer with no CRL at all is no revocation check: today's paths
	 * stay as they were.  require with none refuses ("no-crl").  off
	 * leaves the CRLs out, the strict rule on CRL numbers included.
	 * crls holds crls/ and the options' CRLs (chain_check). */
	s->leaf_ocsp_good = cp->leaf_ocsp_good;
	if (cp->revocation == TRUSTFS_REVOCATION_REQUIRE ||
	    (cp->revocation == TRUSTFS_REVOCATION_PREFER &&
	    sk_X509_CRL_num(crls) > 0)) {
		s->crls = crls;
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
		X509_STORE_CTX_set0_crls(ctx, s->crls);
	}
	if (flags != 0 && !X509_VERIFY_PARAM_set_flags(param, flags))
		goto bad;
	X509_STORE_CTX_set_app_data(ctx, s);
	X509_STORE_CTX_set_verify_cb(ctx, strict_verify_cb);
	return 0;
bad:
	trustfs_set_errorx(t, "setting up the verification: out of memory");
	return -1;
}

/* The anchor's name in roots/, for the verdict. */
static void
chain_ok(struct trustfs *t, STACK_OF(X509) *path, struct trustfs_verdict *v)
{
	struct store_txn *txn = NULL;
	char anchor[256] = "";

	if (store_txn_begin(t->st, 0, &txn, NULL) == 0)
		(void)entry_anchor(txn, sk_X509_value(path,
		    sk_X509_num(path) - 1), anchor, sizeof(anchor));
	store_txn_abort(txn);
	v->trusted = 1;
	v->reason = TRUSTFS_CHAIN_OK;
	snprintf(v->entry, sizeof(v->entry), "roots/%s", anchor);
	snprintf(v->message, sizeof(v->message), "chain verified to "
	    "roots/%s", anchor);
}

static void
str_free(char *p)
{
	free(p);
}

/*
 * The CRLs of a check: those of crls/ (read in a transaction of their
 * own), then those of the options.  None for revocation=off.  0, or -1
 * with the handle's error set: a crls/ that cannot be read is no "no
 * CRL" (that could pass a revoked certificate under prefer).
 */
static int
chain_crls(struct trustfs *t, const struct chain_params *cp,
    STACK_OF(X509_CRL) *crls, STACK_OF(OPENSSL_STRING) *names)
{
	const struct trustfs_verify_opts *o = cp->opts;
	struct store_txn *txn = NULL;
	struct tf_error se = { 0 };
	X509_CRL *crl;
	char *n;
	int i, rc;

	if (cp->revocation == TRUSTFS_REVOCATION_OFF)
		return 0;
	rc = store_txn_begin(t->st, 0, &txn, &se);
	if (rc == 0)
		rc = crl_load_all(txn, crls, names);
	store_txn_abort(txn);
	if (rc != 0) {
		trustfs_set_errorx(t, "reading crls/: %s", se.msg[0] ? se.msg :
		    strerror(-rc));
		return -1;
	}
	for (i = 0; o != NULL && i < sk_X509_CRL_num(o->crls); i++) {
		crl = sk_X509_CRL_value(o->crls, i);
		n = strdup("a CRL given to the check");
		if (n == NULL || !X509_CRL_up_ref(crl)) {
			free(n);
			goto nomem;
		}
		if (!sk_X509_CRL_push(crls, crl)) {
			X509_CRL_free(crl);
			free(n);
			goto nomem;
		}
		if (!sk_OPENSSL_STRING_push(names, n)) {
			free(n);
			X509_CRL_free(sk_X509_CRL_pop(crls));
			goto nomem;
		}
	}
	return 0;
nomem:
	trustfs_set_errorx(t, "reading the CRLs: out of memory");
	return -1;
}

/*
 * The message of a revoked certificate (which one, which CRL, since
 * when) or of one with no current CRL under revocation=require.
 */
static void
revocation_failure(X509_STORE_CTX *ctx, STACK_OF(X509_CRL) *crls,
    STACK_OF(OPENSSL_STRING) *names, struct trustfs_verdict *v,
    char *cause, size_t causelen)
{
	X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	const char *what = X509_verify_cert_error_string(
	    X509_STORE_CTX_get_error(ctx));
	char *subj = NULL, *iss = NULL, tm[64] = "?", serial[100] = "?";
	const char *where = NULL;
	X509_REVOKED *rev = NULL;
	struct tm t;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int i;

	if (bad == NULL)
		return;
	subj = cert_name_str(X509_get_subject_name(bad));
	iss = cert_name_str(X509_get_issuer_name(bad));
	if (v->reason == TRUSTFS_NO_CRL) {
		snprintf(v->message, sizeof(v->message), "%s (depth %d: %s): no "
		    "current CRL from its issuer %s in crls/%s (revocation="
		    "require)", what, depth, subj ? subj : "?", iss ? iss : "?",
		    depth == 0 ? " and no good stapled OCSP response" : "");
		if (cause != NULL)
			snprintf(cause, causelen, "%s (%s: no current CRL)", what,
			    subj ? subj : "?");
		goto out;
	}
	for (i = 0; i < sk_X509_CRL_num(crls) && where == NULL; i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		    X509_get_issuer_name(bad)) == 0 &&
		    X509_CRL_get0_by_cert(crl, &rev, bad) == 1)
			where = i < sk_OPENSSL_STRING_num(names) ?
			    sk_OPENSSL_STRING_value(names, i) : "a CRL";
	}
	if (rev != NULL && ASN1_TIME_to_tm(
	    X509_REVOKED_get0_revocationDate(rev), &t))
		cert_time_str(timegm(&t), tm, sizeof(tm));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(bad), NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	if (hex != NULL)
		snprintf(serial, sizeof(serial), "%s", hex);
	snprintf(v->message, sizeof(v->message), "%s (depth %d: %s): serial %s "
	    "is listed in %s, revoked %s", what, depth, subj ? subj : "?",
	    serial, where ? where : "a CRL", tm);
	if (cause != NULL)
		snprintf(cause, causelen, "%s (%s, in %s)", what, subj ? subj :
		    "?", where ? where : "a CRL");
out:
	OPENSSL_free(hex);
	BN_free(bn);
	free(subj);
	free(iss);
}

/*
 * OpenSSL uses one CRL per issuer (the best by its score); the CRLs of
 * crls/ and the options add up, so a path it accepted is looked up in
 * every CRL of each issuer too, one signed by that issuer.  1 with the
 * verdict filled in for the first revoked certificate, else 0.
 */
static int
revoked_any(STACK_OF(X509) *path, STACK_OF(X509_CRL) *crls,
    STACK_OF(OPENSSL_STRING) *names, struct trustfs_verdict *v)
{
	X509_REVOKED *rev = NULL;
	X509_CRL *crl;
	X509 *x, *issuer;
	char *subj, tm[64] = "?";
	struct tm t;
	int i, j;

	for (i = 0; i + 1 < sk_X509_num(path); i++) {
		x = sk_X509_value(path, i);
		issuer = sk_X509_value(path, i + 1);
		for (j = 0; j < sk_X509_CRL_num(crls); j++) {
			crl = sk_X509_CRL_value(crls, j);
			if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
			    X509_get_subject_name(issuer)) != 0 ||
			    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1 ||
			    X509_CRL_get0_by_cert(crl, &rev, x) != 1)
				continue;
			if (ASN1_TIME_to_tm(
			    X509_REVOKED_get0_revocationDate(rev), &t))
				cert_time_str(timegm(&t), tm, sizeof(tm));
			subj = cert_name_str(X509_get_subject_name(x));
			v->trusted = 0;
			v->reason = TRUSTFS_REVOKED;
			snprintf(v->message, sizeof(v->message), "%s (depth %d: "
			    "%s): listed in %s, revoked %s",
			    X509_verify_cert_error_string(X509_V_ERR_CERT_REVOKED),
			    i, subj ? subj : "?", j < sk_OPENSSL_STRING_num(names) ?
			    sk_OPENSSL_STRING_value(names, j) : "a CRL", tm);
			free(subj);
			ERR_clear_error();
			return 1;
		}
	}
	ERR_clear_error();
	return 0;
}

int
chain_check(struct trustfs *t, const char *host, STACK_OF(X509) *chain,
    const struct chain_params *cp, struct trustfs_verdict *v, char *cause,
    size_t causelen)
{
	STACK_OF(X509) *untrusted = NULL, *path;
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(OPENSSL_STRING) *cnames = NULL;
	struct strict_state s;
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *xs = NULL;
	X509 *leaf = sk_X509_value(chain, 0);
	const char *name;
	int i, rc, lookup_failed = 0;

	memset(&s, 0, sizeof(s));
	rc = chain_check_distrusted(t, chain, v);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = -1;
	crls = sk_X509_CRL_new_null();
	cnames = sk_OPENSSL_STRING_new_null();
	untrusted = sk_X509_new_null();
	xs = x509_store_new(t, &lookup_failed);
	ctx = X509_STORE_CTX_new();
	if (untrusted == NULL || xs == NULL || ctx == NULL || crls == NULL ||
	    cnames == NULL)
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
	if (chain_crls(t, cp, crls, cnames) != 0)
		goto out;
	if (chain_param(t, ctx, host, cp, crls, &s) != 0)
		goto out;
	name = host ? host : cp->opts && cp->opts->ip ? cp->opts->ip : "?";

	if (X509_verify_cert(ctx) == 1) {
		path = X509_STORE_CTX_get0_chain(ctx);
		/* The path OpenSSL built may run through a distrusted
		 * certificate that the peer did not send. */
		rc = chain_check_distrusted(t, path, v);
		if (rc != 0) {
			rc = rc < 0 ? -1 : 0;
			goto out;
		}
		/* Every certificate of the path under the rules, whether
		 * or not the callback saw it. */
		if (s.crls != NULL && revoked_any(path, s.crls, cnames, v)) {
			if (cause != NULL)
				snprintf(cause, causelen, "%s", v->message);
		} else if (strict_finish(&s, path) != 0) {
			v->trusted = 0;
			v->reason = s.r.reason;
			strict_failure(&s.r, path, name, v, cause, causelen);
		} else
			chain_ok(t, path, v);
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
	if (s.r.reason != TRUSTFS_REASON_NONE) {
		v->reason = s.r.reason;
		strict_failure(&s.r, X509_STORE_CTX_get0_chain(ctx), name, v,
		    cause, causelen);
	} else {
		v->reason = strict_reason_of(X509_STORE_CTX_get_error(ctx));
		chain_failure(ctx, name, v, cause, causelen);
		if (v->reason == TRUSTFS_REVOKED || v->reason == TRUSTFS_NO_CRL)
			revocation_failure(ctx, crls, cnames, v, cause,
			    causelen);
	}
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
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_OPENSSL_STRING_pop_free(cnames, str_free);
	ERR_clear_error();
	return rc;
}

int
chain_find_issuer(struct trustfs *t, STACK_OF(X509) *chain, X509 **out)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *xs = NULL;
	X509 *leaf = sk_X509_value(chain, 0), *x;
	int i, rc = -1;

	*out = NULL;
	untrusted = sk_X509_new_null();
	if (untrusted == NULL)
		goto out;
	for (i = 1; i < sk_X509_num(chain); i++) {
		x = sk_X509_value(chain, i);
		X509_up_ref(x);
		if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			goto out;
		}
	}
	if (add_chain_intermediates(t, untrusted, leaf) != 0)
		goto out;
	for (i = 0; i < sk_X509_num(untrusted) && *out == NULL; i++) {
		x = sk_X509_value(untrusted, i);
		if (X509_check_issued(x, leaf) == X509_V_OK &&
		    X509_verify(leaf, X509_get0_pubkey(x)) == 1) {
			X509_up_ref(x);
			*out = x;
		}
	}
	rc = 0;
	if (*out != NULL)
		goto out;
	/* A leaf issued by a root: roots/ through the look-up. */
	xs = x509_store_new(t, NULL);
	ctx = X509_STORE_CTX_new();
	if (xs == NULL || ctx == NULL || !X509_STORE_CTX_init(ctx, xs, leaf,
	    untrusted)) {
		rc = -1;
		goto out;
	}
	if (X509_STORE_CTX_get1_issuer(out, ctx, leaf) != 1 ||
	    X509_verify(leaf, X509_get0_pubkey(*out)) != 1) {
		X509_free(*out);
		*out = NULL;
	}
out:
	if (rc != 0 && !t->err.msg[0])
		trustfs_set_errorx(t, "looking for the issuer: out of memory");
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	sk_X509_pop_free(untrusted, X509_free);
	ERR_clear_error();
	return rc;
}
