/*
 * trustctl import FILE: every certificate of a PEM, DER or PKCS#7 bundle
 * into roots/, in one store transaction, through entry_import() (import.c
 * in the library), the very code behind the mount's `import' file: the
 * same rules, the same report under the same "import_report" key (so
 * `cat import' on a mount shows it at once, byte for byte as if the
 * bundle had been written there) and the same audit lines -- for a
 * script that has no mount, or a person who wants to watch a large import
 * (a progress line on a terminal) and read what became of each
 * certificate (--json).
 *
 * Each certificate that entry_add() refuses (an end-entity certificate
 * is no anchor) is reported with its reason and the import goes on.
 * An input that does not parse changes nothing at all, not even the
 * report: the person running trustctl reads the reason on standard error.
 *
 * SOURCE may be a URL (issue 12): http://, https:// (the server verified
 * against roots/ by OpenSSL, nothing of distrusted/ in its chain) or
 * file://, fetched by src/net within the import's 64 MiB and a time
 * limit, and checked against its Content-Type.  --signer takes only a
 * CMS/PKCS#7 SignedData that verifies to the signer; --expect-sha256
 * wants a certificate in the bundle; --dry-run reports and changes
 * nothing; --replace removes what an earlier import from the same source
 * added and this bundle lost.  Each root added records its source
 * (origin.h): the URL, or file://PATH for a file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "bundle.h"
#include "cert.h"
#include "cms.h"
#include "ctl.h"
#include "entry.h"
#include "handle.h"
#include "netcmd.h"
#include "import.h"
#include "json.h"
#include "nettrust.h"
#include "progress.h"
#include "store.h"
#include "trustfs.h"

#define IMPORT_READ_CHUNK 65536

/* Progress on a terminal, one call per certificate (import.h). */
static int
import_progress(const struct import_item *it, size_t i, size_t total,
    void *arg)
{
	progress_show(arg, "import", i + 1, total, "certificates");
	return 0;
}

/* All of FILE (- is standard input), at most CERT_INPUT_MAX_BUNDLE. */
static int
read_input(const char *file, struct progress *p, struct buf *b,
    struct tf_error *e)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	size_t n;
	int rc = 0;

	if (f == NULL)
		return tf_error_set(e, -errno, "%s", file);
	for (;;) {
		/* One byte past the limit tells a bundle that is too big. */
		if (b->len > CERT_INPUT_MAX_BUNDLE) {
			rc = tf_error_setx(e, -EFBIG, "%s: larger than %u MiB, "
			    "the limit of an import", file,
			    CERT_INPUT_MAX_BUNDLE >> 20);
			break;
		}
		rc = buf_reserve(b, IMPORT_READ_CHUNK);
		if (rc != 0) {
			tf_error_set(e, rc, "reading %s", file);
			break;
		}
		errno = 0;
		n = fread(b->data + b->len, 1, IMPORT_READ_CHUNK, f);
		b->len += n;
		progress_show(p, "import", b->len, 0, "bytes read");
		if (n < IMPORT_READ_CHUNK) {
			/* fread keeps read(2)'s errno: EISDIR says more than
			 * EIO. */
			if (ferror(f))
				rc = tf_error_set(e, errno ? -errno : -EIO,
				    "reading %s", file);
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

static struct json_object *
item_json(const struct import_item *it)
{
	struct json_object *j = json_object_new_object();
	int rc;

	if (j == NULL)
		return NULL;
	rc = ctl_json_str(j, "result", import_kind_word(it->kind));
	rc = rc ? rc : ctl_json_str(j, "entry", it->entry[0] ? it->entry :
	    NULL);
	rc = rc ? rc : ctl_json_str(j, "subject", it->subject);
	rc = rc ? rc : ctl_json_str(j, "sha256", it->sha256);
	rc = rc ? rc : ctl_json_str(j, "reason", it->reason);
	if (rc == 0 && it->crl)
		rc = ctl_json_str(j, "type", "crl");
	if (rc != 0) {
		json_object_put(j);
		j = NULL;
	}
	return j;
}

/* The report as one JSON object: the counts, then one object per
 * certificate in input order. */
static int
print_json(const struct import_result *a, const char *file,
    const char *source)
{
	struct json_object *o = json_object_new_object(), *arr = NULL, *j;
	size_t i;
	int rc = o == NULL ? -ENOMEM : 0;

	rc = rc ? rc : ctl_json_str(o, "file", file);
	if (rc == 0 && source != NULL)
		rc = ctl_json_str(o, "source", source);
	rc = rc ? rc : ctl_json_time(o, "time", a->when);
	rc = rc ? rc : ctl_json_int(o, "certificates", (int64_t)a->total);
	if (rc == 0 && a->crl_total > 0)
		rc = ctl_json_int(o, "crls", (int64_t)a->crl_total);
	if (rc == 0 && a->dry_run)
		rc = ctl_json_int(o, "dry_run", 1);
	/* replaced and removed only with --replace: the object of a plain
	 * import stays as it was. */
	for (i = 0; rc == 0 && i < IMPORT_NKINDS; i++)
		if (a->replace || (i != IMPORT_REPLACED &&
		    i != IMPORT_REMOVED))
			rc = ctl_json_int(o, import_kind_word(
			    (enum import_kind)i), (int64_t)a->count[i]);
	if (rc == 0 && ((arr = json_object_new_array()) == NULL ||
	    json_object_object_add(o, "results", arr) != 0)) {
		json_object_put(arr);
		rc = -ENOMEM;
	}
	for (i = 0; rc == 0 && i < a->n; i++) {
		j = item_json(&a->items[i]);
		if (j == NULL || json_object_array_add(arr, j) != 0) {
			json_object_put(j);
			rc = -ENOMEM;
		}
	}
	if (rc == 0)
		rc = ctl_json_print(stdout, o);
	json_object_put(o);
	return rc;
}

/* What the command was asked, and what it holds on the way. */
struct imp {
	const char *arg;		/* SOURCE as given */
	const char *signer_file;
	unsigned char expect[32];
	int have_expect;
	long timeout;			/* 0: NET_TIMEOUT */
	struct import_opts o;
	char *source;			/* recorded Source; NULL for stdin */
	struct progress prog;
};

static int
fetch_progress(size_t got, size_t total, void *arg)
{
	progress_show(arg, "import", got, total, "bytes fetched");
	return 0;
}

/* The bundle at a URL, with the store's trust for https. */
static int
fetch_input(struct imp *im, struct trustfs *t, struct buf *b,
    struct tf_error *e)
{
	struct net_opts no = { 0 };
	char ctype[128];
	int rc;

	if (strncasecmp(im->arg, "https://", 8) == 0 &&
	    (rc = nettrust_init(t, &no, e)) != 0)
		goto out;
	no.max_bytes = CERT_INPUT_MAX_BUNDLE;
	no.timeout = im->timeout;
	no.ctypes = net_bundle_types;
	no.progress = fetch_progress;
	no.progress_arg = &im->prog;
	rc = net_fetch(im->arg, &no, b, ctype, sizeof(ctype), e);
	if (rc == 0 && (rc = net_bundle_ctype_check(ctype, b->data, b->len,
	    e)) != 0) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		tf_error_setx(e, -EPROTO, "%s: %s", im->arg, why);
		rc = -EPROTO;
	}
out:
	nettrust_done(&no);
	return rc;
}

/* file://ABSOLUTE for a file, the URL itself for a URL, NULL for -. */
static int
source_name(struct imp *im, struct tf_error *e)
{
	char *abs;

	if (strcmp(im->arg, "-") == 0)
		return 0;
	if (net_is_url(im->arg)) {
		/* Source is world-readable: no password in it. */
		im->source = net_url_public(im->arg);
		return im->source ? 0 : tf_error_setx(e, -ENOMEM, "out of "
		    "memory");
	}
	/* A pipe (<(cmd), /dev/fd/N) has no path of its own: its name. */
	if ((abs = realpath(im->arg, NULL)) == NULL)
		im->source = strdup(im->arg);
	else if (asprintf(&im->source, "file://%s", abs) < 0)
		im->source = NULL;
	free(abs);
	return im->source ? 0 : tf_error_setx(e, -ENOMEM, "out of memory");
}

static int
read_signer(const char *file, X509 **out, struct tf_error *e)
{
	STACK_OF(X509) *sk = NULL;
	struct progress none = { 0 };
	struct buf b = { 0 };
	struct tf_error pe = { 0 };
	int rc;

	*out = NULL;
	rc = read_input(file, &none, &b, e);
	if (rc == 0 && (rc = cert_parse(b.data, b.len, CERT_INPUT_MAX_ONE, &sk,
	    &pe)) != 0)
		tf_error_setx(e, rc, "--signer %s: %s", file, pe.msg);
	else if (rc == 0 && sk_X509_num(sk) != 1)
		rc = tf_error_setx(e, -EINVAL, "--signer %s: one certificate "
		    "wanted, it holds %d", file, sk_X509_num(sk));
	if (rc == 0) {
		*out = sk_X509_value(sk, 0);
		X509_up_ref(*out);
	}
	sk_X509_pop_free(sk, X509_free);
	buf_free(&b);
	return rc;
}

/* --expect-sha256: the certificate must be among those to import. */
static int
expect_check(struct imp *im, const struct buf *in, STACK_OF(X509) *certs,
    struct tf_error *e)
{
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *sk = NULL;
	char hex[100];
	int rc = 0, found;

	if (!im->have_expect)
		return 0;
	if (certs == NULL && (rc = import_split(in->data, in->len, &sk, &crls,
	    e)) != 0)
		return rc;
	found = net_find_sha256(certs != NULL ? certs : sk, im->expect) !=
	    NULL;
	sk_X509_pop_free(sk, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	if (!found) {
		cert_hex(im->expect, 32, ':', hex);
		rc = tf_error_setx(e, -EACCES, "%s: no certificate with SHA-256 "
		    "%s in the bundle; nothing was imported", im->arg, hex);
	}
	return rc;
}

static int
parse_sha256(const char *s, unsigned char out[32])
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s; s++) {
		if (*s == ':' || *s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			v = (*s | 0x20) - 'a' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == 32)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	return n == 32 && hi < 0 ? 0 : -1;
}

int
ctl_opt_sha256(const char *arg, unsigned char out[32])
{
	if (parse_sha256(arg, out) == 0)
		return 0;
	fprintf(stderr, "trustctl: --expect-sha256 wants 64 hex digits "
	    "(colons allowed), not '%s'\n", arg);
	return -1;
}

int
ctl_opt_timeout(const char *arg, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	if (errno == 0 && end != arg && *end == '\0' && *out >= 1 &&
	    *out <= 3600)
		return 0;
	fprintf(stderr, "trustctl: --timeout wants seconds from 1 to 3600, "
	    "not '%s'\n", arg);
	return -1;
}

/* 1 (not trusted / refused) or 2 (usage, I/O) for a failure. */
static int
exit_for(int rc)
{
	return rc == -EACCES || rc == -EPROTO ? EXIT_REFUSED : EXIT_ERROR;
}

/* Fetch or read, check the signature and the expected certificate, then
 * import.  0, or a negative errno with e saying why. */
static int
run(struct imp *im, struct trustfs *t, struct import_result *a,
    struct tf_error *e)
{
	struct store *st = t->st;
	struct entry_actor who = { getuid(), getpid(), "trustctl" };
	STACK_OF(X509) *certs = NULL;
	struct buf in = { 0 }, content = { 0 }, *use = &in;
	struct tf_error ie = { 0 };
	X509 *signer = NULL;
	const char *what;
	int rc;

	if (im->signer_file != NULL &&
	    (rc = read_signer(im->signer_file, &signer, e)) != 0)
		goto out;
	if (net_is_url(im->arg))
		rc = fetch_input(im, t, &in, e);
	else
		rc = read_input(im->arg, &im->prog, &in, e);
	if (rc != 0 || (rc = source_name(im, e)) != 0)
		goto out;
	im->o.source = im->source;
	what = strcmp(im->arg, "-") == 0 ? "standard input" : im->arg;
	if (signer != NULL) {
		rc = net_cms_verify(in.data, in.len, signer, &certs, &content,
		    &ie);
		if (rc != 0) {
			/* --signer: anything but a good signature is a
			 * refusal. */
			rc = rc == -ENOMEM ? rc : -EACCES;
			tf_error_setx(e, rc, "%s: %s; nothing was imported",
			    what, ie.msg);
			goto out;
		}
		/* A bundle signed as a file carries it as its content; a
		 * signed certs-only one, in its certificates. */
		if (content.len > 0) {
			use = &content;
			sk_X509_pop_free(certs, X509_free);
			certs = NULL;
		}
	}
	if ((rc = expect_check(im, use, certs, e)) != 0)
		goto out;
	progress_show(&im->prog, "import", use->len, 0, "bytes: parsing");
	if (certs != NULL)
		rc = entry_import_certs(st, certs, &im->o, &who,
		    import_progress, &im->prog, a, &ie);
	else
		rc = entry_import_opts(st, use->data, use->len, &im->o, &who,
		    import_progress, &im->prog, a, &ie);
	if (rc == -EINVAL || rc == -EFBIG)
		/* The input itself: the parser's message; name the file. */
		tf_error_setx(e, rc, "%s: %s", what, ie.msg);
	else if (rc != 0)
		tf_error_setx(e, rc, "import into %s: %s; nothing was changed",
		    store_path(st), ie.msg[0] ? ie.msg : strerror(-rc));
out:
	X509_free(signer);
	sk_X509_pop_free(certs, X509_free);
	buf_free(&content);
	buf_free(&in);
	return rc;
}

int
ctl_import(const char *store_dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "signer", required_argument, NULL, 'S' },
		{ "expect-sha256", required_argument, NULL, 'E' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "replace", no_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct import_result a = { 0 };
	struct imp im = { 0 };
	struct trustfs *t = NULL;
	struct tf_error e = { 0 };
	int c, json = 0, quiet = 0, rc = EXIT_ERROR;

	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "jqnh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'S':
			im.signer_file = optarg;
			break;
		case 'E':
			if (ctl_opt_sha256(optarg, im.expect) != 0)
				return EXIT_ERROR;
			im.have_expect = 1;
			break;
		case 'n':
			im.o.dry_run = 1;
			break;
		case 'R':
			im.o.replace = 1;
			break;
		case 't':
			if (ctl_opt_timeout(optarg, &im.timeout) != 0)
				return EXIT_ERROR;
			break;
		case 'h':
			ctl_usage(stdout, "import");
			return EXIT_TRUSTED;
		default:
			ctl_usage(stderr, "import");
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "trustctl: import takes one SOURCE (a file, - "
		    "for standard input, or an http://, https:// or file:// "
		    "URL)\n");
		ctl_usage(stderr, "import");
		return EXIT_ERROR;
	}
	im.arg = argv[optind];
	if (im.o.replace && strcmp(im.arg, "-") == 0) {
		fprintf(stderr, "trustctl: --replace needs a SOURCE that names "
		    "where the bundle comes from, not standard input\n");
		return EXIT_ERROR;
	}
	progress_init(&im.prog, quiet);
	/* The store first: a mistyped --store fails before a long read. */
	/* One handle, one LMDB environment for the import and the HTTPS
	 * server's check alike (lmdb.h: never two on a store in a process). */
	t = trustfs_open_flags(store_dir, STORE_NOCREATE);
	if (t == NULL || trustfs_error(t) != NULL) {
		tf_error_setx(&e, -EIO, "%s", t ? trustfs_error(t) :
		    "out of memory");
		rc = EXIT_ERROR;
		goto out;
	}
	if ((c = run(&im, t, &a, &e)) != 0) {
		rc = exit_for(c);
		goto out;
	}
	progress_show(&im.prog, "import", a.total, a.total, im.o.dry_run ?
	    "dry run" : "committed");
	progress_end(&im.prog);
	if (json)
		c = print_json(&a, im.arg, im.source);
	else
		c = fwrite(a.report.data, 1, a.report.len, stdout) ==
		    a.report.len ? 0 : -EIO;
	/* The import is committed whatever happens to standard output; a
	 * script that cannot read the report must still learn of it. */
	if (c != 0 || fflush(stdout) != 0) {
		tf_error_setx(&e, -EIO, "the import is %s, but writing its "
		    "report failed: %s", im.o.dry_run ? "checked" :
		    "committed", strerror(c ? -c : errno));
		rc = EXIT_ERROR;
		goto out;
	}
	rc = EXIT_TRUSTED;
out:
	progress_end(&im.prog);
	if (rc != EXIT_TRUSTED)
		fprintf(stderr, "trustctl: %s\n", tf_error_msg(&e));
	import_result_free(&a);
	free(im.source);
	trustfs_free(t);
	return rc;
}
