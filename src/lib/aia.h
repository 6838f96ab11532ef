/*
 * Missing intermediates from the Authority Information Access extension
 * (RFC 5280 4.2.2.1, caIssuers), for policy lines with aia=fetch in the
 * chain modes (issue 12).
 */
#ifndef TRUSTFS_AIA_H
#define TRUSTFS_AIA_H

#include <stddef.h>

#include <openssl/x509.h>

#include "handle.h"
#include "vopts.h"

#define AIA_MAX_BYTES (256u << 10)	/* a certificate or a small p7c */
#define AIA_TIMEOUT 10			/* seconds, the whole fetch */
#define AIA_STALL 5			/* seconds under 1 byte/s */
#define AIA_MAX_FETCHES 4		/* missing links fetched per check */

/*
 * Before the chain check of a line with aia=fetch: when chain (leaf
 * first) does not verify under cp because an issuer is nowhere (not in
 * the chain, chains/ or roots/), and the certificate that lacks it names
 * an http:// caIssuers URL, fetches that (at most AIA_MAX_BYTES, within
 * AIA_TIMEOUT seconds) and looks in it for a CA certificate
 * (basicConstraints CA:TRUE) whose key signed that certificate and that
 * itself chains to roots/ (OpenSSL's rules, any purpose; distrusted/
 * refuses).  Such a certificate is stored in chains/ under its label, in
 * one transaction with its audit line and its Source (the URL), and the
 * caller's check that follows finds it there; the next link is fetched
 * the same way, up to AIA_MAX_FETCHES.  Anything else stores nothing and
 * is audited as a refusal (action=aia) when a certificate came back.
 *
 * note (may be NULL) gets what happened in one line, for the verdict
 * message: "" when nothing was fetched, else e.g. "AIA: fetched
 * chains/Lab_CA.pem from http://..." or "AIA: http://...: not a CA
 * certificate".  Returns 1 if something was stored, 0 if not (also when
 * the store could not be written: a read-only client's; the note says
 * so), or -1 with t's error set when the store could not be read (never
 * trust).
 */
int aia_complete(struct trustfs *t, const char *host, STACK_OF(X509) *chain,
    const struct chain_params *cp, char *note, size_t notelen);

/* verify.c's hooks for a line with aia=fetch: aia_complete() before the
 * check in chain-or-tofu (0, or -1 with t's error set); after a chain
 * check that failed for want of an issuer (aia_complete()'s result: 1
 * means check again); and the note appended to the verdict's message. */
struct policy_line;
int aia_before(struct trustfs *t, const struct policy_line *pl,
    const char *host, STACK_OF(X509) *chain, const struct chain_params *cp,
    char *note, size_t notelen);
int aia_again(struct trustfs *t, const struct policy_line *pl,
    const char *host, STACK_OF(X509) *chain, const struct chain_params *cp,
    const struct trustfs_verdict *v, char *note, size_t notelen);
void aia_after(struct trustfs_verdict *v, const char *note);

/*
 * The first http:// caIssuers URL of x into url: 1, or 0 when there is
 * none (other schemes are skipped: an ldap:// or https:// one cannot be
 * fetched without the trust it is for).
 */
int aia_url(X509 *x, char *url, size_t urllen);

#endif
