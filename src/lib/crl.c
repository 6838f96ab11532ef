/*
 * Revocation material (issue 13): CRLs for MOUNT/crls/ and the chain
 * checks, and stapled OCSP responses.  A CRL is stored only when trustfs
 * would use it: one CRL, the fields RFC 5280 section 5 requires, no
 * critical extension it does not understand, and an issuer in roots/ or
 * chains/ whose key signed it and which may sign CRLs.  Whatever cannot
 * be read is refused, never taken as "nothing revoked".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "crl.h"
#include "names.h"

/* The extensions of RFC 5280 5.2 that trustfs reads or may ignore. */
static int
crl_ext_known(int nid)
{
	switch (nid) {
	case NID_crl_number:
	case NID_authority_key_identifier:
	case NID_issuer_alt_name:
	case NID_issuing_distribution_point:
		return 1;
	default:
		return 0;
	}
}

int
crl_acceptable(X509_CRL *crl, struct tf_error *e)
{
	X509_EXTENSION *ext;
	ASN1_INTEGER *num;
	char oid[80];
	int i, crit = -1;

	if (X509_CRL_get_version(crl) != 1)	/* v2 is 1 */
		return tf_error_setx(e, -EINVAL, "a version %ld CRL: version 2 "
		    "is needed for a CRL number (RFC 5280 5.1.2.1)",
		    X509_CRL_get_version(crl) + 1);
	if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0)
		return tf_error_setx(e, -EINVAL, "a delta CRL: trustfs keeps "
		    "complete CRLs only");
	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		ext = X509_CRL_get_ext(crl, i);
		if (!X509_EXTENSION_get_critical(ext) || crl_ext_known(
		    OBJ_obj2nid(X509_EXTENSION_get_object(ext))))
			continue;
		OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 0);
		return tf_error_setx(e, -EINVAL, "the CRL has a critical "
		    "extension trustfs does not know (%s): it must be refused "
		    "(RFC 5280 5.2)", oid);
	}
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	ASN1_INTEGER_free(num);
	ERR_clear_error();
	if (num == NULL)
		return tf_error_setx(e, -EINVAL, "the CRL has no CRL number "
		    "(RFC 5280 5.2.3)");
	if (X509_CRL_get0_nextUpdate(crl) == NULL)
		return tf_error_setx(e, -EINVAL, "the CRL has no next update "
		    "(RFC 5280 5.1.2.5): it could never be stale");
	return 0;
}

int
crl_parse(const void *buf, size_t len, size_t limit, X509_CRL **out,
    struct tf_error *e)
{
	const unsigned char *p = buf;
	X509_CRL *crl = NULL, *more = NULL;
	BIO *bio = NULL;
	int rc = -EINVAL;

	*out = NULL;
	if (len > limit) {
		rc = tf_error_setx(e, -EFBIG, "input over the %zu-byte limit",
		    limit);
		goto out;
	}
	if (len == 0 || len > (size_t)0x7fffffff) {
		rc = tf_error_setx(e, -EINVAL, "no CRL in it (empty)");
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL) {
		rc = tf_error_set(e, -ENOMEM, "reading a CRL");
		goto out;
	}
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	if (crl != NULL) {
		more = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		if (more != NULL) {
			rc = tf_error_setx(e, -EINVAL, "more than one CRL: one "
			    "CRL per file");
			goto out;
		}
	} else {
		/* DER: the whole input is the one CRL, nothing after it. */
		crl = d2i_X509_CRL(NULL, &p, (long)len);
		if (crl != NULL && p != (const unsigned char *)buf + len) {
			rc = tf_error_setx(e, -EINVAL, "bytes after the DER CRL");
			goto out;
		}
	}
	if (crl == NULL) {
		rc = tf_error_setx(e, -EINVAL, "not a CRL (PEM X509 CRL block "
		    "or DER)");
		goto out;
	}
	rc = crl_acceptable(crl, e);
	if (rc == 0) {
		*out = crl;
		crl = NULL;
	}
out:
	ERR_clear_error();
	X509_CRL_free(more);
	X509_CRL_free(crl);
	BIO_free(bio);
	return rc;
}

int
crl_name_check(const char *name, struct tf_error *e)
{
	size_t n;
	int rc;

	rc = name_check_file(name);
	if (rc != 0)
		return tf_error_setx(e, rc, "'%s' is not a valid file name",
		    name);
	n = strlen(name);
	if (name[0] == '.' || n <= 4 || strcmp(name + n - 4, ".crl") != 0)
		return tf_error_setx(e, -EINVAL, "names in crls/ are LABEL.crl");
	return 0;
}

void
crl_sha256(X509_CRL *crl, unsigned char out[32])
{
	unsigned int n = 32;

	if (!X509_CRL_digest(crl, EVP_sha256(), out, &n))
		memset(out, 0, 32);
}

int
crl_expired(X509_CRL *crl, time_t now)
{
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);

	return nu == NULL || X509_cmp_time(nu, &now) < 0;
}

/* The CRL number in decimal, or "none". */
static void
crl_number_str(X509_CRL *crl, char *out, size_t outlen)
{
	ASN1_INTEGER *num;
	BIGNUM *bn = NULL;
	char *dec = NULL;
	int crit = -1;

	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num != NULL)
		bn = ASN1_INTEGER_to_BN(num, NULL);
	if (bn != NULL)
		dec = BN_bn2dec(bn);
	snprintf(out, outlen, "%s", dec ? dec : "none");
	OPENSSL_free(dec);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	ERR_clear_error();
}

int
crl_render(X509_CRL *crl, time_t now, struct buf *out)
{
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	const ASN1_TIME *lu = X509_CRL_get0_lastUpdate(crl);
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
	unsigned char sha[32];
	char t1[64], t2[64], num[96], hex[100];
	BIO *bio = NULL;
	char *pem;
	long n;
	int rc;

	cert_time_str(cert_asn1_time(lu), t1, sizeof(t1));
	if (nu != NULL)
		cert_time_str(cert_asn1_time(nu), t2, sizeof(t2));
	else
		snprintf(t2, sizeof(t2), "none");
	crl_number_str(crl, num, sizeof(num));
	crl_sha256(crl, sha);
	cert_hex(sha, 32, ':', hex);
	rc = buf_puts(out, "Issuer: ");
	if (rc == 0)
		rc = cert_name_append(out, X509_CRL_get_issuer(crl));
	if (rc == 0)
		rc = buf_printf(out, "\nThis Update: %s\nNext Update: %s\n"
		    "CRL Number: %s\nRevoked: %d\nSHA256 Fingerprint: %s\n"
		    "Status: %s\n", t1, t2, num, rev ? sk_X509_REVOKED_num(rev) :
		    0, hex, X509_cmp_time(lu, &now) > 0 ? "not yet valid" :
		    crl_expired(crl, now) ? "expired" : "current");
	if (rc != 0)
		goto out;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || !PEM_write_bio_X509_CRL(bio, crl)) {
		rc = -ENOMEM;
		goto out;
	}
	n = BIO_get_mem_data(bio, &pem);
	rc = buf_append(out, pem, (size_t)n);
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/* --- the issuer ------------------------------------------------------ */

struct issuer_find {
	struct store_txn *txn;
	X509_CRL *crl;
	X509 *found;		/* referenced */
	char where[300];
	int named;		/* a certificate has the CRL issuer's name */
	int signed_by;		/* ... and its key verifies the CRL */
	char nosign[300];	/* ... but it may not sign CRLs: where */
	int failed;		/* a record could not be read */
};

static int
issuer_cb(enum store_db db, const char *name, void *arg)
{
	struct issuer_find *f = arg;
	STACK_OF(X509) *sk = NULL;
	struct store_rec rec;
	X509 *x;
	int i, rc, hit = 0;

	if (db != STORE_ROOTS && db != STORE_CHAINS)
		return 0;
	rc = store_get(f->txn, db, name, &rec);
	if (rc == 0)
		rc = entry_certs(&rec, &sk);
	if (rc != 0) {
		f->failed |= rc != -ENOENT;
		return 0;
	}
	for (i = 0; i < sk_X509_num(sk) && !hit; i++) {
		x = sk_X509_value(sk, i);
		if (X509_NAME_cmp(X509_get_subject_name(x),
		    X509_CRL_get_issuer(f->crl)) != 0)
			continue;
		f->named = 1;
		if (X509_CRL_verify(f->crl, X509_get0_pubkey(x)) != 1)
			continue;
		f->signed_by = 1;
		/* RFC 5280 4.2.1.3: a CRL issuer asserts cRLSign. */
		if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE) ||
		    !(X509_get_key_usage(x) & KU_CRL_SIGN)) {
			snprintf(f->nosign, sizeof(f->nosign), "%s/%s",
			    entry_db_dir(db), name);
			continue;
		}
		X509_up_ref(x);
		f->found = x;
		snprintf(f->where, sizeof(f->where), "%s/%s", entry_db_dir(db),
		    name);
		hit = 1;
	}
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	return hit;
}

int
crl_find_issuer(struct store_txn *txn, X509_CRL *crl, X509 **issuer,
    char *where, size_t wherelen, struct tf_error *e)
{
	struct issuer_find f = { .txn = txn, .crl = crl };
	char *iname = cert_name_str(X509_CRL_get_issuer(crl));
	uint32_t h;
	int ok = 0, rc;

	if (issuer != NULL)
		*issuer = NULL;
	h = (uint32_t)X509_NAME_hash_ex(X509_CRL_get_issuer(crl), NULL, NULL,
	    &ok);
	if (!ok) {
		rc = tf_error_setx(e, -EINVAL, "the CRL's issuer name cannot be "
		    "hashed");
		goto out;
	}
	rc = store_find_subject(txn, h, issuer_cb, &f);
	if (rc < 0)
		goto out;
	rc = 0;
	if (f.found == NULL && f.failed)
		rc = -EIO;
	else if (f.found == NULL && f.nosign[0])
		rc = tf_error_setx(e, -EINVAL, "its issuer %s (%s) may not sign "
		    "CRLs: no cRLSign in its keyUsage (RFC 5280 4.2.1.3)",
		    f.nosign, iname ? iname : "?");
	else if (f.found == NULL && f.named)
		rc = tf_error_setx(e, -EINVAL, "issuer not in the store: no "
		    "certificate named %s in roots/ or chains/ verifies the "
		    "CRL's signature", iname ? iname : "?");
	else if (f.found == NULL)
		rc = tf_error_setx(e, -EINVAL, "issuer not in the store: %s is "
		    "not a certificate in roots/ or chains/", iname ? iname :
		    "?");
	if (rc == 0) {
		snprintf(where, wherelen, "%s", f.where);
		if (issuer != NULL) {
			*issuer = f.found;
			f.found = NULL;
		}
	}
out:
	X509_free(f.found);
	free(iname);
	return rc;
}

/* --- stored CRLs ----------------------------------------------------- */

static int
crl_decode(const struct store_crl *c, X509_CRL **out)
{
	const unsigned char *p = c->der;

	*out = d2i_X509_CRL(NULL, &p, (long)c->der_len);
	ERR_clear_error();
	return *out == NULL ? -EIO : 0;
}

int
crl_load(struct store_txn *txn, const char *name, X509_CRL **out,
    time_t *mtime)
{
	struct store_crl c;
	int rc;

	*out = NULL;
	rc = store_crl_get(txn, name, &c);
	if (rc == 0)
		rc = crl_decode(&c, out);
	if (rc == 0 && mtime != NULL)
		*mtime = (time_t)c.mtime;
	return rc;
}

int
crl_store(struct store_txn *txn, const char *name, X509_CRL *crl,
    const struct entry_actor *who, enum crl_outcome *outcome,
    struct tf_error *e)
{
	unsigned char sha[32], old_sha[32], *der = NULL;
	struct store_crl old, c;
	X509_CRL *prev = NULL;
	char where[300], path[300];
	int rc, len, have_old;

	*outcome = CRL_UNCHANGED;
	rc = crl_name_check(name, e);
	if (rc == 0)
		rc = crl_acceptable(crl, e);
	if (rc == 0)
		rc = crl_find_issuer(txn, crl, NULL, where, sizeof(where), e);
	if (rc != 0)
		return rc;
	len = i2d_X509_CRL(crl, &der);
	if (len <= 0) {
		rc = tf_error_set(e, -ENOMEM, "encoding the CRL");
		goto out;
	}
	crl_sha256(crl, sha);
	rc = store_crl_get(txn, name, &old);
	have_old = rc == 0;
	if (rc != 0 && rc != -ENOENT)
		goto out;
	if (have_old && old.der_len == (size_t)len &&
	    memcmp(old.der, der, (size_t)len) == 0) {
		rc = 0;
		goto out;
	}
	memset(old_sha, 0, sizeof(old_sha));
	if (have_old && crl_decode(&old, &prev) == 0)
		crl_sha256(prev, old_sha);
	memset(&c, 0, sizeof(c));
	c.ctime = have_old ? old.ctime : (uint64_t)time(NULL);
	c.mtime = (uint64_t)time(NULL);
	c.der = der;
	c.der_len = (size_t)len;
	rc = store_crl_put(txn, name, &c);
	snprintf(path, sizeof(path), "crls/%s", name);
	if (rc == 0)
		rc = entry_audit_change(txn, who, have_old ? "replace" : "add",
		    path, sha, have_old ? old_sha : NULL, NULL, NULL);
	if (rc == 0) {
		entry_mark_changed(txn);
		*outcome = have_old ? CRL_REPLACED : CRL_ADDED;
	}
out:
	X509_CRL_free(prev);
	OPENSSL_free(der);
	return rc;
}

int
crl_remove(struct store_txn *txn, const char *name,
    const struct entry_actor *who)
{
	unsigned char sha[32];
	X509_CRL *crl = NULL;
	char path[300];
	int rc, have_sha;

	rc = crl_load(txn, name, &crl, NULL);
	if (rc == -ENOENT)
		return rc;
	have_sha = rc == 0;
	if (have_sha)
		crl_sha256(crl, sha);
	X509_CRL_free(crl);
	rc = store_crl_del(txn, name);
	snprintf(path, sizeof(path), "crls/%s", name);
	if (rc == 0)
		rc = entry_audit(txn, who, "remove", path, have_sha ? sha :
		    NULL, NULL);
	if (rc == 0)
		entry_mark_changed(txn);
	return rc;
}

int
crl_rename(struct store_txn *txn, const char *from, const char *to,
    int noreplace, const struct entry_actor *who)
{
	unsigned char sha[32];
	struct store_crl c, other;
	X509_CRL *crl = NULL;
	unsigned char *copy = NULL;
	char path[600];
	int rc;

	if (strcmp(from, to) == 0)
		return store_crl_get(txn, from, &c);
	rc = store_crl_get(txn, from, &c);
	if (rc != 0)
		return rc;
	rc = store_crl_get(txn, to, &other);
	if (rc == 0 && noreplace)
		return -EEXIST;
	if (rc != 0 && rc != -ENOENT)
		return rc;
	/* c points into the map: a write may move it. */
	copy = malloc(c.der_len);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, c.der, c.der_len);
	c.der = copy;
	memset(sha, 0, sizeof(sha));
	if (crl_decode(&c, &crl) == 0)
		crl_sha256(crl, sha);
	rc = store_crl_put(txn, to, &c);
	if (rc == 0)
		rc = store_crl_del(txn, from);
	snprintf(path, sizeof(path), "crls/%s", to);
	if (rc == 0)
		rc = entry_audit(txn, who, "rename", path, sha, NULL);
	if (rc == 0)
		entry_mark_changed(txn);
	X509_CRL_free(crl);
	free(copy);
	return rc;
}

struct load_all {
	STACK_OF(X509_CRL) *crls;
	STACK_OF(OPENSSL_STRING) *names;
	int rc;
};

static int
load_all_cb(const char *name, const struct store_crl *c, void *arg)
{
	struct load_all *l = arg;
	X509_CRL *crl;
	char *n;

	if (crl_decode(c, &crl) != 0)
		return 0;
	if (!sk_X509_CRL_push(l->crls, crl)) {
		X509_CRL_free(crl);
		l->rc = -ENOMEM;
		return 1;
	}
	if (l->names == NULL)
		return 0;
	n = malloc(strlen(name) + 6);
	if (n != NULL)
		sprintf(n, "crls/%s", name);
	if (n == NULL || !sk_OPENSSL_STRING_push(l->names, n)) {
		free(n);
		X509_CRL_free(sk_X509_CRL_pop(l->crls));
		l->rc = -ENOMEM;
		return 1;
	}
	return 0;
}

int
crl_load_all(struct store_txn *txn, STACK_OF(X509_CRL) *crls,
    STACK_OF(OPENSSL_STRING) *names)
{
	struct load_all l = { .crls = crls, .names = names };
	int rc;

	rc = store_crl_foreach(txn, load_all_cb, &l);
	return rc > 0 ? l.rc : rc;
}

struct expired_walk {
	struct buf *out;
	time_t now;
	size_t total;
	int n, rc;
};

static int
expired_cb(const char *name, const struct store_crl *c, void *arg)
{
	struct expired_walk *w = arg;
	X509_CRL *crl;
	char t[64];

	w->total++;
	if (crl_decode(c, &crl) != 0) {
		w->n++;
		w->rc = buf_printf(w->out, "crls/%s: damaged, cannot be read\n",
		    name);
		return w->rc;
	}
	if (crl_expired(crl, w->now)) {
		cert_time_str(cert_asn1_time(X509_CRL_get0_nextUpdate(crl)), t,
		    sizeof(t));
		w->n++;
		w->rc = buf_printf(w->out, "crls/%s next update was %s\n",
		    name, t);
	}
	X509_CRL_free(crl);
	return w->rc;
}

int
crl_expired_lines(struct store_txn *txn, time_t now, struct buf *out,
    size_t *total)
{
	struct expired_walk w = { .out = out, .now = now };
	int rc;

	rc = store_crl_foreach(txn, expired_cb, &w);
	if (total != NULL)
		*total = w.total;
	if (rc == 0)
		rc = w.rc;
	return rc < 0 ? rc : w.n;
}

/* --- stapled OCSP ---------------------------------------------------- */

/* A responder the issuer delegated (RFC 6960 4.2.2.2): issued and
 * signed by it, with id-kp-OCSPSigning, valid now. */
static int
delegated(X509 *signer, X509 *issuer, time_t now)
{
	return X509_check_issued(issuer, signer) == X509_V_OK &&
	    X509_verify(signer, X509_get0_pubkey(issuer)) == 1 &&
	    (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) &&
	    (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN) &&
	    X509_cmp_time(X509_get0_notBefore(signer), &now) <= 0 &&
	    X509_cmp_time(X509_get0_notAfter(signer), &now) >= 0;
}

enum crl_ocsp_status
crl_ocsp_check(const unsigned char *der, size_t len, X509 *leaf,
    X509 *issuer, time_t now, char *why, size_t whylen)
{
	enum crl_ocsp_status st = CRL_OCSP_BAD;
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	STACK_OF(X509) *certs = NULL;
	ASN1_GENERALIZEDTIME *revt = NULL, *thisu = NULL, *nextu = NULL;
	X509 *signer = NULL;
	time_t early = now + CRL_OCSP_SKEW, late = now - CRL_OCSP_SKEW;
	int status = -1, reason = -1;

	snprintf(why, whylen, "stapled OCSP response does not parse");
	if (der == NULL || len == 0) {
		st = CRL_OCSP_NONE;
		snprintf(why, whylen, "no stapled OCSP response");
		goto out;
	}
	if (leaf == NULL || issuer == NULL) {
		st = CRL_OCSP_NONE;
		snprintf(why, whylen, "stapled OCSP response not checked: the "
		    "certificate's issuer is not known");
		goto out;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL)
		goto out;
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		st = CRL_OCSP_NONE;
		snprintf(why, whylen, "stapled OCSP response says %s",
		    OCSP_response_status_str(OCSP_response_status(resp)));
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	certs = sk_X509_new_null();
	if (bs == NULL || certs == NULL || !sk_X509_push(certs, issuer))
		goto out;
	X509_up_ref(issuer);
	/* Whom the response names as its signer, among what it carries and
	 * the issuer. */
	if (OCSP_resp_get0_signer(bs, &signer, certs) != 1) {
		snprintf(why, whylen, "stapled OCSP response signed by a "
		    "responder that is not its issuer");
		goto out;
	}
	if (X509_cmp(signer, issuer) != 0 && !delegated(signer, issuer, now)) {
		snprintf(why, whylen, "stapled OCSP response not signed by the "
		    "issuer or a responder it delegated (id-kp-OCSPSigning)");
		goto out;
	}
	/* The signature, with the key chosen above and nothing else
	 * (OCSP_NOINTERN: not a look-alike the response carries). */
	X509_up_ref(signer);
	X509_free(sk_X509_pop(certs));
	if (!sk_X509_push(certs, signer)) {
		X509_free(signer);
		goto out;
	}
	if (OCSP_basic_verify(bs, certs, NULL, OCSP_NOVERIFY |
	    OCSP_NOINTERN) != 1) {
		snprintf(why, whylen, "stapled OCSP response: its signature "
		    "does not verify");
		goto out;
	}
	id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
	if (id == NULL)
		goto out;
	if (OCSP_resp_find_status(bs, id, &status, &reason, &revt, &thisu,
	    &nextu) != 1) {
		st = CRL_OCSP_NONE;
		snprintf(why, whylen, "stapled OCSP response says nothing about "
		    "the certificate");
		goto out;
	}
	if (thisu == NULL || X509_cmp_time(thisu, &early) > 0 ||
	    (nextu != NULL && X509_cmp_time(nextu, &late) < 0)) {
		st = CRL_OCSP_STALE;
		snprintf(why, whylen, "stapled OCSP response is not current "
		    "(outside its thisUpdate..nextUpdate)");
		goto out;
	}
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		st = CRL_OCSP_GOOD;
		snprintf(why, whylen, "stapled OCSP response: good");
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		st = CRL_OCSP_REVOKED;
		snprintf(why, whylen, "stapled OCSP response: revoked (%s)",
		    reason >= 0 ? OCSP_crl_reason_str(reason) : "no reason");
		break;
	default:
		st = CRL_OCSP_NONE;
		snprintf(why, whylen, "stapled OCSP response: status unknown");
		break;
	}
out:
	ERR_clear_error();
	OCSP_CERTID_free(id);
	sk_X509_pop_free(certs, X509_free);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return st;
}
