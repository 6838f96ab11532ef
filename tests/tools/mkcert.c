/*
 * mkcert: test certificates for the shell tests and benchmarks, with any
 * dates (openssl x509 cannot make an expired one).  Keys are made fresh;
 * none are committed.
 *
 * mkcert [--cn CN] [--org O] [--issuer CERT --issuer-key KEY] [--ca]
 *        [--days-from N] [--days-to N] [--san DNS:x|IP:a]... [--rsa BITS]
 *        [--key-out KEY] [--out CERT]
 * mkcert --count N --out-bundle FILE     N distinct self-signed CA roots
 *
 * --days-from/--days-to are offsets from now in days (default -1 and 365).
 * Exit status 0, or 1 with the reason on standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gencert.h"

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = NULL;

	if (f != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	return x;
}

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = NULL;

	if (f != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	return k;
}

static int
fail(const char *what)
{
	fprintf(stderr, "mkcert: %s\n", what);
	ERR_print_errors_fp(stderr);
	return 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: mkcert [--cn CN] [--org O] [--issuer CERT "
	    "--issuer-key KEY] [--ca]\n"
	    "              [--days-from N] [--days-to N] [--san DNS:x|IP:a]... "
	    "[--rsa BITS]\n"
	    "              [--key-out KEY] [--out CERT]\n"
	    "       mkcert --count N --out-bundle FILE\n");
	return 1;
}

/* A whole decimal number within [min, max], or -1 with a message. */
static int
number(const char *opt, const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *v < min || *v > max) {
		fprintf(stderr, "mkcert: --%s: '%s' is not a number from %ld "
		    "to %ld\n", opt, s, min, max);
		return -1;
	}
	return 0;
}

/* Closes f, which was opened for writing path; 0 or 1 with a message. */
static int
close_out(FILE *f, const char *path)
{
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "mkcert: cannot write %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "cn", required_argument, NULL, 'c' },
		{ "org", required_argument, NULL, 'o' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "issuer-key", required_argument, NULL, 'k' },
		{ "ca", no_argument, NULL, 'a' },
		{ "days-from", required_argument, NULL, 'f' },
		{ "days-to", required_argument, NULL, 't' },
		{ "san", required_argument, NULL, 's' },
		{ "rsa", required_argument, NULL, 'r' },
		{ "key-out", required_argument, NULL, 'K' },
		{ "out", required_argument, NULL, 'O' },
		{ "count", required_argument, NULL, 'n' },
		{ "out-bundle", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cn = "trustfs test", *org = NULL, *issuer_path = NULL;
	const char *ikey_path = NULL, *key_out = NULL, *out = NULL;
	const char *bundle = NULL;
	char san[4096] = "", cnbuf[64];
	long from = -1, to = 365, count = 0, rsa = 0, i;
	int c, ca = 0, rc = 1;
	X509 *issuer = NULL, *x = NULL;
	EVP_PKEY *ikey = NULL, *key = NULL;
	FILE *f;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cn = optarg; break;
		case 'o': org = optarg; break;
		case 'i': issuer_path = optarg; break;
		case 'k': ikey_path = optarg; break;
		case 'a': ca = 1; break;
		case 'f':
			/* A century either way keeps seconds in a long and
			 * dates in what X.509 can say. */
			if (number("days-from", optarg, -36500, 36500, &from))
				return 1;
			break;
		case 't':
			if (number("days-to", optarg, -36500, 36500, &to))
				return 1;
			break;
		case 's':
			if (strncmp(optarg, "DNS:", 4) != 0 &&
			    strncmp(optarg, "IP:", 3) != 0) {
				fprintf(stderr, "mkcert: --san %s: want DNS:name "
				    "or IP:address\n", optarg);
				return 1;
			}
			if (strlen(san) + strlen(optarg) + 2 >= sizeof(san))
				return fail("too many --san");
			if (san[0])
				strcat(san, ",");
			strcat(san, optarg);
			break;
		case 'r':
			if (number("rsa", optarg, 1024, 16384, &rsa))
				return 1;
			break;
		case 'K': key_out = optarg; break;
		case 'O': out = optarg; break;
		case 'n':
			if (number("count", optarg, 1, 10000000, &count))
				return 1;
			break;
		case 'B': bundle = optarg; break;
		default:
			return usage();
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mkcert: unexpected argument '%s'\n",
		    argv[optind]);
		return usage();
	}
	if ((issuer_path == NULL) != (ikey_path == NULL))
		return fail("--issuer and --issuer-key go together");
	if ((count > 0) != (bundle != NULL))
		return fail("--count and --out-bundle go together");
	if (to <= from)
		return fail("--days-to must be after --days-from");
	key = rsa ? EVP_RSA_gen((unsigned)rsa) : EVP_EC_gen("P-256");
	if (key == NULL)
		return fail("cannot make a key");
	if (count > 0) {
		if ((f = fopen(bundle, "w")) == NULL) {
			fprintf(stderr, "mkcert: cannot create %s: %s\n", bundle,
			    strerror(errno));
			goto out;
		}
		for (i = 0; i < count; i++) {
			snprintf(cnbuf, sizeof(cnbuf), "Bulk Root %05ld", i);
			x = gencert(&(struct gencert_opts){ .cn = cnbuf,
			    .org = "trustfs bulk", .key = key, .is_ca = 1,
			    .not_before = -86400, .not_after = 3650L * 86400 },
			    NULL);
			if (x == NULL || !PEM_write_X509(f, x)) {
				fclose(f);
				rc = fail("cannot make a certificate");
				goto out;
			}
			X509_free(x);
			x = NULL;
		}
		rc = close_out(f, bundle);
		goto out;
	}
	if (issuer_path != NULL) {
		issuer = read_cert(issuer_path);
		ikey = read_key(ikey_path);
		if (issuer == NULL || ikey == NULL) {
			fprintf(stderr, "mkcert: cannot read %s\n", issuer ==
			    NULL ? issuer_path : ikey_path);
			ERR_print_errors_fp(stderr);
			goto out;
		}
		if (X509_check_private_key(issuer, ikey) != 1) {
			rc = fail("--issuer-key is not the key of --issuer");
			goto out;
		}
	}
	x = gencert(&(struct gencert_opts){ .cn = cn, .org = org, .key = key,
	    .issuer = issuer, .issuer_key = ikey, .is_ca = ca,
	    .not_before = from * 86400L,
	    /* gencert reads 0 as "one year": --days-to 0 is one second ago. */
	    .not_after = to != 0 ? to * 86400L : -1,
	    .san = san[0] ? san : NULL }, NULL);
	if (x == NULL) {
		rc = fail("cannot make the certificate (a bad --san?)");
		goto out;
	}
	if (out != NULL && (f = fopen(out, "w")) == NULL) {
		fprintf(stderr, "mkcert: cannot create %s: %s\n", out,
		    strerror(errno));
		goto out;
	}
	if (out == NULL)
		f = stdout;
	if (!PEM_write_X509(f, x)) {
		if (f != stdout)
			fclose(f);
		rc = fail("cannot write the certificate");
		goto out;
	}
	if (close_out(f, out ? out : "standard output") != 0)
		goto out;
	if (key_out != NULL) {
		f = fopen(key_out, "w");
		if (f == NULL) {
			fprintf(stderr, "mkcert: cannot create %s: %s\n",
			    key_out, strerror(errno));
			goto out;
		}
		if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) {
			fclose(f);
			rc = fail("cannot write the key");
			goto out;
		}
		if (close_out(f, key_out) != 0)
			goto out;
	}
	rc = 0;
out:
	X509_free(x);
	X509_free(issuer);
	EVP_PKEY_free(ikey);
	EVP_PKEY_free(key);
	return rc;
}
