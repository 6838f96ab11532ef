/*
 * The strict rules of the chain modes (issue 13).  OpenSSL 3.0 with
 * X509_V_FLAG_X509_STRICT and security level 2 refuses some of what RFC
 * 5280 and the CA/Browser Forum baseline forbid; these rules refuse the
 * rest, the way Go's crypto/x509, rustls-webpki and BoringSSL do.  One
 * function per rule, each naming what it found; whatever a rule cannot
 * read is a refusal, never a pass.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "entry.h"
#include "nc.h"
#include "strict.h"

/* One certificate under the rules. */
struct rule_in {
	X509 *x;
	int depth;		/* 0: the leaf */
	int len;		/* certificates in the path */
	enum trustfs_purpose purpose;
};

typedef int (*rule_fn)(const struct rule_in *in, struct strict_refusal *r);

static int
refuse(struct strict_refusal *r, enum trustfs_reason reason,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
refuse(struct strict_refusal *r, enum trustfs_reason reason,
    const char *fmt, ...)
{
	va_list ap;

	r->reason = reason;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	return 1;
}

/* A CA here is any certificate above the leaf; a path of one is its own
 * anchor (a self-signed server certificate in roots/), neither leaf nor
 * CA for the rules that tell the two apart. */
static int
is_ca_pos(const struct rule_in *in)
{
	return in->depth > 0;
}

static int
is_leaf_pos(const struct rule_in *in)
{
	return in->depth == 0 && in->len > 1;
}

static int
self_signed(X509 *x)
{
	return (X509_get_extension_flags(x) & EXFLAG_SS) != 0;
}

/* RFC 5280 4.1.2.1: extensions, and so a CA's basicConstraints, need v3;
 * a v1 certificate cannot say it is a CA, so OpenSSL guesses. */
static int
rule_v1_ca(const struct rule_in *in, struct strict_refusal *r)
{
	long v = X509_get_version(in->x);

	if (is_ca_pos(in) && v != X509_VERSION_3)
		return refuse(r, TRUSTFS_V1_CA, "version %ld certificate used "
		    "as a CA (RFC 5280 4.1.2.1 needs version 3)", v + 1);
	return 0;
}

/* RFC 5280 4.1.2.2: a positive integer of at most 20 octets. */
static int
rule_serial(const struct rule_in *in, struct strict_refusal *r)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(in->x);
	BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	int octets, rc = 0;

	if (bn == NULL)
		return refuse(r, TRUSTFS_BAD_SERIAL, "serial number cannot "
		    "be read");
	/* DER content octets: a leading zero when the top bit is set. */
	octets = BN_num_bytes(bn) + (BN_num_bits(bn) % 8 == 0);
	if (BN_is_zero(bn))
		rc = refuse(r, TRUSTFS_BAD_SERIAL, "serial number is zero "
		    "(RFC 5280 4.1.2.2)");
	else if (BN_is_negative(bn))
		rc = refuse(r, TRUSTFS_BAD_SERIAL, "serial number is negative "
		    "(RFC 5280 4.1.2.2)");
	else if (octets > 20)
		rc = refuse(r, TRUSTFS_BAD_SERIAL, "serial number is %d octets "
		    "long, more than 20 (RFC 5280 4.1.2.2)", octets);
	BN_free(bn);
	return rc;
}

/* RSA: 2048 bits at least (CA/B BR 6.1.5), an odd modulus, an odd
 * exponent of at least 3 and at most 256 bits (NIST SP 800-89 5.3.3). */
static int
rsa_key(EVP_PKEY *pk, struct strict_refusal *r)
{
	BIGNUM *n = NULL, *e = NULL;
	int rc = 0;

	if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e))
		rc = refuse(r, TRUSTFS_WEAK_KEY, "RSA key cannot be read");
	else if (BN_is_negative(n) || !BN_is_odd(n))
		rc = refuse(r, TRUSTFS_WEAK_KEY, "RSA modulus is malformed "
		    "(even or negative)");
	else if (BN_num_bits(n) < 2048)
		rc = refuse(r, TRUSTFS_WEAK_KEY, "RSA key too small: %d bits "
		    "(2048 at least)", BN_num_bits(n));
	else if (BN_is_negative(e) || !BN_is_odd(e) || BN_num_bits(e) < 2 ||
	    BN_is_word(e, 1))
		rc = refuse(r, TRUSTFS_WEAK_KEY, "RSA public exponent is "
		    "malformed (even, or less than 3)");
	else if (BN_num_bits(e) > 256 || BN_cmp(e, n) >= 0)
		rc = refuse(r, TRUSTFS_WEAK_KEY, "RSA public exponent is "
		    "malformed (over 256 bits)");
	BN_free(n);
	BN_free(e);
	ERR_clear_error();
	return rc;
}

static int
rule_key(const struct rule_in *in, struct strict_refusal *r)
{
	EVP_PKEY *pk = X509_get0_pubkey(in->x);
	char group[64];
	size_t glen;

	if (pk == NULL) {
		ERR_clear_error();
		return refuse(r, TRUSTFS_WEAK_KEY, "public key cannot be "
		    "read");
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return rsa_key(pk, r);
	case EVP_PKEY_EC:
		/* A named curve only: explicit parameters hide what the
		 * curve is (RFC 5480 2.1.1). */
		if (!EVP_PKEY_get_group_name(pk, group, sizeof(group),
		    &glen)) {
			ERR_clear_error();
			return refuse(r, TRUSTFS_WEAK_KEY, "EC key without a "
			    "named curve");
		}
		if (EVP_PKEY_get_bits(pk) < 224)
			return refuse(r, TRUSTFS_WEAK_KEY, "EC key too small: "
			    "%s, %d bits (224 at least)", group,
			    EVP_PKEY_get_bits(pk));
		return 0;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return 0;
	case EVP_PKEY_DSA:
		return refuse(r, TRUSTFS_WEAK_KEY, "DSA key (no longer allowed: "
		    "CA/B BR 6.1.5)");
	default:
		return refuse(r, TRUSTFS_WEAK_KEY, "unknown public key "
		    "algorithm %s", OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
	}
}

/* RFC 5280 4.2.1.9: a CA says so in a critical basicConstraints; an
 * end-entity certificate must not. */
static int
rule_basic_constraints(const struct rule_in *in, struct strict_refusal *r)
{
	BASIC_CONSTRAINTS *bc;
	int crit = -1, ca, rc = 0;

	bc = X509_get_ext_d2i(in->x, NID_basic_constraints, &crit, NULL);
	if (bc == NULL && crit != -1)
		return refuse(r, TRUSTFS_BAD_EXTENSION, "basicConstraints "
		    "does not decode");
	ca = bc != NULL && bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	if (is_ca_pos(in) && crit == -1)
		rc = refuse(r, TRUSTFS_BAD_EXTENSION, "CA certificate without "
		    "basicConstraints (RFC 5280 4.2.1.9)");
	else if (is_ca_pos(in) && !crit)
		rc = refuse(r, TRUSTFS_BAD_EXTENSION, "CA certificate whose "
		    "basicConstraints is not critical (RFC 5280 4.2.1.9)");
	else if (is_ca_pos(in) && !ca)
		rc = refuse(r, TRUSTFS_BAD_EXTENSION, "issuer certificate with "
		    "basicConstraints CA:FALSE");
	else if (is_leaf_pos(in) && ca)
		rc = refuse(r, TRUSTFS_CA_LEAF, "end-entity certificate with "
		    "basicConstraints CA:TRUE (CA/B BR 7.1.2.7.8)");
	return rc;
}

/* RFC 5280 4.2.1.3: keyCertSign only in CA certificates, and a CA whose
 * keyUsage is present must have it. */
static int
rule_key_usage(const struct rule_in *in, struct strict_refusal *r)
{
	uint32_t ku = X509_get_key_usage(in->x);
	int has = (X509_get_extension_flags(in->x) & EXFLAG_KUSAGE) != 0;

	if (is_leaf_pos(in) && has && (ku & KU_KEY_CERT_SIGN))
		return refuse(r, TRUSTFS_BAD_KEY_USAGE, "end-entity certificate "
		    "with keyUsage keyCertSign (RFC 5280 4.2.1.3)");
	if (is_ca_pos(in) && has && !(ku & KU_KEY_CERT_SIGN))
		return refuse(r, TRUSTFS_BAD_KEY_USAGE, "CA certificate whose "
		    "keyUsage lacks keyCertSign (RFC 5280 4.2.1.3)");
	return 0;
}

/* RFC 5280 4.2.1.2: every CA certificate has a subject key identifier. */
static int
rule_ski(const struct rule_in *in, struct strict_refusal *r)
{
	if (is_ca_pos(in) && X509_get0_subject_key_id(in->x) == NULL)
		return refuse(r, TRUSTFS_BAD_EXTENSION, "CA certificate without "
		    "subjectKeyIdentifier (RFC 5280 4.2.1.2)");
	return 0;
}

/* RFC 5280 4.2.1.1: every certificate but a self-signed one names its
 * issuer's key; and no extension may fail to decode. */
static int
rule_aki(const struct rule_in *in, struct strict_refusal *r)
{
	if (X509_get_extension_flags(in->x) & EXFLAG_INVALID)
		return refuse(r, TRUSTFS_BAD_EXTENSION, "an extension does not "
		    "decode or appears twice");
	if (!self_signed(in->x) && X509_get0_authority_key_id(in->x) == NULL)
		return refuse(r, TRUSTFS_BAD_EXTENSION, "certificate without "
		    "authorityKeyIdentifier keyIdentifier (RFC 5280 4.2.1.1)");
	return 0;
}

/* The leaf must be meant for the purpose (CA/B BR 7.1.2.7.10: serverAuth
 * present); a CA whose EKU is present must allow it (as Go and
 * rustls-webpki nest EKUs). */
static int
rule_eku(const struct rule_in *in, struct strict_refusal *r)
{
	uint32_t need, xku = X509_get_extended_key_usage(in->x);
	int has = (X509_get_extension_flags(in->x) & EXFLAG_XKUSAGE) != 0;
	const char *name;

	if (in->purpose == TRUSTFS_PURPOSE_ANY)
		return 0;
	need = in->purpose == TRUSTFS_PURPOSE_SSL_CLIENT ? XKU_SSL_CLIENT :
	    XKU_SSL_SERVER;
	name = need == XKU_SSL_CLIENT ? "clientAuth" : "serverAuth";
	if (in->depth == 0 && (!has || !(xku & need)))
		return has ? refuse(r, TRUSTFS_BAD_EKU, "certificate "
		    "extendedKeyUsage does not allow %s", name) :
		    refuse(r, TRUSTFS_BAD_EKU, "certificate has no "
		    "extendedKeyUsage %s (CA/B BR 7.1.2.7.10)", name);
	if (is_ca_pos(in) && has && !(xku & (need | XKU_ANYEKU)))
		return refuse(r, TRUSTFS_BAD_EKU, "CA certificate whose "
		    "extendedKeyUsage does not allow %s", name);
	return 0;
}

/* RFC 5280 4.2.1.10, 4.2.1.11, 4.2.1.14: these must be critical, and
 * name constraints belong in CA certificates only. */
static int
rule_constraints(const struct rule_in *in, struct strict_refusal *r)
{
	static const struct {
		int nid;
		const char *name, *section;
	} must[] = {
		{ NID_name_constraints, "nameConstraints", "4.2.1.10" },
		{ NID_policy_constraints, "policyConstraints", "4.2.1.11" },
		{ NID_inhibit_any_policy, "inhibitAnyPolicy", "4.2.1.14" },
	};
	X509_EXTENSION *ext;
	size_t i;
	int idx;

	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		idx = X509_get_ext_by_NID(in->x, must[i].nid, -1);
		if (idx < 0)
			continue;
		ext = X509_get_ext(in->x, idx);
		if (ext == NULL || !X509_EXTENSION_get_critical(ext))
			return refuse(r, TRUSTFS_BAD_EXTENSION, "%s is not "
			    "critical (RFC 5280 %s)", must[i].name,
			    must[i].section);
		if (must[i].nid == NID_name_constraints && in->depth == 0 &&
		    in->len > 1)
			return refuse(r, TRUSTFS_BAD_EXTENSION, "nameConstraints "
			    "in an end-entity certificate (RFC 5280 4.2.1.10)");
	}
	return 0;
}

/* RFC 5280 4.2.2.1: non-critical, at least one access description, and
 * for OCSP and caIssuers a URI with a scheme. */
static int
rule_aia(const struct rule_in *in, struct strict_refusal *r)
{
	AUTHORITY_INFO_ACCESS *aia;
	ACCESS_DESCRIPTION *ad;
	X509_EXTENSION *ext;
	const char *uri;
	int idx, crit = -1, i, nid, rc = 0;

	idx = X509_get_ext_by_NID(in->x, NID_info_access, -1);
	if (idx < 0)
		return 0;
	ext = X509_get_ext(in->x, idx);
	if (ext != NULL && X509_EXTENSION_get_critical(ext))
		return refuse(r, TRUSTFS_BAD_EXTENSION, "authorityInfoAccess is "
		    "critical (RFC 5280 4.2.2.1)");
	aia = X509_get_ext_d2i(in->x, NID_info_access, &crit, NULL);
	if (aia == NULL || sk_ACCESS_DESCRIPTION_num(aia) < 1) {
		AUTHORITY_INFO_ACCESS_free(aia);
		ERR_clear_error();
		return refuse(r, TRUSTFS_BAD_EXTENSION, "authorityInfoAccess is "
		    "malformed (RFC 5280 4.2.2.1)");
	}
	for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia) && rc == 0; i++) {
		ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		nid = OBJ_obj2nid(ad->method);
		if (nid != NID_ad_OCSP && nid != NID_ad_ca_issuers)
			continue;
		uri = ad->location->type == GEN_URI ? (const char *)
		    ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier)
		    : NULL;
		if (uri == NULL || strchr(uri, ':') == NULL || (size_t)
		    ASN1_STRING_length(ad->location->d.uniformResourceIdentifier)
		    != strlen(uri))
			rc = refuse(r, TRUSTFS_BAD_EXTENSION, "authorityInfoAccess "
			    "%s is not a URI (RFC 5280 4.2.2.1)",
			    nid == NID_ad_OCSP ? "OCSP" : "caIssuers");
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

/* 1 if a DNS name's wildcard is the whole leftmost label of a name of at
 * least three labels ("*.example.com"), or it has none (RFC 6125 6.4.3,
 * CA/B BR 7.1.2.7.12). */
static int
wildcard_ok(const char *s, size_t len)
{
	const char *star = memchr(s, '*', len);

	if (star == NULL)
		return 1;
	if (star != s || len < 3 || s[1] != '.')
		return 0;
	if (memchr(s + 1, '*', len - 1) != NULL)
		return 0;
	/* At least two labels after "*." */
	return memchr(s + 2, '.', len - 2) != NULL && s[len - 1] != '.';
}

static int
rule_wildcard(const struct rule_in *in, struct strict_refusal *r)
{
	GENERAL_NAMES *san;
	GENERAL_NAME *gn;
	const char *s;
	int crit = -1, i, len, rc = 0;

	if (in->depth != 0)
		return 0;
	san = X509_get_ext_d2i(in->x, NID_subject_alt_name, &crit, NULL);
	if (san == NULL) {
		ERR_clear_error();
		return crit == -1 ? 0 : refuse(r, TRUSTFS_BAD_EXTENSION,
		    "subjectAltName does not decode");
	}
	for (i = 0; i < sk_GENERAL_NAME_num(san) && rc == 0; i++) {
		gn = sk_GENERAL_NAME_value(san, i);
		if (gn->type != GEN_DNS)
			continue;
		s = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
		len = ASN1_STRING_length(gn->d.dNSName);
		if (!wildcard_ok(s, (size_t)len))
			rc = refuse(r, TRUSTFS_BAD_WILDCARD, "wildcard not the "
			    "whole leftmost label: %.*s (RFC 6125 6.4.3)",
			    len > 100 ? 100 : len, s);
	}
	GENERAL_NAMES_free(san);
	return rc;
}

/*
 * RFC 5280 4.2.1.6: subjectAltName is critical when the subject is empty
 * and SHOULD NOT be otherwise; the CA/Browser Forum baseline (7.1.2.7.12)
 * forbids a critical one with a subject.  OpenSSL's X509_V_FLAG_X509_STRICT
 * refuses only the first case.  For the leaf, whose names these are.
 */
static int
rule_san_critical(const struct rule_in *in, struct strict_refusal *r)
{
	int i;

	if (in->depth != 0)
		return 0;
	i = X509_get_ext_by_NID(in->x, NID_subject_alt_name, -1);
	if (i < 0 || !X509_EXTENSION_get_critical(X509_get_ext(in->x, i)) ||
	    X509_NAME_entry_count(X509_get_subject_name(in->x)) == 0)
		return 0;
	return refuse(r, TRUSTFS_BAD_EXTENSION, "subjectAltName is critical "
	    "and the subject is not empty (RFC 5280 4.2.1.6, CA/B Forum BR "
	    "7.1.2.7.12)");
}

/* In this order: what the certificate is, then its key, then its
 * extensions; the first refusal is the one reported. */
static const rule_fn rules[] = {
	rule_v1_ca, rule_serial, rule_key, rule_basic_constraints,
	rule_key_usage, rule_ski, rule_aki, rule_eku, rule_constraints,
	rule_aia, rule_san_critical, rule_wildcard,
};

int
strict_cert(X509 *x, int depth, int len, enum trustfs_purpose purpose,
    struct strict_refusal *r)
{
	struct rule_in in = { x, depth, len, purpose };
	size_t i;

	memset(r, 0, sizeof(*r));
	r->depth = depth;
	if (x == NULL)
		return refuse(r, TRUSTFS_BAD_CHAIN, "no certificate at depth "
		    "%d to check", depth);
	/* Fills in the extension flags; a failure leaves EXFLAG_INVALID. */
	(void)X509_check_purpose(x, -1, 0);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i](&in, r) != 0) {
			r->depth = depth;
			return 1;
		}
	return 0;
}

enum trustfs_reason
strict_reason_of(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return TRUSTFS_UNKNOWN_ISSUER;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return TRUSTFS_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TRUSTFS_NOT_YET_VALID;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return TRUSTFS_NAME_MISMATCH;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
		return TRUSTFS_WEAK_KEY;
	case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
	case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
	case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
	case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
	case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
	case X509_V_ERR_INVALID_EXTENSION:
	case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
	case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
	case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
	case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
	case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
	case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
		return TRUSTFS_BAD_EXTENSION;
	case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
	case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
		return TRUSTFS_BAD_KEY_USAGE;
	case X509_V_ERR_INVALID_PURPOSE:
		return TRUSTFS_BAD_EKU;
	case X509_V_ERR_PERMITTED_VIOLATION:
	case X509_V_ERR_EXCLUDED_VIOLATION:
	case X509_V_ERR_SUBTREE_MINMAX:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
	case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
		return TRUSTFS_NAME_CONSTRAINTS;
	case X509_V_ERR_CERT_REVOKED:
		return TRUSTFS_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return TRUSTFS_NO_CRL;
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
		return TRUSTFS_BAD_CRL;
	default:
		return TRUSTFS_BAD_CHAIN;
	}
}

/* RFC 5280 5.2.3: a conforming CRL carries its number.  The CRLs issued
 * by x's issuer that lack one refuse x's path. */
static int
crl_numbers(const struct strict_state *s, X509 *x, struct strict_refusal *r)
{
	ASN1_INTEGER *num;
	X509_CRL *crl;
	int i, crit;

	for (i = 0; i < sk_X509_CRL_num(s->crls); i++) {
		crl = sk_X509_CRL_value(s->crls, i);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		    X509_get_issuer_name(x)) != 0)
			continue;
		crit = -1;
		num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
		ASN1_INTEGER_free(num);
		if (num == NULL) {
			ERR_clear_error();
			return refuse(r, TRUSTFS_BAD_CRL, "CRL of its issuer has "
			    "no CRL number (RFC 5280 5.2.3)");
		}
	}
	return 0;
}

/* The path OpenSSL is verifying: its length, or 0. */
static int
path_len(X509_STORE_CTX *ctx)
{
	STACK_OF(X509) *sk = X509_STORE_CTX_get0_chain(ctx);

	return sk != NULL ? sk_X509_num(sk) : 0;
}

/* A leaf that fails the name check for a reason of its own: the name of
 * the wildcard rule, or the subjectAltName that is missing. */
static void
name_refusal(struct strict_state *s, X509 *leaf, int len)
{
	struct strict_refusal r;

	if (leaf == NULL)
		return;
	if (strict_cert(leaf, 0, len, TRUSTFS_PURPOSE_ANY, &r) != 0 &&
	    r.reason == TRUSTFS_BAD_WILDCARD)
		s->r = r;
	else if (X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1) < 0) {
		s->r.reason = TRUSTFS_NAME_MISMATCH;
		s->r.depth = 0;
		snprintf(s->r.what, sizeof(s->r.what), "it has no "
		    "subjectAltName, and its subject CN is not used for names "
		    "(RFC 6125 6.4.4)");
	}
	ERR_clear_error();
}

int
strict_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct strict_state *s = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);
	int len = path_len(ctx);
	struct strict_refusal r;

	if (s == NULL)
		return 0;	/* no state, no verdict: never fails open */
	if (!ok) {
		/* prefer: no current CRL is no refusal; require: it is. */
		if ((s->revocation == TRUSTFS_REVOCATION_PREFER ||
		    (depth == 0 && s->leaf_ocsp_good) ||
		    (len > 0 && depth == len - 1 && x != NULL &&
		    (X509_get_extension_flags(x) & EXFLAG_SS))) &&
		    (err == X509_V_ERR_UNABLE_TO_GET_CRL ||
		    err == X509_V_ERR_CRL_HAS_EXPIRED ||
		    err == X509_V_ERR_CRL_NOT_YET_VALID))
			/* require: a good stapled OCSP response stands for
			 * the leaf's CRL, and a self-signed anchor is trusted
			 * as itself (nobody above it could revoke it: it
			 * leaves by rm or distrusted/). */
			return 1;
		if (s->strict && err == X509_V_ERR_HOSTNAME_MISMATCH &&
		    len > 0)
			name_refusal(s, sk_X509_value(
			    X509_STORE_CTX_get0_chain(ctx), 0), len);
		else if (s->strict && strict_reason_of(err) ==
		    TRUSTFS_BAD_CHAIN && x != NULL && depth >= 0 &&
		    depth < len && strict_cert(x, depth, len, s->purpose,
		    &r) != 0)
			/* OpenSSL's refusal has no reason of its own ("invalid
			 * CA certificate" for a v1 CA or a root without
			 * basicConstraints): the rule that explains it. */
			s->r = r;
		if (s->r.reason != TRUSTFS_REASON_NONE)
			s->r.depth = depth;
		return 0;
	}
	if (!s->strict)
		return 1;
	if (depth < 0 || depth >= STRICT_MAX_CHAIN || depth >= len ||
	    strict_cert(x, depth, len, s->purpose, &s->r) != 0 ||
	    (depth < len - 1 && crl_numbers(s, x, &s->r) != 0)) {
		if (s->r.reason == TRUSTFS_REASON_NONE)
			refuse(&s->r, TRUSTFS_BAD_CHAIN, "path too long for the "
			    "strict rules (depth %d)", depth);
		s->r.depth = depth;
		X509_STORE_CTX_set_error(ctx,
		    X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	s->seen[depth] = 1;
	return 1;
}

int
strict_finish(struct strict_state *s, STACK_OF(X509) *path)
{
	int i, len = sk_X509_num(path);

	if (!s->strict)
		return 0;
	if (len < 1 || len > STRICT_MAX_CHAIN)
		return refuse(&s->r, TRUSTFS_BAD_CHAIN, "a path of %d "
		    "certificates cannot be checked", len);
	for (i = 0; i < len; i++) {
		if (s->seen[i])
			continue;
		if (strict_cert(sk_X509_value(path, i), i, len, s->purpose,
		    &s->r) != 0 || (i < len - 1 && crl_numbers(s,
		    sk_X509_value(path, i), &s->r) != 0)) {
			s->r.depth = i;
			return 1;
		}
	}
	return nc_subject_names(path, &s->r);
}

/* --- roots/ under the rules (status) -------------------------------- */

struct roots_walk {
	struct buf *out;
	int n;
	int rc;
};

static int
roots_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct roots_walk *w = arg;
	struct strict_refusal r;
	STACK_OF(X509) *sk = NULL;
	int i, rc;

	rc = entry_certs(rec, &sk);
	if (rc != 0) {
		/* A root that cannot be read cannot pass. */
		w->n++;
		w->rc = buf_printf(w->out, "roots/%s: bad-chain: the "
		    "certificate cannot be decoded\n", name);
		return w->rc;
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		/* As the anchor of a path: the CA rules, no EKU. */
		if (strict_cert(sk_X509_value(sk, i), 1, 2,
		    TRUSTFS_PURPOSE_ANY, &r) == 0)
			continue;
		w->n++;
		w->rc = buf_printf(w->out, "roots/%s: %s: %s\n", name,
		    trustfs_reason_name(r.reason), r.what);
		break;
	}
	sk_X509_pop_free(sk, X509_free);
	return w->rc;
}

int
strict_roots_failures(struct store_txn *txn, struct buf *out)
{
	struct roots_walk w = { .out = out };
	int rc;

	rc = store_foreach(txn, STORE_ROOTS, roots_cb, &w);
	if (rc == 0)
		rc = w.rc;
	return rc < 0 ? rc : w.n;
}
