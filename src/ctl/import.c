/*
 * trustctl import FILE: every certificate of a PEM, DER or PKCS#7 bundle
 * into roots/, in one store transaction, as writing the bundle to the
 * mount's `import' file does -- the same entry_add() rules, the same
 * report under the same "import_report" key (so `cat import' on a mount
 * shows it at once) and the same audit line -- for a script that has no
 * mount, or a person who wants to watch a large import (a progress line
 * on a terminal) and read what became of each certificate.
 *
 * Unlike the mount, each certificate that entry_add() refuses (an
 * end-entity certificate is no anchor) is reported with its reason and
 * the import goes on: entry_add() writes nothing before it refuses.
 * An input that does not parse changes nothing at all, not even the
 * report: the person running trustctl reads the reason on standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cert.h"
#include "ctl.h"
#include "entry.h"
#include "json.h"
#include "progress.h"
#include "store.h"

#define IMPORT_READ_CHUNK 65536

enum import_kind { IMP_ADDED, IMP_DUPLICATE, IMP_DISTRUSTED, IMP_REFUSED };

/* What became of one certificate of the bundle. */
struct import_item {
	enum import_kind kind;
	char entry[STORE_NAME_MAX + 16];	/* "roots/X.pem"; "" if refused */
	char *subject;				/* malloc'd */
	char sha256[100];
	char *reason;				/* refused: malloc'd */
};

struct import {
	STACK_OF(X509) *sk;
	const struct entry_actor *who;
	struct progress *prog;
	struct import_item *items;	/* one per certificate of sk */
	size_t n;
	size_t count[4];		/* by enum import_kind */
	struct buf report;		/* what `cat import' shows */
	time_t when;			/* of the report */
	struct tf_error err;
};

static const char *const kind_word[] = { "added", "duplicate", "distrusted",
    "refused" };

static void
items_clear(struct import *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->items[i].subject);
		free(a->items[i].reason);
	}
	a->n = 0;
	memset(a->count, 0, sizeof(a->count));
}

/* Records one outcome; reason only for a refusal. */
static int
item_add(struct import *a, X509 *x, enum import_kind kind, const char *dir,
    const char *name, const char *reason)
{
	struct import_item *it = &a->items[a->n];
	unsigned char sha[32];

	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (name != NULL)
		snprintf(it->entry, sizeof(it->entry), "%s/%s", dir, name);
	cert_sha256(x, sha);
	cert_hex(sha, 32, ':', it->sha256);
	it->subject = cert_name_str(X509_get_subject_name(x));
	if (reason != NULL)
		it->reason = strdup(reason);
	if (it->subject == NULL || (reason != NULL && it->reason == NULL)) {
		free(it->subject);
		free(it->reason);
		return -ENOMEM;
	}
	a->n++;
	a->count[kind]++;
	return 0;
}

/* The report, in the mount's words (src/fs, import_txn), so that reading
 * `import' looks the same whoever imported. */
static int
report_build(struct import *a)
{
	char tbuf[64];
	size_t i;
	int rc;

	buf_reset(&a->report);
	a->when = time(NULL);
	cert_time_str(a->when, tbuf, sizeof(tbuf));
	rc = buf_printf(&a->report, "Import: %s\nCertificates: %d\n"
	    "Added: %zu\nSkipped (duplicate): %zu\nSkipped (distrusted): %zu\n"
	    "Refused: %zu\n", tbuf, sk_X509_num(a->sk), a->count[IMP_ADDED],
	    a->count[IMP_DUPLICATE], a->count[IMP_DISTRUSTED],
	    a->count[IMP_REFUSED]);
	for (i = 0; rc == 0 && i < a->n; i++) {
		const struct import_item *it = &a->items[i];

		if (it->kind == IMP_REFUSED)
			rc = buf_printf(&a->report, "refused %s: %s\n",
			    it->subject, it->reason);
		else
			rc = buf_printf(&a->report, "%s %s\n",
			    kind_word[it->kind], it->entry);
	}
	return rc;
}

/* One certificate: an entry of its own in roots/, or a reason why not. */
static int
import_one(struct store_txn *txn, struct import *a, X509 *x)
{
	STACK_OF(X509) *one = sk_X509_new_null();
	struct entry_result res;
	struct tf_error ce = { 0 };
	int rc;

	if (one == NULL || !sk_X509_push(one, x)) {
		rc = -ENOMEM;
		goto out;
	}
	rc = entry_add(txn, STORE_ROOTS, NULL, one, ENTRY_AUTOLABEL, a->who,
	    &res, &ce);
	if (rc == -EINVAL) {
		/* Refused before anything was written: go on. */
		rc = item_add(a, x, IMP_REFUSED, NULL, NULL, ce.msg[0] ?
		    ce.msg : "refused");
		goto out;
	}
	if (rc != 0) {
		/* A store error is in a->err already (the transaction's). */
		if (a->err.code == 0)
			tf_error_setx(&a->err, rc, "%s", ce.msg[0] ? ce.msg :
			    strerror(-rc));
		goto out;
	}
	switch (res.outcome) {
	case ENTRY_ADDED:
	case ENTRY_REPLACED:
		rc = item_add(a, x, IMP_ADDED, "roots", res.name, NULL);
		break;
	case ENTRY_UNCHANGED:
		rc = item_add(a, x, IMP_DUPLICATE, "roots", res.name, NULL);
		break;
	case ENTRY_SKIPPED_DISTRUSTED:
		rc = item_add(a, x, IMP_DISTRUSTED, "distrusted", res.name,
		    NULL);
		break;
	}
out:
	sk_X509_free(one);
	return rc;
}

/* The transaction; store_write may run it again after growing the map,
 * so it starts from nothing each time. */
static int
import_txn(struct store_txn *txn, void *arg)
{
	struct import *a = arg;
	size_t i, total = (size_t)sk_X509_num(a->sk);
	int rc = 0;

	items_clear(a);
	tf_error_clear(&a->err);
	for (i = 0; i < total && rc == 0; i++) {
		progress_show(a->prog, "import", i, total, "certificates");
		rc = import_one(txn, a, sk_X509_value(a->sk, (int)i));
	}
	if (rc == 0) {
		progress_show(a->prog, "import", total, total, "committing");
		rc = report_build(a);
	}
	if (rc == 0)
		rc = store_meta_put(txn, "import_report", a->report.data,
		    a->report.len);
	if (rc == 0)
		rc = entry_audit(txn, a->who, "import", "import", NULL, NULL);
	return rc;
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
	rc = ctl_json_str(j, "result", kind_word[it->kind]);
	rc = rc ? rc : ctl_json_str(j, "entry", it->entry[0] ? it->entry :
	    NULL);
	rc = rc ? rc : ctl_json_str(j, "subject", it->subject);
	rc = rc ? rc : ctl_json_str(j, "sha256", it->sha256);
	rc = rc ? rc : ctl_json_str(j, "reason", it->reason);
	if (rc != 0) {
		json_object_put(j);
		j = NULL;
	}
	return j;
}

/* The report as one JSON object: the counts, then one object per
 * certificate in input order. */
static int
print_json(const struct import *a, const char *file)
{
	struct json_object *o = json_object_new_object(), *arr = NULL, *j;
	size_t i;
	int rc = o == NULL ? -ENOMEM : 0;

	rc = rc ? rc : ctl_json_str(o, "file", file);
	rc = rc ? rc : ctl_json_time(o, "time", a->when);
	rc = rc ? rc : ctl_json_int(o, "certificates", sk_X509_num(a->sk));
	for (i = 0; rc == 0 && i < 4; i++)
		rc = ctl_json_int(o, kind_word[i], (int64_t)a->count[i]);
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

int
ctl_import(const char *store_dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct import a = { 0 };
	struct progress prog;
	struct entry_actor who = { getuid(), getpid(), "trustctl" };
	struct buf in = { 0 };
	struct store *st = NULL;
	struct tf_error e = { 0 };
	const char *file;
	int c, json = 0, quiet = 0, rc = EXIT_ERROR;

	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
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
		fprintf(stderr, "trustctl: import takes one FILE (- reads "
		    "standard input)\n");
		ctl_usage(stderr, "import");
		return EXIT_ERROR;
	}
	file = argv[optind];
	progress_init(&prog, quiet);
	a.prog = &prog;
	a.who = &who;
	/* The store first: a mistyped --store fails before a long read. */
	if (store_open(store_dir, STORE_NOCREATE, &st, &e) != 0)
		goto out;
	if (read_input(file, &prog, &in, &e) != 0)
		goto out;
	progress_show(&prog, "import", in.len, 0, "bytes: parsing");
	c = cert_parse(in.data, in.len, CERT_INPUT_MAX_BUNDLE, &a.sk, &e);
	if (c != 0) {
		/* cert_parse's message says what is wrong; name the file. */
		char why[sizeof(e.msg)];

		snprintf(why, sizeof(why), "%s", e.msg);
		tf_error_setx(&e, c, "%s: %s", strcmp(file, "-") == 0 ?
		    "standard input" : file, why);
		goto out;
	}
	a.items = calloc((size_t)sk_X509_num(a.sk), sizeof(*a.items));
	if (a.items == NULL) {
		tf_error_set(&e, -ENOMEM, "import");
		goto out;
	}
	c = store_write(st, import_txn, &a, &a.err);
	if (c != 0) {
		tf_error_setx(&e, c, "import into %s: %s; nothing was changed",
		    store_dir, a.err.msg[0] ? a.err.msg : strerror(-c));
		goto out;
	}
	progress_end(&prog);
	if (json)
		c = print_json(&a, file);
	else
		c = fwrite(a.report.data, 1, a.report.len, stdout) ==
		    a.report.len ? 0 : -EIO;
	/* The import is committed whatever happens to standard output; a
	 * script that cannot read the report must still learn of it. */
	if (c != 0 || fflush(stdout) != 0) {
		tf_error_setx(&e, -EIO, "the import is committed, but writing "
		    "its report failed: %s", strerror(c ? -c : errno));
		goto out;
	}
	rc = EXIT_TRUSTED;
out:
	progress_end(&prog);
	if (rc != EXIT_TRUSTED)
		fprintf(stderr, "trustctl: %s\n", tf_error_msg(&e));
	items_clear(&a);
	free(a.items);
	sk_X509_pop_free(a.sk, X509_free);
	buf_free(&a.report);
	buf_free(&in);
	store_close(st);
	return rc;
}
