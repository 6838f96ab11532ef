/*
 * trustctl pin, unpin and import-known-hosts (issue 14): pre-pinning a
 * host without trusting it first (the ssh-keyscan of TLS), taking one
 * certificate out of a pin of several, and moving GnuTLS's known_hosts
 * into key pins.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cert.h"
#include "ctl.h"
#include "entry.h"
#include "names.h"
#include "pin.h"
#include "pins.h"
#include "store.h"
#include "trustfs.h"

static void
actor(struct entry_actor *who)
{
	who->uid = getuid();
	who->pid = getpid();
	who->comm = "trustctl";
}

/* --- trustctl pin ---------------------------------------------------- */

/* What the host's pin is to the presented certificate. */
struct pin_look {
	const char *hp;
	const unsigned char *sha, *key;
	enum pin_match m;
	int had;		/* a record, expired or not */
	unsigned char other[32];	/* the pin's first certificate or key */
};

static int
look_pin(struct store *st, struct pin_look *l, struct tf_error *e)
{
	struct store_txn *txn = NULL;
	struct store_rec rec;
	size_t idx;
	int rc;

	rc = store_txn_begin(st, 0, &txn, e);
	if (rc == 0)
		rc = store_get(txn, STORE_PINNED, l->hp, &rec);
	if (rc == 0) {
		l->had = 1;
		l->m = pin_match(&rec, l->sha, l->key, 0, time(NULL), &idx);
		memcpy(l->other, rec.nkeys ? rec.keys[0].sha256 :
		    rec.other_sha256, 32);
	} else if (rc == -ENOENT) {
		l->m = PIN_MATCH_NONE;
		rc = 0;
	}
	store_txn_abort(txn);
	return rc;
}

struct pin_args {
	const char *hp;
	STACK_OF(X509) *sk;
	unsigned flags;
	struct entry_result res;
	struct tf_error err;
};

static int
pin_txn(struct store_txn *txn, void *arg)
{
	struct pin_args *a = arg;
	struct entry_actor who;

	actor(&who);
	return entry_add(txn, STORE_PINNED, a->hp, a->sk, a->flags, &who,
	    &a->res, &a->err);
}

/* y or yes on a terminal; anything else is no. */
static int
confirm(const char *hp)
{
	char line[32];
	size_t n;

	fprintf(stderr, "Pin this certificate as pinned/%s? [y/N] ", hp);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

static void
show_cert(const char *hp, X509 *x, const unsigned char sha[32],
    const unsigned char key[32])
{
	char *subj = cert_name_str(X509_get_subject_name(x));
	char *iss = cert_name_str(X509_get_issuer_name(x));
	char hex[100], when[64];

	printf("pin: pinned/%s\n", hp);
	printf("subject: %s\n", subj ? subj : "?");
	printf("issuer: %s\n", iss ? iss : "?");
	cert_time_str(cert_not_after(x), when, sizeof(when));
	printf("not after: %s\n", when);
	cert_hex(sha, 32, ':', hex);
	printf("sha256: %s\n", hex);
	cert_hex(key, 32, ':', hex);
	printf("key sha256: %s\n", hex);
	free(subj);
	free(iss);
}

int
ctl_pin(const char *store_dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "servername", required_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ "replace", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pin_args a = { 0 };
	struct pin_look l = { 0 };
	struct tf_error e = { 0 };
	struct store *st = NULL;
	STACK_OF(X509) *chain = NULL;
	const char *servername = NULL;
	unsigned char sha[32], key[32];
	char name[256], hp[300], hex[100];
	unsigned port = 0;
	int c, yes = 0, replace = 0, rc = EXIT_ERROR;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:yrh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			servername = optarg;
			break;
		case 'y':
			yes = 1;
			break;
		case 'r':
			replace = 1;
			break;
		case 'h':
			ctl_usage(stdout, "pin");
			return EXIT_TRUSTED;
		default:
			ctl_usage(stderr, "pin");
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		ctl_usage(stderr, "pin");
		return EXIT_ERROR;
	}
	if (ctl_peer_chain(argv[optind], servername, &chain, name,
	    sizeof(name), &port, &e) != 0)
		goto out;
	if (name_host_port_make(name, port, hp, sizeof(hp)) != 0) {
		tf_error_setx(&e, -EINVAL, "'%s' port %u is not a valid host "
		    "and port", name, port);
		goto out;
	}
	cert_sha256(sk_X509_value(chain, 0), sha);
	if (pin_key_sha256(sk_X509_value(chain, 0), key) != 0) {
		tf_error_setx(&e, -EINVAL, "the certificate's key cannot be "
		    "encoded");
		goto out;
	}
	show_cert(hp, sk_X509_value(chain, 0), sha, key);
	if (store_open(store_dir, 0, &st, &e) != 0)
		goto out;
	l.hp = hp;
	l.sha = sha;
	l.key = key;
	if (look_pin(st, &l, &e) != 0)
		goto out;
	if (l.m == PIN_MATCH_CERT || l.m == PIN_MATCH_FILL ||
	    l.m == PIN_MATCH_KEY) {
		printf("already pinned: pinned/%s holds this %s; nothing "
		    "written\n", hp, l.m == PIN_MATCH_CERT ? "certificate" :
		    "key");
		rc = EXIT_TRUSTED;
		goto out;
	}
	if (l.m == PIN_MATCH_OTHER && !replace) {
		cert_hex(l.other, 32, ':', hex);
		fprintf(stderr, "trustctl: pinned/%s holds a different pin "
		    "(SHA-256 %s); not changed (--replace replaces it)\n", hp,
		    hex);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (!yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "trustctl: not pinned: standard input is not a "
		    "terminal to ask on; give --yes to pin\n");
		rc = EXIT_REFUSED;
		goto out;
	}
	if (!yes && !confirm(hp)) {
		fprintf(stderr, "trustctl: not pinned\n");
		rc = EXIT_REFUSED;
		goto out;
	}
	a.hp = hp;
	a.sk = sk_X509_new_null();
	if (a.sk == NULL || !sk_X509_push(a.sk, sk_X509_value(chain, 0))) {
		tf_error_setx(&e, -ENOMEM, "out of memory");
		goto out;
	}
	X509_up_ref(sk_X509_value(chain, 0));
	/* An expired pin is replaced as if there were none. */
	a.flags = replace || l.had ? ENTRY_REPLACE : 0;
	c = store_write(st, pin_txn, &a, &a.err);
	if (c != 0) {
		/* Pinned by someone else since it was looked at: -EEXIST. */
		tf_error_setx(&e, c, "pinned/%s: %s", hp, a.err.msg[0] ?
		    a.err.msg : strerror(-c));
		rc = c == -EEXIST ? EXIT_REFUSED : EXIT_ERROR;
		goto out;
	}
	printf("%s: pinned/%s\n", a.res.outcome == ENTRY_REPLACED ?
	    "replaced" : "pinned", hp);
	rc = EXIT_TRUSTED;
out:
	if (e.msg[0])
		fprintf(stderr, "trustctl: %s\n", e.msg);
	sk_X509_pop_free(a.sk, X509_free);
	sk_X509_pop_free(chain, X509_free);
	store_close(st);
	return rc;
}

/* --- trustctl unpin -------------------------------------------------- */

/* 64 hex digits, colons between pairs allowed (as cat shows them). */
static int
parse_sha256(const char *s, unsigned char out[32])
{
	size_t n = 0;
	int hi, lo;

	while (*s && n < 32) {
		if (*s == ':' && n > 0)
			s++;
		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]))
			return -1;
		hi = isdigit((unsigned char)s[0]) ? s[0] - '0' :
		    tolower((unsigned char)s[0]) - 'a' + 10;
		lo = isdigit((unsigned char)s[1]) ? s[1] - '0' :
		    tolower((unsigned char)s[1]) - 'a' + 10;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return n == 32 && *s == '\0' ? 0 : -1;
}

struct unpin_args {
	const char *hp;
	unsigned char sha[32];
	struct tf_error err;
};

static int
unpin_txn(struct store_txn *txn, void *arg)
{
	struct unpin_args *a = arg;
	struct entry_actor who;

	actor(&who);
	return pin_drop_cert(txn, a->hp, a->sha, &who, &a->err);
}

int
ctl_unpin(const char *store_dir, int argc, char **argv)
{
	struct unpin_args a = { 0 };
	struct tf_error e = { 0 };
	struct store *st = NULL;
	char hp[256];
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		ctl_usage(stdout, "unpin");
		return EXIT_TRUSTED;
	}
	if (argc != 3) {
		ctl_usage(stderr, "unpin");
		return EXIT_ERROR;
	}
	if (entry_name(STORE_PINNED, argv[1], hp, sizeof(hp), &e) != 0) {
		fprintf(stderr, "trustctl: %s\n", e.msg);
		return EXIT_ERROR;
	}
	if (parse_sha256(argv[2], a.sha) != 0) {
		fprintf(stderr, "trustctl: '%.100s' is not a SHA-256 (64 hex "
		    "digits, colons allowed, as cat pinned/%s shows it)\n",
		    argv[2], hp);
		return EXIT_ERROR;
	}
	if (store_open(store_dir, STORE_NOCREATE, &st, &e) != 0) {
		fprintf(stderr, "trustctl: %s\n", e.msg);
		return EXIT_ERROR;
	}
	a.hp = hp;
	rc = store_write(st, unpin_txn, &a, &a.err);
	store_close(st);
	if (rc != 0) {
		fprintf(stderr, "trustctl: %s\n", a.err.msg[0] ? a.err.msg :
		    strerror(-rc));
		return rc == -ENOENT ? EXIT_REFUSED : EXIT_ERROR;
	}
	printf("unpinned: %s from pinned/%s\n", argv[2], hp);
	return EXIT_TRUSTED;
}

/* --- trustctl import-known-hosts ------------------------------------- */

/* Lines longer than this are no known_hosts lines (a key in base64 is a
 * few hundred bytes; RSA 16384 is under 3 KiB). */
#define KH_LINE_MAX 65536
#define KH_FILE_MAX (64u << 20)

struct kh_entry {
	size_t line;
	char host[256];
	unsigned port;
	time_t expires;
	unsigned char *spki;
	size_t len;
};

struct kh {
	struct kh_entry *v;
	size_t n, cap;
	size_t bad, ignored;
};

/* Standard base64 (RFC 4648 section 4), padded, nothing else. */
static int
b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
	size_t i, pad = 0;
	int n;

	if (len == 0 || len % 4 != 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '=' && i >= len - 2)
			pad++;
		else if (pad > 0 || !(isalnum((unsigned char)s[i]) ||
		    s[i] == '+' || s[i] == '/'))
			return -1;
	}
	if (pad == 2 && s[len - 1] != '=')
		return -1;
	*out = malloc(len / 4 * 3 + 1);
	if (*out == NULL)
		return -1;
	n = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*outlen = (size_t)n - pad;
	return 0;
}

/* Splits "|g0|HOST|PORT|EXPIRATION|KEY" into its fields; the count. */
static int
kh_fields(char *p, char **f, int max)
{
	int n = 0;

	if (*p != '|')
		return 0;
	p++;
	while (n < max) {
		f[n++] = p;
		p = strchr(p, '|');
		if (p == NULL)
			return n;
		*p++ = '\0';
	}
	return max + 1;
}

/* One line: 0 added to k, 1 ignored (why says so), -1 bad (why). */
static int
kh_line(char *line, size_t lineno, struct kh *k, char *why, size_t whylen)
{
	struct kh_entry *ent;
	char *f[6], hp[300], *end;
	unsigned long port;
	unsigned long long exp;
	struct tf_error e = { 0 };
	unsigned char md[32];
	int n;

	n = kh_fields(line, f, 5);
	if (n >= 1 && strcmp(f[0], "c0") == 0) {
		snprintf(why, whylen, "a commitment (|c0|), not a key: not "
		    "imported");
		return 1;
	}
	if (n != 5 || strcmp(f[0], "g0") != 0) {
		snprintf(why, whylen, "not a known_hosts line "
		    "(|g0|HOST|PORT|EXPIRATION|BASE64-KEY)");
		return -1;
	}
	if (strcmp(f[1], "*") == 0 || strcmp(f[2], "*") == 0) {
		snprintf(why, whylen, "a wildcard (*) host or port: trustfs "
		    "pins one HOST_PORT; not imported");
		return 1;
	}
	errno = 0;
	port = strtoul(f[2], &end, 10);
	if (!isdigit((unsigned char)f[2][0]) || *end || errno || port == 0 ||
	    port > 65535) {
		snprintf(why, whylen, "bad port '%.16s' (1 to 65535)", f[2]);
		return -1;
	}
	if (name_host_port_make(f[1], (unsigned)port, hp, sizeof(hp)) != 0) {
		snprintf(why, whylen, "bad host name '%.64s'", f[1]);
		return -1;
	}
	errno = 0;
	exp = strtoull(f[3], &end, 10);
	if (!isdigit((unsigned char)f[3][0]) || *end || errno ||
	    exp > (unsigned long long)INT64_MAX / 2) {
		snprintf(why, whylen, "bad expiration '%.24s' (seconds since "
		    "the epoch, 0 for none)", f[3]);
		return -1;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct kh_entry *v = realloc(k->v, cap * sizeof(*v));

		if (v == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		k->v = v;
		k->cap = cap;
	}
	ent = &k->v[k->n];
	memset(ent, 0, sizeof(*ent));
	if (b64_decode(f[4], strlen(f[4]), &ent->spki, &ent->len) != 0) {
		snprintf(why, whylen, "the key is not base64");
		return -1;
	}
	if (pin_spki_sha256(ent->spki, ent->len, md, &e) != 0) {
		free(ent->spki);
		snprintf(why, whylen, "the key: %s", e.msg);
		return -1;
	}
	ent->line = lineno;
	snprintf(ent->host, sizeof(ent->host), "%s", f[1]);
	ent->port = (unsigned)port;
	ent->expires = (time_t)exp;
	k->n++;
	return 0;
}

static void
kh_free(struct kh *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i].spki);
	free(k->v);
}

/* Reads and checks the whole file first: a bad line imports nothing. */
static int
kh_read(const char *file, struct kh *k)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char *line = NULL, why[200];
	size_t cap = 0, lineno = 0, total = 0, len;
	ssize_t n;
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "trustctl: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		total += (size_t)n;
		if (total > KH_FILE_MAX) {
			fprintf(stderr, "trustctl: %s: over %u MiB: not a "
			    "known_hosts file\n", file, KH_FILE_MAX >> 20);
			rc = -1;
			break;
		}
		len = strcspn(line, "\r\n");
		if ((size_t)n > KH_LINE_MAX || memchr(line, '\0', (size_t)n)) {
			fprintf(stderr, "trustctl: %s:%zu: %s\n", file, lineno,
			    (size_t)n > KH_LINE_MAX ? "line too long" :
			    "a NUL byte");
			k->bad++;
			continue;
		}
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		switch (kh_line(line, lineno, k, why, sizeof(why))) {
		case 1:
			printf("ignored   line %zu: %s\n", lineno, why);
			k->ignored++;
			break;
		case -1:
			fprintf(stderr, "trustctl: %s:%zu: %s\n", file, lineno,
			    why);
			k->bad++;
			break;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "trustctl: %s: %s\n", file, strerror(errno));
		rc = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

int
ctl_import_known_hosts(const char *store_dir, int argc, char **argv)
{
	static const char *const words[] = {
		[TRUSTFS_PIN_ADDED] = "added    ",
		[TRUSTFS_PIN_UNCHANGED] = "unchanged",
		[TRUSTFS_PIN_REFUSED] = "refused  ",
		[TRUSTFS_PIN_EXPIRED] = "expired  ",
	};
	static const char *const notes[] = {
		[TRUSTFS_PIN_ADDED] = "a key pin",
		[TRUSTFS_PIN_UNCHANGED] = "already pinned to this key",
		[TRUSTFS_PIN_REFUSED] = "pinned to another key or certificate: "
		    "left as it is",
		[TRUSTFS_PIN_EXPIRED] = "its expiration has passed: not "
		    "imported",
	};
	struct kh k = { 0 };
	struct trustfs *t = NULL;
	enum trustfs_pin_result r;
	size_t i, count[4] = { 0 };
	char hp[300];
	int rc = EXIT_ERROR;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		ctl_usage(stdout, "import-known-hosts");
		return EXIT_TRUSTED;
	}
	if (argc != 2) {
		ctl_usage(stderr, "import-known-hosts");
		return EXIT_ERROR;
	}
	if (kh_read(argv[1], &k) != 0)
		goto out;
	if (k.bad > 0) {
		fprintf(stderr, "trustctl: %zu bad line%s in %s: nothing "
		    "imported\n", k.bad, k.bad == 1 ? "" : "s", argv[1]);
		goto out;
	}
	t = trustfs_open(store_dir);
	if (t == NULL || trustfs_error(t) != NULL) {
		fprintf(stderr, "trustctl: %s\n", t ? trustfs_error(t) :
		    "out of memory");
		goto out;
	}
	for (i = 0; i < k.n; i++) {
		struct kh_entry *ent = &k.v[i];

		if (trustfs_pin_key(t, ent->host, ent->port, ent->spki,
		    ent->len, ent->expires, &r) != 0) {
			fprintf(stderr, "trustctl: line %zu: %s\n", ent->line,
			    trustfs_error(t));
			goto out;
		}
		if (name_host_port_make(ent->host, ent->port, hp,
		    sizeof(hp)) != 0)
			snprintf(hp, sizeof(hp), "%s_%u", ent->host, ent->port);
		printf("%s pinned/%s (line %zu: %s)\n", words[r], hp,
		    ent->line, notes[r]);
		count[r]++;
	}
	printf("%zu added, %zu skipped (same), %zu refused (different), "
	    "%zu expired, %zu ignored\n", count[TRUSTFS_PIN_ADDED],
	    count[TRUSTFS_PIN_UNCHANGED], count[TRUSTFS_PIN_REFUSED],
	    count[TRUSTFS_PIN_EXPIRED], k.ignored);
	rc = count[TRUSTFS_PIN_REFUSED] ? EXIT_REFUSED : EXIT_TRUSTED;
out:
	if (fflush(stdout) != 0)
		rc = EXIT_ERROR;
	trustfs_free(t);
	kh_free(&k);
	return rc;
}
