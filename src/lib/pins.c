/*
 * Key pins, several certificates per pin, key-only pins (pins.h says how
 * a pinned/ record holds them).  Used by the TOFU check (verify.c), the
 * public trustfs_pin_key() and trustctl; every change here is one part of
 * the caller's write transaction and writes its audit line in it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cert.h"
#include "handle.h"
#include "names.h"
#include "pins.h"

extern char *program_invocation_short_name;

int
pin_key_sha256(X509 *x, unsigned char out[32])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len, rc = 0;

	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len <= 0)
		rc = -EINVAL;
	else if (!EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(),
	    NULL) || mdlen != 32)
		rc = -ENOMEM;
	OPENSSL_free(der);
	ERR_clear_error();
	return rc;
}

int
pin_spki_sha256(const unsigned char *spki, size_t len, unsigned char out[32],
    struct tf_error *e)
{
	const unsigned char *p = spki;
	X509_PUBKEY *pk = NULL;
	EVP_PKEY *k = NULL;
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int dlen = 0, rc = 0;

	if (len == 0 || len > 65536) {
		rc = tf_error_setx(e, -EINVAL, "the key is %s", len ? "over "
		    "64 KiB" : "empty");
		goto out;
	}
	pk = d2i_X509_PUBKEY(NULL, &p, (long)len);
	if (pk == NULL || p != spki + len) {
		rc = tf_error_setx(e, -EINVAL, pk == NULL ? "not a DER "
		    "SubjectPublicKeyInfo" : "bytes after the public key");
		goto out;
	}
	/* A key OpenSSL cannot load could never match a handshake. */
	k = X509_PUBKEY_get(pk);
	if (k == NULL) {
		rc = tf_error_setx(e, -EINVAL, "a public key of an unknown or "
		    "broken kind");
		goto out;
	}
	/* Hashed as a certificate's key is: its DER as OpenSSL writes it. */
	dlen = i2d_X509_PUBKEY(pk, &der);
	if (dlen <= 0 || !EVP_Digest(der, (size_t)dlen, out, &mdlen,
	    EVP_sha256(), NULL) || mdlen != 32)
		rc = tf_error_setx(e, -ENOMEM, "hashing the key");
out:
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	X509_PUBKEY_free(pk);
	ERR_clear_error();
	return rc;
}

int
pin_is_key_only(const struct store_rec *rec)
{
	return rec->nkeys == 0 && (rec->flags & PIN_FLAG_KEY);
}

int
pin_expired(const struct store_rec *rec, time_t now)
{
	return rec->slot != 0 && (uint64_t)now >= (uint64_t)rec->slot;
}

enum pin_match
pin_match(const struct store_rec *rec, const unsigned char sha[32],
    const unsigned char key[32], int by_key, time_t now, size_t *idx)
{
	STACK_OF(X509) *sk = NULL;
	unsigned char k[32];
	enum pin_match m = PIN_MATCH_OTHER;
	size_t i;

	*idx = 0;
	if (rec == NULL || pin_expired(rec, now))
		return PIN_MATCH_NONE;
	for (i = 0; i < rec->nkeys; i++)
		if (memcmp(rec->keys[i].sha256, sha, 32) == 0) {
			*idx = i;
			return PIN_MATCH_CERT;
		}
	if (pin_is_key_only(rec))
		return memcmp(rec->other_sha256, key, 32) == 0 ?
		    PIN_MATCH_FILL : PIN_MATCH_OTHER;
	if (!by_key && !(rec->flags & PIN_FLAG_KEY))
		return PIN_MATCH_OTHER;
	if (entry_certs(rec, &sk) != 0)
		return PIN_MATCH_OTHER;
	for (i = 0; i < (size_t)sk_X509_num(sk); i++)
		if (pin_key_sha256(sk_X509_value(sk, (int)i), k) == 0 &&
		    memcmp(k, key, 32) == 0) {
			*idx = i;
			m = PIN_MATCH_KEY;
			break;
		}
	sk_X509_pop_free(sk, X509_free);
	return m;
}

/* A pinned/ record built from certificates, keeping rec's history. */
struct pinbuf {
	struct store_rec rec;
	struct store_key *keys;
	unsigned char *der;
};

static void
pinbuf_free(struct pinbuf *b)
{
	free(b->keys);
	free(b->der);
}

/* b from sk, with base's header fields (base may point into the map:
 * everything is copied). */
static int
pinbuf_build(struct pinbuf *b, const struct store_rec *base,
    STACK_OF(X509) *sk)
{
	size_t n = (size_t)sk_X509_num(sk), i, len = 0;
	int rc;

	memset(b, 0, sizeof(*b));
	b->rec = *base;
	b->keys = calloc(n ? n : 1, sizeof(*b->keys));
	if (b->keys == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		cert_sha256(sk_X509_value(sk, (int)i), b->keys[i].sha256);
		b->keys[i].subject_hash = cert_subject_hash(sk_X509_value(sk,
		    (int)i));
	}
	rc = n ? cert_der_all(sk, &b->der, &len) : 0;
	if (rc != 0)
		return rc;
	b->rec.keys = b->keys;
	b->rec.nkeys = n;
	b->rec.der = b->der;
	b->rec.der_len = len;
	return 0;
}

int
pin_renew(struct store_txn *txn, const char *hp, const struct store_rec *rec,
    enum pin_match m, size_t idx, X509 *leaf, const struct entry_actor *who,
    time_t now)
{
	STACK_OF(X509) *sk = NULL;
	struct pinbuf b = { 0 };
	unsigned char sha[32], old[32];
	char path[300], cleared[300] = "";
	X509 *gone;
	int rc;

	cert_sha256(leaf, sha);
	rc = entry_certs(rec, &sk);
	if (rc != 0)
		goto out;
	if (m == PIN_MATCH_KEY) {
		if (idx >= (size_t)sk_X509_num(sk) || idx >= rec->nkeys) {
			rc = -EINVAL;
			goto out;
		}
		memcpy(old, rec->keys[idx].sha256, 32);
		/* sk_X509_set returns the new element: take the old first. */
		gone = sk_X509_value(sk, (int)idx);
		X509_up_ref(leaf);
		(void)sk_X509_set(sk, (int)idx, leaf);
		X509_free(gone);
	} else if (!sk_X509_push(sk, leaf)) {
		rc = -ENOMEM;
		goto out;
	} else
		X509_up_ref(leaf);
	rc = pinbuf_build(&b, rec, sk);
	if (rc != 0)
		goto out;
	b.rec.mtime = (uint64_t)now;
	b.rec.last_seen = (uint64_t)now;
	if (b.rec.first_seen == 0)
		b.rec.first_seen = (uint64_t)now;
	b.rec.seen_count++;
	memset(b.rec.other_sha256, 0, sizeof(b.rec.other_sha256));
	rc = store_put(txn, STORE_PINNED, hp, &b.rec);
	if (rc == 0)
		rc = entry_clear_rejected(txn, hp, sha, cleared,
		    sizeof(cleared));
	snprintf(path, sizeof(path), "pinned/%s", hp);
	if (rc == 0)
		rc = entry_audit_change(txn, who, m == PIN_MATCH_KEY ? "renew" :
		    "fill", path, sha, m == PIN_MATCH_KEY ? old : NULL,
		    cleared[0] ? cleared : NULL, NULL);
	if (rc == 0)
		rc = entry_counter_add(txn, m == PIN_MATCH_KEY ? "tofu_renew" :
		    "tofu_fill");
	if (rc == 0)
		entry_mark_changed(txn);
out:
	pinbuf_free(&b);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* 1 if the pin (not key-only) holds a certificate with this key. */
static int
holds_key(const struct store_rec *rec, const unsigned char key[32])
{
	STACK_OF(X509) *sk = NULL;
	unsigned char k[32];
	int i, hit = 0;

	if (entry_certs(rec, &sk) != 0)
		return 0;
	for (i = 0; i < sk_X509_num(sk) && !hit; i++)
		hit = pin_key_sha256(sk_X509_value(sk, i), k) == 0 &&
		    memcmp(k, key, 32) == 0;
	sk_X509_pop_free(sk, X509_free);
	return hit;
}

int
pin_key_add(struct store_txn *txn, const char *hp, const unsigned char key[32],
    time_t expires, const struct entry_actor *who,
    enum pin_key_outcome *out)
{
	struct store_rec rec, nrec;
	char path[300], cleared[300] = "";
	time_t now = time(NULL);
	int rc, had = 0;

	rc = store_get(txn, STORE_PINNED, hp, &rec);
	if (rc != 0 && rc != -ENOENT)
		return rc;
	if (rc == 0 && !pin_expired(&rec, now)) {
		if (pin_is_key_only(&rec))
			*out = memcmp(rec.other_sha256, key, 32) == 0 ?
			    PIN_KEY_SAME : PIN_KEY_DIFFERENT;
		else
			*out = holds_key(&rec, key) ? PIN_KEY_SAME :
			    PIN_KEY_DIFFERENT;
		return 0;
	}
	had = rc == 0;
	if (expires != 0 && expires <= now) {
		*out = PIN_KEY_EXPIRED;
		return 0;
	}
	memset(&nrec, 0, sizeof(nrec));
	nrec.ctime = nrec.mtime = (uint64_t)now;
	nrec.flags = PIN_FLAG_KEY;
	/* The record's expiry is 32 bits: past 2106 is as good as never. */
	nrec.slot = expires <= 0 ? 0 : (uint64_t)expires > UINT32_MAX ?
	    UINT32_MAX : (uint32_t)expires;
	memcpy(nrec.other_sha256, key, 32);
	rc = store_put(txn, STORE_PINNED, hp, &nrec);
	/* An expired pin that is replaced takes its rejected/ with it. */
	if (rc == 0 && had)
		rc = entry_clear_rejected(txn, hp, NULL, cleared,
		    sizeof(cleared));
	snprintf(path, sizeof(path), "pinned/%s", hp);
	if (rc == 0)
		rc = entry_audit_change(txn, who, "pin-key", path, key, NULL,
		    cleared[0] ? cleared : NULL, NULL);
	if (rc == 0) {
		entry_mark_changed(txn);
		*out = PIN_KEY_ADDED;
	}
	return rc;
}

int
pin_drop_cert(struct store_txn *txn, const char *hp,
    const unsigned char sha[32], const struct entry_actor *who,
    struct tf_error *e)
{
	STACK_OF(X509) *sk = NULL;
	struct store_rec rec;
	struct pinbuf b = { 0 };
	char path[300], cleared[300] = "";
	X509 *gone;
	size_t i;
	int rc;

	rc = store_get(txn, STORE_PINNED, hp, &rec);
	if (rc == -ENOENT)
		return tf_error_setx(e, -ENOENT, "no pin for %s", hp);
	if (rc != 0)
		return rc;
	if (pin_is_key_only(&rec)) {
		if (memcmp(rec.other_sha256, sha, 32) != 0)
			return tf_error_setx(e, -ENOENT, "pinned/%s is a key "
			    "pin for another key", hp);
		return entry_remove(txn, STORE_PINNED, hp, who);
	}
	for (i = 0; i < rec.nkeys; i++)
		if (memcmp(rec.keys[i].sha256, sha, 32) == 0)
			break;
	if (i == rec.nkeys)
		return tf_error_setx(e, -ENOENT, "pinned/%s holds no "
		    "certificate with that SHA-256", hp);
	if (rec.nkeys == 1)
		return entry_remove(txn, STORE_PINNED, hp, who);
	rc = entry_certs(&rec, &sk);
	if (rc == 0 && i >= (size_t)sk_X509_num(sk))
		rc = -EINVAL;
	if (rc != 0)
		goto out;
	gone = sk_X509_delete(sk, (int)i);
	X509_free(gone);
	rc = pinbuf_build(&b, &rec, sk);
	if (rc != 0)
		goto out;
	b.rec.mtime = (uint64_t)time(NULL);
	rc = store_put(txn, STORE_PINNED, hp, &b.rec);
	/* rejected/ says what the host presented against the pin as it
	 * was: the pin changed. */
	if (rc == 0)
		rc = entry_clear_rejected(txn, hp, NULL, cleared,
		    sizeof(cleared));
	snprintf(path, sizeof(path), "pinned/%s", hp);
	if (rc == 0)
		rc = entry_audit_change(txn, who, "unpin", path, sha, NULL,
		    cleared[0] ? cleared : NULL, NULL);
	if (rc == 0)
		entry_mark_changed(txn);
out:
	pinbuf_free(&b);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* 1 if a's key signed b and a's subject is b's issuer. */
static int
signed_by(X509 *a, X509 *b)
{
	EVP_PKEY *k = X509_get0_pubkey(a);
	int ok;

	if (k == NULL || X509_NAME_cmp(X509_get_subject_name(a),
	    X509_get_issuer_name(b)) != 0)
		return 0;
	ok = X509_verify(b, k) == 1;
	ERR_clear_error();
	return ok;
}

int
pin_set(STACK_OF(X509) *in, STACK_OF(X509) **out, struct tf_error *e)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	unsigned char sha[32], other[32];
	char *s1 = NULL, *s2 = NULL;
	int i, j, n = sk_X509_num(in), dup, rc = 0;

	*out = NULL;
	if (sk == NULL)
		return -ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		X509 *x = sk_X509_value(in, i);

		cert_sha256(x, sha);
		for (j = 0, dup = 0; j < sk_X509_num(sk) && !dup; j++) {
			cert_sha256(sk_X509_value(sk, j), other);
			dup = memcmp(sha, other, 32) == 0;
		}
		if (dup)
			continue;
		if (!sk_X509_push(sk, x))
			rc = -ENOMEM;
		else
			X509_up_ref(x);
	}
	/* One certificate is never a chain: no signature to check (a bulk
	 * import of pins pays for nothing here). */
	for (i = 0; sk_X509_num(sk) > 1 && i < sk_X509_num(sk) && rc == 0;
	    i++) {
		X509 *b = sk_X509_value(sk, i);

		if (signed_by(b, b))
			continue;
		for (j = 0; j < sk_X509_num(sk) && rc == 0; j++) {
			X509 *a = sk_X509_value(sk, j);

			if (i == j || !signed_by(a, b))
				continue;
			s1 = cert_name_str(X509_get_subject_name(a));
			s2 = cert_name_str(X509_get_subject_name(b));
			rc = tf_error_setx(e, -EINVAL, "pinned/ holds a host's "
			    "own certificates, any of which matches; this "
			    "input is a chain (%s issued %s): write bundles to "
			    "import, chains to chains/", s1 ? s1 : "?",
			    s2 ? s2 : "?");
		}
	}
	free(s1);
	free(s2);
	if (rc != 0)
		sk_X509_pop_free(sk, X509_free);
	else
		*out = sk;
	return rc;
}

/* 1 if every certificate of sk has the key with this SHA-256. */
static int
all_have_key(STACK_OF(X509) *sk, const unsigned char key[32])
{
	unsigned char k[32];
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (pin_key_sha256(sk_X509_value(sk, i), k) != 0 ||
		    memcmp(k, key, 32) != 0)
			return 0;
	return sk_X509_num(sk) > 0;
}

enum pin_over
pin_add_over(const struct store_rec *old, STACK_OF(X509) *sk, time_t now)
{
	unsigned char sha[32];
	size_t j;
	int i, found;

	if (pin_expired(old, now))
		return PIN_OVER_REPLACE;
	if (pin_is_key_only(old))
		return all_have_key(sk, old->other_sha256) ? PIN_OVER_REPLACE :
		    PIN_OVER_CONFLICT;
	for (i = 0; i < sk_X509_num(sk); i++) {
		cert_sha256(sk_X509_value(sk, i), sha);
		for (j = 0, found = 0; j < old->nkeys && !found; j++)
			found = memcmp(old->keys[j].sha256, sha, 32) == 0;
		if (!found)
			return PIN_OVER_CONFLICT;
	}
	return sk_X509_num(sk) > 0 ? PIN_OVER_SAME : PIN_OVER_CONFLICT;
}

void
pin_keep_history(const struct store_rec *old, struct store_rec *nrec,
    STACK_OF(X509) *sk, time_t now)
{
	size_t i, j;

	if (pin_expired(old, now))
		return;		/* a new pin */
	if (pin_is_key_only(old) && all_have_key(sk, old->other_sha256)) {
		nrec->flags = old->flags;
		nrec->slot = old->slot;
		return;
	}

	for (i = 0; i < old->nkeys; i++)
		for (j = 0; j < nrec->nkeys; j++)
			if (memcmp(old->keys[i].sha256, nrec->keys[j].sha256,
			    32) == 0) {
				nrec->first_seen = old->first_seen;
				nrec->last_seen = old->last_seen;
				nrec->seen_count = old->seen_count;
				return;
			}
}

int
pin_clear_rejected(struct store_txn *txn, const char *hp,
    const struct store_rec *rec, char *cleared, size_t clearedlen)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < rec->nkeys && rc == 0; i++)
		rc = entry_clear_rejected(txn, hp, rec->keys[i].sha256, cleared,
		    clearedlen);
	return rc;
}

int
pin_render_key_only(const char *hp, const struct store_rec *rec,
    struct buf *out)
{
	char host[256], key[100], exp[64];
	unsigned port;
	int rc;

	cert_hex(rec->other_sha256, 32, ':', key);
	if (rec->slot != 0)
		cert_time_str((time_t)rec->slot, exp, sizeof(exp));
	else
		snprintf(exp, sizeof(exp), "never");
	if (name_host_port_split(hp, host, sizeof(host), &port) == 0)
		rc = buf_printf(out, strchr(host, ':') ? "Host: [%s]:%u\n" :
		    "Host: %s:%u\n", host, port);
	else
		rc = buf_printf(out, "Host: %s\n", hp);
	if (rc == 0)
		rc = buf_printf(out, "Pinned Key SHA256: %s\n"
		    "Certificate: none yet (a key pin: the first handshake "
		    "that presents this key stores its certificate here)\n"
		    "Pin Expires: %s\nFirst Seen: never\nLast Seen: never\n"
		    "Seen Count: 0\n", key, exp);
	return rc;
}

/* --- the public entry point ---------------------------------------- */

struct key_args {
	const char *hp;
	unsigned char key[32];
	time_t expires;
	enum pin_key_outcome outcome;
};

static int
key_write(struct store_txn *txn, void *arg)
{
	struct key_args *a = arg;
	struct entry_actor who = { getuid(), getpid(),
	    program_invocation_short_name };

	/* Run again when the map grows: the outcome is the last run's. */
	return pin_key_add(txn, a->hp, a->key, a->expires, &who, &a->outcome);
}

int
trustfs_pin_key(struct trustfs *t, const char *host, unsigned int port,
    const unsigned char *spki, size_t spki_len, time_t expires,
    enum trustfs_pin_result *result)
{
	struct key_args a = { .expires = expires };
	struct tf_error e = { 0 };
	char hp[300];
	int rc;

	if (t == NULL || result == NULL)
		return -1;
	*result = TRUSTFS_PIN_REFUSED;
	if (t->st == NULL) {
		if (!t->err.msg[0])
			trustfs_set_errorx(t, "the store is not open");
		return -1;
	}
	tf_error_clear(&t->err);
	if (host == NULL || name_host_port_make(host, port, hp, sizeof(hp))) {
		trustfs_set_errorx(t, "'%.64s' port %u is not a valid host and "
		    "port", host ? host : "(null)", port);
		return -1;
	}
	if (spki == NULL || expires < 0 ||
	    pin_spki_sha256(spki, spki_len, a.key, &e) != 0) {
		trustfs_set_errorx(t, "the key for %s: %s", hp, e.msg[0] ?
		    e.msg : "none, or a negative expiry");
		return -1;
	}
	a.hp = hp;
	rc = store_write(t->st, key_write, &a, &e);
	if (rc != 0) {
		trustfs_set_errorx(t, "writing pinned/%s: %s", hp, e.msg[0] ?
		    e.msg : strerror(-rc));
		return -1;
	}
	*result = a.outcome == PIN_KEY_ADDED ? TRUSTFS_PIN_ADDED :
	    a.outcome == PIN_KEY_SAME ? TRUSTFS_PIN_UNCHANGED :
	    a.outcome == PIN_KEY_EXPIRED ? TRUSTFS_PIN_EXPIRED :
	    TRUSTFS_PIN_REFUSED;
	return 0;
}
