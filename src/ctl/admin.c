/*
 * trustctl's store administration: export, backup and restore.  These
 * work on the store itself, below the library's verification API.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "entry.h"
#include "store.h"

static int
collect_cb(const char *name, const struct store_rec *rec, void *arg)
{
	STACK_OF(X509) *all = arg, *sk = NULL;

	if (entry_certs(rec, &sk) != 0)
		return 0;
	while (sk_X509_num(sk) > 0) {
		X509 *x = sk_X509_shift(sk);
		size_t n = strlen(name);

		/* The entry's label names it in the export (unique). */
		X509_alias_set1(x, (const unsigned char *)name,
		    n > 4 ? (int)n - 4 : (int)n);
		if (!sk_X509_push(all, x))
			X509_free(x);
		break;	/* a root entry holds one certificate */
	}
	sk_X509_pop_free(sk, X509_free);
	return 0;
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
		{ NULL, 0, NULL, 0 }
	};
	const char *format = "pem", *output = NULL;
	STACK_OF(X509) *roots = sk_X509_new_null();
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	PKCS7 *p7 = NULL;
	BIO *out = NULL;
	struct tf_error err = { 0 };
	int c, i, ok = 0, rc = 2;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:o:", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'o')
			output = optarg;
		else
			return 2;
	}
	if (store_open(store_dir, STORE_RDONLY | STORE_NOCREATE, &st,
	    &err) != 0) {
		fprintf(stderr, "trustctl: %s\n", err.msg);
		goto out;
	}
	if (store_txn_begin(st, 0, &txn, &err) != 0 ||
	    store_foreach(txn, STORE_ROOTS, collect_cb, roots) < 0) {
		fprintf(stderr, "trustctl: %s\n", err.msg[0] ? err.msg :
		    "reading roots/ failed");
		goto out;
	}
	out = output ? BIO_new_file(output, "wb") : BIO_new_fp(stdout,
	    BIO_NOCLOSE);
	if (out == NULL) {
		fprintf(stderr, "trustctl: %s: %s\n", output, strerror(errno));
		goto out;
	}
	if (strcmp(format, "pem") == 0) {
		for (ok = 1, i = 0; ok && i < sk_X509_num(roots); i++)
			ok = PEM_write_bio_X509(out, sk_X509_value(roots, i));
	} else if (strcmp(format, "openssl-trusted") == 0) {
		/* TRUSTED CERTIFICATE blocks: anchors for serverAuth. */
		ASN1_OBJECT *sa = OBJ_nid2obj(NID_server_auth);

		for (ok = 1, i = 0; ok && i < sk_X509_num(roots); i++) {
			X509 *x = sk_X509_value(roots, i);

			ok = X509_add1_trust_object(x, sa) &&
			    PEM_write_bio_X509_AUX(out, x);
		}
	} else if (strcmp(format, "pkcs7") == 0) {
		p7 = PKCS7_new();
		ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed) &&
		    PKCS7_content_new(p7, NID_pkcs7_data);
		for (i = 0; ok && i < sk_X509_num(roots); i++)
			ok = PKCS7_add_certificate(p7, sk_X509_value(roots, i));
		ok = ok && i2d_PKCS7_bio(out, p7);
	} else if (strcmp(format, "pkcs12") == 0) {
		ok = write_pkcs12(out, roots) == 0;
	} else {
		fprintf(stderr, "trustctl: unknown format '%s' (pkcs7, pem, "
		    "openssl-trusted, pkcs12)\n", format);
		goto out;
	}
	if (!ok || BIO_flush(out) != 1) {
		fprintf(stderr, "trustctl: export failed\n");
		goto out;
	}
	fprintf(stderr, "trustctl: exported %d roots as %s\n",
	    sk_X509_num(roots), format);
	rc = 0;
out:
	BIO_free(out);
	PKCS7_free(p7);
	store_txn_abort(txn);
	store_close(st);
	sk_X509_pop_free(roots, X509_free);
	return rc;
}

int
admin_backup(const char *store_dir, int argc, char **argv)
{
	struct store *st = NULL;
	struct tf_error err = { 0 };
	char tmp[4200];
	int fd = -1, rc = 2;

	if (argc != 2) {
		fprintf(stderr, "trustctl: backup takes one FILE\n");
		return 2;
	}
	if (store_open(store_dir, STORE_RDONLY | STORE_NOCREATE, &st,
	    &err) != 0) {
		fprintf(stderr, "trustctl: %s\n", err.msg);
		return 2;
	}
	/* Written beside FILE and renamed: a reader never sees half. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "trustctl: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (store_backup_fd(st, fd, &err) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "trustctl: backup: %s\n", err.msg[0] ?
		    err.msg : strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "trustctl: %s: %s\n", argv[1], strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	store_close(st);
	return rc;
}

static int
store_is_empty(const char *dir)
{
	struct store *st;
	struct store_txn *txn;
	char *v = NULL;
	size_t n, total = 0, len;
	int db;

	if (store_open(dir, STORE_RDONLY | STORE_NOCREATE, &st, NULL) != 0)
		return 1;	/* no store, or none we can read: nothing lost */
	if (store_txn_begin(st, 0, &txn, NULL) == 0) {
		for (db = 0; db < STORE_NDBS; db++)
			if (store_count(txn, (enum store_db)db, &n) == 0)
				total += n;
		if (store_meta_get(txn, "policy", &v, &len) == 0)
			total++;
		free(v);
		store_txn_abort(txn);
	}
	store_close(st);
	return total == 0;
}

int
admin_restore(const char *store_dir, int argc, char **argv)
{
	const char *file = NULL;
	struct store *st = NULL;
	struct tf_error e = { 0 };
	char err[512], stage[4200], path[4200];
	int i, force = 0, rc = 2;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (file == NULL)
			file = argv[i];
		else
			file = NULL, i = argc;
	}
	if (file == NULL) {
		fprintf(stderr, "trustctl: restore takes [--force] FILE\n");
		return 2;
	}
	if (store_in_use(store_dir) > 0) {
		fprintf(stderr, "trustctl: the store %s is in use (mounted, or "
		    "open in a program); unmount it first\n", store_dir);
		return 2;
	}
	if (!force && !store_is_empty(store_dir)) {
		fprintf(stderr, "trustctl: the store %s is not empty; give "
		    "--force to replace it\n", store_dir);
		return 2;
	}
	/* Check the backup is a store this trustfs reads, in a staging dir
	 * beside the store, then move its data file in. */
	snprintf(stage, sizeof(stage), "%s.restore", store_dir);
	snprintf(path, sizeof(path), "rm -rf '%s'", stage);
	if (system(path) != 0 || mkdir(stage, 0700) != 0) {
		fprintf(stderr, "trustctl: %s: %s\n", stage, strerror(errno));
		return 2;
	}
	snprintf(path, sizeof(path), "cp '%s' '%s/data.mdb'", file, stage);
	if (system(path) != 0) {
		fprintf(stderr, "trustctl: cannot read %s\n", file);
		goto out;
	}
	if (store_open(stage, STORE_NOCREATE, &st, &e) != 0) {
		fprintf(stderr, "trustctl: %s is not a trustfs backup: %s\n",
		    file, e.msg);
		goto out;
	}
	store_close(st);
	st = NULL;
	mkdir(store_dir, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", stage);
	snprintf(err, sizeof(err), "%s/data.mdb", store_dir);
	if (rename(path, err) != 0) {
		fprintf(stderr, "trustctl: %s: %s\n", err, strerror(errno));
		goto out;
	}
	snprintf(err, sizeof(err), "%s/lock.mdb", store_dir);
	unlink(err);	/* the reader table of the old file */
	rc = 0;
	fprintf(stderr, "trustctl: restored %s into %s\n", file, store_dir);
out:
	snprintf(path, sizeof(path), "rm -rf '%s'", stage);
	if (system(path) != 0)
		rc = 2;
	return rc;
}
