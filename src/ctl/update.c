/*
 * trustctl update [--force] [NAME...]: fetches the sources of MOUNT/sources
 * that are due (or those named) and imports each as `trustctl import URL'
 * does (issue 12), through the library's import: one transaction per
 * source, all or nothing.  Each source's last attempt, last success and
 * result are kept in the store (sources.h) for status and metrics; a
 * failure is audited and changes no trust material.  The HTTPS servers
 * are verified against the store's own roots/, distrust included.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "cert.h"
#include "cms.h"
#include "crl.h"
#include "ctl.h"
#include "entry.h"
#include "../net/est.h"	/* not ctl/est.h, trustctl est */
#include "fetch.h"
#include "handle.h"
#include "import.h"
#include "nettrust.h"
#include "origin.h"
#include "sources.h"
#include "trustfs.h"
#include "update.h"

/* What one source's update did, for its state and the output. */
struct outcome {
	char result[512];
};

/* The signer named by signer=LABEL: roots/LABEL.pem, else chains/. */
static int
load_signer(struct store *st, const char *label, X509 **out,
    struct tf_error *e)
{
	static const enum store_db dbs[] = { STORE_ROOTS, STORE_CHAINS };
	STACK_OF(X509) *sk = NULL;
	struct store_txn *txn = NULL;
	struct store_rec rec;
	char name[STORE_NAME_MAX + 1], file[STORE_NAME_MAX + 8];
	size_t i, n = strlen(label);
	int rc = -ENOENT;

	*out = NULL;
	/* signer=LABEL names LABEL.pem; LABEL.pem itself is taken too. */
	snprintf(file, sizeof(file), "%s%s", label, n > 4 &&
	    strcmp(label + n - 4, ".pem") == 0 ? "" : ".pem");
	if (store_txn_begin(st, 0, &txn, e) != 0)
		return -EIO;
	for (i = 0; i < 2 && rc == -ENOENT; i++) {
		if (entry_name(dbs[i], file, name, sizeof(name), NULL) != 0)
			continue;
		rc = store_get(txn, dbs[i], name, &rec);
		if (rc == 0)
			rc = entry_certs(&rec, &sk);
	}
	store_txn_abort(txn);
	if (rc == 0 && sk_X509_num(sk) > 0) {
		*out = sk_X509_shift(sk);
	} else if (rc == 0 || rc == -ENOENT) {
		rc = tf_error_setx(e, -ENOENT, "signer %s: not in roots/ or "
		    "chains/", label);
	} else
		tf_error_set(e, rc, "signer %s", label);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* sha256= of a source: the certificate must be among sk. */
static int
expect_in(STACK_OF(X509) *sk, const unsigned char *want, struct tf_error *e)
{
	unsigned char sha[32];
	char hex[100];
	int i;

	for (i = 0; i < sk_X509_num(sk); i++) {
		cert_sha256(sk_X509_value(sk, i), sha);
		if (memcmp(sha, want, 32) == 0)
			return 0;
	}
	cert_hex(want, 32, ':', hex);
	return tf_error_setx(e, -EACCES, "no certificate with SHA-256 %s in "
	    "it (sha256=)", hex);
}

/* "3 added, 120 unchanged, 1 removed" from an import's counts. */
static void
summary(const struct import_result *r, struct outcome *out)
{
	snprintf(out->result, sizeof(out->result), "ok: %zu added, %zu "
	    "unchanged, %zu distrusted, %zu refused", r->count[IMPORT_ADDED],
	    r->count[IMPORT_DUPLICATE], r->count[IMPORT_DISTRUSTED],
	    r->count[IMPORT_REFUSED]);
	if (r->crl_total > 0)
		snprintf(out->result + strlen(out->result),
		    sizeof(out->result) - strlen(out->result), "; CRLs: %zu "
		    "added, %zu unchanged, %zu refused",
		    r->crl_count[IMPORT_ADDED], r->crl_count[IMPORT_DUPLICATE],
		    r->crl_count[IMPORT_REFUSED]);
}

/* A bundle (type=bundle): fetched, its signer and fingerprint checked,
 * imported into roots/ with the URL as the roots' Source. */
static int
update_bundle(struct trustfs *t, const struct source *s,
    const struct net_opts *base, const struct entry_actor *who,
    struct outcome *out, struct tf_error *e)
{
	char src[ORIGIN_MAX];
	struct import_opts io = { .source = src, .replace = s->replace };
	struct import_result r = { 0 };
	struct net_opts o = *base;
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *sk = NULL;
	struct buf body = { 0 }, content = { 0 };
	X509 *signer = NULL;
	char ctype[128] = "";
	int rc, use_sk = 0;

	source_origin(s, src, sizeof(src));
	o.ctypes = net_bundle_types;
	rc = net_fetch(s->url, &o, &body, ctype, sizeof(ctype), e);
	if (rc == 0)
		rc = net_bundle_ctype_check(ctype, body.data, body.len, e);
	if (rc == 0 && s->signer[0]) {
		rc = load_signer(t->st, s->signer, &signer, e);
		if (rc == 0)
			rc = net_cms_verify(body.data, body.len, signer, &sk,
			    &content, e);
		/* A bundle signed as a file carries it as the content;
		 * otherwise the SignedData's certificates are the bundle. */
		use_sk = rc == 0 && content.len == 0;
		if (rc == 0 && content.len > 0) {
			sk_X509_pop_free(sk, X509_free);
			sk = NULL;
			buf_free(&body);
			body = content;
			memset(&content, 0, sizeof(content));
		}
	}
	if (rc == 0 && s->have_sha256 && sk == NULL)
		rc = import_split(body.data, body.len, &sk, &crls, e);
	if (rc == 0 && s->have_sha256)
		rc = expect_in(sk, s->sha256, e);
	if (rc == 0 && use_sk)
		rc = entry_import_certs(t->st, sk, &io, who, NULL, NULL, &r, e);
	else if (rc == 0)
		rc = entry_import_opts(t->st, body.data, body.len, &io, who,
		    NULL, NULL, &r, e);
	if (rc == 0)
		summary(&r, out);
	import_result_free(&r);
	sk_X509_pop_free(sk, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	X509_free(signer);
	buf_free(&content);
	buf_free(&body);
	return rc;
}

/* A CRL (type=crl): exactly one CRL, imported into crls/ as the mount's
 * import file takes it; one that is refused (older, issuer unknown)
 * fails the update. */
static int
update_crl(struct trustfs *t, const struct source *s,
    const struct net_opts *base, const struct entry_actor *who,
    struct outcome *out, struct tf_error *e)
{
	char src[ORIGIN_MAX];
	struct import_opts io = { .source = src };
	struct import_result r = { 0 };
	struct net_opts o = *base;
	struct buf body = { 0 };
	X509_CRL *crl = NULL;
	size_t i;
	int rc;

	source_origin(s, src, sizeof(src));
	o.max_bytes = CRL_INPUT_MAX;
	rc = net_fetch(s->url, &o, &body, NULL, 0, e);
	if (rc == 0)
		rc = crl_parse(body.data, body.len, CRL_INPUT_MAX, &crl, e);
	X509_CRL_free(crl);
	if (rc == 0)
		rc = entry_import_opts(t->st, body.data, body.len, &io, who,
		    NULL, NULL, &r, e);
	for (i = 0; rc == 0 && i < r.n; i++)
		if (r.items[i].crl && r.items[i].kind == IMPORT_REFUSED)
			rc = tf_error_setx(e, -EINVAL, "CRL refused: %s",
			    r.items[i].reason ? r.items[i].reason : "?");
	if (rc == 0)
		snprintf(out->result, sizeof(out->result), "ok: CRL %s",
		    r.crl_count[IMPORT_ADDED] ? "stored" : "unchanged");
	import_result_free(&r);
	buf_free(&body);
	return rc;
}

/*
 * EST /cacerts (type=est), by trustctl est's rules: the CA's root in
 * roots/NAME.pem (a root already in roots/ under any name stays as it
 * is), the other CA certificates in chains/NAME.pem, each with "EST URL"
 * as its Source, in one transaction; a NAME.pem that holds what another
 * source or a person put there is never replaced.  sha256= is RFC 7030
 * 4.1.1's manual authorization of a first root.
 */
struct est_args {
	const struct source *s;
	const char *src;
	STACK_OF(X509) *roots, *inter;
	const struct entry_actor *who;
	size_t added, unchanged;
	struct tf_error *e;
};

static int
est_add(struct store_txn *txn, struct est_args *a, enum store_db db,
    STACK_OF(X509) *sk)
{
	char name[SOURCES_NAME_MAX + 8], have[ORIGIN_MAX + 1];
	struct entry_result res;
	struct store_rec rec;
	int rc, exists;

	snprintf(name, sizeof(name), "%s.pem", a->s->name);
	rc = store_get(txn, db, name, &rec);
	exists = rc == 0;
	if (rc == 0)
		rc = origin_get(txn, db, name, have, sizeof(have));
	if (rc == 0 && strcmp(have, a->src) != 0)
		rc = -ENOENT;
	if (exists && rc == -ENOENT)
		return tf_error_setx(a->e, -EEXIST, "%s/%s holds certificates "
		    "that are not from %s: rename the source or remove it",
		    entry_db_dir(db), name, a->src);
	if (rc != 0 && rc != -ENOENT)
		return tf_error_set(a->e, rc, "%s/%s", entry_db_dir(db), name);
	rc = entry_add(txn, db, name, sk, exists ? ENTRY_REPLACE : 0, a->who,
	    &res, a->e);
	if (rc != 0)
		return rc;
	if (res.outcome == ENTRY_UNCHANGED) {
		a->unchanged += (size_t)sk_X509_num(sk);
		return 0;
	}
	a->added += (size_t)sk_X509_num(sk);
	return origin_set(txn, db, res.name, a->src);
}

static int
est_txn(struct store_txn *txn, void *arg)
{
	struct est_args *a = arg;
	char have[STORE_NAME_MAX + 1];
	X509 *root;
	int rc = 0;

	a->added = a->unchanged = 0;
	/* One root: the first self-signed CA (the expected one, when
	 * sha256= names it: net_est_cacerts made sure it is there). */
	root = sk_X509_num(a->roots) > 0 ? sk_X509_value(a->roots, 0) : NULL;
	if (root != NULL) {
		rc = entry_anchor(txn, root, have, sizeof(have));
		if (rc == 0)
			a->unchanged++;
		else if (rc == -ENOENT)
			rc = est_add(txn, a, STORE_ROOTS, a->roots);
	}
	if (rc == 0 && sk_X509_num(a->inter) > 0)
		rc = est_add(txn, a, STORE_CHAINS, a->inter);
	return rc;
}

static int
update_est(struct trustfs *t, const struct source *s,
    const struct net_opts *base, const struct entry_actor *who,
    struct outcome *out, struct tf_error *e)
{
	struct est_args a = { .s = s, .who = who, .e = e };
	char src[SOURCES_URL_MAX + 8];
	STACK_OF(X509) *sk = NULL;
	unsigned char d[32];
	X509 *x;
	int i, rc, ok, boot = 0;

	source_origin(s, src, sizeof(src));
	a.src = src;
	rc = net_est_cacerts(s->url, base, s->have_sha256 ? s->sha256 : NULL,
	    &sk, &boot, e);
	if (rc != 0)
		return rc;
	a.roots = sk_X509_new_null();
	a.inter = sk_X509_new_null();
	for (i = 0; a.roots != NULL && a.inter != NULL && i < sk_X509_num(sk);
	    i++) {
		x = sk_X509_value(sk, i);
		cert_sha256(x, d);
		ok = 1;
		if (!cert_is_ca(x))
			continue;	/* an EST server's own leaf, say */
		if (!cert_is_self_signed(x))
			ok = sk_X509_push(a.inter, x);
		else if (sk_X509_num(a.roots) == 0 && (!s->have_sha256 ||
		    memcmp(d, s->sha256, 32) == 0))
			ok = sk_X509_push(a.roots, x);
		if (!ok)
			break;
	}
	if (a.roots == NULL || a.inter == NULL || i < sk_X509_num(sk))
		rc = tf_error_set(e, -ENOMEM, "EST");
	else if (sk_X509_num(a.roots) == 0)
		rc = tf_error_setx(e, -EACCES, "EST: the /cacerts response "
		    "holds no self-signed CA certificate%s", s->have_sha256 ?
		    " with the sha256= given" : "");
	else
		rc = store_write(t->st, est_txn, &a, e);
	if (rc == 0)
		snprintf(out->result, sizeof(out->result), "ok: %zu added, "
		    "%zu unchanged%s", a.added, a.unchanged, boot ?
		    " (bootstrapped with sha256=)" : "");
	sk_X509_free(a.roots);	/* shallow: sk holds the references */
	sk_X509_free(a.inter);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int
update_one(struct trustfs *t, const struct source *s,
    const struct entry_actor *who, struct outcome *out, struct tf_error *e)
{
	struct net_opts o = { 0 };
	int rc;

	rc = nettrust_init(t, &o, e);
	if (rc != 0)
		return rc;
	switch (s->type) {
	case SOURCE_CRL:
		rc = update_crl(t, s, &o, who, out, e);
		break;
	case SOURCE_EST:
		rc = update_est(t, s, &o, who, out, e);
		break;
	default:
		rc = update_bundle(t, s, &o, who, out, e);
		break;
	}
	nettrust_done(&o);
	return rc;
}

struct state_args {
	const struct source *s;
	struct source_state st;
	const struct entry_actor *who;
	int failed;
};

/* The state, and for a failure its audit line, in one transaction. */
static int
state_txn(struct store_txn *txn, void *arg)
{
	struct state_args *a = arg;
	char path[SOURCES_NAME_MAX + 16];
	int rc;

	a->st.roots = source_roots(txn, a->s);
	rc = source_state_put(txn, a->s->name, &a->st);
	snprintf(path, sizeof(path), "sources/%s", a->s->name);
	if (rc == 0)
		rc = entry_audit(txn, a->who, "update", path, NULL,
		    a->failed ? a->st.result : NULL);
	return rc;
}

/* Fetches and imports s, then records what happened.  0 updated, 1
 * failed (recorded and audited), 2 the state could not be written. */
static int
run_source(struct trustfs *t, const struct source *s,
    const struct entry_actor *who)
{
	struct state_args a = { .s = s, .who = who };
	struct store_txn *txn = NULL;
	struct tf_error e = { 0 }, se = { 0 };
	struct outcome out = { "" };
	time_t now = time(NULL);
	int rc;

	if (store_txn_begin(t->st, 0, &txn, &se) == 0)
		(void)source_state_get(txn, s->name, &a.st);
	store_txn_abort(txn);
	rc = update_one(t, s, who, &out, &e);
	a.st.attempt = now;
	a.st.ok = rc == 0;
	a.failed = rc != 0;
	if (rc == 0) {
		a.st.success = now;
		snprintf(a.st.result, sizeof(a.st.result), "%s", out.result);
	} else
		snprintf(a.st.result, sizeof(a.st.result), "failed: %s",
		    e.msg[0] ? e.msg : strerror(-rc));
	if (store_write(t->st, state_txn, &a, &se) != 0) {
		fprintf(stderr, "trustctl: update %s: recording the result: "
		    "%s\n", s->name, se.msg);
		return EXIT_ERROR;
	}
	if (rc == 0)
		printf("%s: %s\n", s->name, a.st.result);
	else
		fprintf(stderr, "trustctl: update %s: %s\n", s->name,
		    a.st.result);
	return rc == 0 ? EXIT_TRUSTED : EXIT_REFUSED;
}

int
ctl_update(const char *store_dir, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct entry_actor who = { getuid(), getpid(), "trustctl" };
	struct source_state st;
	struct sources *ss = NULL;
	struct store_txn *txn = NULL;
	struct tf_error e = { 0 };
	struct trustfs *t = NULL;
	const struct source *s;
	time_t now = time(NULL);
	size_t i;
	int c, force = 0, rc = EXIT_TRUSTED, one, ran = 0;

	optind = 0;	/* GNU getopt: start afresh, permuting NAMEs */
	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'h':
			ctl_usage(stdout, "update");
			return EXIT_TRUSTED;
		default:
			ctl_usage(stderr, "update");
			return EXIT_ERROR;
		}
	}
	t = trustfs_open(store_dir);
	if (t == NULL || trustfs_error(t) != NULL) {
		fprintf(stderr, "trustctl: %s\n", t ? trustfs_error(t) :
		    "out of memory");
		rc = EXIT_ERROR;
		goto out;
	}
	if (store_txn_begin(t->st, 0, &txn, &e) != 0 ||
	    sources_load(txn, &ss, &e) != 0) {
		fprintf(stderr, "trustctl: reading the sources: %s\n", e.msg);
		rc = EXIT_ERROR;
		goto out;
	}
	/* Every name given must be a source: a typo is no silent no-op. */
	for (c = optind; c < argc; c++)
		if (sources_find(ss, argv[c]) == NULL) {
			fprintf(stderr, "trustctl: update: no source named "
			    "'%s' in sources\n", argv[c]);
			rc = EXIT_ERROR;
			goto out;
		}
	for (i = 0; i < ss->n; i++) {
		s = &ss->v[i];
		if (optind < argc) {
			for (c = optind; c < argc; c++)
				if (strcmp(argv[c], s->name) == 0)
					break;
			if (c == argc)
				continue;
		} else if (!force) {
			/* Unreadable state: as if never fetched. */
			if (source_state_get(txn, s->name, &st) != 0)
				memset(&st, 0, sizeof(st));
			if (!source_due(s, &st, now)) {
				printf("%s: not due (last success %lds ago, "
				    "every=%lds)\n", s->name,
				    (long)(now - st.success), s->every);
				continue;
			}
		}
		/* Fetching takes time: no reader transaction held open. */
		store_txn_abort(txn);
		txn = NULL;
		one = run_source(t, s, &who);
		ran++;
		if (one > rc)
			rc = one;
		if (store_txn_begin(t->st, 0, &txn, &e) != 0) {
			fprintf(stderr, "trustctl: %s\n", e.msg);
			rc = EXIT_ERROR;
			goto out;
		}
	}
	if (ss->n == 0)
		printf("no sources: add NAME URL lines to the mount's sources "
		    "file\n");
	else if (ran == 0 && optind == argc)
		printf("nothing due (--force fetches every source)\n");
out:
	store_txn_abort(txn);
	sources_free(ss);
	trustfs_free(t);
	return rc;
}
