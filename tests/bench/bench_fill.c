/*
 * bench_fill: N pins in a store through trustfs_pin_bulk(), so that the
 * mount benchmarks can list pinned/ at 10,000 and more without paying N
 * first uses, and so that the bulk API's own speed is measured.  Each pin
 * is its own certificate (one key, CN and subjectAltName
 * hostNNNNNNN.example), named hostNNNNNNN.example_443.  Certificates are
 * made BATCH at a time; only the trustfs_pin_bulk() calls are timed.
 *
 * bench_fill STORE_DIR NPINS [FIRST]
 * bench_fill --raw STORE_DIR NPINS [FIRST]
 * bench_fill --roots STORE_DIR NROOTS
 *
 * Prints "pins N bulk_s S per_pin_us U" on stdout.  FIRST (default 0)
 * numbers the hosts from there, to add to a filled store.
 *
 * --raw: a test fixture, not the API: one certificate made once and
 * copied with the host's digits written into its names (the same length,
 * so the same text size; its signature no longer verifies, which a pin
 * never checks), stored with store_put in transactions of 50,000, with
 * the validity and text size of the original.  200,000 pins in seconds.
 *
 * --roots: N self-signed CA roots ("Scale Root NNNNNNN") made and added
 * through entry_add in one transaction, as an import stores them; prints
 * "roots N add_s S per_root_us U" (the making is not timed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <openssl/sha.h>

#include "cert.h"
#include "entry.h"
#include "expiry.h"
#include "gencert.h"
#include "handle.h"
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

/* --- --raw ----------------------------------------------------------- */

#define RAW_BATCH 50000L

struct raw {
	unsigned char *der;		/* the template, rewritten per pin */
	size_t len;
	size_t at[8];			/* where its 7 digits are */
	int nat;
	struct store_validity val;
	size_t na_at;			/* where its notAfter (UTCTime) is */
	uint32_t text_base, subject_hash;
	long from, to;
};

/* Pin i expires (i % 730) - 30 days from now: one in 24 has expired,
 * and every day has its share (as a real store's expiries spread). */
static int64_t
raw_not_after(long i, time_t now)
{
	return (int64_t)now + ((i % 730) - 30) * 86400L + 3600;
}

static int
raw_txn(struct store_txn *txn, void *arg)
{
	struct raw *r = arg;
	struct store_key key;
	struct store_rec rec;
	char digits[8], name[64];
	uint64_t now = (uint64_t)time(NULL);
	long i;
	int k, rc = 0;

	for (i = r->from; i < r->to && rc == 0; i++) {
		snprintf(digits, sizeof(digits), "%07ld", i % 10000000);
		for (k = 0; k < r->nat; k++)
			memcpy(r->der + r->at[k], digits, 7);
		if (r->na_at != 0) {
			time_t na = (time_t)raw_not_after(i, (time_t)now);
			struct tm tm;
			char ut[16];

			gmtime_r(&na, &tm);
			strftime(ut, sizeof(ut), "%y%m%d%H%M%SZ", &tm);
			memcpy(r->der + r->na_at, ut, 13);
			r->val.not_after = na;
		}
		memset(&key, 0, sizeof(key));
		SHA256(r->der, r->len, key.sha256);
		/* Not the rewritten subject's real hash: pins are never
		 * looked up by subject. */
		key.subject_hash = r->subject_hash ^ (uint32_t)i;
		memset(&rec, 0, sizeof(rec));
		rec.ctime = rec.mtime = now;
		rec.keys = &key;
		rec.nkeys = 1;
		rec.der = r->der;
		rec.der_len = r->len;
		rec.validity = &r->val;
		rec.text_base = r->text_base;
		snprintf(name, sizeof(name), "host%sx.example_443", digits);
		rc = store_put(txn, STORE_PINNED, name, &rec);
	}
	return rc;
}

static int
fill_raw(const char *dir, long n, long first)
{
	struct store_validity val[STORE_INFO_CERTS];
	struct tf_error e = { 0 };
	struct trustfs *t;
	struct store_txn *txn = NULL;
	struct store_rec rec = { 0 };
	struct store_key key;
	struct raw r = { 0 };
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x;
	double s;
	size_t i;
	int rc = 1;

	t = trustfs_open(dir);
	x = gencert(&(struct gencert_opts){ .cn = "host0000000x.example",
	    .san = "DNS:host0000000x.example", .key = k,
	    .not_before = -86400, .not_after = 365L * 86400 }, NULL);
	if (t == NULL || trustfs_error(t) != NULL || x == NULL ||
	    cert_der(x, &r.der, &r.len) != 0)
		goto out;
	for (i = 0; i + 8 <= r.len && r.nat < 8; i++)
		if (memcmp(r.der + i, "0000000x", 8) == 0)
			r.at[r.nat++] = i;
	/* The notAfter's UTCTime, to write each copy's own. */
	{
		const ASN1_TIME *na = X509_get0_notAfter(x);

		for (i = 0; ASN1_STRING_length(na) == 13 && i + 13 <= r.len;
		    i++)
			if (memcmp(r.der + i, ASN1_STRING_get0_data(na),
			    13) == 0) {
				r.na_at = i;
				break;
			}
	}
	/* The template's validity and text size, as entry_add finds them
	 * (every copy's text has the same length). */
	cert_sha256(x, key.sha256);
	key.subject_hash = r.subject_hash = cert_subject_hash(x);
	rec.keys = &key;
	rec.nkeys = 1;
	rec.der = r.der;
	rec.der_len = r.len;
	if (store_txn_begin(t->st, 0, &txn, &e) != 0 ||
	    expiry_fill_stored(txn, STORE_PINNED, "host0000000x.example_443",
	    &rec, val) != 0 || rec.validity == NULL)
		goto out;
	store_txn_abort(txn);
	txn = NULL;
	r.val = val[0];
	r.text_base = rec.text_base;
	s = now_s();
	for (r.from = first; r.from < first + n; r.from = r.to) {
		r.to = first + n - r.from > RAW_BATCH ? r.from + RAW_BATCH :
		    first + n;
		if (store_write(t->st, raw_txn, &r, &e) != 0) {
			fprintf(stderr, "bench_fill: %s\n", tf_error_msg(&e));
			goto out;
		}
	}
	printf("pins %ld raw_s %.3f per_pin_us %.1f\n", n, now_s() - s,
	    (now_s() - s) / (double)n * 1e6);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_fill: cannot fill %s%s%s\n", dir,
		    e.msg[0] ? ": " : "", e.msg);
	store_txn_abort(txn);
	OPENSSL_free(r.der);
	X509_free(x);
	EVP_PKEY_free(k);
	trustfs_free(t);
	return rc;
}

/* --- --roots --------------------------------------------------------- */

struct roots {
	X509 **x;
	long n, added;
	char why[1100];
};

static int
roots_txn(struct store_txn *txn, void *arg)
{
	struct roots *r = arg;
	struct entry_actor who = { 0, 0, "bench_fill" };
	struct entry_result res;
	long i;
	int rc = 0;

	r->added = 0;
	for (i = 0; i < r->n && rc == 0; i++) {
		STACK_OF(X509) *one = sk_X509_new_null();
		struct tf_error e = { 0 };

		if (one == NULL || !sk_X509_push(one, r->x[i])) {
			sk_X509_free(one);
			return -ENOMEM;
		}
		X509_up_ref(r->x[i]);
		rc = entry_add(txn, STORE_ROOTS, NULL, one, ENTRY_AUTOLABEL,
		    &who, &res, &e);
		if (rc != 0)
			snprintf(r->why, sizeof(r->why), "%s", tf_error_msg(&e));
		else if (res.outcome == ENTRY_ADDED)
			r->added++;
		sk_X509_pop_free(one, X509_free);
	}
	return rc;
}

static int
fill_roots(const char *dir, long n)
{
	struct roots r = { .n = n };
	struct tf_error e = { 0 };
	struct trustfs *t;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	char cn[64];
	double s;
	long i;
	int rc = 1;

	t = trustfs_open(dir);
	r.x = calloc((size_t)n, sizeof(*r.x));
	if (t == NULL || trustfs_error(t) != NULL || r.x == NULL || k == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(cn, sizeof(cn), "Scale Root %07ld", i);
		/* Not decoded again (reparse): 100 us each that a test
		 * filling 20,000 roots would wait for; the add then encodes
		 * them, which only makes its time longer. */
		r.x[i] = gencert(&(struct gencert_opts){ .cn = cn,
		    .is_ca = 1, .key = k, .not_before = -86400,
		    .not_after = (365L + i % 700) * 86400 }, NULL);
		if (r.x[i] == NULL)
			goto out;
	}
	s = now_s();
	if (store_write(t->st, roots_txn, &r, &e) != 0) {
		fprintf(stderr, "bench_fill: %s\n", r.why[0] ? r.why :
		    tf_error_msg(&e));
		goto out;
	}
	printf("roots %ld add_s %.3f per_root_us %.1f\n", r.added,
	    now_s() - s, (now_s() - s) / (double)n * 1e6);
	rc = 0;
out:
	for (i = 0; r.x != NULL && i < n; i++)
		X509_free(r.x[i]);
	free(r.x);
	EVP_PKEY_free(k);
	trustfs_free(t);
	return rc;
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

	if (argc >= 4 && strcmp(argv[1], "--raw") == 0) {
		n = strtol(argv[3], NULL, 10);
		first = argc > 4 ? strtol(argv[4], NULL, 10) : 0;
		return n < 1 || first < 0 ? 2 : fill_raw(argv[2], n, first);
	}
	if (argc == 4 && strcmp(argv[1], "--roots") == 0) {
		n = strtol(argv[3], NULL, 10);
		return n < 1 ? 2 : fill_roots(argv[2], n);
	}
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
