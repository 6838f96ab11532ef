/*
 * trustctl: what file tools cannot do with a trustfs store -- a real TLS
 * handshake judged by the policy, and offline chain checks.
 * Exit status: 0 trusted, 1 not trusted, 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "admin.h"
#include "cert.h"
#include "store.h"
#include "trustfs.h"

#define EXIT_TRUSTED 0
#define EXIT_REFUSED 1
#define EXIT_ERROR 2

static void
usage(FILE *f)
{
	fprintf(f, "usage: trustctl [--store DIR] COMMAND [ARGS]\n\n"
	    "commands:\n"
	    "  connect HOST:PORT [--servername NAME] [--mode MODE]\n"
	    "        TLS handshake (TLS 1.2 or 1.3), then the policy's verdict\n"
	    "  verify [--host NAME] FILE\n"
	    "        check a PEM chain (leaf first) offline against roots/\n"
	    "  export --format pkcs7|pem|openssl-trusted|pkcs12 [-o FILE]\n"
	    "        the trust anchors of roots/ for another trust system\n"
	    "  backup FILE\n"
	    "        a consistent, compacted copy of the store, while in use\n"
	    "  restore [--force] FILE\n"
	    "        put a backup in place (the store must not be in use)\n\n"
	    "  --store DIR   the store (default $TRUSTFS_STORE, else\n"
	    "                /var/lib/trustfs for root, else\n"
	    "                ${XDG_DATA_HOME:-~/.local/share}/trustfs)\n"
	    "  --mode MODE   tofu, chain, chain-or-tofu or pinned, instead of\n"
	    "                the policy\n\n"
	    "Exit status: 0 trusted, 1 not trusted, 2 usage or I/O error.\n"
	    "See trustctl(1).\n");
}

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
tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	int fd = -1, rc;

	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "trustctl: %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "trustctl: connect to %s port %s: %s\n", host,
		    port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static int
is_ip_literal(const char *h)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

static int
cmd_connect(struct trustfs *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "servername", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct trustfs_verdict v;
	const char *servername = NULL;
	char host[256], port[16], what[300];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	unsigned long p;
	int c, fd = -1, mode = -1, rc = EXIT_ERROR;
	char *end;

	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "n:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			servername = optarg;
			break;
		case 'm':
			if (parse_mode(optarg, &mode) != 0)
				return EXIT_ERROR;
			break;
		case 'h':
			usage(stdout);
			return EXIT_TRUSTED;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1 || split_hostport(argv[optind], host,
	    sizeof(host), port, sizeof(port)) != 0) {
		fprintf(stderr, "trustctl: connect takes HOST:PORT "
		    "([IPv6]:PORT)\n");
		return EXIT_ERROR;
	}
	if (servername != NULL && servername[0] == '\0') {
		fprintf(stderr, "trustctl: --servername is empty: give the "
		    "name to check, or leave --servername out\n");
		return EXIT_ERROR;
	}
	p = strtoul(port, &end, 10);
	if (*end || p == 0 || p > 65535) {
		fprintf(stderr, "trustctl: bad port '%s'\n", port);
		return EXIT_ERROR;
	}
	if (servername == NULL && !is_ip_literal(host))
		servername = host;

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto tls_err;
	/* The policy decides after the handshake, not OpenSSL during it. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	fd = tcp_connect(host, port);
	if (fd < 0)
		goto out;
	ssl = SSL_new(ctx);
	if (ssl == NULL || !SSL_set_fd(ssl, fd) ||
	    (servername && !SSL_set_tlsext_host_name(ssl, servername)))
		goto tls_err;
	if (SSL_connect(ssl) != 1)
		goto tls_err;
	snprintf(what, sizeof(what), "%s port %lu (%s)",
	    servername ? servername : host, p, SSL_get_version(ssl));
	if (mode < 0)
		c = trustfs_ssl_check(t, ssl, servername ? servername : host,
		    (unsigned)p, &v);
	else
		c = trustfs_check_mode(t, (enum trustfs_mode)mode,
		    servername ? servername : host, (unsigned)p,
		    SSL_get_peer_cert_chain(ssl), &v);
	if (c != 0) {
		fprintf(stderr, "trustctl: %s\n", trustfs_error(t));
		goto out;
	}
	print_verdict(what, &v);
	rc = v.trusted ? EXIT_TRUSTED : EXIT_REFUSED;
	goto out;
tls_err:
	fprintf(stderr, "trustctl: TLS handshake with %s:%s failed: %s\n",
	    host, port, ERR_reason_error_string(ERR_peek_last_error()) ?
	    ERR_reason_error_string(ERR_peek_last_error()) : "connection closed");
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

static int
cmd_verify(struct trustfs *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct trustfs_verdict v;
	STACK_OF(X509) *sk = NULL;
	const char *host = NULL;
	struct tf_error err = { 0 };
	char *data = NULL, what[600];
	size_t len;
	int c, rc = EXIT_ERROR;

	optind = 0;	/* GNU getopt: start afresh, permuting */
	while ((c = getopt_long(argc, argv, "H:h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_TRUSTED;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "trustctl: verify takes one FILE\n");
		return EXIT_ERROR;
	}
	/* An empty name would mean "no name check" to OpenSSL: a usage
	 * error, never a skipped check (leave --host out for that). */
	if (host != NULL && host[0] == '\0') {
		fprintf(stderr, "trustctl: --host is empty: give the name to "
		    "check the certificate for, or leave --host out\n");
		return EXIT_ERROR;
	}
	if (read_file(argv[optind], &data, &len) != 0) {
		fprintf(stderr, "trustctl: %s: %s\n", argv[optind],
		    strerror(errno));
		return EXIT_ERROR;
	}
	if (cert_parse(data, len, CERT_INPUT_MAX_BUNDLE, &sk, &err) != 0) {
		fprintf(stderr, "trustctl: %s: %s\n", argv[optind], err.msg);
		goto out;
	}
	if (trustfs_verify_chain(t, host, sk, &v) != 0) {
		fprintf(stderr, "trustctl: %s\n", trustfs_error(t));
		goto out;
	}
	snprintf(what, sizeof(what), "%s%s%s", argv[optind],
	    host ? " for " : "", host ? host : "");
	print_verdict(what, &v);
	rc = v.trusted ? EXIT_TRUSTED : EXIT_REFUSED;
out:
	sk_X509_pop_free(sk, X509_free);
	free(data);
	return rc;
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
	struct trustfs *t;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_TRUSTED;
		case 'V':
			printf("trustctl 0.1.0\n");
			return EXIT_TRUSTED;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "export") == 0 || strcmp(cmd, "backup") == 0 ||
	    strcmp(cmd, "restore") == 0) {
		char def[4096];

		if (store == NULL) {
			store_default_dir(def, sizeof(def));
			store = def;
		}
		if (strcmp(cmd, "export") == 0)
			return admin_export(store, argc - optind, argv + optind);
		if (strcmp(cmd, "backup") == 0)
			return admin_backup(store, argc - optind, argv + optind);
		return admin_restore(store, argc - optind, argv + optind);
	}
	if (strcmp(cmd, "connect") != 0 && strcmp(cmd, "verify") != 0) {
		fprintf(stderr, "trustctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_ERROR;
	}
	t = trustfs_open(store);
	if (t == NULL) {
		fprintf(stderr, "trustctl: out of memory\n");
		return EXIT_ERROR;
	}
	if (trustfs_error(t) != NULL) {
		fprintf(stderr, "trustctl: %s\n", trustfs_error(t));
		trustfs_free(t);
		return EXIT_ERROR;
	}
	if (strcmp(cmd, "connect") == 0)
		rc = cmd_connect(t, argc - optind, argv + optind);
	else
		rc = cmd_verify(t, argc - optind, argv + optind);
	trustfs_free(t);
	return rc;
}
