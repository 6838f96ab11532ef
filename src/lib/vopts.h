/* The verification options behind struct trustfs_verify_opts (vopts.c),
 * and what one chain check applies (chain.c). */
#ifndef TRUSTFS_VOPTS_H
#define TRUSTFS_VOPTS_H

#include <time.h>

#include <openssl/x509.h>

#include "error.h"
#include "trustfs.h"

struct trustfs_verify_opts {
	int have_time;
	time_t at;
	enum trustfs_purpose purpose;
	int depth;			/* -1: OpenSSL's */
	char *ip;			/* NULL: none */
	STACK_OF(X509_CRL) *crls;	/* never NULL */
	enum trustfs_revocation revocation;
	int revocation_set;		/* 0: the policy line's applies */
	int insecure_nonstrict;
	struct tf_error err;
};

/* What one chain check applies, from the options and the policy line. */
struct chain_params {
	int strict;
	enum trustfs_revocation revocation;
	const struct trustfs_verify_opts *opts;	/* NULL: the defaults */
	int leaf_ocsp_good;	/* a stapled OCSP response, checked, says
				 * the leaf is good: revocation=require
				 * needs no CRL for it */
};

/*
 * The parameters of a chain check: strict unless the policy line (when
 * strict_line is 0) or the options say otherwise; the line's revocation,
 * or the stronger of the two when the options set one.  opts may be NULL.
 */
void chain_params_make(struct chain_params *cp,
    const struct trustfs_verify_opts *opts, int strict_line,
    enum trustfs_revocation rev_line);

#endif
