/*
 * trustctl list DIR: the entries of one directory of the mount, one per
 * line, read from the store itself (read-only), so that it works with or
 * without a mount and compares members of a cluster field by field.
 *
 * Three layouts of the same fields:
 *  - for people: a header and aligned columns, two spaces apart;
 *  - -H (as zfs list -H): no header, one tab between fields;
 *  - --json: an array, one object per entry, each on its own line.
 * Every field but the subject is one word, and the subject is last (it is
 * one line: the name formatter escapes control characters), so that
 * `read -r name sha ... subject' and awk both split a line correctly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "ctl.h"
#include "entry.h"
#include "json.h"
#include "names.h"
#include "pins.h"
#include "store.h"

#define LIST_MAXCOLS 6

struct row {
	char name[STORE_NAME_MAX + 1];
	char *subject;			/* malloc'd, one line */
	char sha256[100];		/* leaf side, "AB:CD:..." */
	char first[32], last[32], count[24];	/* pins */
	char not_after[32], status[16];	/* the others */
	uint64_t first_seen, last_seen, seen_count;
	time_t not_after_t;
	long days_left;
	int ncerts;
	unsigned char other[32];	/* rejected: the pin it did not match */
};

struct list {
	enum store_db db;
	time_t now;
	struct row *rows;
	size_t n, cap;
	char bad[STORE_NAME_MAX + 1];	/* an entry that would not decode */
};

struct list_opts {
	int json, scripted, counters;
};

/* A status word: "expires in 3 days" is for the inspect text; a column
 * must be one word that a script can compare. */
static const char *
status_word(enum cert_status s)
{
	switch (s) {
	case CERT_EXPIRED:
		return "expired";
	case CERT_NOT_YET_VALID:
		return "not-yet-valid";
	case CERT_EXPIRING:
		return "expiring";
	default:
		return "valid";
	}
}

/* How bad a status is, to give a chain the status of its worst member. */
static int
status_rank(enum cert_status s)
{
	return s == CERT_EXPIRED ? 3 : s == CERT_NOT_YET_VALID ? 2 :
	    s == CERT_EXPIRING ? 1 : 0;
}

static void
seen_str(uint64_t t, char *out, size_t outlen)
{
	if (t == 0)
		snprintf(out, outlen, "never");
	else
		ctl_iso_time((time_t)t, out, outlen);
}

/* A pin's counters, as numbers and as the columns show them. */
static void
row_seen(struct row *r, const struct store_rec *rec)
{
	r->first_seen = rec->first_seen;
	r->last_seen = rec->last_seen;
	r->seen_count = rec->seen_count;
	seen_str(rec->first_seen, r->first, sizeof(r->first));
	seen_str(rec->last_seen, r->last, sizeof(r->last));
	snprintf(r->count, sizeof(r->count), "%llu",
	    (unsigned long long)rec->seen_count);
}

/* Copies one record into a row: the transaction's memory is gone after
 * the walk. */
static int
collect_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct list *l = arg;
	STACK_OF(X509) *sk = NULL;
	struct row *r;
	enum cert_status st, worst = CERT_VALID;
	unsigned char sha[32];
	long days;
	int i, rc = 0, key_only;

	key_only = l->db == STORE_PINNED && pin_is_key_only(rec);
	if (!key_only && (entry_certs(rec, &sk) != 0 || sk_X509_num(sk) < 1)) {
		/* A list that silently skips an entry would look complete. */
		snprintf(l->bad, sizeof(l->bad), "%s", name);
		rc = -EINVAL;
		goto out;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct row *nr = realloc(l->rows, cap * sizeof(*nr));

		if (nr == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		l->rows = nr;
		l->cap = cap;
	}
	r = &l->rows[l->n];
	memset(r, 0, sizeof(*r));
	if (key_only) {
		/* A key pin (trustctl import-known-hosts) holds no certificate
		 * until a handshake shows one: its column is the key's. */
		r->subject = strdup("(key pin, no certificate yet)");
		if (r->subject == NULL)
			return -ENOMEM;
		l->n++;
		snprintf(r->name, sizeof(r->name), "%s", name);
		memcpy(r->sha256, "key:", 4);
		cert_hex(rec->other_sha256, 32, ':', r->sha256 + 4);
		row_seen(r, rec);
		return 0;
	}
	r->subject = cert_name_str(X509_get_subject_name(sk_X509_value(sk, 0)));
	if (r->subject == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	l->n++;
	snprintf(r->name, sizeof(r->name), "%s", name);
	cert_sha256(sk_X509_value(sk, 0), sha);
	cert_hex(sha, 32, ':', r->sha256);
	row_seen(r, rec);
	memcpy(r->other, rec->other_sha256, 32);
	r->ncerts = sk_X509_num(sk);
	/* A chain is good until the first of its certificates expires. */
	for (i = 0; i < r->ncerts; i++) {
		X509 *x = sk_X509_value(sk, i);

		st = cert_status(x, l->now, &days);
		if (i == 0 || cert_not_after(x) < r->not_after_t) {
			r->not_after_t = cert_not_after(x);
			r->days_left = days;
		}
		if (i == 0 || status_rank(st) > status_rank(worst))
			worst = st;
	}
	ctl_iso_time(r->not_after_t, r->not_after, sizeof(r->not_after));
	snprintf(r->status, sizeof(r->status), "%s", status_word(worst));
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* The text columns of a row (hdr: the header instead); returns how many. */
static int
row_cols(const struct list *l, const struct list_opts *o,
    const struct row *r, const char *cols[LIST_MAXCOLS])
{
	int n = 0;

	cols[n++] = r ? r->name : l->db == STORE_PINNED ? "HOST_PORT" :
	    "NAME";
	cols[n++] = r ? r->sha256 : "SHA256";
	if (l->db == STORE_PINNED) {
		if (o->counters) {
			cols[n++] = r ? r->first : "FIRST_SEEN";
			cols[n++] = r ? r->last : "LAST_SEEN";
			cols[n++] = r ? r->count : "SEEN_COUNT";
		}
	} else {
		cols[n++] = r ? r->not_after : "NOT_AFTER";
		cols[n++] = r ? r->status : "STATUS";
	}
	cols[n++] = r ? r->subject : "SUBJECT";
	return n;
}

static void
print_cols(FILE *f, const struct list_opts *o, const char *cols[], int n,
    const size_t width[])
{
	int c;

	for (c = 0; c < n; c++) {
		if (o->scripted)
			fprintf(f, "%s%s", cols[c], c + 1 < n ? "\t" : "\n");
		else if (c + 1 < n)
			fprintf(f, "%-*s  ", (int)width[c], cols[c]);
		else
			fprintf(f, "%s\n", cols[c]);	/* the subject */
	}
}

static void
print_text(FILE *f, const struct list *l, const struct list_opts *o)
{
	const char *cols[LIST_MAXCOLS];
	size_t width[LIST_MAXCOLS] = { 0 }, w, i;
	int n = 0, c;

	/* Widths from the header and every row: nothing is cut. */
	for (i = 0; i <= l->n; i++) {
		n = row_cols(l, o, i == l->n ? NULL : &l->rows[i], cols);
		for (c = 0; c < n; c++) {
			w = strlen(cols[c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	if (!o->scripted)
		print_cols(f, o, cols, n, width);	/* the header, last */
	for (i = 0; i < l->n; i++) {
		n = row_cols(l, o, &l->rows[i], cols);
		print_cols(f, o, cols, n, width);
	}
}

static struct json_object *
row_json(const struct list *l, const struct list_opts *o, const struct row *r)
{
	struct json_object *j = json_object_new_object();
	char host[NAME_MAX_BYTES + 1], other[100];
	unsigned port;
	int rc, hostdb = l->db == STORE_PINNED || l->db == STORE_REJECTED;

	if (j == NULL)
		return NULL;
	rc = ctl_json_str(j, l->db == STORE_PINNED ? "host_port" : "name",
	    r->name);
	if (rc == 0 && hostdb && name_host_port_split(r->name, host,
	    sizeof(host), &port) == 0) {
		rc = ctl_json_str(j, "host", host);
		rc = rc ? rc : ctl_json_int(j, "port", port);
	}
	rc = rc ? rc : ctl_json_str(j, "subject", r->subject);
	rc = rc ? rc : ctl_json_str(j, "sha256", r->sha256);
	if (l->db == STORE_PINNED) {
		if (o->counters) {
			rc = rc ? rc : ctl_json_time(j, "first_seen",
			    (time_t)r->first_seen);
			rc = rc ? rc : ctl_json_time(j, "last_seen",
			    (time_t)r->last_seen);
			rc = rc ? rc : ctl_json_int(j, "seen_count",
			    (int64_t)r->seen_count);
		}
	} else {
		rc = rc ? rc : ctl_json_time(j, "not_after", r->not_after_t);
		rc = rc ? rc : ctl_json_str(j, "status", r->status);
		rc = rc ? rc : ctl_json_int(j, "days_left", r->days_left);
	}
	if (l->db == STORE_REJECTED) {
		cert_hex(r->other, 32, ':', other);
		rc = rc ? rc : ctl_json_str(j, "pinned_sha256", other);
	}
	if (l->db == STORE_CHAINS)
		rc = rc ? rc : ctl_json_int(j, "certificates", r->ncerts);
	if (rc != 0) {
		json_object_put(j);
		j = NULL;
	}
	return j;
}

/* One object per line, so that diff(1) and grep(1) see entries. */
static int
print_json(FILE *f, const struct list *l, const struct list_opts *o)
{
	struct json_object *j;
	size_t i;
	int rc = 0;

	fputs("[", f);
	for (i = 0; rc == 0 && i < l->n; i++) {
		j = row_json(l, o, &l->rows[i]);
		if (j == NULL) {
			rc = -ENOMEM;
			break;
		}
		fputs(i ? ",\n" : "\n", f);
		fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE), f);
		json_object_put(j);
	}
	fputs(l->n ? "\n]\n" : "]\n", f);
	return rc;
}

int
ctl_list(const char *store_dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "scripted", no_argument, NULL, 'H' },
		{ "no-counters", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct list_opts o = { .counters = 1 };
	struct list l = { .now = time(NULL) };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct tf_error err = { 0 };
	char dir[32];
	size_t i, len;
	int c, db, rc = EXIT_ERROR;

	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = 1;
			break;
		case 'H':
			o.scripted = 1;
			break;
		case 'C':
			o.counters = 0;
			break;
		case 'h':
			ctl_usage(stdout, "list");
			rc = EXIT_TRUSTED;
			goto out;
		default:
			ctl_usage(stderr, "list");
			goto out;
		}
	}
	if (optind != argc - 1 || (o.json && o.scripted)) {
		fprintf(stderr, "trustctl: list takes one DIR (pinned, "
		    "rejected, roots, distrusted, chains) and --json or -H, "
		    "not both\n");
		goto out;
	}
	/* "pinned/" as the shell completes it is "pinned". */
	len = strlen(argv[optind]);
	while (len > 1 && argv[optind][len - 1] == '/')
		len--;
	snprintf(dir, sizeof(dir), "%.*s", (int)len, argv[optind]);
	db = len < sizeof(dir) ? entry_db_from_dir(dir) : -1;
	if (db < 0) {
		fprintf(stderr, "trustctl: list: no directory '%s' (pinned, "
		    "rejected, roots, distrusted, chains)\n", argv[optind]);
		goto out;
	}
	l.db = (enum store_db)db;
	if (store_open(store_dir, STORE_RDONLY | STORE_NOCREATE, &st,
	    &err) != 0) {
		fprintf(stderr, "trustctl: %s\n", err.msg);
		goto out;
	}
	if (store_txn_begin(st, 0, &txn, &err) != 0 ||
	    (c = store_foreach(txn, l.db, collect_cb, &l)) < 0) {
		if (l.bad[0] != '\0')
			fprintf(stderr, "trustctl: %s/%s: the certificate "
			    "does not decode; nothing listed\n", dir, l.bad);
		else
			fprintf(stderr, "trustctl: reading %s/: %s\n", dir,
			    err.msg[0] ? err.msg : strerror(-c));
		goto out;
	}
	store_txn_abort(txn);	/* everything is copied: let writers on */
	txn = NULL;
	if (o.json)
		c = print_json(stdout, &l, &o);
	else
		print_text(stdout, &l, &o);
	if (c != 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "trustctl: writing the list: %s\n",
		    c != 0 ? strerror(-c) : strerror(errno));
		goto out;
	}
	rc = EXIT_TRUSTED;
out:
	for (i = 0; i < l.n; i++)
		free(l.rows[i].subject);
	free(l.rows);
	store_txn_abort(txn);
	store_close(st);
	return rc;
}
