/*
 * trustctl est URL: the CA certificates of an EST server (RFC 7030 4.1,
 * GET /.well-known/est/cacerts) into the store: the CA's root in
 * roots/NAME.pem, its intermediates in chains/NAME.pem, in one
 * transaction with their Source ("EST URL") and audit lines.
 *
 * The TLS server must verify against roots/ (the explicit trust anchor of
 * 4.1.1).  A first contact, whose root is not there yet, is the manual
 * authorization of 4.1.1: --expect-sha256 names the root out of band,
 * net_est_cacerts() takes it only from a response holding it and keeps
 * only what a server verified against that root then says.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cert.h"
#include "ctl.h"
#include "entry.h"
#include "est.h"
#include "handle.h"
#include "netcmd.h"
#include "nettrust.h"
#include "origin.h"
#include "store.h"
#include "trustfs.h"

struct est_job {
	const char *src;		/* "EST URL" */
	char name[STORE_NAME_MAX + 1];	/* LABEL.pem */
	X509 *root;
	STACK_OF(X509) *ints;		/* may be empty */
	struct entry_actor who;
	struct buf out;			/* what was done, for the person */
	struct tf_error *e;
};

/* 1 if db/name holds nothing, or what this very source put there. */
static int
ours(struct store_txn *txn, enum store_db db, const char *name,
    const char *src, int *exists)
{
	char have[ORIGIN_MAX + 1];
	struct store_rec rec;
	int rc;

	*exists = 0;
	rc = store_get(txn, db, name, &rec);
	if (rc == -ENOENT)
		return 1;
	if (rc != 0)
		return rc;
	*exists = 1;
	rc = origin_get(txn, db, name, have, sizeof(have));
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	return strcmp(have, src) == 0;
}

static const char *
outcome_word(enum entry_outcome o)
{
	return o == ENTRY_ADDED ? "added" : o == ENTRY_REPLACED ? "replaced" :
	    "unchanged";
}

/* One entry of the job: refused when the name holds something that is not
 * this source's (added by hand, another source). */
static int
put(struct store_txn *txn, struct est_job *j, enum store_db db,
    STACK_OF(X509) *sk)
{
	struct entry_result er;
	struct tf_error ae = { 0 };
	int rc, exists;

	rc = ours(txn, db, j->name, j->src, &exists);
	if (rc < 0)
		return tf_error_set(j->e, rc, "%s/%s", entry_db_dir(db),
		    j->name);
	if (rc == 0)
		return tf_error_setx(j->e, -EEXIST, "%s/%s holds other "
		    "certificates, not from %s: give another --label, or "
		    "remove it first", entry_db_dir(db), j->name, j->src);
	rc = entry_add(txn, db, j->name, sk, exists ? ENTRY_REPLACE : 0,
	    &j->who, &er, &ae);
	if (rc != 0)
		return tf_error_setx(j->e, rc == -EINVAL ? -EACCES : rc,
		    "%s/%s: %s", entry_db_dir(db), j->name, ae.msg[0] ?
		    ae.msg : strerror(-rc));
	if (er.outcome != ENTRY_UNCHANGED &&
	    (rc = origin_set(txn, db, er.name, j->src)) != 0)
		return tf_error_set(j->e, rc, "%s/%s", entry_db_dir(db),
		    er.name);
	return buf_printf(&j->out, "%s %s/%s\n", outcome_word(er.outcome),
	    entry_db_dir(db), er.name);
}

static int
est_txn(struct store_txn *txn, void *arg)
{
	struct est_job *j = arg;
	STACK_OF(X509) *one = NULL;
	char have[STORE_NAME_MAX + 1];
	int rc;

	buf_reset(&j->out);
	/* A root already in roots/ under any name stays as it is. */
	rc = entry_anchor(txn, j->root, have, sizeof(have));
	if (rc == 0)
		rc = buf_printf(&j->out, "unchanged roots/%s (already a "
		    "root)\n", have);
	else if (rc == -ENOENT) {
		if ((one = sk_X509_new_null()) == NULL || !sk_X509_push(one,
		    j->root))
			rc = tf_error_set(j->e, -ENOMEM, "est");
		else
			rc = put(txn, j, STORE_ROOTS, one);
	} else
		tf_error_set(j->e, rc, "roots/");
	sk_X509_free(one);
	if (rc == 0 && sk_X509_num(j->ints) > 0)
		rc = put(txn, j, STORE_CHAINS, j->ints);
	return rc;
}

/* The CA's root (self-signed CA; the expected one when given) and its
 * intermediates (the other CA certificates) among the /cacerts. */
static int
split(STACK_OF(X509) *certs, const unsigned char *expect, X509 **root,
    STACK_OF(X509) **ints, struct tf_error *e)
{
	unsigned char d[32];
	X509 *x;
	int i;

	*root = NULL;
	if ((*ints = sk_X509_new_null()) == NULL)
		return tf_error_set(e, -ENOMEM, "est");
	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		cert_sha256(x, d);
		if (*root == NULL && cert_is_ca(x) && cert_is_self_signed(x) &&
		    (expect == NULL || memcmp(d, expect, 32) == 0))
			*root = x;
	}
	if (*root == NULL)
		return tf_error_setx(e, -EACCES, "the /cacerts response holds "
		    "no self-signed CA certificate%s", expect ? " with the "
		    "expected SHA-256" : "");
	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (x == *root || !cert_is_ca(x) || cert_is_self_signed(x))
			continue;
		if (!sk_X509_push(*ints, x))
			return tf_error_set(e, -ENOMEM, "est");
		X509_up_ref(x);
	}
	return 0;
}

static int
save_txn(struct store_txn *txn, void *arg)
{
	struct est_job *j = arg;

	buf_reset(&j->out);
	return put(txn, j, STORE_CHAINS, j->ints);
}

int
ctl_save_chain(struct trustfs *t, const char *name, const char *peer,
    STACK_OF(X509) *presented, struct buf *said, struct tf_error *e)
{
	struct est_job j = { 0 };
	/* The handle's environment: LMDB forbids a second one on the same
	 * store in one process (lmdb.h, Caveats). */
	struct store *st = t->st;
	char given[STORE_NAME_MAX + 8], *src = NULL;
	X509 *x;
	int i, rc;

	if ((j.ints = sk_X509_new_null()) == NULL)
		return tf_error_set(e, -ENOMEM, "--save-chain");
	/* What the peer sent after its own certificate, less any root: a
	 * root is trusted in roots/ or not at all. */
	for (i = 1; i < sk_X509_num(presented); i++) {
		x = sk_X509_value(presented, i);
		if (cert_is_self_signed(x))
			continue;
		if (!sk_X509_push(j.ints, x)) {
			rc = tf_error_set(e, -ENOMEM, "--save-chain");
			goto out;
		}
		X509_up_ref(x);
	}
	if (sk_X509_num(j.ints) == 0) {
		rc = buf_printf(said, "--save-chain: %s presented no "
		    "intermediate; nothing was saved\n", peer);
		goto out;
	}
	snprintf(given, sizeof(given), "%s", name);
	if (strlen(name) < 4 || strcmp(name + strlen(name) - 4, ".pem") != 0)
		snprintf(given, sizeof(given), "%s.pem", name);
	if ((rc = entry_name(STORE_CHAINS, given, j.name, sizeof(j.name),
	    e)) != 0)
		goto out;
	if (asprintf(&src, "TLS peer %s", peer) < 0) {
		src = NULL;
		rc = tf_error_set(e, -ENOMEM, "--save-chain");
		goto out;
	}
	j.src = src;
	j.who = (struct entry_actor){ getuid(), getpid(), "trustctl" };
	j.e = e;
	rc = store_write(st, save_txn, &j, e);
	if (rc == 0)
		rc = buf_printf(said, "--save-chain: %.*s", (int)j.out.len,
		    j.out.data);
	else if (e->msg[0] == '\0')
		tf_error_set(e, rc, "--save-chain");
out:
	sk_X509_pop_free(j.ints, X509_free);
	buf_free(&j.out);
	free(src);
	return rc;
}

int
ctl_est(const char *store_dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "expect-sha256", required_argument, NULL, 'E' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct est_job j = { 0 };
	struct net_opts no = { 0 };
	STACK_OF(X509) *certs = NULL;
	struct store *st = NULL;
	struct trustfs *t = NULL;
	struct tf_error e = { 0 };
	unsigned char expect[32];
	const char *label = NULL, *url;
	char lbuf[220], lbuf2[STORE_NAME_MAX + 8], *src = NULL, *pub = NULL;
	int c, have_expect = 0, boot = 0, rc = EXIT_ERROR;

	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			label = optarg;
			break;
		case 'E':
			if (ctl_opt_sha256(optarg, expect) != 0)
				return EXIT_ERROR;
			have_expect = 1;
			break;
		case 't':
			if (ctl_opt_timeout(optarg, &no.timeout) != 0)
				return EXIT_ERROR;
			break;
		case 'h':
			ctl_usage(stdout, "est");
			return EXIT_TRUSTED;
		default:
			ctl_usage(stderr, "est");
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "trustctl: est takes one URL "
		    "(https://HOST[:PORT])\n");
		ctl_usage(stderr, "est");
		return EXIT_ERROR;
	}
	url = argv[optind];
	/* RFC 7030 3.2: EST runs over TLS only. */
	if (strncasecmp(url, "https://", 8) != 0) {
		fprintf(stderr, "trustctl: est: %s: EST needs an https:// URL "
		    "(RFC 7030 3.2)\n", url);
		return EXIT_ERROR;
	}
	t = trustfs_open(store_dir);
	if (t == NULL || trustfs_error(t) != NULL) {
		tf_error_setx(&e, -EIO, "%s", t ? trustfs_error(t) :
		    "out of memory");
		goto out;
	}
	st = t->st;	/* one environment per store per process */
	if (nettrust_init(t, &no, &e) != 0)
		goto out;
	no.schemes = NET_HTTPS;
	c = net_est_cacerts(url, &no, have_expect ? expect : NULL, &certs,
	    &boot, &e);
	if (c == 0)
		c = split(certs, have_expect ? expect : NULL, &j.root, &j.ints,
		    &e);
	if (c != 0) {
		rc = c == -EACCES || c == -EPROTO ? EXIT_REFUSED : EXIT_ERROR;
		goto out;
	}
	if (label == NULL) {
		cert_label(j.root, lbuf, sizeof(lbuf));
		label = lbuf;
	}
	snprintf(lbuf2, sizeof(lbuf2), "%s.pem", label);
	if (entry_name(STORE_ROOTS, lbuf2, j.name, sizeof(j.name), &e) != 0)
		goto out;
	pub = net_url_public(url);
	if (pub == NULL || asprintf(&src, "EST %s", pub) < 0) {
		src = NULL;
		tf_error_setx(&e, -ENOMEM, "out of memory");
		goto out;
	}
	j.src = src;
	j.who = (struct entry_actor){ getuid(), getpid(), "trustctl" };
	j.e = &e;
	c = store_write(st, est_txn, &j, &e);
	if (c != 0) {
		rc = c == -EACCES || c == -EEXIST ? EXIT_REFUSED : EXIT_ERROR;
		if (e.msg[0] == '\0')
			tf_error_set(&e, c, "est");
		goto out;
	}
	if (boot)
		printf("bootstrap: the server verified against the expected "
		    "root (RFC 7030 4.1.1)\n");
	fwrite(j.out.data, 1, j.out.len, stdout);
	rc = fflush(stdout) == 0 ? EXIT_TRUSTED : EXIT_ERROR;
	if (rc != EXIT_TRUSTED)
		tf_error_set(&e, -errno, "the certificates are stored, but "
		    "writing what was done failed");
out:
	if (rc != EXIT_TRUSTED)
		fprintf(stderr, "trustctl: est: %s\n", tf_error_msg(&e));
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(j.ints, X509_free);
	buf_free(&j.out);
	free(src);
	free(pub);
	nettrust_done(&no);
	trustfs_free(t);
	return rc;
}
