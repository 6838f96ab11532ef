/*
 * Pins beyond one certificate per host (issue 14): key pins (the SHA-256
 * of the DER SubjectPublicKeyInfo), several certificates per pin, and
 * key-only pins (a GnuTLS known_hosts line: a key and no certificate).
 *
 * How a pinned/ record says so (store.h leaves these fields to us):
 *   flags & PIN_FLAG_KEY   the pin is a key pin whatever the policy line
 *                          says (it came from a key: known_hosts);
 *   nkeys == 0 with PIN_FLAG_KEY
 *                          key-only: no certificate yet, other_sha256
 *                          holds the key's SHA-256; the first handshake
 *                          that presents that key fills the certificate
 *                          in (audited as "fill");
 *   slot                   the pin's expiry (seconds since the epoch,
 *                          0 = never; GnuTLS's EXPIRATION field): from
 *                          then on the pin is as good as absent.
 * Any certificate of a pin matches (an HA pair behind one address); under
 * pin=key (or PIN_FLAG_KEY) any certificate with the same key matches,
 * and the stored one is replaced by the new one (audited as "renew").
 */
#ifndef TRUSTFS_PINS_H
#define TRUSTFS_PINS_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "entry.h"
#include "error.h"
#include "store.h"

#define PIN_FLAG_KEY 0x1

/* The SHA-256 of x's DER SubjectPublicKeyInfo (what `openssl x509 -pubkey
 * | openssl pkey -pubin -outform DER | sha256sum' prints).  0, -EINVAL
 * or -ENOMEM. */
int pin_key_sha256(X509 *x, unsigned char out[32]);

/* The same for a DER SubjectPublicKeyInfo given on its own (a known_hosts
 * key): 0, or -EINVAL with e saying why (not a public key, bytes after
 * it, a key OpenSSL cannot use). */
int pin_spki_sha256(const unsigned char *spki, size_t len,
    unsigned char out[32], struct tf_error *e);

/* 1 if the record is a key-only pin (no certificate yet). */
int pin_is_key_only(const struct store_rec *rec);
/* 1 if the pin has expired at now (slot set and passed). */
int pin_expired(const struct store_rec *rec, time_t now);

/* What a presented leaf is to a stored pin. */
enum pin_match {
	PIN_MATCH_NONE = 0,	/* no pin, or an expired one */
	PIN_MATCH_CERT,		/* one of the pinned certificates */
	PIN_MATCH_KEY,		/* another certificate with a pinned key:
				 * *idx is the certificate it renews */
	PIN_MATCH_FILL,		/* a key-only pin with this key */
	PIN_MATCH_OTHER		/* pinned, and this is not it */
};

/*
 * Judges a leaf (sha: its SHA-256, key: its key's SHA-256) against rec
 * (NULL: no pin).  by_key: the policy line says pin=key.  Returns the
 * match (never fails: a stored certificate that does not decode matches
 * nothing).
 */
enum pin_match pin_match(const struct store_rec *rec,
    const unsigned char sha[32], const unsigned char key[32], int by_key,
    time_t now, size_t *idx);

/*
 * Writes pinned/HP as rec with certificate idx replaced by leaf (match
 * PIN_MATCH_KEY) or with leaf as its certificate (PIN_MATCH_FILL); the
 * sighting counts, rejected/HP goes when it holds leaf, and the change is
 * audited ("renew" with the old SHA-256, or "fill").  rec may point into
 * the map: it is copied before the write.  0 or a store error.
 */
int pin_renew(struct store_txn *txn, const char *hp,
    const struct store_rec *rec, enum pin_match m, size_t idx, X509 *leaf,
    const struct entry_actor *who, time_t now);

/* What pin_key_add did. */
enum pin_key_outcome {
	PIN_KEY_ADDED,		/* a new key-only pin */
	PIN_KEY_SAME,		/* the host is pinned to this key already */
	PIN_KEY_DIFFERENT,	/* the host is pinned to something else */
	PIN_KEY_EXPIRED		/* expires is in the past: nothing written */
};

/*
 * A key-only pin for hp (a normalized HOST_PORT) from a key's SHA-256,
 * expiring at `expires' (0 = never).  A pin that exists and is not
 * expired is never changed: the same key is PIN_KEY_SAME, anything else
 * PIN_KEY_DIFFERENT.  Audited as "pin-key".  0 or a store error.
 */
int pin_key_add(struct store_txn *txn, const char *hp,
    const unsigned char key[32], time_t expires,
    const struct entry_actor *who, enum pin_key_outcome *out);

/*
 * Rewrites pinned/HP without the certificate with SHA-256 sha (trustctl
 * unpin); the last one removes the pin.  0, -ENOENT (no such pin, or it
 * does not hold that certificate; e says which) or a store error.
 */
int pin_drop_cert(struct store_txn *txn, const char *hp,
    const unsigned char sha[32], const struct entry_actor *who,
    struct tf_error *e);

/* The inspect text of a key-only pin (it has no certificate to show):
 * Host, Pinned Key SHA256, Pin Expires and the sighting lines. */
struct buf;
int pin_render_key_only(const char *hp, const struct store_rec *rec,
    struct buf *out);

/* --- pinned/ written by hand (entry.c) ---------------------------- */

/*
 * The certificates of a pin as entry_add stores them: in input order,
 * each once.  They are alternatives for one host (an HA pair, a planned
 * rollover), so a chain is refused (-EINVAL, e says which certificate
 * issued which: "write bundles to import"); self-signed ones never count
 * as issuers (a renewal keeps its key).  *out holds new references.
 */
int pin_set(STACK_OF(X509) *in, STACK_OF(X509) **out, struct tf_error *e);

/*
 * What adding the certificates sk over an existing pin old means, for
 * entry_add: PIN_OVER_SAME, the pin holds every one of them already (an
 * add without ENTRY_REPLACE changes nothing); PIN_OVER_REPLACE, the pin
 * has expired, or is a key-only pin for the key of every one of them
 * (filled in), so an add may take its place without ENTRY_REPLACE;
 * PIN_OVER_CONFLICT, anything else.
 */
enum pin_over { PIN_OVER_CONFLICT = 0, PIN_OVER_SAME, PIN_OVER_REPLACE };
enum pin_over pin_add_over(const struct store_rec *old, STACK_OF(X509) *sk,
    time_t now);

/* A pin replaced by a set that keeps one of its certificates keeps its
 * sightings (an appended certificate is no new pin); a key-only pin
 * filled in with certificates of its key stays a key pin, with its
 * expiry. */
void pin_keep_history(const struct store_rec *old, struct store_rec *nrec,
    STACK_OF(X509) *sk, time_t now);

/* entry_clear_rejected for each certificate of a new pin. */
int pin_clear_rejected(struct store_txn *txn, const char *hp,
    const struct store_rec *rec, char *cleared, size_t clearedlen);

#endif
