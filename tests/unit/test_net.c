/* src/net without a network: a bundle against its Content-Type, CMS
 * SignedData checks (good, tampered, another signer, certs-only,
 * detached, garbage), and net_fetch()'s own refusals on file:// URLs
 * (size limit, missing file, schemes not allowed, https without roots). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/pkcs7.h>

#include "bundle.h"
#include "cert.h"
#include "cms.h"
#include "fetch.h"
#include "testutil.h"

static X509 *vroot, *signer, *other, *ca1, *ca2;
static EVP_PKEY *vroot_key, *signer_key;

static void
setup(void)
{
	struct gencert_opts r = { .cn = "Vendor Root", .is_ca = 1 };
	struct gencert_opts o = { .cn = "Other Root", .is_ca = 1 };
	struct gencert_opts a = { .cn = "Net CA 1", .is_ca = 1 };
	struct gencert_opts b = { .cn = "Net CA 2", .is_ca = 1 };
	struct gencert_opts s = { .cn = "Bundle Signer" };

	vroot = tu_make_cert(&r, &vroot_key);
	s.issuer = vroot;
	s.issuer_key = vroot_key;
	signer = tu_make_cert(&s, &signer_key);
	other = tu_make_cert(&o, NULL);
	ca1 = tu_make_cert(&a, NULL);
	ca2 = tu_make_cert(&b, NULL);
}

static void
teardown(void)
{
	X509_free(vroot);
	X509_free(signer);
	X509_free(other);
	X509_free(ca1);
	X509_free(ca2);
	EVP_PKEY_free(vroot_key);
	EVP_PKEY_free(signer_key);
}

/* DER of a SignedData over content by signer (flags: CMS_DETACHED...). */
static unsigned char *
sign(const struct buf *content, unsigned flags, int *len)
{
	BIO *in = BIO_new_mem_buf(content->data, (int)content->len);
	CMS_ContentInfo *cms;
	unsigned char *der = NULL;

	cms = CMS_sign(signer, signer_key, NULL, in, CMS_BINARY | flags);
	ck_assert_ptr_nonnull(cms);
	*len = i2d_CMS_ContentInfo(cms, &der);
	ck_assert_int_gt(*len, 0);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return der;
}

static const struct {
	const char *ctype;
	const char *body;	/* "pem", "p7", "cert", "html" */
	int want;
} ctypes[] = {
	{ "application/pkcs7-mime", "p7", 0 },
	{ "application/x-pkcs7-certificates", "p7", 0 },
	{ "application/pkcs7-mime", "pem", -EPROTO },
	{ "application/pkcs7-mime", "html", -EPROTO },
	{ "application/x-pem-file", "pem", 0 },
	{ "text/plain", "pem", 0 },
	{ "application/pem-certificate-chain", "cert", -EPROTO },
	{ "application/pkix-cert", "cert", 0 },
	{ "application/x-x509-ca-cert", "pem", 0 },
	{ "application/pkix-cert", "html", -EPROTO },
	{ "application/octet-stream", "html", 0 },
	{ "", "html", 0 },
	{ "text/html", "pem", -EINVAL },
	{ "application/json", "p7", -EINVAL },
};

START_TEST(test_ctype)
{
	struct buf b = { 0 };
	struct tf_error e = { 0 };
	STACK_OF(X509) *sk = tu_stack(ca1, ca2, NULL);
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL;
	const char *body = ctypes[_i].body;
	int len, rc;

	if (strcmp(body, "pem") == 0)
		tu_pem(&b, ca1);
	else if (strcmp(body, "html") == 0)
		buf_puts(&b, "<html><body>Not here</body></html>\n");
	else if (strcmp(body, "cert") == 0) {
		len = i2d_X509(ca1, &der);
		buf_append(&b, der, (size_t)len);
	} else {
		ck_assert(PKCS7_set_type(p7, NID_pkcs7_signed));
		ck_assert(PKCS7_content_new(p7, NID_pkcs7_data));
		ck_assert(PKCS7_add_certificate(p7, ca1));
		ck_assert(PKCS7_add_certificate(p7, ca2));
		len = i2d_PKCS7(p7, &der);
		buf_append(&b, der, (size_t)len);
	}
	rc = net_bundle_ctype_check(ctypes[_i].ctype, b.data, b.len, &e);
	ck_assert_msg(rc == ctypes[_i].want, "%s with %s: %d (%s)",
	    ctypes[_i].ctype, body, rc, e.msg);
	if (rc != 0)
		ck_assert(e.msg[0] != '\0');
	OPENSSL_free(der);
	PKCS7_free(p7);
	sk_X509_pop_free(sk, X509_free);
	buf_free(&b);
}
END_TEST

START_TEST(test_cms_good)
{
	struct buf content = { 0 }, got = { 0 };
	struct tf_error e = { 0 };
	STACK_OF(X509) *certs = NULL;
	unsigned char *der;
	int len;

	tu_pem(&content, ca1);
	tu_pem(&content, ca2);
	der = sign(&content, 0, &len);
	/* To the root that issued the signer, and to the signer itself. */
	ck_assert_int_eq(net_cms_verify(der, (size_t)len, vroot, &certs, &got,
	    &e), 0);
	ck_assert_uint_eq(got.len, content.len);
	ck_assert(memcmp(got.data, content.data, got.len) == 0);
	/* The signer's certificate is not among those handed back. */
	ck_assert_int_eq(sk_X509_num(certs), 0);
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;
	ck_assert_int_eq(net_cms_verify(der, (size_t)len, signer, NULL, NULL,
	    &e), 0);
	OPENSSL_free(der);
	buf_free(&content);
	buf_free(&got);
}
END_TEST

START_TEST(test_cms_bad)
{
	struct buf content = { 0 }, got = { 0 };
	struct tf_error e = { 0 };
	STACK_OF(X509) *certs = NULL;
	unsigned char *der, *p;
	PKCS7 *p7 = PKCS7_new();
	int len, i;

	tu_pem(&content, ca1);
	der = sign(&content, 0, &len);
	/* Another signer. */
	ck_assert_int_eq(net_cms_verify(der, (size_t)len, other, &certs, &got,
	    &e), -EACCES);
	ck_assert_msg(strstr(e.msg, "unable to get local issuer certificate")
	    != NULL, "%s", e.msg);
	ck_assert_ptr_null(certs);
	ck_assert_uint_eq(got.len, 0);
	/* Content changed after signing. */
	p = memmem(der, (size_t)len, "BEGIN CERTIFICATE-----", 22);
	ck_assert_ptr_nonnull(p);
	p[40] ^= 0x01;
	ck_assert_int_eq(net_cms_verify(der, (size_t)len, vroot, NULL, NULL,
	    &e), -EACCES);
	ck_assert_msg(strstr(e.msg, "does not verify") != NULL, "%s", e.msg);
	OPENSSL_free(der);
	/* Detached: the content is not in it. */
	der = sign(&content, CMS_DETACHED, &len);
	ck_assert_int_eq(net_cms_verify(der, (size_t)len, vroot, NULL, NULL,
	    &e), -EACCES);
	ck_assert_msg(strstr(e.msg, "detached") != NULL, "%s", e.msg);
	OPENSSL_free(der);
	/* Certs-only: no signature at all. */
	der = NULL;
	ck_assert(PKCS7_set_type(p7, NID_pkcs7_signed));
	ck_assert(PKCS7_content_new(p7, NID_pkcs7_data));
	ck_assert(PKCS7_add_certificate(p7, ca1));
	len = i2d_PKCS7(p7, &der);
	ck_assert_int_eq(net_cms_verify(der, (size_t)len, vroot, NULL, NULL,
	    &e), -EACCES);
	ck_assert_msg(strstr(e.msg, "not signed") != NULL, "%s", e.msg);
	/* Truncated at every tenth byte, and garbage: never a success. */
	for (i = 1; i < len; i += 10)
		ck_assert_int_ne(net_cms_verify(der, (size_t)i, vroot, NULL,
		    NULL, &e), 0);
	ck_assert_int_eq(net_cms_verify("garbage", 7, vroot, NULL, NULL, &e),
	    -EINVAL);
	ck_assert_int_eq(net_cms_verify(content.data, content.len, vroot,
	    NULL, NULL, &e), -EINVAL);
	OPENSSL_free(der);
	PKCS7_free(p7);
	buf_free(&content);
	buf_free(&got);
}
END_TEST

START_TEST(test_fetch_file)
{
	char dir[] = "/tmp/test_net.XXXXXX", path[64], url[128];
	struct net_opts o = { 0 };
	struct tf_error e = { 0 };
	struct buf b = { 0 };
	char ct[32];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/b.pem", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("0123456789", f);
	fclose(f);
	snprintf(url, sizeof(url), "file://%s", path);
	ck_assert_int_eq(net_fetch(url, NULL, &b, ct, sizeof(ct), &e), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "0123456789");
	ck_assert_str_eq(ct, "");
	buf_reset(&b);
	o.max_bytes = 9;
	ck_assert_int_eq(net_fetch(url, &o, &b, NULL, 0, &e), -EFBIG);
	ck_assert_msg(strstr(e.msg, "larger than 9 bytes") != NULL, "%s",
	    e.msg);
	o.max_bytes = 0;
	o.schemes = NET_HTTPS;
	ck_assert_int_eq(net_fetch(url, &o, &b, NULL, 0, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "scheme file is not allowed") != NULL,
	    "%s", e.msg);
	o.schemes = 0;
	snprintf(url, sizeof(url), "file://%s/none.pem", dir);
	ck_assert_int_eq(net_fetch(url, &o, &b, NULL, 0, &e), -ENOENT);
	ck_assert_int_eq(net_fetch("gopher://127.0.0.1/x", &o, &b, NULL, 0,
	    &e), -EINVAL);
	ck_assert_int_eq(net_fetch("not a url", &o, &b, NULL, 0, &e),
	    -EINVAL);
	ck_assert_int_eq(net_fetch("https://127.0.0.1:1/x", &o, &b, NULL, 0,
	    &e), -EACCES);
	ck_assert_msg(strstr(e.msg, "no roots") != NULL, "%s", e.msg);
	ck_assert(net_is_url("HTTPS://x/y"));
	ck_assert(net_is_url("file:///x"));
	ck_assert(!net_is_url("/etc/x.pem"));
	ck_assert(!net_is_url("ftp://x/y"));
	unlink(path);
	rmdir(dir);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("net");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_ctype, 0,
	    (int)(sizeof(ctypes) / sizeof(ctypes[0])));
	tcase_add_test(tc, test_cms_good);
	tcase_add_test(tc, test_cms_bad);
	tcase_add_test(tc, test_fetch_file);
	return tu_run("net", tc, 0);
}
