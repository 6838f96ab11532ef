/*
 * The strict rules' name-constraint check on subject CNs (issue 13),
 * apart from strict.c because it is one rule with helpers of its own:
 * it turns the CNs that name a host or an address into a certificate
 * OpenSSL's NAME_CONSTRAINTS_check can read, and holds them to every
 * CA above.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "nc.h"

/*
 * A subject CN as the subjectAltName entry it would be: an IP address
 * (GEN_IPADD), or a host name (GEN_DNS: letters, digits, '-', '.', at
 * least one dot, '*' only as the leftmost label); NULL for any other CN.
 */
static GENERAL_NAME *
cn_as_name(const unsigned char *v, int len)
{
	GENERAL_NAME *gn = NULL;
	ASN1_OCTET_STRING *ip;
	char str[256];
	int i, dots = 0, ok = len > 0 && len < (int)sizeof(str);

	for (i = 0; ok && i < len; i++) {
		if (v[i] == '.')
			dots++;
		ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' &&
		    v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '-' || v[i] == '.' || v[i] == ':' ||
		    (v[i] == '*' && i == 0 && len > 1 && v[1] == '.');
	}
	if (!ok)
		return NULL;
	memcpy(str, v, (size_t)len);
	str[len] = '\0';
	if ((ip = a2i_IPADDRESS(str)) != NULL) {
		gn = GENERAL_NAME_new();
		if (gn != NULL)
			GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		else
			ASN1_OCTET_STRING_free(ip);
		return gn;
	}
	ERR_clear_error();
	if (dots == 0 || memchr(str, ':', (size_t)len) != NULL)
		return NULL;
	gn = GENERAL_NAME_new();
	if (gn == NULL)
		return NULL;
	gn->type = GEN_DNS;
	gn->d.dNSName = ASN1_IA5STRING_new();
	if (gn->d.dNSName == NULL ||
	    !ASN1_STRING_set(gn->d.dNSName, str, len)) {
		GENERAL_NAME_free(gn);
		gn = NULL;
	}
	return gn;
}

/*
 * x's subject CNs that are names, as a certificate holding only them in
 * its subjectAltName (for NAME_CONSTRAINTS_check); *tmp NULL when there
 * are none.  0, or -ENOMEM.
 */
static int
cn_names_cert(X509 *x, X509 **tmp, char *first, size_t firstlen)
{
	X509_NAME *n = X509_get_subject_name(x);
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn;
	ASN1_STRING *d;
	int i = -1, rc = 0;

	*tmp = NULL;
	if (gens == NULL)
		return -ENOMEM;
	while ((i = X509_NAME_get_index_by_NID(n, NID_commonName, i)) >= 0) {
		d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
		gn = cn_as_name(ASN1_STRING_get0_data(d),
		    ASN1_STRING_length(d));
		if (gn == NULL)
			continue;
		if (!sk_GENERAL_NAME_push(gens, gn)) {
			GENERAL_NAME_free(gn);
			rc = -ENOMEM;
			goto out;
		}
		if (sk_GENERAL_NAME_num(gens) == 1)
			snprintf(first, firstlen, "%.*s", ASN1_STRING_length(d),
			    (const char *)ASN1_STRING_get0_data(d));
	}
	if (sk_GENERAL_NAME_num(gens) == 0)
		goto out;
	*tmp = X509_new();
	if (*tmp == NULL || X509_add1_ext_i2d(*tmp, NID_subject_alt_name, gens,
	    0, X509V3_ADD_DEFAULT) != 1) {
		X509_free(*tmp);
		*tmp = NULL;
		rc = -ENOMEM;
	} else
		/* NAME_CONSTRAINTS_check reads the decoded names that this
		 * caches. */
		(void)X509_check_purpose(*tmp, -1, 0);
out:
	sk_GENERAL_NAME_pop_free(gens, GENERAL_NAME_free);
	return rc;
}

/*
 * RFC 5280 6.1.3 (b): the nameConstraints of each CA apply to every name
 * of the certificates below it.  OpenSSL 3.0 checks a subject CN only
 * when the certificate has no DNS subjectAltName, and a CN only as a host
 * name, never as an IP address (measured on 3.0.19: CN=evil.example under
 * "permitted;DNS:.lab.example" with SAN DNS:a.lab.example, and CN=10.1.1.1
 * under "excluded;IP:10.0.0.0/8", are accepted).  A CN that names a host
 * or an address is a name a relying party may read, so each is held to
 * the constraints of every CA above it; a self-issued intermediate is
 * exempt, as RFC 5280 says.  A constraint that does not decode refuses.
 */
int
nc_subject_names(STACK_OF(X509) *path, struct strict_refusal *r)
{
	NAME_CONSTRAINTS *nc;
	X509 *x, *tmp = NULL;
	char cn[256] = "";
	int i, j, crit, err, len = sk_X509_num(path), rc = 0;

	for (i = 0; i < len - 1 && rc == 0; i++) {
		x = sk_X509_value(path, i);
		if (i > 0 && (X509_get_extension_flags(x) & EXFLAG_SI))
			continue;
		X509_free(tmp);
		if (cn_names_cert(x, &tmp, cn, sizeof(cn)) != 0) {
			r->depth = i;
			r->reason = TRUSTFS_BAD_CHAIN;
			snprintf(r->what, sizeof(r->what), "out of memory "
			    "checking name constraints");
			rc = 1;
			break;
		}
		for (j = i + 1; tmp != NULL && j < len && rc == 0; j++) {
			crit = -1;
			nc = X509_get_ext_d2i(sk_X509_value(path, j),
			    NID_name_constraints, &crit, NULL);
			if (nc == NULL) {
				ERR_clear_error();
				if (crit != -1) {
					r->depth = j;
					r->reason = TRUSTFS_BAD_EXTENSION;
					snprintf(r->what, sizeof(r->what),
					    "nameConstraints does not decode");
					rc = 1;
				}
				continue;
			}
			err = NAME_CONSTRAINTS_check(tmp, nc);
			NAME_CONSTRAINTS_free(nc);
			if (err != X509_V_OK) {
				r->depth = i;
				r->reason = TRUSTFS_NAME_CONSTRAINTS;
				snprintf(r->what, sizeof(r->what), "%s: "
				    "subject CN %.100s is outside the name "
				    "constraints of the CA at depth %d (RFC "
				    "5280 6.1.3)",
				    X509_verify_cert_error_string(err), cn, j);
				rc = 1;
			}
		}
	}
	X509_free(tmp);
	ERR_clear_error();
	return rc;
}
