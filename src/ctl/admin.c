/*
 * trustctl's store administration: export, backup and restore.  These
 * work on the store itself, below the library's verification API.
 *
 * They run as root on files that others may name or plant, so: no shell
 * ever (file names are data), every file is written to a fresh mkstemp
 * file beside its target and renamed over it (a symlink planted at a
 * predictable name is never followed), and a restore checks the whole
 * backup before it replaces anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>

#include "admin.h"
#include "cert.h"
#include "ctl.h"
#include "entry.h"
#include "policy.h"
#include "store.h"

/* A temporary file beside its target: same directory, so that rename(2)
 * replaces the target at once; created by mkstemp (O_EXCL, 0600), so
 * nothing planted at any name is opened or written through. */
struct tmpfile {
	char path[PATH_MAX];
	int fd;
};

static int
tmp_beside(const char *target, struct tmpfile *tf)
{
	const char *slash = strrchr(target, '/');
	int n, rc = 0;

	tf->fd = -1;
	if (slash == NULL)
		n = snprintf(tf->path, sizeof(tf->path), ".trustctl.XXXXXX");
	else
		n = snprintf(tf->path, sizeof(tf->path), "%.*s/.trustctl.XXXXXX",
		    (int)(slash - target), target);
	if (n < 0 || (size_t)n >= sizeof(tf->path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	tf->fd = mkostemp(tf->path, O_CLOEXEC);
	if (tf->fd < 0)
		rc = -errno;
out:
	if (rc != 0)
		tf->path[0] = '\0';
	return rc;
}

/* Closes and removes a temporary file that was not renamed.  Idempotent. */
static void
tmp_discard(struct tmpfile *tf)
{
	if (tf->fd >= 0)
		close(tf->fd);
	tf->fd = -1;
	if (tf->path[0] != '\0')
		unlink(tf->path);
	tf->path[0] = '\0';
}

/* Makes the file whole on disk, then puts it in place of target, then
 * makes the rename durable (fsync(2) of the directory).  On failure the
 * temporary file is removed and target is as it was. */
static int
tmp_commit(struct tmpfile *tf, const char *target)
{
	const char *slash = strrchr(target, '/');
	char dir[PATH_MAX];
	int dfd, rc = 0;

	if (fsync(tf->fd) != 0 || close(tf->fd) != 0) {
		rc = -errno;
		tf->fd = -1;
		goto out;
	}
	tf->fd = -1;
	if (rename(tf->path, target) != 0) {
		rc = -errno;
		goto out;
	}
	tf->path[0] = '\0';
	snprintf(dir, sizeof(dir), "%.*s", slash == NULL ? 1 : slash == target ?
	    1 : (int)(slash - target), slash == NULL ? "." : target);
	/* The file is in place whatever this says; it only hurries the
	 * directory to disk, so a failure is not the command's. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (rc != 0)
		tmp_discard(tf);
	return rc;
}

/* Copies every byte of src (from its start) to dst.  0 or -errno; which
 * side failed is in *failed_read. */
static int
copy_fd(int src, int dst, int *failed_read)
{
	char buf[65536];
	ssize_t n, w, off;
	int rc = 0;

	*failed_read = 0;
	for (;;) {
		n = read(src, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				rc = -errno;
				*failed_read = 1;
			}
			break;
		}
		for (off = 0; off < n; off += w) {
			w = write(dst, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				rc = w < 0 ? -errno : -EIO;
				goto out;
			}
		}
	}
out:
	return rc;
}

struct collect {
	STACK_OF(X509) *all;
	char bad[STORE_NAME_MAX + 1];	/* the root that did not parse */
};

static int
collect_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct collect *c = arg;
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	size_t n = strlen(name);
	int rc = 0;

	/* An export that silently drops an anchor would look complete. */
	if (entry_certs(rec, &sk) != 0 || sk_X509_num(sk) < 1) {
		snprintf(c->bad, sizeof(c->bad), "%s", name);
		rc = -EINVAL;
		goto out;
	}
	x = sk_X509_shift(sk);	/* a root entry holds one certificate */
	/* The entry's label names it in the export (unique). */
	X509_alias_set1(x, (const unsigned char *)name,
	    n > 4 ? (int)n - 4 : (int)n);
	if (!sk_X509_push(c->all, x)) {
		X509_free(x);
		rc = -ENOMEM;
	}
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int
write_pkcs12(BIO *out, STACK_OF(X509) *roots)
{
	STACK_OF(PKCS12_SAFEBAG) *bags = sk_PKCS12_SAFEBAG_new_null();
	STACK_OF(PKCS7) *safes = NULL;
	ASN1_OBJECT *any = OBJ_txt2obj("2.5.29.37.0", 1);
	PKCS12 *p12 = NULL;
	int i, ok = bags != NULL && any != NULL;

	/* Java reads a certificate bag as a trusted entry when it carries
	 * Oracle's trusted-key-usage attribute (anyExtendedKeyUsage). */
	for (i = 0; ok && i < sk_X509_num(roots); i++) {
		X509 *x = sk_X509_value(roots, i);
		PKCS12_SAFEBAG *bag;
		char label[256];
		int len = 0;
		const unsigned char *alias = X509_alias_get0(x, &len);

		snprintf(label, sizeof(label), "%.*s", alias ? len : 0,
		    alias ? (const char *)alias : "");
		/* The alias is ours, not part of the exported certificate. */
		X509_alias_set1(x, NULL, 0);
		bag = PKCS12_SAFEBAG_create_cert(x);
		ok = bag != NULL && PKCS12_add_friendlyname_asc(bag, label, -1) &&
		    PKCS12_add1_attr_by_txt(bag, "2.16.840.1.113894.746875.1.1",
		    V_ASN1_OBJECT, (const unsigned char *)any, -1) &&
		    sk_PKCS12_SAFEBAG_push(bags, bag);
		if (!ok)
			PKCS12_SAFEBAG_free(bag);
	}
	ok = ok && PKCS12_add_safe(&safes, bags, -1, 0, NULL);
	ok = ok && (p12 = PKCS12_add_safes(safes, 0)) != NULL;
	/* keytool's customary store password. */
	ok = ok && PKCS12_set_mac(p12, "changeit", -1, NULL, 0, 2048, NULL);
	ok = ok && i2d_PKCS12_bio(out, p12);
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	ASN1_OBJECT_free(any);
	return ok ? 0 : -1;
}

int
admin_export(const char *store_dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const formats[] = { "pem", "openssl-trusted",
	    "pkcs7", "pkcs12" };
	const char *format = "pem", *output = NULL;
	struct collect col = { .all = sk_X509_new_null() };
	struct tmpfile tf = { .fd = -1 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct tf_error err = { 0 };
	PKCS7 *p7 = NULL;
	BIO *out = NULL;
	mode_t mask;
	size_t f;
	int c, i, ok = 0, rc = 2;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (c == 'f') {
			format = optarg;
		} else if (c == 'o') {
			output = optarg;
		} else if (c == 'h') {
			ctl_usage(stdout, "export");
			rc = 0;
			goto out;
		} else {
			ctl_usage(stderr, "export");
			goto out;
		}
	}
	if (optind != argc || (output != NULL && output[0] == '\0')) {
		fprintf(stderr, "trustctl: export takes --format FORMAT "
		    "[-o FILE]\n");
		goto out;
	}
	for (f = 0; f < sizeof(formats) / sizeof(formats[0]); f++)
		if (strcmp(format, formats[f]) == 0)
			break;
	if (f == sizeof(formats) / sizeof(formats[0])) {
		fprintf(stderr, "trustctl: unknown format '%s' (pkcs7, pem, "
		    "openssl-trusted, pkcs12)\n", format);
		goto out;
	}
	if (col.all == NULL) {
		fprintf(stderr, "trustctl: out of memory\n");
		goto out;
	}
	if (store_open(store_dir, STORE_RDONLY | STORE_NOCREATE, &st,
	    &err) != 0) {
		fprintf(stderr, "trustctl: %s\n", err.msg);
		goto out;
	}
	if (store_txn_begin(st, 0, &txn, &err) != 0 ||
	    (c = store_foreach(txn, STORE_ROOTS, collect_cb, &col)) < 0) {
		if (col.bad[0] != '\0')
			fprintf(stderr, "trustctl: roots/%s: the certificate "
			    "does not parse; nothing exported\n", col.bad);
		else
			fprintf(stderr, "trustctl: reading roots/: %s\n",
			    err.msg[0] ? err.msg : strerror(-c));
		goto out;
	}
	if (output != NULL) {
		c = tmp_beside(output, &tf);
		if (c != 0) {
			fprintf(stderr, "trustctl: %s: cannot create a file "
			    "beside it: %s\n", output, strerror(-c));
			goto out;
		}
		/* What fopen(3) would have made: the export is public. */
		mask = umask(0);
		umask(mask);
		(void)fchmod(tf.fd, 0666 & ~mask);
		out = BIO_new_fd(tf.fd, BIO_NOCLOSE);
	} else {
		out = BIO_new_fp(stdout, BIO_NOCLOSE);
	}
	if (out == NULL) {
		fprintf(stderr, "trustctl: out of memory\n");
		goto out;
	}
	errno = 0;	/* what a failed write leaves is the reason */
	if (strcmp(format, "pem") == 0) {
		for (ok = 1, i = 0; ok && i < sk_X509_num(col.all); i++)
			ok = PEM_write_bio_X509(out, sk_X509_value(col.all, i));
	} else if (strcmp(format, "openssl-trusted") == 0) {
		/* TRUSTED CERTIFICATE blocks: anchors for serverAuth. */
		ASN1_OBJECT *sa = OBJ_nid2obj(NID_server_auth);

		for (ok = 1, i = 0; ok && i < sk_X509_num(col.all); i++) {
			X509 *x = sk_X509_value(col.all, i);

			ok = X509_add1_trust_object(x, sa) &&
			    PEM_write_bio_X509_AUX(out, x);
		}
	} else if (strcmp(format, "pkcs7") == 0) {
		p7 = PKCS7_new();
		ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed) &&
		    PKCS7_content_new(p7, NID_pkcs7_data);
		for (i = 0; ok && i < sk_X509_num(col.all); i++)
			ok = PKCS7_add_certificate(p7, sk_X509_value(col.all, i));
		ok = ok && i2d_PKCS7_bio(out, p7);
	} else {
		ok = write_pkcs12(out, col.all) == 0;
	}
	if (!ok || BIO_flush(out) != 1) {
		fprintf(stderr, "trustctl: export to %s failed%s%s\n",
		    output ? output : "standard output", errno ? ": " : "",
		    errno ? strerror(errno) : "");
		goto out;
	}
	if (output != NULL && (c = tmp_commit(&tf, output)) != 0) {
		fprintf(stderr, "trustctl: %s: %s\n", output, strerror(-c));
		goto out;
	}
	fprintf(stderr, "trustctl: exported %d roots as %s\n",
	    sk_X509_num(col.all), format);
	rc = 0;
out:
	BIO_free(out);
	tmp_discard(&tf);
	PKCS7_free(p7);
	store_txn_abort(txn);
	store_close(st);
	sk_X509_pop_free(col.all, X509_free);
	return rc;
}

int
admin_backup(const char *store_dir, int argc, char **argv)
{
	struct tmpfile tf = { .fd = -1 };
	struct store *st = NULL;
	struct tf_error err = { 0 };
	int c, rc = 2;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		ctl_usage(stdout, "backup");
		rc = 0;
		goto out;
	}
	/* "--" ends the options, for a FILE named like one. */
	if (argc == 3 && strcmp(argv[1], "--") == 0) {
		argc--;
		argv++;
	}
	if (argc != 2 || argv[1][0] == '\0' || (argv[1][0] == '-' &&
	    argv[1][1] != '\0')) {
		fprintf(stderr, "trustctl: backup takes one FILE\n");
		ctl_usage(stderr, "backup");
		goto out;
	}
	if (store_open(store_dir, STORE_RDONLY | STORE_NOCREATE, &st,
	    &err) != 0) {
		fprintf(stderr, "trustctl: cannot back up: %s\n", err.msg);
		goto out;
	}
	/* Written beside FILE and renamed: a reader never sees half, and
	 * FILE itself is replaced, never written through. */
	c = tmp_beside(argv[1], &tf);
	if (c != 0) {
		fprintf(stderr, "trustctl: cannot back up to %s: cannot create "
		    "a file beside it: %s\n", argv[1], strerror(-c));
		goto out;
	}
	if (store_backup_fd(st, tf.fd, &err) != 0) {
		fprintf(stderr, "trustctl: cannot back up to %s: %s\n",
		    argv[1], err.msg);
		goto out;
	}
	c = tmp_commit(&tf, argv[1]);
	if (c != 0) {
		fprintf(stderr, "trustctl: cannot back up to %s: %s\n",
		    argv[1], strerror(-c));
		goto out;
	}
	rc = 0;
out:
	tmp_discard(&tf);
	store_close(st);
	return rc;
}

/* What a restore would replace: 0 nothing (no store, or one never
 * written), 1 a store that holds something, or a negative errno for one
 * that cannot be read (e says why) -- not "nothing to lose". */
static int
store_holds(const char *dir, struct tf_error *e)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct stat sb;
	char path[PATH_MAX], *v = NULL;
	size_t n, total = 0, len;
	int db, rc;

	if (stat(dir, &sb) != 0) {
		rc = errno == ENOENT ? 0 : tf_error_set(e, -errno, "%s", dir);
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		rc = tf_error_setx(e, -ENOTDIR, "%s is not a directory", dir);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) != 0) {
		rc = errno == ENOENT ? 0 : tf_error_set(e, -errno, "%s", path);
		goto out;
	}
	if (sb.st_size == 0) {
		rc = 0;		/* created, never written */
		goto out;
	}
	rc = store_open(dir, STORE_RDONLY | STORE_NOCREATE, &st, e);
	if (rc == 0)
		rc = store_txn_begin(st, 0, &txn, e);
	for (db = 0; rc == 0 && db < STORE_NDBS; db++) {
		rc = store_count(txn, (enum store_db)db, &n);
		total += n;
	}
	if (rc == 0) {
		rc = store_meta_get(txn, "policy", &v, &len);
		if (rc == 0)
			total++;
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0)
		rc = total > 0;
	else if (tf_error_msg(e)[0] == '\0')
		tf_error_set(e, rc, "reading %s", dir);
out:
	free(v);
	store_txn_abort(txn);
	store_close(st);
	return rc;
}

struct check_ctx {
	enum store_db db;
	char why[STORE_NAME_MAX + 200];
};

/* Every record's certificates parse and are the ones its index keys name:
 * a store that lists what it cannot show is not a store to restore. */
static int
check_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct check_ctx *c = arg;
	STACK_OF(X509) *sk = NULL;
	unsigned char sha[32];
	size_t i;
	int rc = 0;

	if (entry_certs(rec, &sk) != 0) {
		snprintf(c->why, sizeof(c->why), "%s/%s: a certificate does "
		    "not parse", entry_db_dir(c->db), name);
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < rec->nkeys && i < (size_t)sk_X509_num(sk); i++) {
		cert_sha256(sk_X509_value(sk, (int)i), sha);
		if (memcmp(sha, rec->keys[i].sha256, 32) != 0)
			break;
	}
	if (i != rec->nkeys || i != (size_t)sk_X509_num(sk)) {
		snprintf(c->why, sizeof(c->why), "%s/%s: its certificates "
		    "are not the ones its record names", entry_db_dir(c->db),
		    name);
		rc = -EINVAL;
	}
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* The whole check of a backup, before anything is replaced: the store's
 * own (store_backup_open), then every certificate and the policy. */
static int
backup_verify(const char *file, struct tf_error *e)
{
	struct check_ctx ctx = { 0 };
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct policy *pol = NULL;
	struct tf_error pe = { 0 };
	char *text = NULL;
	size_t len;
	int rc, db;

	rc = store_backup_open(file, &st, e);
	if (rc == 0)
		rc = store_txn_begin(st, 0, &txn, e);
	for (db = 0; rc == 0 && db < STORE_NDBS; db++) {
		ctx.db = (enum store_db)db;
		rc = store_foreach(txn, ctx.db, check_cb, &ctx);
		if (rc != 0 && ctx.why[0] != '\0')
			tf_error_setx(e, rc, "%s", ctx.why);
	}
	if (rc == 0) {
		rc = store_meta_get(txn, "policy", &text, &len);
		if (rc == 0 && policy_parse(text, len, &pol, &pe) != 0)
			rc = tf_error_setx(e, -EINVAL, "its policy does not "
			    "parse: %s", pe.msg);
		else if (rc == -ENOENT)
			rc = 0;	/* never saved: the default policy */
	}
	if (rc != 0 && tf_error_msg(e)[0] == '\0')
		tf_error_set(e, rc, "reading it");
	policy_free(pol);
	free(text);
	store_txn_abort(txn);
	store_close(st);
	return rc;
}

/* Refuses with the file and the reason: nothing has been replaced. */
static int
refuse(const char *file, const char *why)
{
	fprintf(stderr, "trustctl: cannot restore %s: %s; the store is "
	    "unchanged\n", file, why);
	return 2;
}

int
admin_restore(const char *store_dir, int argc, char **argv)
{
	const char *file = NULL;
	struct tmpfile tf = { .fd = -1 };
	struct tf_error e = { 0 };
	struct stat sb, old;
	char data[PATH_MAX];
	int i, c, src = -1, force = 0, opts = 1, created = 0, nfiles = 0;
	int rc = 2;

	for (i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0)
			opts = 0;
		else if (opts && strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (opts && (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)) {
			ctl_usage(stdout, "restore");
			rc = 0;
			goto out;
		}
		else if (opts && argv[i][0] == '-' && argv[i][1] != '\0')
			nfiles = 99;	/* an option we do not know */
		else if (nfiles++ == 0)
			file = argv[i];
	}
	if (nfiles != 1 || file[0] == '\0') {
		fprintf(stderr, "trustctl: restore takes [--force] FILE\n");
		ctl_usage(stderr, "restore");
		goto out;
	}
	/* Read through one descriptor: what is checked below is a copy of
	 * what was opened here.  O_NONBLOCK: a FIFO must not hang us. */
	src = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (src < 0 || fstat(src, &sb) != 0) {
		rc = refuse(file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = refuse(file, "not a regular file");
		goto out;
	}
	if (sb.st_size == 0) {
		rc = refuse(file, "the file is empty");
		goto out;
	}
	c = store_in_use(store_dir);
	if (c != 0) {
		if (c > 0)
			fprintf(stderr, "trustctl: the store %s is in use "
			    "(mounted, or open in a program); unmount it "
			    "first\n", store_dir);
		else
			fprintf(stderr, "trustctl: cannot tell whether the "
			    "store %s is in use: %s\n", store_dir,
			    strerror(-c));
		goto out;
	}
	if (!force) {
		c = store_holds(store_dir, &e);
		if (c > 0)
			fprintf(stderr, "trustctl: the store %s is not empty; "
			    "give --force to replace it\n", store_dir);
		else if (c < 0)
			fprintf(stderr, "trustctl: the store %s cannot be read "
			    "(%s); give --force to replace it\n", store_dir,
			    e.msg);
		if (c != 0)
			goto out;
	}
	if (mkdir(store_dir, 0700) == 0)
		created = 1;
	else if (errno != EEXIST) {
		fprintf(stderr, "trustctl: creating the store %s: %s\n",
		    store_dir, strerror(errno));
		goto out;
	}
	if (snprintf(data, sizeof(data), "%s/data.mdb", store_dir) >=
	    (int)sizeof(data)) {
		rc = refuse(file, "the store's path is too long");
		goto out;
	}
	/* The copy is made beside the store's data file, checked there,
	 * then renamed over it: nothing else is ever written to. */
	c = tmp_beside(data, &tf);
	if (c != 0) {
		fprintf(stderr, "trustctl: cannot restore into %s: %s\n",
		    store_dir, strerror(-c));
		goto out;
	}
	c = copy_fd(src, tf.fd, &i);
	if (c == 0 && fsync(tf.fd) != 0)
		c = -errno;
	if (c != 0) {
		fprintf(stderr, "trustctl: cannot restore %s: %s %s: %s; the "
		    "store is unchanged\n", file, i ? "reading" : "writing",
		    i ? file : tf.path, strerror(-c));
		goto out;
	}
	/* The new data file is the old one's: owner, group and mode (a
	 * store shared with a group stays shared). */
	if (stat(data, &old) == 0 && (fchown(tf.fd, old.st_uid,
	    old.st_gid) != 0 || fchmod(tf.fd, old.st_mode & 07777) != 0)) {
		fprintf(stderr, "trustctl: cannot restore into %s: giving the "
		    "new data file the old one's owner and mode: %s\n",
		    store_dir, strerror(errno));
		goto out;
	}
	if (backup_verify(tf.path, &e) != 0) {
		rc = refuse(file, e.msg);
		goto out;
	}
	/* Still nobody's: the check took a while. */
	if (store_in_use(store_dir) != 0) {
		fprintf(stderr, "trustctl: the store %s is in use now "
		    "(mounted, or open in a program); nothing was restored\n",
		    store_dir);
		goto out;
	}
	/* lock.mdb stays: LMDB resets its reader table when the first
	 * process opens the environment alone (mdb_env_setup_locks). */
	c = tmp_commit(&tf, data);
	if (c != 0) {
		fprintf(stderr, "trustctl: cannot restore into %s: %s\n",
		    data, strerror(-c));
		goto out;
	}
	fprintf(stderr, "trustctl: restored %s into %s\n", file, store_dir);
	rc = 0;
out:
	tmp_discard(&tf);
	if (rc != 0 && created)
		rmdir(store_dir);
	if (src >= 0)
		close(src);
	return rc;
}
