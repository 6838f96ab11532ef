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
#include "import.h"
#include "json.h"
#include "progress.h"
#include "store.h"

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
print_json(const struct import_result *a, const char *file)
{
	struct json_object *o = json_object_new_object(), *arr = NULL, *j;
	size_t i;
	int rc = o == NULL ? -ENOMEM : 0;

	rc = rc ? rc : ctl_json_str(o, "file", file);
	rc = rc ? rc : ctl_json_time(o, "time", a->when);
	rc = rc ? rc : ctl_json_int(o, "certificates", (int64_t)a->total);
	if (rc == 0 && a->crl_total > 0)
		rc = ctl_json_int(o, "crls", (int64_t)a->crl_total);
	for (i = 0; rc == 0 && i < IMPORT_NKINDS; i++)
		rc = ctl_json_int(o, import_kind_word((enum import_kind)i),
		    (int64_t)a->count[i]);
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
	struct import_result a = { 0 };
	struct progress prog;
	struct entry_actor who = { getuid(), getpid(), "trustctl" };
	struct buf in = { 0 };
	struct store *st = NULL;
	struct tf_error e = { 0 }, ie = { 0 };
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
	/* The store first: a mistyped --store fails before a long read. */
	if (store_open(store_dir, STORE_NOCREATE, &st, &e) != 0)
		goto out;
	if (read_input(file, &prog, &in, &e) != 0)
		goto out;
	progress_show(&prog, "import", in.len, 0, "bytes: parsing");
	c = entry_import_input(st, in.data, in.len, &who, import_progress,
	    &prog, &a, &ie);
	if (c == -EINVAL || c == -EFBIG) {
		/* The input itself: the parser's message; name the file. */
		tf_error_setx(&e, c, "%s: %s", strcmp(file, "-") == 0 ?
		    "standard input" : file, ie.msg);
		goto out;
	}
	if (c != 0) {
		tf_error_setx(&e, c, "import into %s: %s; nothing was changed",
		    store_dir, ie.msg[0] ? ie.msg : strerror(-c));
		goto out;
	}
	progress_show(&prog, "import", a.total, a.total, "committed");
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
	import_result_free(&a);
	buf_free(&in);
	store_close(st);
	return rc;
}
