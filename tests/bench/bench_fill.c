/*
 * bench_fill: N pins in a store through trustfs_pin_bulk(), so that the
 * mount benchmarks can list pinned/ at 10,000 and more without paying N
 * first uses, and so that the bulk API's own speed is measured.  Each pin
 * is its own certificate (one key, CN and subjectAltName
 * hostNNNNNNN.example), named hostNNNNNNN.example_443.  Certificates are
 * made BATCH at a time; only the trustfs_pin_bulk() calls are timed.
 *
 * bench_fill STORE_DIR NPINS [FIRST]
 *
 * Prints "pins N bulk_s S per_pin_us U" on stdout.  FIRST (default 0)
 * numbers the hosts from there, to add to a filled store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gencert.h"
#include "trustfs.h"

#define BATCH 10000L

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static X509 *
reparse(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *y = NULL;
	int len;

	if (x != NULL && (len = i2d_X509(x, &der)) > 0) {
		p = der;
		y = d2i_X509(NULL, &p, len);
	}
	OPENSSL_free(der);
	X509_free(x);
	return y;
}

int
main(int argc, char *argv[])
{
	static struct trustfs_pin_item items[BATCH];
	static char hosts[BATCH][32];
	struct trustfs *t = NULL;
	EVP_PKEY *key = NULL;
	char san[64];
	double spent = 0, s;
	long n, first = 0, i, j, m;
	int rc = 1;

	if (argc < 3 || argc > 4 || (n = strtol(argv[2], NULL, 10)) < 1 ||
	    (argc == 4 && (first = strtol(argv[3], NULL, 10)) < 0)) {
		fprintf(stderr, "usage: bench_fill STORE_DIR NPINS [FIRST]\n");
		return 2;
	}
	t = trustfs_open(argv[1]);
	if (t == NULL || trustfs_error(t) != NULL) {
		fprintf(stderr, "bench_fill: %s: %s\n", argv[1], t ?
		    trustfs_error(t) : "out of memory");
		goto out;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL)
		goto out;
	for (i = 0; i < n; i += m) {
		m = n - i < BATCH ? n - i : BATCH;
		for (j = 0; j < m; j++) {
			snprintf(hosts[j], sizeof(hosts[j]), "host%07ld.example",
			    first + i + j);
			snprintf(san, sizeof(san), "DNS:%s", hosts[j]);
			items[j] = (struct trustfs_pin_item){ .host = hosts[j],
			    .port = 443 };
			items[j].cert = gencert(&(struct gencert_opts){
			    .cn = hosts[j], .san = san, .key = key,
			    .not_before = -86400, .not_after = 365L * 86400 },
			    NULL);
			/* As a caller would have them: decoded, with
			 * their encoding cached (i2d is then a copy). */
			items[j].cert = reparse(items[j].cert);
			if (items[j].cert == NULL) {
				fprintf(stderr, "bench_fill: cannot make a "
				    "certificate\n");
				goto out;
			}
		}
		s = now_s();
		rc = trustfs_pin_bulk(t, items, (size_t)m, 0);
		spent += now_s() - s;
		for (j = 0; j < m; j++) {
			if (rc == 0 && items[j].error != 0) {
				fprintf(stderr, "bench_fill: %s: error %d\n",
				    items[j].host, items[j].error);
				rc = -1;
			}
			X509_free(items[j].cert);
		}
		if (rc != 0) {
			fprintf(stderr, "bench_fill: %s\n", trustfs_error(t) ?
			    trustfs_error(t) : "a pin failed");
			rc = 1;
			goto out;
		}
	}
	printf("pins %ld bulk_s %.3f per_pin_us %.1f\n", n, spent,
	    spent / (double)n * 1e6);
	rc = 0;
out:
	EVP_PKEY_free(key);
	trustfs_free(t);
	return rc;
}
