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
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static EVP_PKEY *
new_key(int rsa_bits)
{
	return rsa_bits ? EVP_RSA_gen((unsigned)rsa_bits) :
	    EVP_EC_gen("P-256");
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static X509 *
make(const char *cn, const char *org, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *ikey, int ca, long from, long to, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *n;
	ASN1_INTEGER *serial;
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok = x != NULL;

	RAND_bytes(rnd, sizeof(rnd));
	rnd[0] &= 0x7f;
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	serial = X509_get_serialNumber(x);
	ok = ok && bn && BN_to_ASN1_INTEGER(bn, serial) != NULL;
	BN_free(bn);
	ok = ok && X509_set_version(x, 2);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), from * 86400L);
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), to * 86400L);
	n = X509_get_subject_name(x);
	if (ok && org)
		ok = X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
		    (const unsigned char *)org, -1, -1, 0);
	if (ok && cn)
		ok = X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)cn, -1, -1, 0);
	ok = ok && X509_set_issuer_name(x, issuer ?
	    X509_get_subject_name(issuer) : n);
	ok = ok && X509_set_pubkey(x, key);
	ok = ok && add_ext(x, issuer, NID_basic_constraints, ca ?
	    "critical,CA:TRUE" : "critical,CA:FALSE");
	ok = ok && add_ext(x, issuer, NID_key_usage, ca ?
	    "critical,keyCertSign,cRLSign" : "critical,digitalSignature,"
	    "keyEncipherment");
	ok = ok && add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (ok && issuer)
		ok = add_ext(x, issuer, NID_authority_key_identifier,
		    "keyid:always");
	if (ok && !ca)
		ok = add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
	if (ok && san && *san)
		ok = add_ext(x, issuer, NID_subject_alt_name, san);
	ok = ok && X509_sign(x, ikey ? ikey : key, EVP_sha256());
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

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
	key = new_key(rsa);
	if (key == NULL)
		return fail("cannot make a key");
	if (count > 0) {
		if (bundle == NULL || (f = fopen(bundle, "w")) == NULL)
			return fail("--count needs a writable --out-bundle");
		for (i = 0; i < count; i++) {
			snprintf(cnbuf, sizeof(cnbuf), "Bulk Root %05ld", i);
			x = make(cnbuf, "trustfs bulk", key, NULL, NULL, 1, -1,
			    3650, NULL);
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
	x = make(cn, org, key, issuer, ikey, ca, from, to, san);
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
