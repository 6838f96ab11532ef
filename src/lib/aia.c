/*
 * AIA caIssuers: the intermediate a server did not send, fetched from the
 * URL its certificate names (RFC 5280 4.2.2.1) and kept in chains/ once
 * it is shown to be a CA that chains to roots/.  The URL comes from a
 * certificate nobody trusts yet, so everything about the fetch is
 * bounded (plain http://, size, time) and nothing it returns is used
 * before it verifies: a failure only leaves the chain as it was, and the
 * check that follows refuses it in OpenSSL's words.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "aia.h"
#include "cert.h"
#include "chain.h"
#include "entry.h"
#include "fetch.h"
#include "origin.h"

extern char *program_invocation_short_name;

int
aia_url(X509 *x, char *url, size_t urllen)
{
	AUTHORITY_INFO_ACCESS *aia;
	ACCESS_DESCRIPTION *ad;
	const ASN1_IA5STRING *u;
	int i, found = 0;

	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia) &&
	    !found; i++) {
		ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) != NID_ad_ca_issuers ||
		    ad->location->type != GEN_URI)
			continue;
		u = ad->location->d.uniformResourceIdentifier;
		/* http:// only, printable, no NUL, and it must fit. */
		if (u->length < 8 || (size_t)u->length >= urllen ||
		    strncasecmp((const char *)u->data, "http://", 7) != 0 ||
		    memchr(u->data, '\0', (size_t)u->length) != NULL)
			continue;
		memcpy(url, u->data, (size_t)u->length);
		url[u->length] = '\0';
		found = 1;
		for (size_t k = 0; url[k]; k++)
			if ((unsigned char)url[k] <= 0x20 ||
			    (unsigned char)url[k] >= 0x7f)
				found = 0;
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return found;
}

struct roots_find {
	int yes;
};

static int
roots_cb(enum store_db db, const char *name, void *arg)
{
	struct roots_find *r = arg;

	(void)name;
	if (db == STORE_ROOTS)
		r->yes = 1;
	return r->yes;
}

/* 1 if x is in roots/, 0 if not, -1 with t's error set. */
static int
in_roots(struct trustfs *t, X509 *x)
{
	struct store_txn *txn = NULL;
	struct roots_find r = { 0 };
	unsigned char sha[32];
	int rc;

	cert_sha256(x, sha);
	rc = store_txn_begin(t->st, 0, &txn, NULL);
	if (rc == 0)
		rc = store_find_sha256(txn, sha, roots_cb, &r);
	store_txn_abort(txn);
	if (rc < 0) {
		trustfs_set_errorx(t, "reading roots/: %s", strerror(-rc));
		return -1;
	}
	return r.yes;
}

/*
 * The certificate on the path up from chain's leaf (through the chain,
 * chains/ and roots/) whose issuer is nowhere: 0 with *out referenced, or
 * NULL when the path ends at a self-signed certificate or at a root; -1
 * with t's error set.
 */
static int
missing_link(struct trustfs *t, STACK_OF(X509) *chain, X509 **out)
{
	STACK_OF(X509) *tmp;
	X509 *cur = sk_X509_value(chain, 0), *iss = NULL;
	int depth, rc = 0, owned = 0;

	*out = NULL;
	tmp = sk_X509_dup(chain);	/* shallow: [0] is replaced below */
	if (tmp == NULL) {
		trustfs_set_errorx(t, "out of memory");
		return -1;
	}
	for (depth = 0; depth < 10; depth++) {
		if (X509_check_issued(cur, cur) == X509_V_OK)
			break;
		rc = in_roots(t, cur);
		if (rc != 0)
			break;
		(void)sk_X509_set(tmp, 0, cur);
		rc = chain_find_issuer(t, tmp, &iss);
		if (rc != 0)
			break;
		if (iss == NULL) {
			X509_up_ref(cur);
			*out = cur;
			break;
		}
		if (owned)
			X509_free(cur);
		cur = iss;
		owned = 1;
	}
	if (owned)
		X509_free(cur);
	sk_X509_free(tmp);
	return rc < 0 ? -1 : 0;
}

/* What a fetch of one link found. */
struct link {
	char url[1024];
	X509 *issuer;		/* referenced; NULL: none usable */
	STACK_OF(X509) *rest;	/* the other certificates of the body */
	char why[400];		/* why none is usable */
	unsigned char sha[32];	/* of the refused certificate */
	int refused;		/* a certificate came back and was refused */
};

static void
link_free(struct link *l)
{
	X509_free(l->issuer);
	sk_X509_pop_free(l->rest, X509_free);
	memset(l, 0, sizeof(*l));
}

/*
 * Fetches the caIssuers URL of child into l: l->issuer is a CA
 * certificate whose key signed child, or NULL with l->why set.
 */
static void
fetch_link(X509 *child, struct link *l)
{
	struct net_opts o = { 0 };
	struct tf_error e = { 0 };
	struct buf b = { 0 };
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	int i, rc;

	o.schemes = NET_HTTP;
	o.max_bytes = AIA_MAX_BYTES;
	o.timeout = AIA_TIMEOUT;
	o.stall_seconds = AIA_STALL;
	rc = net_fetch(l->url, &o, &b, NULL, 0, &e);
	if (rc == 0)
		rc = cert_parse(b.data, b.len, AIA_MAX_BYTES, &sk, &e);
	buf_free(&b);
	if (rc != 0) {
		snprintf(l->why, sizeof(l->why), "%s", e.msg[0] ? e.msg :
		    strerror(-rc));
		return;
	}
	for (i = 0; i < sk_X509_num(sk) && l->issuer == NULL; i++) {
		x = sk_X509_value(sk, i);
		if (X509_check_issued(x, child) != X509_V_OK ||
		    X509_verify(child, X509_get0_pubkey(x)) != 1)
			continue;
		l->refused = 1;
		cert_sha256(x, l->sha);
		if (X509_check_ca(x) != 1) {
			snprintf(l->why, sizeof(l->why), "%s: not a CA "
			    "certificate (basicConstraints CA:TRUE is needed)",
			    l->url);
			break;
		}
		l->issuer = sk_X509_delete(sk, i);
		l->refused = 0;
	}
	if (l->issuer == NULL && !l->why[0])
		snprintf(l->why, sizeof(l->why), "%s: no certificate in it "
		    "issued the one that names it", l->url);
	if (l->issuer != NULL)
		l->rest = sk;
	else
		sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
}

struct store_args {
	STACK_OF(X509) *certs;	/* to store, or NULL: audit a refusal */
	const char *url;
	const unsigned char *sha;
	const char *why;
	struct entry_result res;
	struct tf_error err;
};

static int
store_txn(struct store_txn *txn, void *arg)
{
	struct store_args *a = arg;
	struct entry_actor who = { getuid(), getpid(),
	    program_invocation_short_name };

	char src[ORIGIN_MAX];
	int rc;

	if (a->certs == NULL)
		return entry_audit(txn, &who, "aia", "chains", a->sha, a->why);
	rc = entry_add(txn, STORE_CHAINS, NULL, a->certs, ENTRY_AUTOLABEL,
	    &who, &a->res, &a->err);
	/* Source: AIA URL (origin.h), with the entry it describes. */
	snprintf(src, sizeof(src), "AIA %s", a->url);
	if (rc == 0 && a->res.outcome != ENTRY_UNCHANGED)
		rc = origin_set(txn, STORE_CHAINS, a->res.name, src);
	return rc;
}

/*
 * The links fetched so far (leaf side first) under OpenSSL's rules to
 * roots/, any purpose, the other certificates of the bodies as
 * intermediates: 0 with v filled in, or -1 with t's error set.
 */
static int
verify_links(struct trustfs *t, STACK_OF(X509) *links, STACK_OF(X509) *extra,
    const struct chain_params *cp, struct trustfs_verdict *v)
{
	struct trustfs_verify_opts *o;
	struct chain_params lcp = *cp;
	STACK_OF(X509) *sk;
	int i, rc = -1;

	o = trustfs_verify_opts_new();
	sk = sk_X509_dup(links);
	for (i = 0; sk != NULL && i < sk_X509_num(extra); i++)
		if (!sk_X509_push(sk, sk_X509_value(extra, i)))
			goto out;
	if (o == NULL || sk == NULL ||
	    trustfs_verify_opts_set_purpose(o, TRUSTFS_PURPOSE_ANY) != 0)
		goto out;
	if (cp->opts != NULL && cp->opts->have_time &&
	    trustfs_verify_opts_set_time(o, cp->opts->at) != 0)
		goto out;
	/* A CA at depth 0 is no leaf: the strict rules judge the whole
	 * chain in the check that follows. */
	lcp.strict = 0;
	lcp.opts = o;
	lcp.leaf_ocsp_good = 0;
	memset(v, 0, sizeof(*v));
	rc = chain_check(t, NULL, sk, &lcp, v, NULL, 0);
out:
	if (rc != 0 && !t->err.msg[0])
		trustfs_set_errorx(t, "AIA: out of memory");
	sk_X509_free(sk);
	trustfs_verify_opts_free(o);
	return rc;
}

/* Fetches from cur's URL on, up to AIA_MAX_FETCHES links, until the links
 * chain to roots/; then stores them.  1 stored, 0 not, -1 error. */
static int
fetch_path(struct trustfs *t, X509 *cur, const struct chain_params *cp,
    char *note, size_t notelen)
{
	STACK_OF(X509) *links = sk_X509_new_null(), *extra = sk_X509_new_null();
	struct store_args a = { 0 };
	struct trustfs_verdict v;
	struct link l = { 0 };
	int n, rc = -1, done = 0;

	if (links == NULL || extra == NULL) {
		trustfs_set_errorx(t, "out of memory");
		goto out;
	}
	for (n = 0; n < AIA_MAX_FETCHES && !done; n++) {
		link_free(&l);
		if (!aia_url(cur, l.url, sizeof(l.url))) {
			snprintf(note, notelen, "AIA: no http:// caIssuers URL "
			    "in the certificate whose issuer is missing");
			rc = 0;
			goto out;
		}
		fetch_link(cur, &l);
		if (l.issuer == NULL) {
			snprintf(note, notelen, "AIA: %s", l.why);
			rc = 0;
			if (l.refused) {
				a = (struct store_args){ .sha = l.sha,
				    .why = l.why };
				(void)store_write(t->st, store_txn, &a, NULL);
			}
			goto out;
		}
		if (!sk_X509_push(links, l.issuer)) {
			trustfs_set_errorx(t, "out of memory");
			goto out;
		}
		cur = l.issuer;
		l.issuer = NULL;
		while (sk_X509_num(l.rest) > 0)
			if (!sk_X509_push(extra, sk_X509_value(l.rest, 0)))
				break;
			else
				(void)sk_X509_shift(l.rest);
		if (verify_links(t, links, extra, cp, &v) != 0)
			goto out;
		if (v.trusted)
			done = 1;
		else if (v.reason != TRUSTFS_UNKNOWN_ISSUER ||
		    X509_check_issued(cur, cur) == X509_V_OK) {
			snprintf(note, notelen, "AIA: %s: does not chain to "
			    "roots/: %s", l.url, v.message);
			rc = 0;
			goto out;
		}
	}
	if (!done) {
		snprintf(note, notelen, "AIA: %s: no path to roots/ after %d "
		    "fetches", l.url, AIA_MAX_FETCHES);
		rc = 0;
		goto out;
	}
	a = (struct store_args){ .certs = links, .url = l.url };
	rc = store_write(t->st, store_txn, &a, &a.err);
	if (rc != 0) {
		/* A client that may not write the store (read-only): the
		 * chain stays refused, and the verdict says why. */
		snprintf(note, notelen, "AIA: %s: could not store it in "
		    "chains/: %s", l.url, a.err.msg[0] ? a.err.msg :
		    strerror(-rc));
		rc = 0;
		goto out;
	}
	snprintf(note, notelen, "AIA: fetched chains/%s from %s", a.res.name,
	    l.url);
	rc = 1;
out:
	link_free(&l);
	sk_X509_pop_free(links, X509_free);
	sk_X509_pop_free(extra, X509_free);
	return rc;
}

int
aia_complete(struct trustfs *t, const char *host, STACK_OF(X509) *chain,
    const struct chain_params *cp, char *note, size_t notelen)
{
	char dummy[8];
	X509 *cur = NULL;
	int rc;

	(void)host;
	if (note == NULL) {
		note = dummy;
		notelen = sizeof(dummy);
	}
	note[0] = '\0';
	/* Only when an issuer is nowhere: a walk up the issuers, cheaper
	 * than the chain check that follows (no CRLs, no rules). */
	if (missing_link(t, chain, &cur) != 0)
		return -1;
	if (cur == NULL)
		return 0;
	rc = fetch_path(t, cur, cp, note, notelen);
	X509_free(cur);
	return rc;
}

static int
subject_cb(enum store_db db, const char *name, void *arg)
{
	(void)name;
	if (db == STORE_ROOTS || db == STORE_CHAINS)
		*(int *)arg = 1;
	return *(int *)arg;
}

/*
 * A quick look, one read transaction and index look-ups only: 1 if the
 * issuer the presented chain ends with (following issuers within the
 * chain from its leaf) is self-signed or has its subject in roots/ or
 * chains/, 0 if that subject is nowhere, -1 with t's error set.
 */
static int
top_issuer_known(struct trustfs *t, STACK_OF(X509) *chain)
{
	struct store_txn *txn = NULL;
	X509 *cur = sk_X509_value(chain, 0), *x;
	int i, depth, next, found = 0, ok, rc;
	uint32_t h;

	for (depth = 0; depth < sk_X509_num(chain); depth++) {
		if (X509_check_issued(cur, cur) == X509_V_OK)
			return 1;
		for (i = 0, next = 0; i < sk_X509_num(chain) && !next; i++) {
			x = sk_X509_value(chain, i);
			if (x != cur && X509_check_issued(x, cur) == X509_V_OK) {
				cur = x;
				next = 1;
			}
		}
		if (!next)
			break;
	}
	h = (uint32_t)X509_NAME_hash_ex(X509_get_issuer_name(cur), NULL, NULL,
	    &ok);
	if (!ok)
		return 0;
	rc = store_txn_begin(t->st, 0, &txn, NULL);
	if (rc == 0)
		rc = store_find_subject(txn, h, subject_cb, &found);
	store_txn_abort(txn);
	if (rc < 0) {
		trustfs_set_errorx(t, "AIA: reading the store: %s",
		    strerror(-rc));
		return -1;
	}
	return found;
}

/*
 * chain-or-tofu falls back to a pin when the chain fails, so its missing
 * issuer is looked for before the check: a quick look at the store's
 * subject index first, the walk up the issuers only when the chain's top
 * issuer is nowhere; chain looks after a check that failed for want of
 * an issuer only (aia_again), so a chain that verifies costs nothing
 * more.
 */
int
aia_before(struct trustfs *t, const struct policy_line *pl, const char *host,
    STACK_OF(X509) *chain, const struct chain_params *cp, char *note,
    size_t notelen)
{
	int rc;

	note[0] = '\0';
	if (!pl->aia_fetch || pl->mode != TRUSTFS_MODE_CHAIN_OR_TOFU)
		return 0;
	rc = top_issuer_known(t, chain);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return aia_complete(t, host, chain, cp, note, notelen) < 0 ? -1 : 0;
}

int
aia_again(struct trustfs *t, const struct policy_line *pl, const char *host,
    STACK_OF(X509) *chain, const struct chain_params *cp,
    const struct trustfs_verdict *v, char *note, size_t notelen)
{
	if (!pl->aia_fetch || pl->mode != TRUSTFS_MODE_CHAIN || v->trusted ||
	    v->reason != TRUSTFS_UNKNOWN_ISSUER)
		return 0;
	return aia_complete(t, host, chain, cp, note, notelen);
}

void
aia_after(struct trustfs_verdict *v, const char *note)
{
	char msg[sizeof(v->message)];

	if (note[0] == '\0')
		return;
	snprintf(msg, sizeof(msg), "%s; %s", v->message, note);
	memcpy(v->message, msg, sizeof(v->message));
}
