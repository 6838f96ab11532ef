/*
 * The inspect text of DESIGN section 3 (for a certificate, and for an
 * entry with its directory's lines), and the one formatter for names
 * and the one for serial numbers that it and the extended attributes use,
 * so that `cat' and getfattr never disagree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "entry.h"
#include "names.h"
#include "origin.h"
#include "pins.h"

/* Appends the name printed with flags; nothing on failure. */
static int
name_print(struct buf *b, const X509_NAME *name, unsigned long flags)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;
	int rc = -ENOMEM;

	if (bio == NULL)
		goto out;
	if (X509_NAME_print_ex(bio, name, 0, flags) < 0) {
		rc = -EINVAL;
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	/* An empty name prints nothing, and then data may be NULL. */
	rc = n > 0 && data != NULL ? buf_append(b, data, (size_t)n) : 0;
out:
	BIO_free(bio);
	return rc;
}

int
cert_name_append(struct buf *b, const X509_NAME *name)
{
	int rc;

	if (name == NULL)
		return 0;
	/* UTF-8 kept (no \UXXXX escapes); control characters are escaped
	 * by ASN1_STRFLGS_ESC_CTRL, so the result is one line.  A string
	 * that is not what its type says (invalid UTF-8 or UCS-2 in a
	 * hostile certificate) makes OpenSSL give up: then every value is
	 * shown as "#" and the hex of its DER (RFC 2253 section 2.4). */
	rc = name_print(b, name, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	if (rc == -EINVAL)
		rc = name_print(b, name, XN_FLAG_RFC2253 |
		    ASN1_STRFLGS_DUMP_ALL);
	ERR_clear_error();
	return rc;
}

char *
cert_name_str(const X509_NAME *name)
{
	struct buf b = { 0 };

	/* Appending nothing still allocates and terminates the string. */
	if (cert_name_append(&b, name) != 0 || buf_append(&b, "", 0) != 0) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

int
cert_serial_append(struct buf *b, X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	const unsigned char *d = s != NULL ? ASN1_STRING_get0_data(s) : NULL;
	int n = s != NULL ? ASN1_STRING_length(s) : 0, rc;
	char *p;

	if (n <= 0 || d == NULL)
		return buf_puts(b, "00");
	/* "-" (openssl x509 -serial prints a negative serial so; RFC 5280
	 * forbids them, yet they are seen), then 3 bytes per octet. */
	rc = buf_reserve(b, 1 + (size_t)n * 3);
	if (rc != 0)
		return rc;
	p = b->data + b->len;
	if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER)
		*p++ = '-';
	cert_hex(d, (size_t)n, ':', p);
	b->len += strlen(b->data + b->len);
	return 0;
}

static void
key_desc(X509 *x, char *out, size_t outlen)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	char group[64];
	size_t glen = 0;

	if (k == NULL) {
		snprintf(out, outlen, "unknown");
		return;
	}
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		snprintf(out, outlen, "RSA %d", EVP_PKEY_get_bits(k));
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(k, group, sizeof(group), &glen))
			snprintf(out, outlen, "EC %d (%s)", EVP_PKEY_get_bits(k),
			    group);
		else
			snprintf(out, outlen, "EC %d", EVP_PKEY_get_bits(k));
		break;
	case EVP_PKEY_ED25519:
		snprintf(out, outlen, "ED25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(out, outlen, "ED448");
		break;
	default:
		snprintf(out, outlen, "%s %d", OBJ_nid2sn(EVP_PKEY_get_base_id(
		    k)), EVP_PKEY_get_bits(k));
	}
	ERR_clear_error();
}

int
cert_pem(struct buf *b, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -ENOMEM;

	if (bio != NULL && PEM_write_bio_X509(bio, x)) {
		n = BIO_get_mem_data(bio, &data);
		rc = buf_append(b, data, (size_t)n);
	}
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int
cert_pem_der(struct buf *b, const unsigned char *der, size_t len)
{
	size_t off, n;
	int rc;

	/* 48 bytes of DER make one 64-character line. */
	rc = buf_reserve(b, 28 + 26 + (len + 47) / 48 * 65 + 1);
	if (rc == 0)
		rc = buf_puts(b, "-----BEGIN CERTIFICATE-----\n");
	for (off = 0; rc == 0 && off < len; off += n) {
		n = len - off < 48 ? len - off : 48;
		rc = buf_reserve(b, 66);
		if (rc != 0)
			break;
		b->len += (size_t)EVP_EncodeBlock((unsigned char *)b->data +
		    b->len, der + off, (int)n);
		b->data[b->len++] = '\n';
		b->data[b->len] = '\0';
	}
	if (rc == 0)
		rc = buf_puts(b, "-----END CERTIFICATE-----\n");
	return rc;
}

/* A caller's value on one line: control characters become '?'. */
static int
field_line(struct buf *b, const char *key, const char *value)
{
	size_t start = b->len, i;
	int rc;

	rc = buf_printf(b, "%s: %s\n", key, value ? value : "");
	for (i = start; rc == 0 && i + 1 < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 || b->data[i] == 0x7f)
			b->data[i] = '?';
	return rc;
}

/* "Key: " and what fmt appends, then a newline. */
static int
line_with(struct buf *b, const char *key, int (*fmt)(struct buf *, X509 *),
    X509 *x)
{
	int rc = buf_printf(b, "%s: ", key);

	if (rc == 0)
		rc = fmt(b, x);
	if (rc == 0)
		rc = buf_puts(b, "\n");
	return rc;
}

static int
subject_of(struct buf *b, X509 *x)
{
	return cert_name_append(b, X509_get_subject_name(x));
}

static int
issuer_of(struct buf *b, X509 *x)
{
	return cert_name_append(b, X509_get_issuer_name(x));
}

int
cert_render(struct buf *b, X509 *x, time_t now,
    const struct cert_field *extra, size_t nextra)
{
	unsigned char md[32];
	char nb[64], na[64], sha1[64], sha256[100], key[96], status[64];
	size_t start = b->len, i;
	int rc;

	cert_time_str(cert_not_before(x), nb, sizeof(nb));
	cert_time_str(cert_not_after(x), na, sizeof(na));
	cert_sha1(x, md);
	cert_hex(md, 20, ':', sha1);
	cert_sha256(x, md);
	cert_hex(md, 32, ':', sha256);
	key_desc(x, key, sizeof(key));
	cert_status_str(x, now, status, sizeof(status));
	rc = line_with(b, "Subject", subject_of, x);
	if (rc == 0)
		rc = line_with(b, "Issuer", issuer_of, x);
	if (rc == 0)
		rc = line_with(b, "Serial Number", cert_serial_append, x);
	if (rc == 0)
		rc = buf_printf(b, "Validity Start: %s\nValidity End: %s\n"
		    "SHA1 Fingerprint: %s\nSHA256 Fingerprint: %s\n"
		    "Public Key: %s\nCA: %s\nStatus: %s\n", nb, na, sha1,
		    sha256, key, cert_is_ca(x) ? "yes" : "no", status);
	for (i = 0; rc == 0 && i < nextra; i++)
		rc = field_line(b, extra[i].key, extra[i].value);
	if (rc == 0)
		rc = cert_pem(b, x);
	if (rc != 0 && b->data != NULL) {
		b->len = start;		/* nothing partial */
		b->data[start] = '\0';
	}
	ERR_clear_error();
	return rc;
}

/* --- entries: the certificate text plus its directory's lines --- */

static void
fmt_seen(uint64_t t, char *out, size_t outlen)
{
	if (t == 0)
		snprintf(out, outlen, "never");
	else
		cert_time_str((time_t)t, out, outlen);
}

int
entry_render(struct store_txn *txn, enum store_db db, const char *name,
    const struct store_rec *rec, time_t now, struct buf *out)
{
	STACK_OF(X509) *sk = NULL;
	struct cert_field f[8];
	char host[256], hostport[300], first[64], last[64], count[32];
	char other[100], pos[64], anchor[300], chain[400];
	char src[ORIGIN_MAX + 1];
	char keyhex[100], pexp[64];
	unsigned char keymd[32];
	unsigned port;
	size_t nf;
	int i, n, rc;

	rc = entry_certs(rec, &sk);
	if (rc != 0)
		return rc;
	n = sk_X509_num(sk);
	/* A key pin with no certificate yet (issue 14, pins.c). */
	if (n == 0 && db == STORE_PINNED && pin_is_key_only(rec))
		rc = pin_render_key_only(name, rec, out);
	for (i = 0; i < n && rc == 0; i++) {
		nf = 0;
		if (db == STORE_PINNED || db == STORE_REJECTED) {
			if (name_host_port_split(name, host, sizeof(host),
			    &port) == 0)
				snprintf(hostport, sizeof(hostport),
				    strchr(host, ':') ? "[%s]:%u" : "%s:%u",
				    host, port);
			else
				snprintf(hostport, sizeof(hostport), "%s", name);
			f[nf++] = (struct cert_field){ "Host", hostport };
			fmt_seen(rec->first_seen, first, sizeof(first));
			fmt_seen(rec->last_seen, last, sizeof(last));
			snprintf(count, sizeof(count), "%llu",
			    (unsigned long long)rec->seen_count);
			if (db == STORE_PINNED) {
				f[nf++] = (struct cert_field){ "First Seen", first };
				f[nf++] = (struct cert_field){ "Last Seen", last };
				f[nf++] = (struct cert_field){ "Seen Count", count };
				/* Issue 14: what pin=key matches on. */
				if (pin_key_sha256(sk_X509_value(sk, i),
				    keymd) == 0) {
					cert_hex(keymd, 32, ':', keyhex);
					f[nf++] = (struct cert_field){
					    "Pinned Key SHA256", keyhex };
				}
				if (rec->slot != 0) {
					cert_time_str((time_t)rec->slot, pexp,
					    sizeof(pexp));
					f[nf++] = (struct cert_field){
					    "Pin Expires", pexp };
				}
			} else {
				static const unsigned char none[32];

				f[nf++] = (struct cert_field){ "Presented", last };
				/* pinned mode records a peer that had no pin
				 * (issue 10): nothing to compare with. */
				if (memcmp(rec->other_sha256, none, 32) == 0)
					snprintf(other, sizeof(other), "none (no "
					    "pin when it was presented)");
				else
					cert_hex(rec->other_sha256, 32, ':',
					    other);
				f[nf++] = (struct cert_field){
				    "Pinned SHA256 Fingerprint", other };
			}
		}
		if (db == STORE_CHAINS) {
			snprintf(pos, sizeof(pos), "%d of %d", i + 1, n);
			f[nf++] = (struct cert_field){ "Chain Position", pos };
			if (i == n - 1) {
				X509 *top = sk_X509_value(sk, i);

				if (entry_anchor(txn, top, anchor,
				    sizeof(anchor)) == 0)
					snprintf(chain, sizeof(chain),
					    "yes, roots/%s", anchor);
				else
					snprintf(chain, sizeof(chain), "no: "
					    "no root in roots/ issued the last "
					    "certificate");
				f[nf++] = (struct cert_field){
				    "Anchored In roots/", chain };
			}
		}
		/* DESIGN section 8: what added the entry (none: by hand). */
		if (i == 0 && txn != NULL && origin_get(txn, db, name, src,
		    sizeof(src)) == 0)
			f[nf++] = (struct cert_field){ "Source", src };
		rc = cert_render(out, sk_X509_value(sk, i), now, f, nf);
	}
	sk_X509_pop_free(sk, X509_free);
	return rc;
}
