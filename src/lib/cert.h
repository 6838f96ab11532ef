/*
 * Certificates: the one parser for certificate input, fingerprints, labels
 * (cert.c), and the inspect renderer of DESIGN section 3 (render.c).
 */
#ifndef TRUSTFS_CERT_H
#define TRUSTFS_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "buf.h"
#include "error.h"

/* Size limits for input written to the mount or given to trustctl. */
#define CERT_INPUT_MAX_ONE (1u << 20)		/* roots/, pinned/, chains/ */
#define CERT_INPUT_MAX_BUNDLE (64u << 20)	/* import */

/*
 * Parse certificate input: PEM (any text around the blocks is ignored;
 * CERTIFICATE, TRUSTED CERTIFICATE, X509 CERTIFICATE and PKCS7 blocks),
 * DER certificates (one or several back to back) or PKCS#7 in DER.
 * On success *out holds at least one certificate, in input order.
 * Returns 0, -EFBIG (len > limit), -EINVAL or -ENOMEM; on failure e says
 * what was wrong in words a user understands, and *out is NULL.
 */
int cert_parse(const void *buf, size_t len, size_t limit,
    STACK_OF(X509) **out, struct tf_error *e);

/*
 * For input still being written (the mount's checks at write()): the
 * length of buf up to and including the first complete END line of a PEM
 * block ("-----END LABEL-----" and its newline), by the boundary rules
 * cert_parse reads PEM with, so that both see the same blocks; 0 if there
 * is none yet.  *begin: a BEGIN line stands before it (text with an END
 * line and no BEGIN is ignored, as cert_parse ignores it).
 */
size_t cert_pem_piece(const char *buf, size_t len, int *begin);

/* Decode a stored payload (DER certificates back to back). 0 or -EINVAL. */
int cert_decode_der(const unsigned char *der, size_t len,
    STACK_OF(X509) **out);
/* DER of one certificate, malloc'd. 0 or -ENOMEM/-EINVAL. */
int cert_der(X509 *x, unsigned char **der, size_t *len);
/* DER of every certificate, back to back, malloc'd. */
int cert_der_all(STACK_OF(X509) *sk, unsigned char **der, size_t *len);

void cert_sha256(X509 *x, unsigned char out[32]);
void cert_sha1(X509 *x, unsigned char out[20]);
uint32_t cert_subject_hash(X509 *x);	/* X509_NAME_hash_ex, as c_rehash */
/* "DF:71:7E..." for fingerprints (sep ':') or "df717e..." (sep 0).
 * out must hold 3*n bytes. */
void cert_hex(const unsigned char *p, size_t n, char sep, char *out);
/*
 * The one name formatter, for the inspect text and the extended
 * attributes: RFC 2253 order with UTF-8 kept, "CN=x,O=y,C=US", whole
 * whatever its length, on one line (controls escaped); a name OpenSSL
 * cannot print shows every value as '#' and the hex of its DER.  An empty
 * name appends nothing.  Returns 0, or -ENOMEM and leaves b as it was.
 */
int cert_name_append(struct buf *b, const X509_NAME *name);
/* The same as a malloc'd string ("" for an empty name); NULL: no memory. */
char *cert_name_str(const X509_NAME *name);
/*
 * The one serial formatter: the serial's octets as "0A:01:...", every one
 * of them (RFC 5280 allows 20; a hostile certificate may carry any
 * number); a negative serial starts with '-' ("-05"), as openssl x509
 * -serial shows it.  Returns 0, or -ENOMEM and leaves b as it was.
 */
int cert_serial_append(struct buf *b, X509 *x);
int cert_is_ca(X509 *x);
int cert_is_self_signed(X509 *x);

enum cert_status {
	CERT_VALID,
	CERT_EXPIRING,		/* valid, expires within CERT_EXPIRING_DAYS */
	CERT_EXPIRED,
	CERT_NOT_YET_VALID
};
#define CERT_EXPIRING_DAYS 30
/* days_left (may be NULL) gets whole days until notAfter. */
enum cert_status cert_status(X509 *x, time_t now, long *days_left);
/* "valid", "expired", "not yet valid", "expires in N days" into out. */
void cert_status_str(X509 *x, time_t now, char *out, size_t outlen);
/* An ASN.1 time (a certificate's or a CRL's) as time_t; 0 for NULL or
 * one OpenSSL cannot read. */
time_t cert_asn1_time(const ASN1_TIME *t);
/* notBefore/notAfter as time_t. */
time_t cert_not_before(X509 *x);
time_t cert_not_after(X509 *x);

/*
 * LABEL from the subject CN, else O, else the first 16 hex digits of the
 * SHA-256; characters outside [A-Za-z0-9._-] become '_'.  No ".pem".
 */
void cert_label(X509 *x, char *out, size_t outlen);

/* Extra "Key: value" lines for an entry, printed after the certificate's
 * own lines (Host, First Seen, ...).  NULL-terminated arrays. */
struct cert_field {
	const char *key;
	const char *value;
};

/* Appends DESIGN section 3's text for x, then `extra' lines, then the PEM. */
int cert_render(struct buf *b, X509 *x, time_t now,
    const struct cert_field *extra, size_t nextra);
/* Appends just the PEM. */
int cert_pem(struct buf *b, X509 *x);
/* The same from one DER certificate, without decoding it (RFC 7468). */
int cert_pem_der(struct buf *b, const unsigned char *der, size_t len);
/* Time as "2014-01-16 18:12:23 UTC". */
void cert_time_str(time_t t, char *out, size_t outlen);

#endif
