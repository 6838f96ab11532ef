/*
 * Writes the seed corpus of the certificate harness (tests/fuzz/corpus/cert):
 * certificates that exercise the corners of cert_parse and the inspect
 * renderer (issue 8): an empty subject, negative, zero and 41-byte serials,
 * a 10,000-character subject, hostile strings, every key type the
 * renderer names, odd validity times, PKCS#7 nested in PKCS#7, PEM with
 * prose around it, DER chains and truncated files.
 *
 * It was run once and its output committed; run it again only to change
 * the seeds (keys are fresh each run, so every file changes):
 *
 *   cc -std=gnu11 -Wall -Wextra -o /tmp/gen_corpus tests/fuzz/gen_corpus.c \
 *       $(pkg-config --cflags --libs openssl)
 *   /tmp/gen_corpus tests/fuzz/corpus/cert
 *
 * Only certificates are written: the keys that sign them live in memory
 * and are thrown away.  A "PRIVATE KEY" seed holds a fake body, not a key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static const char *outdir;

static void
die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void
put(const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

/* A growing byte buffer for composed seeds. */
struct out {
	unsigned char *p;
	size_t len;
};

static void
add(struct out *o, const void *data, size_t len)
{
	o->p = realloc(o->p, o->len + len + 1);
	if (o->p == NULL)
		die("out of memory");
	memcpy(o->p + o->len, data, len);
	o->len += len;
}

static void
adds(struct out *o, const char *s)
{
	add(o, s, strlen(s));
}

static void
add_der(struct out *o, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	if (n <= 0)
		die("i2d_X509");
	add(o, der, (size_t)n);
	OPENSSL_free(der);
}

static void
add_pem(struct out *o, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	if (b == NULL || !PEM_write_bio_X509(b, x))
		die("PEM_write_bio_X509");
	n = BIO_get_mem_data(b, &data);
	add(o, data, (size_t)n);
	BIO_free(b);
}

/* PEM of DER bytes under any label, with LF or CRLF line ends. */
static void
add_pem_raw(struct out *o, const char *label, const unsigned char *der,
    size_t len, int crlf)
{
	unsigned char line[80];
	size_t off, n;
	int k;

	adds(o, "-----BEGIN ");
	adds(o, label);
	adds(o, crlf ? "-----\r\n" : "-----\n");
	for (off = 0; off < len; off += n) {
		n = len - off < 48 ? len - off : 48;
		k = EVP_EncodeBlock(line, der + off, (int)n);
		add(o, line, (size_t)k);
		adds(o, crlf ? "\r\n" : "\n");
	}
	adds(o, "-----END ");
	adds(o, label);
	adds(o, crlf ? "-----\r\n" : "-----\n");
}

static void
put_out(const char *name, struct out *o)
{
	put(name, o->p, o->len);
	free(o->p);
	o->p = NULL;
	o->len = 0;
}

static void
put_der(const char *name, X509 *x)
{
	struct out o = { 0 };

	add_der(&o, x);
	put_out(name, &o);
}

static void
put_pem(const char *name, X509 *x)
{
	struct out o = { 0 };

	add_pem(&o, x);
	put_out(name, &o);
}

static EVP_PKEY *
key(const char *alg, const char *param)
{
	EVP_PKEY *k = NULL;

	if (strcmp(alg, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param));
	else if (strcmp(alg, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	else if (strcmp(alg, "RSA-PSS") == 0) {
		/* EVP_PKEY_Q_keygen knows only RSA, EC and the curves. */
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);

		if (c == NULL || EVP_PKEY_keygen_init(c) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_keygen_bits(c, 1024) <= 0 ||
		    EVP_PKEY_generate(c, &k) <= 0)
			k = NULL;
		EVP_PKEY_CTX_free(c);
	} else
		k = EVP_PKEY_Q_keygen(NULL, NULL, alg);
	if (k == NULL)
		die(alg);
	return k;
}

/* What a certificate is made of; NULL/0 fields get plain defaults. */
struct spec {
	X509_NAME *subject;	/* taken over */
	ASN1_INTEGER *serial;	/* taken over */
	const char *not_before;	/* ASN1_TIME_set_string form */
	const char *not_after;
	EVP_PKEY *pub;		/* the subject's key */
	X509 *issuer;		/* NULL: self-issued */
	EVP_PKEY *signer;	/* signs; NULL: pub (self-signed) */
	const char *const *ext;	/* "name=value" pairs, NULL-terminated */
	int v1;			/* version 1: no extensions */
};

static X509_NAME *
name_cn(const char *cn, const char *o)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL)
		die("X509_NAME_new");
	if (o != NULL && !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)o, -1, -1, 0))
		die("O");
	if (cn != NULL && !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0))
		die("CN");
	return n;
}

/* An entry with a raw string type, past OpenSSL's length and character
 * checks (X509_NAME_ENTRY_set_data copies non-MBSTRING types as they are). */
static void
name_raw(X509_NAME *n, const char *field, int type, const void *data,
    int len)
{
	X509_NAME *dup;

	if (!X509_NAME_add_entry_by_txt(n, field, type, data, len, -1, 0))
		die(field);
	/* OpenSSL 3 refuses to decode some strings (invalid UTF-8, code
	 * points past U+10FFFF): a certificate holding one never parses,
	 * so it is no seed for the renderer.  Drop it and say so. */
	dup = X509_NAME_dup(n);
	if (dup == NULL) {
		fprintf(stderr, "gen_corpus: OpenSSL does not decode %s of "
		    "type %d; left out\n", field, type);
		X509_NAME_ENTRY_free(X509_NAME_delete_entry(n,
		    X509_NAME_entry_count(n) - 1));
		ERR_clear_error();
	}
	X509_NAME_free(dup);
}

static ASN1_INTEGER *
serial_bytes(const unsigned char *mag, int len, int negative)
{
	BIGNUM *bn = BN_bin2bn(mag, len, NULL);
	ASN1_INTEGER *a;

	if (bn == NULL)
		die("BN_bin2bn");
	BN_set_negative(bn, negative);
	a = BN_to_ASN1_INTEGER(bn, NULL);
	if (a == NULL)
		die("BN_to_ASN1_INTEGER");
	BN_free(bn);
	return a;
}

static ASN1_INTEGER *
serial_long(long v)
{
	ASN1_INTEGER *a = ASN1_INTEGER_new();

	if (a == NULL || !ASN1_INTEGER_set(a, v))
		die("ASN1_INTEGER_set");
	return a;
}

static X509 *
make(struct spec *s)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	EVP_PKEY *signer = s->signer ? s->signer : s->pub;
	const EVP_MD *md = EVP_sha256();
	int id = EVP_PKEY_get_base_id(signer), i;

	if (x == NULL || !X509_set_version(x, s->v1 ? X509_VERSION_1 :
	    X509_VERSION_3))
		die("X509_new");
	if (s->serial == NULL)
		s->serial = serial_long(0x1001);
	if (!X509_set_serialNumber(x, s->serial))
		die("serial");
	if (s->subject == NULL)
		s->subject = name_cn("trustfs fuzz seed", "trustfs");
	if (!X509_set_subject_name(x, s->subject) ||
	    !X509_set_issuer_name(x, s->issuer ?
	    X509_get_subject_name(s->issuer) : s->subject))
		die("names");
	if (!ASN1_TIME_set_string_X509(X509_getm_notBefore(x),
	    s->not_before ? s->not_before : "20240101000000Z") ||
	    !ASN1_TIME_set_string_X509(X509_getm_notAfter(x),
	    s->not_after ? s->not_after : "20440101000000Z"))
		die("times");
	if (!X509_set_pubkey(x, s->pub))
		die("pubkey");
	X509V3_set_ctx(&ctx, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
	for (i = 0; s->ext != NULL && s->ext[i] != NULL; i += 2) {
		X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &ctx, s->ext[i],
		    s->ext[i + 1]);

		if (e == NULL || !X509_add_ext(x, e, -1))
			die(s->ext[i]);
		X509_EXTENSION_free(e);
	}
	/* EdDSA signs the message itself: no digest. */
	if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448)
		md = NULL;
	if (!X509_sign(x, signer, md))
		die("X509_sign");
	X509_NAME_free(s->subject);
	ASN1_INTEGER_free(s->serial);
	return x;
}

static const char *const ca_ext[] = {
	"basicConstraints", "critical,CA:TRUE",
	"keyUsage", "critical,keyCertSign,cRLSign",
	"subjectKeyIdentifier", "hash",
	NULL
};

static const char *const leaf_ext[] = {
	"basicConstraints", "critical,CA:FALSE",
	"keyUsage", "critical,digitalSignature,keyEncipherment",
	"extendedKeyUsage", "serverAuth,clientAuth",
	"subjectAltName", "DNS:host.lab.example.com,DNS:*.Lab.Example,"
	    "IP:10.1.2.3,IP:2001:db8::1,email:ops@example.com,"
	    "URI:https://example.com/x",
	"authorityKeyIdentifier", "keyid",
	NULL
};

/* Every extension OpenSSL can build from text, plus an unknown critical
 * one, for the renderer's CA check and for d2i's extension decoders. */
static const char *const many_ext[] = {
	"basicConstraints", "critical,CA:TRUE,pathlen:0",
	"keyUsage", "digitalSignature,nonRepudiation,keyCertSign",
	"extendedKeyUsage", "serverAuth,codeSigning,1.2.3.4.5",
	"subjectAltName", "DNS:a.example,RID:1.2.3.4,otherName:"
	    "1.3.6.1.4.1.311.20.2.3;UTF8:upn@example",
	"nameConstraints", "permitted;DNS:.example.com,excluded;IP:"
	    "10.0.0.0/255.0.0.0",
	"certificatePolicies", "DER:30:08:30:06:06:04:55:1D:20:00",
	"authorityInfoAccess", "caIssuers;URI:http://example.com/ca.der,"
	    "OCSP;URI:http://ocsp.example.com",
	"crlDistributionPoints", "URI:http://example.com/ca.crl",
	"subjectKeyIdentifier", "hash",
	"1.2.3.4.5.6", "critical,DER:01:02:03",
	NULL
};

/* A PKCS#7 SignedData without signers (a "certs-only" bundle, as .p7b
 * files are), holding certs and, if inner is set, that PKCS#7 as its
 * content; with data set, that octet string as content instead. */
static PKCS7 *
p7_new(X509 **certs, int n, PKCS7 *inner, const unsigned char *data,
    int dlen)
{
	PKCS7 *p7 = PKCS7_new();
	int i;

	if (p7 == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed))
		die("PKCS7_set_type");
	if (inner != NULL) {
		if (!PKCS7_set_content(p7, inner))
			die("PKCS7_set_content");
	} else {
		if (!PKCS7_content_new(p7, NID_pkcs7_data))
			die("PKCS7_content_new");
		if (data != NULL && !ASN1_OCTET_STRING_set(
		    p7->d.sign->contents->d.data, data, dlen))
			die("octet string");
	}
	for (i = 0; i < n; i++)
		if (!PKCS7_add_certificate(p7, certs[i]))
			die("PKCS7_add_certificate");
	return p7;
}

static void
add_p7_der(struct out *o, PKCS7 *p7)
{
	unsigned char *der = NULL;
	int n = i2d_PKCS7(p7, &der);

	if (n <= 0)
		die("i2d_PKCS7");
	add(o, der, (size_t)n);
	OPENSSL_free(der);
}

static void
put_cut(const char *name, X509 *x, size_t keep)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	if (n <= 0 || keep > (size_t)n)
		die("cut");
	put(name, der, keep);
	OPENSSL_free(der);
}

int
main(int argc, char **argv)
{
	EVP_PKEY *root_k, *int_k, *leaf_k, *k;
	X509 *root, *inter, *leaf, *x, *certs[3];
	X509_NAME *n;
	PKCS7 *p7, *inner;
	struct out o = { 0 }, t = { 0 };
	unsigned char mag[41], *big, bad[] = { 0xff, 0xfe, 'a', 0xc0, 0xaf };
	struct spec s;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];

	/* A three-level chain: the plain forms of every input. */
	root_k = key("EC", "P-256");
	int_k = key("EC", "P-256");
	leaf_k = key("EC", "P-256");
	s = (struct spec){ .subject = name_cn("Fuzz Root CA", "trustfs"),
	    .pub = root_k, .ext = ca_ext, .serial = serial_long(1) };
	root = make(&s);
	s = (struct spec){ .subject = name_cn("Fuzz Intermediate CA",
	    "trustfs"), .pub = int_k, .issuer = root, .signer = root_k,
	    .ext = ca_ext, .serial = serial_long(2) };
	inter = make(&s);
	s = (struct spec){ .subject = name_cn("host.lab.example.com", NULL),
	    .pub = leaf_k, .issuer = inter, .signer = int_k, .ext = leaf_ext,
	    .serial = serial_long(3) };
	leaf = make(&s);
	certs[0] = leaf;
	certs[1] = inter;
	certs[2] = root;
	put_der("root.der", root);
	put_pem("root.pem", root);
	put_der("leaf.der", leaf);
	for (i = 0; i < 3; i++)
		add_der(&o, certs[i]);
	put_out("chain3.der", &o);

	/* PEM with prose around and between the blocks, CRLF, a boundary
	 * mentioned inside a sentence, prose that starts with '0'. */
	adds(&o, "0 errors.  Bundle exported by the lab CA.\n"
	    "Paste everything from -----BEGIN CERTIFICATE----- on.\n\n");
	add_pem(&o, leaf);
	adds(&o, "\nsubject=CN=Fuzz Intermediate CA\n");
	add_pem(&o, inter);
	adds(&o, "  \t\n");
	{
		unsigned char *der = NULL;
		int dn = i2d_X509(root, &der);

		add_pem_raw(&o, "CERTIFICATE", der, (size_t)dn, 1);
		OPENSSL_free(der);
	}
	adds(&o, "-- end of bundle --");
	put_out("chain3_prose.pem", &o);

	/* The other PEM labels cert_parse takes, and ones it refuses. */
	{
		unsigned char *der = NULL;
		int dn = i2d_X509(root, &der);

		add_pem_raw(&o, "X509 CERTIFICATE", der, (size_t)dn, 0);
		put_out("label_x509.pem", &o);
		add_pem_raw(&o, "X509 CRL", der, (size_t)dn, 0);
		put_out("label_unsupported.pem", &o);
		/* Base64 with a '*' in it, then data after padding. */
		add_pem_raw(&o, "CERTIFICATE", der, (size_t)dn, 0);
		o.p[40] = '*';
		put_out("bad_base64.pem", &o);
		adds(&o, "-----BEGIN CERTIFICATE-----\nAA==AAAA\n"
		    "-----END CERTIFICATE-----\n");
		put_out("pad_then_data.pem", &o);
		/* A BEGIN inside an unfinished block. */
		add_pem_raw(&o, "CERTIFICATE", der, (size_t)dn / 2, 0);
		o.len -= strlen("-----END CERTIFICATE-----\n");
		add_pem(&o, leaf);
		put_out("begin_in_block.pem", &o);
		/* BEGIN without END, and END of another label. */
		add_pem_raw(&o, "CERTIFICATE", der, (size_t)dn, 0);
		o.len -= strlen("-----END CERTIFICATE-----\n");
		put_out("no_end.pem", &o);
		add_pem_raw(&o, "CERTIFICATE", der, (size_t)dn, 0);
		memcpy(o.p + o.len - 17, "PKCS7-----\n", 11);
		o.len -= 6;
		put_out("end_mismatch.pem", &o);
		OPENSSL_free(der);
	}
	/* The label of a private key with a fake body: refused by name. */
	adds(&o, "key and cert:\n-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n");
	add_pem(&o, leaf);
	put_out("fake_key_label.pem", &o);
	adds(&o, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!not base64!!\n"
	    "-----END ENCRYPTED PRIVATE KEY-----\n");
	put_out("fake_encrypted_key_label.pem", &o);

	/* TRUSTED CERTIFICATE: OpenSSL's X509_AUX, with trust settings. */
	x = X509_dup(root);
	if (x == NULL || !X509_add1_trust_object(x, OBJ_nid2obj(
	    NID_server_auth)) || !X509_add1_reject_object(x, OBJ_nid2obj(
	    NID_email_protect)) || !X509_alias_set1(x, (const unsigned char *)
	    "fuzz alias", -1))
		die("aux");
	{
		BIO *b = BIO_new(BIO_s_mem());
		char *data;
		long bn;

		if (b == NULL || !PEM_write_bio_X509_AUX(b, x))
			die("PEM_write_bio_X509_AUX");
		bn = BIO_get_mem_data(b, &data);
		put("trusted.pem", data, (size_t)bn);
		BIO_free(b);
	}
	X509_free(x);

	/* Truncations and trailing bytes. */
	{
		unsigned char *der = NULL;
		int dn = i2d_X509(root, &der);

		put_cut("root_cut_half.der", root, (size_t)dn / 2);
		put_cut("root_cut_1.der", root, (size_t)dn - 1);
		put_cut("root_cut_4.der", root, 4);
		add(&o, der, (size_t)dn);
		add(&o, "\0\0trailing", 10);
		put_out("root_trailing.der", &o);
		add_der(&o, leaf);
		add(&o, der, (size_t)dn - 10);
		put_out("chain_cut.der", &o);
		OPENSSL_free(der);
	}
	put("zero.bin", "0", 1);
	put("empty.bin", "", 0);

	/* Issue 8 defect 7: an empty subject (and so an empty issuer). */
	k = key("EC", "P-256");
	n = X509_NAME_new();
	s = (struct spec){ .subject = n, .pub = k, .ext = (const char *const[]){
	    "subjectAltName", "critical,DNS:empty.example", NULL } };
	x = make(&s);
	put_der("empty_subject.der", x);
	put_pem("empty_subject.pem", x);
	X509_free(x);

	/* Defect 15: negative, zero, 20-byte and 41-byte serials. */
	s = (struct spec){ .pub = k, .serial = serial_long(-5) };
	x = make(&s);
	put_der("serial_negative.der", x);
	X509_free(x);
	memset(mag, 0xa5, sizeof(mag));
	s = (struct spec){ .pub = k, .serial = serial_bytes(mag, 20, 1) };
	x = make(&s);
	put_der("serial_negative_20.der", x);
	X509_free(x);
	s = (struct spec){ .pub = k, .serial = serial_long(0) };
	x = make(&s);
	put_der("serial_zero.der", x);
	X509_free(x);
	mag[0] = 0xff;		/* a leading 00 octet in DER: 21 octets */
	s = (struct spec){ .pub = k, .serial = serial_bytes(mag, 20, 0) };
	x = make(&s);
	put_der("serial_20_highbit.der", x);
	X509_free(x);
	mag[0] = 0x41;
	s = (struct spec){ .pub = k, .serial = serial_bytes(mag, 41, 0) };
	x = make(&s);
	put_der("serial_41.der", x);
	put_pem("serial_41.pem", x);
	X509_free(x);

	/* A 10,000-character subject CN. */
	big = malloc(10000);
	if (big == NULL)
		die("out of memory");
	memset(big, 'a', 10000);
	n = X509_NAME_new();
	name_raw(n, "CN", V_ASN1_UTF8STRING, big, 10000);
	s = (struct spec){ .subject = n, .pub = k };
	x = make(&s);
	put_der("subject_10000.der", x);
	X509_free(x);
	/* ... and a 10,000-byte O of 'é', for labels cut inside UTF-8. */
	for (i = 0; i + 1 < 10000; i += 2) {
		big[i] = 0xc3;
		big[i + 1] = 0xa9;
	}
	n = X509_NAME_new();
	name_raw(n, "O", V_ASN1_UTF8STRING, big, 10000);
	s = (struct spec){ .subject = n, .pub = k };
	x = make(&s);
	put_der("subject_10000_utf8_org.der", x);
	X509_free(x);
	free(big);

	/* Hostile strings: control characters and an ANSI escape, UTF-8,
	 * invalid UTF-8, a BMPString with a lone surrogate, a UniversalString
	 * past U+10FFFF, a
	 * name of dots, several CNs, an unknown attribute. */
	n = X509_NAME_new();
	name_raw(n, "C", V_ASN1_PRINTABLESTRING, "XX", 2);
	name_raw(n, "O", V_ASN1_UTF8STRING, "Ünïcödé 日本 \xf0\x9f\x94\x92", -1);
	name_raw(n, "OU", V_ASN1_BMPSTRING, "\0a\xd8\0", 4);
	name_raw(n, "L", V_ASN1_UNIVERSALSTRING, "\0\0\0a\0\x11\0\0", 8);
	name_raw(n, "ST", V_ASN1_UTF8STRING, bad, sizeof(bad));
	name_raw(n, "CN", V_ASN1_UTF8STRING, "evil\n\r\t\x1b[31mred\x7f,=+\"<>;"
	    "\\#end", -1);
	name_raw(n, "CN", V_ASN1_IA5STRING, "second cn", -1);
	name_raw(n, "1.2.3.4.5", V_ASN1_T61STRING, "\xe9t\xe9\x01", 4);
	s = (struct spec){ .subject = n, .pub = k };
	x = make(&s);
	put_der("subject_hostile.der", x);
	X509_free(x);
	n = X509_NAME_new();
	name_raw(n, "CN", V_ASN1_UTF8STRING, "..", -1);
	s = (struct spec){ .subject = n, .pub = k };
	x = make(&s);
	put_der("subject_dots.der", x);
	X509_free(x);
	n = X509_NAME_new();
	name_raw(n, "CN", V_ASN1_T61STRING, "Caf\xe9 \xff", -1);
	s = (struct spec){ .subject = n, .pub = k };
	x = make(&s);
	put_der("subject_cn_t61.der", x);
	X509_free(x);
	n = X509_NAME_new();
	name_raw(n, "CN", V_ASN1_UTF8STRING, "", 0);
	name_raw(n, "O", V_ASN1_UTF8STRING, "Org Only", -1);
	s = (struct spec){ .subject = n, .pub = k };
	x = make(&s);
	put_der("subject_empty_cn_org.der", x);
	X509_free(x);
	n = X509_NAME_new();
	name_raw(n, "C", V_ASN1_PRINTABLESTRING, "US", 2);
	s = (struct spec){ .subject = n, .pub = k, .v1 = 1 };
	x = make(&s);
	put_der("subject_country_only_v1.der", x);
	X509_free(x);

	/* Validity: UTCTime 1950, GeneralizedTime 9999, reversed, and the
	 * epoch. */
	s = (struct spec){ .pub = k, .not_before = "19500101000000Z",
	    .not_after = "19500102000000Z" };
	x = make(&s);
	put_der("time_1950.der", x);
	X509_free(x);
	s = (struct spec){ .pub = k, .not_before = "99991231235959Z",
	    .not_after = "99991231235959Z" };
	x = make(&s);
	put_der("time_9999.der", x);
	X509_free(x);
	s = (struct spec){ .pub = k, .not_before = "20300101000000Z",
	    .not_after = "20200101000000Z" };
	x = make(&s);
	put_der("time_reversed.der", x);
	X509_free(x);
	s = (struct spec){ .pub = k, .not_before = "19700101000000Z",
	    .not_after = "20491231235959Z" };
	x = make(&s);
	put_der("time_epoch_2049.der", x);
	X509_free(x);

	/* Every key type the renderer names, and some it does not. */
	{
		static const char *const alg[][3] = {
			{ "RSA", "1024", "key_rsa1024.der" },
			{ "EC", "P-384", "key_p384.der" },
			{ "EC", "secp256k1", "key_secp256k1.der" },
			{ "ED25519", NULL, "key_ed25519.der" },
			{ "ED448", NULL, "key_ed448.der" },
			{ "RSA-PSS", NULL, "key_rsapss.der" },
		};
		size_t a;

		for (a = 0; a < sizeof(alg) / sizeof(alg[0]); a++) {
			EVP_PKEY *kk = key(alg[a][0], alg[a][1]);

			s = (struct spec){ .pub = kk, .ext = ca_ext };
			x = make(&s);
			put_der(alg[a][2], x);
			X509_free(x);
			EVP_PKEY_free(kk);
		}
		/* X25519 cannot sign: the root signs for it. */
		k = key("X25519", NULL);
		s = (struct spec){ .pub = k, .issuer = root, .signer = root_k,
		    .ext = leaf_ext };
		x = make(&s);
		put_der("key_x25519.der", x);
		X509_free(x);
		EVP_PKEY_free(k);
		k = key("EC", "P-256");
	}
	s = (struct spec){ .pub = k, .ext = many_ext };
	x = make(&s);
	put_der("extensions_many.der", x);
	X509_free(x);

	/* PKCS#7: plain, empty, nested (a SignedData holding a SignedData),
	 * a PKCS#7's DER inside a data octet string, PEM with PKCS7 and CMS
	 * labels, a PEM bundle mixing PKCS#7 and certificates, truncated. */
	p7 = p7_new(certs, 3, NULL, NULL, 0);
	add_p7_der(&o, p7);
	put("p7_chain.der", o.p, o.len);
	add_pem_raw(&t, "PKCS7", o.p, o.len, 0);
	put_out("p7_chain.pem", &t);
	adds(&t, "exported from the IOS-XR trustpool\n");
	add_pem_raw(&t, "CMS", o.p, o.len, 1);
	add_pem(&t, root);
	put_out("p7_cms_and_cert.pem", &t);
	put("p7_cut.der", o.p, o.len - 7);
	inner = PKCS7_dup(p7);
	if (inner == NULL)
		die("PKCS7_dup");
	PKCS7_free(p7);
	p7 = p7_new(certs, 1, NULL, o.p, (int)o.len);
	free(o.p);
	o.p = NULL;
	o.len = 0;
	add_p7_der(&o, p7);
	put_out("p7_in_data.der", &o);
	PKCS7_free(p7);
	p7 = p7_new(certs + 2, 1, inner, NULL, 0);	/* owns inner now */
	add_p7_der(&o, p7);
	put("p7_nested.der", o.p, o.len);
	add_pem_raw(&t, "PKCS7", o.p, o.len, 0);
	put_out("p7_nested.pem", &t);
	o.len = 0;
	PKCS7_free(p7);
	p7 = p7_new(NULL, 0, NULL, NULL, 0);
	add_p7_der(&o, p7);
	put_out("p7_empty.der", &o);
	PKCS7_free(p7);

	/* A bundle of 20 roots, as an import. */
	for (i = 0; i < 20; i++) {
		char cn[32];

		snprintf(cn, sizeof(cn), "Bundle Root %02d", i);
		s = (struct spec){ .subject = name_cn(cn, "trustfs"),
		    .pub = k, .ext = ca_ext, .serial = serial_long(100 + i) };
		x = make(&s);
		add_pem(&o, x);
		X509_free(x);
	}
	put_out("bundle20.pem", &o);

	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	EVP_PKEY_free(root_k);
	EVP_PKEY_free(int_k);
	EVP_PKEY_free(leaf_k);
	EVP_PKEY_free(k);
	return 0;
}
