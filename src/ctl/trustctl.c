/*
 * trustctl: what file tools cannot do with a trustfs store -- a real TLS
 * handshake judged by the policy, offline chain checks, listings for
 * scripts, imports (import.c) and the store's administration (admin.c,
 * list.c).
 * Exit status: 0 trusted (or done), 1 not trusted, 2 usage or I/O error;
 * with --json, a check that could not run is still one JSON object
 * (reason "error") and exit status 2.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "admin.h"
#include "cert.h"
#include "ctl.h"
#include "json.h"
#include "netcmd.h"
#include "pin.h"
#include "store.h"
#include "trustfs.h"
#include "update.h"

/* The verdict for people: one "key: value" line per field. */
static void
print_verdict(const char *what, const struct trustfs_verdict *v)
{
	char hex[100];

	cert_hex(v->sha256, 32, ':', hex);
	printf("%s: %s\n", v->trusted ? "trusted" : "NOT TRUSTED", what);
	printf("reason: %s\n", trustfs_reason_name(v->reason));
	printf("mode: %s\n", trustfs_mode_name(v->mode));
	printf("subject: %s\n", v->subject);
	printf("sha256: %s\n", hex);
	if (v->entry[0])
		printf("entry: %s\n", v->entry);
	printf("message: %s\n", v->message);
}

/*
 * Ends a connect or verify: the verdict (v) or the failure (v NULL, e)
 * for people, or as one JSON object with the command's own fields added
 * (extra, which this consumes; may be NULL).  A failure goes to standard
 * error in both cases, so that a person running a script sees it.
 * Returns the exit status.
 */
static int
finish_verdict(int json, const char *what, const struct trustfs_verdict *v,
    const struct tf_error *e, struct json_object *extra)
{
	struct json_object *o = NULL;
	int rc = v == NULL ? EXIT_ERROR : v->trusted ? EXIT_TRUSTED :
	    EXIT_REFUSED;

	if (v == NULL)
		fprintf(stderr, "trustctl: %s\n", tf_error_msg(e));
	if (!json) {
		if (v != NULL)
			print_verdict(what, v);
		goto out;
	}
	o = ctl_json_verdict(v, tf_error_msg(e));
	if (o != NULL && extra != NULL) {
		json_object_object_foreach(extra, key, val) {
			if (json_object_object_add(o, key,
			    json_object_get(val)) != 0) {
				json_object_put(val);
				json_object_put(o);
				o = NULL;
				break;
			}
		}
	}
	if (o == NULL || ctl_json_print(stdout, o) != 0) {
		fprintf(stderr, "trustctl: cannot write the verdict as JSON\n");
		rc = EXIT_ERROR;
	}
out:
	if (fflush(stdout) != 0) {
		fprintf(stderr, "trustctl: writing the verdict: %s\n",
		    strerror(errno));
		rc = EXIT_ERROR;
	}
	json_object_put(o);
	json_object_put(extra);
	return rc;
}

/* Opens the store for connect and verify; NULL with e set on failure. */
static struct trustfs *
open_store(const char *store, struct tf_error *e)
{
	struct trustfs *t = trustfs_open(store);

	if (t == NULL) {
		tf_error_setx(e, -ENOMEM, "out of memory");
	} else if (trustfs_error(t) != NULL) {
		tf_error_setx(e, -EIO, "%s", trustfs_error(t));
		trustfs_free(t);
		t = NULL;
	}
	return t;
}

static int
parse_mode(const char *s, int *mode)
{
	static const char *const names[] = { "tofu", "chain",
	    "chain-or-tofu", "pinned" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*mode = i;
			return 0;
		}
	fprintf(stderr, "trustctl: unknown mode '%s' (tofu, chain, "
	    "chain-or-tofu, pinned)\n", s);
	return -1;
}

/* HOST:PORT, [IPv6]:PORT.  host gets the host without brackets. */
static int
split_hostport(const char *in, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon;

	if (in[0] == '[') {
		const char *end = strchr(in, ']');

		if (end == NULL || end[1] != ':' || (size_t)(end - in) > hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(end - in - 1), in + 1);
		snprintf(port, portlen, "%s", end + 2);
	} else {
		colon = strrchr(in, ':');
		if (colon == NULL || strchr(in, ':') != colon ||
		    (size_t)(colon - in) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(colon - in), in);
		snprintf(port, portlen, "%s", colon + 1);
	}
	return host[0] && port[0] ? 0 : -1;
}

static int
tcp_connect(const char *host, const char *port, struct tf_error *e)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	int fd = -1, rc, err = 0;

	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		tf_error_setx(e, -EHOSTUNREACH, "%s: %s", host,
		    gai_strerror(rc));
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		tf_error_setx(e, -err, "connect to %s port %s: %s", host, port,
		    strerror(err));
out:
	if (res != NULL)
		freeaddrinfo(res);
	return fd;
}

static int
is_ip_literal(const char *h)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* The failure of the last TLS call, in OpenSSL's words. */
static int
tls_failed(struct tf_error *e, const char *host, const char *port)
{
	const char *why = ERR_reason_error_string(ERR_peek_last_error());

	return tf_error_setx(e, -EPROTO, "TLS handshake with %s:%s failed: %s",
	    host, port, why ? why : "connection closed");
}

static int
cmd_connect(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "servername", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "save-chain", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct trustfs_verdict v, *vp = NULL;
	struct trustfs *t = NULL;
	struct json_object *extra = NULL;
	struct tf_error e = { 0 };
	const char *servername = NULL, *proto = NULL, *save_chain = NULL;
	struct buf saved = { 0 };
	char host[256] = "", port[16] = "", what[300] = "";
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	unsigned long p = 0;
	int c, fd = -1, mode = -1, json = 0;
	char *end;

	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "n:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			servername = optarg;
			break;
		case 'C':
			save_chain = optarg;
			break;
		case 'm':
			if (parse_mode(optarg, &mode) != 0)
				return EXIT_ERROR;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			ctl_usage(stdout, "connect");
			return EXIT_TRUSTED;
		default:
			ctl_usage(stderr, "connect");
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1 || split_hostport(argv[optind], host,
	    sizeof(host), port, sizeof(port)) != 0) {
		tf_error_setx(&e, -EINVAL, "connect takes HOST:PORT "
		    "([IPv6]:PORT)");
		goto out;
	}
	if (servername != NULL && servername[0] == '\0') {
		tf_error_setx(&e, -EINVAL, "--servername is empty: give the "
		    "name to check, or leave --servername out");
		goto out;
	}
	p = strtoul(port, &end, 10);
	if (*end || p == 0 || p > 65535) {
		tf_error_setx(&e, -EINVAL, "bad port '%s'", port);
		p = 0;
		goto out;
	}
	if (servername == NULL && !is_ip_literal(host))
		servername = host;
	t = open_store(store, &e);
	if (t == NULL)
		goto out;

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		tls_failed(&e, host, port);
		goto out;
	}
	/* The policy decides after the handshake, not OpenSSL during it. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	fd = tcp_connect(host, port, &e);
	if (fd < 0)
		goto out;
	ssl = SSL_new(ctx);
	/* Ask for a stapled OCSP response: trustfs_ssl_check checks it. */
	if (ssl == NULL || !SSL_set_fd(ssl, fd) ||
	    SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp) != 1 ||
	    (servername && !SSL_set_tlsext_host_name(ssl, servername)) ||
	    SSL_connect(ssl) != 1) {
		tls_failed(&e, host, port);
		goto out;
	}
	proto = SSL_get_version(ssl);
	snprintf(what, sizeof(what), "%s port %lu (%s)",
	    servername ? servername : host, p, proto);
	if (mode < 0)
		c = trustfs_ssl_check(t, ssl, servername ? servername : host,
		    (unsigned)p, &v);
	else
		c = trustfs_check_mode(t, (enum trustfs_mode)mode,
		    servername ? servername : host, (unsigned)p,
		    SSL_get_peer_cert_chain(ssl), &v);
	if (c != 0)
		tf_error_setx(&e, -EIO, "%s", trustfs_error(t));
	else
		vp = &v;
	/* Issue 12: the intermediates the peer presented, into chains/. */
	if (vp != NULL && save_chain != NULL && ctl_save_chain(t,
	    save_chain, what, SSL_get_peer_cert_chain(ssl), &saved, &e) != 0)
		vp = NULL;
	if (saved.len > 0)
		fwrite(saved.data, 1, saved.len, json ? stderr : stdout);
	buf_free(&saved);
out:
	if (json && (extra = json_object_new_object()) != NULL &&
	    (ctl_json_str(extra, "host", host[0] ? host : NULL) != 0 ||
	    (p ? ctl_json_int(extra, "port", (int64_t)p) :
	    ctl_json_str(extra, "port", NULL)) != 0 ||
	    ctl_json_str(extra, "servername", servername) != 0 ||
	    ctl_json_str(extra, "tls_version", proto) != 0)) {
		json_object_put(extra);
		extra = NULL;
	}
	c = finish_verdict(json, what, vp, &e, extra);
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	trustfs_free(t);
	return c;
}

/* trustctl pin (pin.c, issue 14): connect's handshake, no verdict. */
int
ctl_peer_chain(const char *hostport, const char *servername,
    STACK_OF(X509) **chain, char *name, size_t namelen, unsigned *port,
    struct tf_error *e)
{
	char host[256] = "", portstr[16] = "", *end;
	STACK_OF(X509) *peer;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	unsigned long p;
	int fd = -1, rc = -1, i;

	*chain = NULL;
	if (split_hostport(hostport, host, sizeof(host), portstr,
	    sizeof(portstr)) != 0) {
		tf_error_setx(e, -EINVAL, "'%s' is not HOST:PORT ([IPv6]:PORT)",
		    hostport);
		return -1;
	}
	p = strtoul(portstr, &end, 10);
	if (*end || p == 0 || p > 65535) {
		tf_error_setx(e, -EINVAL, "bad port '%s'", portstr);
		return -1;
	}
	if (servername != NULL && servername[0] == '\0') {
		tf_error_setx(e, -EINVAL, "--servername is empty: give the "
		    "name to send, or leave --servername out");
		return -1;
	}
	if (servername == NULL && !is_ip_literal(host))
		servername = host;
	snprintf(name, namelen, "%s", servername ? servername : host);
	*port = (unsigned)p;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		tls_failed(e, host, portstr);
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	fd = tcp_connect(host, portstr, e);
	if (fd < 0)
		goto out;
	ssl = SSL_new(ctx);
	if (ssl == NULL || !SSL_set_fd(ssl, fd) ||
	    (servername && !SSL_set_tlsext_host_name(ssl, servername)) ||
	    SSL_connect(ssl) != 1) {
		tls_failed(e, host, portstr);
		goto out;
	}
	peer = SSL_get_peer_cert_chain(ssl);
	if (peer == NULL || sk_X509_num(peer) < 1) {
		tf_error_setx(e, -EPROTO, "%s:%s presented no certificate",
		    host, portstr);
		goto out;
	}
	*chain = sk_X509_new_null();
	for (i = 0; *chain != NULL && i < sk_X509_num(peer); i++) {
		if (!sk_X509_push(*chain, sk_X509_value(peer, i)))
			break;
		X509_up_ref(sk_X509_value(peer, i));
	}
	if (*chain == NULL || i < sk_X509_num(peer)) {
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
		tf_error_setx(e, -ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return rc;
}

static int
read_file(const char *path, char **data, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 65536, n;
	char *b;

	if (f == NULL)
		return -1;
	b = malloc(cap);
	*len = 0;
	while (b != NULL && (n = fread(b + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap) {
			char *nb = cap >= CERT_INPUT_MAX_BUNDLE ? NULL :
			    realloc(b, cap * 2);

			if (nb == NULL) {
				free(b);
				b = NULL;
				errno = EFBIG;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	*data = b;
	return b == NULL ? -1 : 0;
}

/*
 * --at TIME: "@EPOCH", or RFC 3339 (2026-01-02T03:04:05Z, a space for the
 * T, fractions of a second ignored, Z or +HH:MM / -HH:MM).  0 or -1.
 */
static int
parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	char *end;
	long long n;
	int oh, om, sign;

	if (s[0] == '@') {
		errno = 0;
		n = strtoll(s + 1, &end, 10);
		if (s[1] == '\0' || *end || errno || n < 0)
			return -1;
		*out = (time_t)n;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%d", &tm);
	if (p == NULL || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p = strptime(p + 1, "%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	*out = timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0' && *out >= 0 ? 0 : -1;
	if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d:%2d", &oh, &om) !=
	    2 || strlen(p) != 6 || oh > 23 || om > 59)
		return -1;
	sign = *p == '-' ? -1 : 1;
	*out -= sign * (oh * 3600 + om * 60);
	return *out >= 0 ? 0 : -1;
}

/* The words an option takes, and what each stands for. */
struct word {
	const char *name;
	int value;
};
static const struct word purposes[] = {
	{ "sslserver", TRUSTFS_PURPOSE_SSL_SERVER },
	{ "sslclient", TRUSTFS_PURPOSE_SSL_CLIENT },
	{ "any", TRUSTFS_PURPOSE_ANY },
	{ NULL, 0 }
};
static const struct word revocations[] = {
	{ "off", TRUSTFS_REVOCATION_OFF },
	{ "prefer", TRUSTFS_REVOCATION_PREFER },
	{ "require", TRUSTFS_REVOCATION_REQUIRE },
	{ NULL, 0 }
};

/* arg's value in w, or -1 if it is none of its words. */
static int
word_value(const struct word *w, const char *arg)
{
	for (; w->name != NULL; w++)
		if (strcmp(w->name, arg) == 0)
			return w->value;
	return -1;
}

/* The verify options from the command line into o; 0, or -1 with e. */
static int
verify_option(struct trustfs_verify_opts *o, int c, const char *arg,
    struct tf_error *e)
{
	time_t when;
	long n;
	char *end;
	int rc = 0, v;

	switch (c) {
	case 'a':
		if (parse_time(arg, &when) != 0)
			return tf_error_setx(e, -EINVAL, "--at '%s': give RFC "
			    "3339 (2026-01-02T03:04:05Z) or @EPOCH", arg);
		rc = trustfs_verify_opts_set_time(o, when);
		break;
	case 'p':
		if ((v = word_value(purposes, arg)) < 0)
			return tf_error_setx(e, -EINVAL, "--purpose '%s': "
			    "sslserver, sslclient or any", arg);
		rc = trustfs_verify_opts_set_purpose(o,
		    (enum trustfs_purpose)v);
		break;
	case 'd':
		errno = 0;
		n = strtol(arg, &end, 10);
		if (arg[0] == '\0' || *end || errno || n < 0 || n > 64)
			return tf_error_setx(e, -EINVAL, "--depth '%s': a "
			    "number of intermediates from 0 to 64", arg);
		rc = trustfs_verify_opts_set_depth(o, (int)n);
		break;
	case 'i':
		rc = trustfs_verify_opts_set_ip(o, arg);
		break;
	case 'c':
		rc = trustfs_verify_opts_add_crl_file(o, arg);
		break;
	case 'r':
		if ((v = word_value(revocations, arg)) < 0)
			return tf_error_setx(e, -EINVAL, "--revocation '%s': "
			    "off, prefer or require", arg);
		rc = trustfs_verify_opts_set_revocation(o,
		    (enum trustfs_revocation)v);
		break;
	case 'N':
		trustfs_verify_opts_set_insecure_nonstrict(o);
		break;
	}
	if (rc != 0)
		return tf_error_setx(e, -EINVAL, "%s",
		    trustfs_verify_opts_error(o) ? trustfs_verify_opts_error(o) :
		    "bad option");
	return 0;
}

static int
cmd_verify(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "at", required_argument, NULL, 'a' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "depth", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },
		{ "crl", required_argument, NULL, 'c' },
		{ "revocation", required_argument, NULL, 'r' },
		{ "no-strict", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct trustfs_verdict v, *vp = NULL;
	struct trustfs *t = NULL;
	struct trustfs_verify_opts *vo = NULL;
	struct json_object *extra = NULL;
	STACK_OF(X509) *sk = NULL;
	const char *host = NULL, *file = NULL, *ip = NULL;
	struct tf_error e = { 0 }, pe = { 0 };
	char *data = NULL, what[600] = "";
	size_t len;
	int c, json = 0;

	vo = trustfs_verify_opts_new();
	if (vo == NULL) {
		tf_error_setx(&e, -ENOMEM, "out of memory");
		goto out;
	}
	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "H:h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'i':
			ip = optarg;
			/* FALLTHROUGH */
		case 'a':
		case 'p':
		case 'd':
		case 'c':
		case 'r':
		case 'N':
			if (verify_option(vo, c, optarg, &e) != 0)
				goto out;
			break;
		case 'h':
			ctl_usage(stdout, "verify");
			trustfs_verify_opts_free(vo);
			return EXIT_TRUSTED;
		default:
			ctl_usage(stderr, "verify");
			trustfs_verify_opts_free(vo);
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		tf_error_setx(&e, -EINVAL, "verify takes one FILE");
		goto out;
	}
	file = argv[optind];
	/* An empty name would mean "no name check" to OpenSSL: a usage
	 * error, never a skipped check (leave --host out for that). */
	if (host != NULL && host[0] == '\0') {
		tf_error_setx(&e, -EINVAL, "--host is empty: give the name to "
		    "check the certificate for, or leave --host out");
		goto out;
	}
	if (read_file(file, &data, &len) != 0) {
		tf_error_set(&e, -errno, "%s", file);
		goto out;
	}
	c = cert_parse(data, len, CERT_INPUT_MAX_BUNDLE, &sk, &pe);
	if (c != 0) {
		tf_error_setx(&e, c, "%s: %s", file, pe.msg);
		goto out;
	}
	t = open_store(store, &e);
	if (t == NULL)
		goto out;
	if (trustfs_verify_chain_opts(t, host, sk, vo, &v) != 0) {
		tf_error_setx(&e, -EIO, "%s", trustfs_error(t));
		goto out;
	}
	snprintf(what, sizeof(what), "%s%s%s%s%s", file, host ? " for " : "",
	    host ? host : "", ip ? (host ? " and " : " for ") : "",
	    ip ? ip : "");
	vp = &v;
out:
	if (json && (extra = json_object_new_object()) != NULL &&
	    (ctl_json_str(extra, "file", file) != 0 ||
	    ctl_json_str(extra, "host", host) != 0)) {
		json_object_put(extra);
		extra = NULL;
	}
	c = finish_verdict(json, what, vp, &e, extra);
	sk_X509_pop_free(sk, X509_free);
	free(data);
	trustfs_free(t);
	trustfs_verify_opts_free(vo);
	return c;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *store = NULL, *cmd;
	char def[4096];
	int c, rc = EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'h':
			ctl_usage(stdout, NULL);
			return EXIT_TRUSTED;
		case 'V':
			printf("trustctl 0.1.0\n");
			return EXIT_TRUSTED;
		default:
			ctl_usage(stderr, NULL);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr, NULL);
		return EXIT_ERROR;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	/* connect and verify go through the library, which finds the
	 * default store itself; the others open the store below it. */
	if (store == NULL && strcmp(cmd, "connect") != 0 &&
	    strcmp(cmd, "verify") != 0) {
		store_default_dir(def, sizeof(def));
		store = def;
	}
	if (strcmp(cmd, "connect") == 0)
		rc = cmd_connect(store, argc, argv);
	else if (strcmp(cmd, "verify") == 0)
		rc = cmd_verify(store, argc, argv);
	else if (strcmp(cmd, "list") == 0)
		rc = ctl_list(store, argc, argv);
	else if (strcmp(cmd, "import") == 0)
		rc = ctl_import(store, argc, argv);
	else if (strcmp(cmd, "est") == 0)
		rc = ctl_est(store, argc, argv);
	else if (strcmp(cmd, "update") == 0)
		rc = ctl_update(store, argc, argv);
	else if (strcmp(cmd, "export") == 0)
		rc = admin_export(store, argc, argv);
	else if (strcmp(cmd, "backup") == 0)
		rc = admin_backup(store, argc, argv);
	else if (strcmp(cmd, "restore") == 0)
		rc = admin_restore(store, argc, argv);
	else if (strcmp(cmd, "pin") == 0)
		rc = ctl_pin(store, argc, argv);
	else if (strcmp(cmd, "unpin") == 0)
		rc = ctl_unpin(store, argc, argv);
	else if (strcmp(cmd, "import-known-hosts") == 0)
		rc = ctl_import_known_hosts(store, argc, argv);
	else if (strcmp(cmd, "help") == 0) {
		ctl_usage(stdout, argc > 1 ? argv[1] : NULL);
		rc = EXIT_TRUSTED;
	} else {
		fprintf(stderr, "trustctl: unknown command '%s'\n", cmd);
		ctl_usage(stderr, NULL);
	}
	return rc;
}
