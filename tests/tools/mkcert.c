/*
 * mkcert: test certificates for the shell tests and benchmarks, with any
 * dates (openssl x509 cannot make an expired one).  Keys are made fresh;
 * none are committed.
 *
 * mkcert [--cn CN] [--org O] [--issuer CERT --issuer-key KEY] [--ca]
 *        [--days-from N] [--days-to N] [--san DNS:x|IP:a]... [--rsa BITS]
 *        [--key-out KEY] [--out CERT]
 * mkcert --count N --out-bundle FILE     N distinct self-signed CA roots
 */
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
	long from = -1, to = 365, count = 0, i;
	int c, ca = 0, rsa = 0, rc = 1;
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
		case 'f': from = strtol(optarg, NULL, 10); break;
		case 't': to = strtol(optarg, NULL, 10); break;
		case 's':
			if (strlen(san) + strlen(optarg) + 2 >= sizeof(san))
				return fail("too many --san");
			if (san[0])
				strcat(san, ",");
			strcat(san, optarg);
			break;
		case 'r': rsa = atoi(optarg); break;
		case 'K': key_out = optarg; break;
		case 'O': out = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'B': bundle = optarg; break;
		default:
			fprintf(stderr, "usage: see the comment in mkcert.c\n");
			return 2;
		}
	}
	key = rsa ? EVP_RSA_gen((unsigned)rsa) : EVP_EC_gen("P-256");
	if (key == NULL)
		return fail("cannot make a key");
	if (count > 0) {
		if (bundle == NULL || (f = fopen(bundle, "w")) == NULL)
			return fail("--count needs a writable --out-bundle");
		for (i = 0; i < count; i++) {
			snprintf(cnbuf, sizeof(cnbuf), "Bulk Root %05ld", i);
			x = gencert(&(struct gencert_opts){ .cn = cnbuf,
			    .org = "trustfs bulk", .key = key, .is_ca = 1,
			    .not_before = -86400, .not_after = 3650L * 86400 },
			    NULL);
			if (x == NULL || !PEM_write_X509(f, x)) {
				fclose(f);
				return fail("cannot make a certificate");
			}
			X509_free(x);
		}
		fclose(f);
		EVP_PKEY_free(key);
		return 0;
	}
	if (issuer_path != NULL) {
		issuer = read_cert(issuer_path);
		ikey = ikey_path ? read_key(ikey_path) : NULL;
		if (issuer == NULL || ikey == NULL) {
			rc = fail("cannot read --issuer and --issuer-key");
			goto out;
		}
	}
	x = gencert(&(struct gencert_opts){ .cn = cn, .org = org, .key = key,
	    .issuer = issuer, .issuer_key = ikey, .is_ca = ca,
	    .not_before = from * 86400L, .not_after = to * 86400L,
	    .san = san[0] ? san : NULL }, NULL);
	if (x == NULL) {
		rc = fail("cannot make the certificate");
		goto out;
	}
	f = out ? fopen(out, "w") : stdout;
	if (f == NULL || !PEM_write_X509(f, x)) {
		rc = fail("cannot write the certificate");
		goto out;
	}
	if (f != stdout)
		fclose(f);
	if (key_out != NULL) {
		f = fopen(key_out, "w");
		if (f == NULL || !PEM_write_PrivateKey(f, key, NULL, NULL, 0,
		    NULL, NULL)) {
			rc = fail("cannot write the key");
			goto out;
		}
		fclose(f);
	}
	rc = 0;
out:
	X509_free(x);
	X509_free(issuer);
	EVP_PKEY_free(ikey);
	EVP_PKEY_free(key);
	return rc;
}
