/*
 * Verification options (libtls's tls_config): an object the caller makes,
 * sets, and hands to trustfs_verify_chain_opts() and trustfs_check_opts().
 * Setters copy; a failed setter leaves the option as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "vopts.h"

/* The deepest path a caller may allow; the strict rules follow paths of
 * up to STRICT_MAX_CHAIN certificates. */
#define VOPTS_MAX_DEPTH 64

struct trustfs_verify_opts *
trustfs_verify_opts_new(void)
{
	struct trustfs_verify_opts *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->crls = sk_X509_CRL_new_null();
	if (o->crls == NULL) {
		free(o);
		return NULL;
	}
	o->depth = -1;
	o->purpose = TRUSTFS_PURPOSE_SSL_SERVER;
	o->revocation = TRUSTFS_REVOCATION_PREFER;
	return o;
}

void
trustfs_verify_opts_free(struct trustfs_verify_opts *o)
{
	if (o == NULL)
		return;
	sk_X509_CRL_pop_free(o->crls, X509_CRL_free);
	free(o->ip);
	free(o);
}

const char *
trustfs_verify_opts_error(const struct trustfs_verify_opts *o)
{
	if (o == NULL || o->err.msg[0] == '\0')
		return NULL;
	return o->err.msg;
}

/* Each setter starts afresh: the error is about the last call only. */
static int
opts_ok(struct trustfs_verify_opts *o)
{
	if (o == NULL)
		return -1;
	tf_error_clear(&o->err);
	return 0;
}

int
trustfs_verify_opts_set_time(struct trustfs_verify_opts *o, time_t when)
{
	if (opts_ok(o) != 0)
		return -1;
	if (when < 0) {
		tf_error_setx(&o->err, -EINVAL, "a verification time before "
		    "1970 (%lld)", (long long)when);
		return -1;
	}
	o->at = when;
	o->have_time = 1;
	return 0;
}

int
trustfs_verify_opts_set_purpose(struct trustfs_verify_opts *o,
    enum trustfs_purpose purpose)
{
	if (opts_ok(o) != 0)
		return -1;
	switch (purpose) {
	case TRUSTFS_PURPOSE_SSL_SERVER:
	case TRUSTFS_PURPOSE_SSL_CLIENT:
	case TRUSTFS_PURPOSE_ANY:
		o->purpose = purpose;
		return 0;
	}
	tf_error_setx(&o->err, -EINVAL, "unknown purpose %d", (int)purpose);
	return -1;
}

int
trustfs_verify_opts_set_depth(struct trustfs_verify_opts *o, int depth)
{
	if (opts_ok(o) != 0)
		return -1;
	if (depth < 0 || depth > VOPTS_MAX_DEPTH) {
		tf_error_setx(&o->err, -EINVAL, "depth %d: 0 to %d "
		    "intermediates", depth, VOPTS_MAX_DEPTH);
		return -1;
	}
	o->depth = depth;
	return 0;
}

int
trustfs_verify_opts_set_ip(struct trustfs_verify_opts *o, const char *ip)
{
	ASN1_OCTET_STRING *a;
	char buf[64], *copy;
	size_t n;

	if (opts_ok(o) != 0)
		return -1;
	if (ip == NULL) {
		free(o->ip);
		o->ip = NULL;
		return 0;
	}
	/* "[::1]" as a URL writes it is "::1". */
	n = strlen(ip);
	if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']' && n - 2 < sizeof(buf))
		snprintf(buf, sizeof(buf), "%.*s", (int)(n - 2), ip + 1);
	else
		snprintf(buf, sizeof(buf), "%s", n < sizeof(buf) ? ip : "");
	a = buf[0] ? a2i_IPADDRESS(buf) : NULL;
	ERR_clear_error();
	if (a == NULL) {
		tf_error_setx(&o->err, -EINVAL, "'%.64s' is not an IPv4 or IPv6 "
		    "address", ip);
		return -1;
	}
	ASN1_OCTET_STRING_free(a);
	copy = strdup(buf);
	if (copy == NULL) {
		tf_error_set(&o->err, -ENOMEM, "copying the IP address");
		return -1;
	}
	free(o->ip);
	o->ip = copy;
	return 0;
}

int
trustfs_verify_opts_add_crl(struct trustfs_verify_opts *o, X509_CRL *crl)
{
	if (opts_ok(o) != 0)
		return -1;
	if (crl == NULL) {
		tf_error_setx(&o->err, -EINVAL, "no CRL to add");
		return -1;
	}
	if (!X509_CRL_up_ref(crl) || !sk_X509_CRL_push(o->crls, crl)) {
		X509_CRL_free(crl);
		tf_error_set(&o->err, -ENOMEM, "adding a CRL");
		return -1;
	}
	return 0;
}

/* Every CRL of a PEM file, or the one of a DER file. */
int
trustfs_verify_opts_add_crl_file(struct trustfs_verify_opts *o,
    const char *path)
{
	STACK_OF(X509_CRL) *got = NULL;
	X509_CRL *crl;
	BIO *bio = NULL;
	int rc = -1, n = 0;

	if (opts_ok(o) != 0)
		return -1;
	got = sk_X509_CRL_new_null();
	bio = path != NULL ? BIO_new_file(path, "rb") : NULL;
	if (got == NULL || bio == NULL) {
		tf_error_setx(&o->err, -EIO, "%s: cannot be read", path ?
		    path : "(null)");
		goto out;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_CRL_push(got, crl)) {
			X509_CRL_free(crl);
			tf_error_set(&o->err, -ENOMEM, "reading %s", path);
			goto out;
		}
	ERR_clear_error();
	if (sk_X509_CRL_num(got) == 0 && BIO_reset(bio) == 0) {
		crl = d2i_X509_CRL_bio(bio, NULL);
		if (crl != NULL && !sk_X509_CRL_push(got, crl))
			X509_CRL_free(crl);
	}
	if (sk_X509_CRL_num(got) == 0) {
		tf_error_setx(&o->err, -EINVAL, "%s: no CRL in it (PEM or DER)",
		    path);
		goto out;
	}
	/* All or none: the option is as it was if any push fails. */
	n = sk_X509_CRL_num(o->crls);
	while (sk_X509_CRL_num(got) > 0) {
		crl = sk_X509_CRL_shift(got);
		if (!sk_X509_CRL_push(o->crls, crl)) {
			X509_CRL_free(crl);
			while (sk_X509_CRL_num(o->crls) > n)
				X509_CRL_free(sk_X509_CRL_pop(o->crls));
			tf_error_set(&o->err, -ENOMEM, "reading %s", path);
			goto out;
		}
	}
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	sk_X509_CRL_pop_free(got, X509_CRL_free);
	return rc;
}

int
trustfs_verify_opts_set_revocation(struct trustfs_verify_opts *o,
    enum trustfs_revocation r)
{
	if (opts_ok(o) != 0)
		return -1;
	switch (r) {
	case TRUSTFS_REVOCATION_OFF:
	case TRUSTFS_REVOCATION_PREFER:
	case TRUSTFS_REVOCATION_REQUIRE:
		o->revocation = r;
		o->revocation_set = 1;
		return 0;
	}
	tf_error_setx(&o->err, -EINVAL, "unknown revocation setting %d",
	    (int)r);
	return -1;
}

void
trustfs_verify_opts_set_insecure_nonstrict(struct trustfs_verify_opts *o)
{
	if (opts_ok(o) == 0)
		o->insecure_nonstrict = 1;
}

/* off < prefer < require, whatever the enum's order. */
static int
rev_rank(enum trustfs_revocation r)
{
	switch (r) {
	case TRUSTFS_REVOCATION_OFF:
		return 0;
	case TRUSTFS_REVOCATION_PREFER:
		return 1;
	case TRUSTFS_REVOCATION_REQUIRE:
		return 2;
	}
	return 2;	/* unknown: the strongest, never weaker */
}

void
chain_params_make(struct chain_params *cp,
    const struct trustfs_verify_opts *opts, int strict_line,
    enum trustfs_revocation rev_line)
{
	enum trustfs_revocation rev = opts && opts->revocation_set ?
	    opts->revocation : rev_line;

	cp->opts = opts;
	cp->leaf_ocsp_good = 0;
	cp->strict = strict_line && !(opts && opts->insecure_nonstrict);
	cp->revocation = rev_rank(rev_line) > rev_rank(rev) ? rev_line : rev;
	if (rev_rank(cp->revocation) == 2)
		cp->revocation = TRUSTFS_REVOCATION_REQUIRE;
}
