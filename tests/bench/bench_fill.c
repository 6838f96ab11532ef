/*
 * bench_fill: N pins in a store, through entry_add in large transactions,
 * so that the mount benchmarks can list pinned/ at 10,000 and more without
 * paying N first uses.  Each pin is its own certificate (one key, CN and
 * subjectAltName hostNNNNNNN.example), named hostNNNNNNN.example_443.
 *
 * bench_fill STORE_DIR NPINS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "entry.h"
#include "gencert.h"
#include "handle.h"

#define BATCH 10000L

struct fill {
	long from, to;
	EVP_PKEY *key;
	char why[1100];		/* the last failure, for the message: a
				 * transaction may be run again (the map
				 * grows), so nothing is printed from it */
};

static int
fill_txn(struct store_txn *txn, void *arg)
{
	struct fill *f = arg;
	struct entry_result res;
	struct tf_error e = { 0 };
	char cn[64], san[80], name[80];
	long i;
	int rc = 0;

	for (i = f->from; i < f->to && rc == 0; i++) {
		STACK_OF(X509) *one = sk_X509_new_null();
		X509 *x;

		snprintf(cn, sizeof(cn), "host%07ld.example", i);
		snprintf(san, sizeof(san), "DNS:%s", cn);
		snprintf(name, sizeof(name), "%s_443", cn);
		x = gencert(&(struct gencert_opts){ .cn = cn, .san = san,
		    .key = f->key, .not_before = -86400,
		    .not_after = 365L * 86400 }, NULL);
		if (one == NULL || x == NULL || !sk_X509_push(one, x)) {
			X509_free(x);
			snprintf(f->why, sizeof(f->why),
			    "cannot make a certificate");
			rc = -ENOMEM;
		} else {
			rc = entry_add(txn, STORE_PINNED, name, one, 0, NULL,
			    &res, &e);
			if (rc != 0)
				snprintf(f->why, sizeof(f->why), "%s: %s",
				    name, tf_error_msg(&e));
		}
		sk_X509_pop_free(one, X509_free);
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	struct trustfs *t = NULL;
	struct tf_error e = { 0 };
	struct fill f = { 0 };
	long n, i;
	int rc = 1;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: bench_fill STORE_DIR NPINS\n");
		return 2;
	}
	if ((t = trustfs_open(argv[1])) == NULL) {
		fprintf(stderr, "bench_fill: cannot open %s\n", argv[1]);
		goto out;
	}
	if ((f.key = EVP_EC_gen("P-256")) == NULL)
		goto out;
	for (i = 0; i < n; i += BATCH) {
		f.from = i;
		f.to = i + BATCH < n ? i + BATCH : n;
		if (store_write(t->st, fill_txn, &f, &e) != 0) {
			fprintf(stderr, "bench_fill: %s\n", f.why[0] ?
			    f.why : tf_error_msg(&e));
			goto out;
		}
	}
	rc = 0;
out:
	EVP_PKEY_free(f.key);
	if (t != NULL)
		trustfs_free(t);
	return rc;
}
