/*
 * bench_verify: libtrustfs against the alternatives, in one process.
 *
 *  1. A pin look-up (trustfs_check in tofu mode, the pin matching) with
 *     1k, 100k and 1M pins in the store, against GnuTLS's TOFU store
 *     (gnutls_verify_stored_pubkey) holding the same hosts.
 *  2. Open the store and verify one 3-certificate chain against the
 *     system's roots, against OpenSSL loading the same roots from a CAfile
 *     and from a hashed CApath, and against a store already in memory.
 *
 *     Each way is timed per run: median and p10..p90.  The same in a new
 *     process each time (fork + exec of this program): nothing, trustfs,
 *     OpenSSL with a CAfile.
 *
 * Run: build/check/tests/bench_verify [--max-pins N | --verify-only]
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "cert.h"
#include "entry.h"
#include "handle.h"
#include "testutil.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

struct fill {
	long from, to;
	const unsigned char *der;
	size_t der_len;
};

static int
fill_txn(struct store_txn *txn, void *arg)
{
	struct fill *f = arg;
	struct store_key k = { { 0 }, 1 };
	struct store_rec r = { 0 };
	char name[64];
	long i;
	int rc = 0;

	for (i = f->from; i < f->to && rc == 0; i++) {
		snprintf(name, sizeof(name), "host%07ld.example_443", i);
		memcpy(k.sha256, &i, sizeof(i));	/* distinct keys */
		k.sha256[31] = 0xee;
		r.keys = &k;
		r.nkeys = 1;
		r.der = f->der;
		r.der_len = f->der_len;
		r.first_seen = r.last_seen = 1;
		r.seen_count = 1;
		rc = store_put(txn, STORE_PINNED, name, &r);
	}
	return rc;
}

static void
pin_bench(long npins, X509 *leaf, gnutls_datum_t *gder)
{
	char dir[] = "/tmp/trustfs-bench.XXXXXX", kh[300], host[64];
	struct trustfs *t;
	struct trustfs_verdict v;
	STACK_OF(X509) *chain = sk_X509_new_null();
	unsigned char *der;
	size_t der_len;
	long i, iters = 200000, giters;
	double s, tfs_us, gnu_us;
	struct fill f;
	int rc;

	mkdtemp(dir);
	cert_der(leaf, &der, &der_len);
	X509_up_ref(leaf);
	sk_X509_push(chain, leaf);
	t = trustfs_open(dir);
	f.der = der;
	f.der_len = der_len;
	for (i = 0; i < npins; i += 50000) {
		f.from = i;
		f.to = i + 50000 < npins ? i + 50000 : npins;
		struct tf_error e = { 0 };

		if (store_write(t->st, fill_txn, &f, &e) != 0) {
			fprintf(stderr, "fill: %s\n", e.msg);
			exit(1);
		}
	}
	/* The pin under test, made by a first use. */
	trustfs_check_mode(t, TRUSTFS_MODE_TOFU, "target.example", 443, chain,
	    &v);
	s = now_us();
	for (i = 0; i < iters; i++) {
		rc = trustfs_check_mode(t, TRUSTFS_MODE_TOFU, "target.example",
		    443, chain, &v);
		if (rc != 0 || v.reason != TRUSTFS_PIN_MATCH) {
			fprintf(stderr, "unexpected verdict\n");
			exit(1);
		}
	}
	tfs_us = (now_us() - s) / iters;

	/* GnuTLS: the same hosts in its known_hosts file. */
	snprintf(kh, sizeof(kh), "%s/known_hosts", dir);
	for (i = 0; i < npins; i++) {
		snprintf(host, sizeof(host), "host%07ld.example", i);
		if (i == npins / 2)
			gnutls_store_pubkey(kh, NULL, "target.example", "443",
			    GNUTLS_CRT_X509, gder, 0, 0);
		gnutls_store_pubkey(kh, NULL, host, "443", GNUTLS_CRT_X509,
		    gder, 0, 0);
	}
	giters = npins >= 1000000 ? 5 : npins >= 100000 ? 50 : 2000;
	s = now_us();
	for (i = 0; i < giters; i++)
		if (gnutls_verify_stored_pubkey(kh, NULL, "target.example",
		    "443", GNUTLS_CRT_X509, gder, 0) != 0) {
			fprintf(stderr, "gnutls: not found\n");
			exit(1);
		}
	gnu_us = (now_us() - s) / giters;
	printf("%-10ld %14.2f %14.1f %10.0fx\n", npins, tfs_us, gnu_us,
	    gnu_us / tfs_us);
	trustfs_free(t);
	sk_X509_pop_free(chain, X509_free);
	free(der);
	tu_rmrf(dir);
}

/* The system roots as certificates. */
static STACK_OF(X509) *
system_roots(void)
{
	FILE *f = fopen("/etc/ssl/certs/ca-certificates.crt", "r");
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;

	if (f == NULL) {
		perror("/etc/ssl/certs/ca-certificates.crt");
		exit(1);
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	fclose(f);
	ERR_clear_error();
	return sk;
}

struct add_ctx {
	STACK_OF(X509) *roots;
};

static int
add_roots_txn(struct store_txn *txn, void *arg)
{
	struct add_ctx *a = arg;
	struct entry_result res;
	struct tf_error te = { 0 };
	int i, rc = 0;

	for (i = 0; i < sk_X509_num(a->roots) && rc == 0; i++) {
		STACK_OF(X509) *one = sk_X509_new_null();

		sk_X509_push(one, sk_X509_value(a->roots, i));
		rc = entry_add(txn, STORE_ROOTS, NULL, one, ENTRY_AUTOLABEL,
		    NULL, &res, &te);
		sk_X509_free(one);
	}
	return rc;
}

static int
verify_with(X509_STORE *xs, X509 *leaf, STACK_OF(X509) *untrusted)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	X509_STORE_CTX_init(ctx, xs, leaf, untrusted);
	X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx),
	    "server.test", 0);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	return ok;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v and prints its median, p10 and p90, and the median's ratio to
 * base (none when base is 0).  Returns the median. */
static double
report(const char *what, double *v, int n, double base)
{
	double med;

	qsort(v, (size_t)n, sizeof(double), cmp_double);
	med = v[(n - 1) / 2];
	printf("%-46s %10.1f %10.1f .. %-8.1f", what, med, v[n / 10],
	    v[(n * 9) / 10]);
	if (base > 0)
		printf(" %8.2f", med / base);
	else
		printf(" %8.2f", 1.0);
	printf("\n");
	return med;
}

/* The child of the new-process rows: MODE in DIR (see run_child). */
static int
child_main(const char *mode, const char *dir)
{
	char path[400];
	STACK_OF(X509) *chain = NULL, *untrusted = NULL;
	struct trustfs_verdict v;
	struct trustfs *t;
	X509 *x;
	FILE *f;
	int ok = 0;

	if (strcmp(mode, "nop") == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/chain.pem", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	chain = sk_X509_new_null();
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	fclose(f);
	if (strcmp(mode, "trustfs") == 0) {
		snprintf(path, sizeof(path), "%s/store", dir);
		t = trustfs_open(path);
		ok = t != NULL && trustfs_verify_chain(t, "server.test", chain,
		    &v) == 0 && v.trusted;
		if (t != NULL)
			trustfs_free(t);
	} else {
		X509_STORE *xs = X509_STORE_new();

		snprintf(path, sizeof(path), "%s/ca.pem", dir);
		untrusted = sk_X509_new_null();
		sk_X509_push(untrusted, sk_X509_value(chain, 1));
		X509_STORE_load_file(xs, path);
		ok = verify_with(xs, sk_X509_value(chain, 0), untrusted);
		X509_STORE_free(xs);
		sk_X509_free(untrusted);
	}
	sk_X509_pop_free(chain, X509_free);
	return ok ? 0 : 1;
}

/* µs from fork to the exit of this program run as "--child MODE DIR". */
static double
run_child(const char *mode, const char *dir)
{
	char *const argv[] = { (char *)"bench_verify", (char *)"--child",
	    (char *)mode, (char *)dir, NULL };
	double s = now_us();
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_verify: child %s failed\n", mode);
		exit(1);
	}
	return now_us() - s;
}

static void
open_verify_bench(void)
{
	char dir[] = "/tmp/trustfs-bench.XXXXXX", path[400], cafile[400];
	struct gencert_opts o;
	EVP_PKEY *rk, *ik;
	X509 *root, *inter, *leaf;
	STACK_OF(X509) *roots = system_roots(), *chain, *untrusted;
	struct trustfs *t;
	struct trustfs_verdict v;
	struct add_ctx a;
	X509_STORE *mem;
	FILE *f;
	enum { n = 300, nproc = 60 };
	int i, nroots;
	double s, t_tfs[n], t_warm[n], t_file[n], t_path[n], t_mem[n];
	double p_nop[nproc], p_tfs[nproc], p_file[nproc], med_mem, med_nop;

	o = (struct gencert_opts){ .cn = "Bench Root", .is_ca = 1 };
	root = tu_make_cert(&o, &rk);
	o = (struct gencert_opts){ .cn = "Bench Intermediate", .is_ca = 1,
	    .issuer = root, .issuer_key = rk };
	inter = tu_make_cert(&o, &ik);
	o = (struct gencert_opts){ .cn = "server.test", .issuer = inter,
	    .issuer_key = ik, .san = "DNS:server.test" };
	leaf = tu_make_cert(&o, NULL);
	sk_X509_push(roots, root);
	nroots = sk_X509_num(roots);
	mkdtemp(dir);

	/* The same roots three ways: the store, a CAfile, a CApath. */
	snprintf(path, sizeof(path), "%s/store", dir);
	t = trustfs_open(path);
	a.roots = roots;
	store_write(t->st, add_roots_txn, &a, NULL);
	trustfs_free(t);
	snprintf(cafile, sizeof(cafile), "%s/ca.pem", dir);
	f = fopen(cafile, "w");
	for (i = 0; i < nroots; i++)
		PEM_write_X509(f, sk_X509_value(roots, i));
	fclose(f);
	snprintf(path, sizeof(path), "%s/capath", dir);
	mkdir(path, 0700);
	for (i = 0; i < nroots; i++) {
		char p[600];
		int k;

		for (k = 0;; k++) {
			snprintf(p, sizeof(p), "%s/%08x.%d", path,
			    cert_subject_hash(sk_X509_value(roots, i)), k);
			if (access(p, F_OK) != 0)
				break;
		}
		f = fopen(p, "w");
		PEM_write_X509(f, sk_X509_value(roots, i));
		fclose(f);
	}
	chain = sk_X509_new_null();
	sk_X509_push(chain, leaf);
	sk_X509_push(chain, inter);
	untrusted = sk_X509_new_null();
	sk_X509_push(untrusted, inter);

	/* The chain and the CAfile for the new-process rows. */
	snprintf(path, sizeof(path), "%s/chain.pem", dir);
	f = fopen(path, "w");
	PEM_write_X509(f, leaf);
	PEM_write_X509(f, inter);
	fclose(f);

	snprintf(path, sizeof(path), "%s/store", dir);
	for (i = 0; i < n; i++) {
		s = now_us();
		t = trustfs_open(path);
		if (trustfs_verify_chain(t, "server.test", chain, &v) != 0 ||
		    !v.trusted) {
			fprintf(stderr, "trustfs: %s\n", v.message);
			exit(1);
		}
		trustfs_free(t);
		t_tfs[i] = now_us() - s;
	}
	/* The same while another handle keeps the environment open, as in
	 * a client that opens a handle per thread or per connection. */
	{
		struct trustfs *keep = trustfs_open(path);

		for (i = 0; i < n; i++) {
			s = now_us();
			t = trustfs_open(path);
			if (trustfs_verify_chain(t, "server.test", chain,
			    &v) != 0 || !v.trusted)
				exit(1);
			trustfs_free(t);
			t_warm[i] = now_us() - s;
		}
		trustfs_free(keep);
	}
	for (i = 0; i < n; i++) {
		X509_STORE *xs = X509_STORE_new();

		s = now_us();
		X509_STORE_load_file(xs, cafile);
		if (!verify_with(xs, leaf, untrusted))
			exit(1);
		X509_STORE_free(xs);
		t_file[i] = now_us() - s;
	}
	snprintf(path, sizeof(path), "%s/capath", dir);
	for (i = 0; i < n; i++) {
		X509_STORE *xs = X509_STORE_new();

		s = now_us();
		X509_STORE_load_path(xs, path);
		if (!verify_with(xs, leaf, untrusted))
			exit(1);
		X509_STORE_free(xs);
		t_path[i] = now_us() - s;
	}
	mem = X509_STORE_new();
	for (i = 0; i < nroots; i++)
		X509_STORE_add_cert(mem, sk_X509_value(roots, i));
	for (i = 0; i < n; i++) {
		s = now_us();
		if (!verify_with(mem, leaf, untrusted))
			exit(1);
		t_mem[i] = now_us() - s;
	}
	/* A new process each time (fork + exec of this program), interleaved:
	 * doing nothing, trustfs_open + verify, OpenSSL loading the CAfile. */
	for (i = 0; i < nproc; i++) {
		p_nop[i] = run_child("nop", dir);
		p_tfs[i] = run_child("trustfs", dir);
		p_file[i] = run_child("cafile", dir);
	}

	printf("\nopen + verify one 3-certificate chain, %d roots: median and "
	    "p10..p90 of %d runs (%d for new processes)\n", nroots, n, nproc);
	printf("%-46s %10s %21s %8s\n", "how", "median µs", "p10 .. p90",
	    "ratio");
	med_mem = report("OpenSSL, store already in memory", t_mem, n, 0);
	report("trustfs_open + verify (first open)", t_tfs, n, med_mem);
	report("trustfs_open + verify (store in use)", t_warm, n, med_mem);
	report("OpenSSL, X509_STORE_load_file (CAfile)", t_file, n, med_mem);
	report("OpenSSL, X509_STORE_load_path (CApath)", t_path, n, med_mem);
	med_nop = report("new process: fork + exec, nothing", p_nop, nproc,
	    med_mem);
	report("new process: trustfs_open + verify", p_tfs, nproc, med_mem);
	report("new process: OpenSSL CAfile + verify", p_file, nproc,
	    med_mem);
	printf("(a new process's own start is %.0f µs of its rows)\n",
	    med_nop);
	X509_STORE_free(mem);
	sk_X509_free(untrusted);
	sk_X509_free(chain);
	X509_free(leaf);
	X509_free(inter);
	sk_X509_pop_free(roots, X509_free);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	tu_rmrf(dir);
}

int
main(int argc, char *argv[])
{
	long max = 1000000, sizes[] = { 1000, 100000, 1000000 };
	struct gencert_opts o = { .cn = "target.example" };
	gnutls_datum_t gder;
	unsigned char *der;
	size_t len;
	X509 *leaf;
	size_t i;

	if (argc == 4 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "--max-pins") == 0)
		max = strtol(argv[2], NULL, 10);
	/* --verify-only: the open + verify table alone (tests/bench/run.sh). */
	if (argc == 2 && strcmp(argv[1], "--verify-only") == 0)
		max = 0;
	gnutls_global_init();
	leaf = tu_make_cert(&o, NULL);
	cert_der(leaf, &der, &len);
	gder.data = der;
	gder.size = (unsigned)len;
	if (max > 0) {
		printf("pin look-up: trustfs_check (tofu, pin matches) against "
		    "GnuTLS gnutls_verify_stored_pubkey\n");
		printf("%-10s %14s %14s %11s\n", "pins", "trustfs µs",
		    "GnuTLS µs", "GnuTLS/trustfs");
	}
	for (i = 0; i < 3; i++)
		if (sizes[i] <= max)
			pin_bench(sizes[i], leaf, &gder);
	open_verify_bench();
	free(der);
	X509_free(leaf);
	gnutls_global_deinit();
	return 0;
}
