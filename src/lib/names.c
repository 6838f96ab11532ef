/* Names in the mount, one function per rule (DESIGN section 2). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* Strict UTF-8 (RFC 3629 section 4): no overlongs, no surrogates. */
static int
utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n, cp, i;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += n + 1;
	}
	return 1;
}

int
name_check_file(const char *name)
{
	const unsigned char *p;

	if (name == NULL || *name == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return -EINVAL;
	if (strlen(name) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return -EINVAL;
	return utf8_valid((const unsigned char *)name) ? 0 : -EINVAL;
}

/* A DNS host name (RFC 1123 2.1; '_' allowed as in SRV-style names):
 * labels of 1-63 letters, digits, '-' or '_', at most 253 in all. */
static int
dns_name_ok(const char *h)
{
	size_t len = strlen(h), label = 0;
	const char *p;

	if (len == 0 || len > 253)
		return 0;
	for (p = h; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int
parse_port(const char *s, unsigned *port)
{
	unsigned long v;
	char *end;

	if (*s < '1' || *s > '9' || strlen(s) > 5)
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > 65535)
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

/* The canonical host: lowercased name, IPv4 as is, IPv6 compressed. */
static int
host_normalize(const char *in, size_t inlen, char *out, size_t outlen)
{
	char h[256];
	unsigned char addr[16];
	size_t i;

	if (inlen == 0 || inlen >= sizeof(h))
		return inlen ? -ENAMETOOLONG : -EINVAL;
	memcpy(h, in, inlen);
	h[inlen] = '\0';
	if (h[0] == '[') {
		if (inlen < 3 || h[inlen - 1] != ']')
			return -EINVAL;
		memmove(h, h + 1, inlen - 2);
		h[inlen - 2] = '\0';
		if (strchr(h, ':') == NULL)
			return -EINVAL;
	}
	if (strchr(h, ':') != NULL) {
		/* RFC 5952 section 4: the compressed, lowercase form. */
		if (inet_pton(AF_INET6, h, addr) != 1 ||
		    inet_ntop(AF_INET6, addr, out, (socklen_t)outlen) == NULL)
			return -EINVAL;
		return 0;
	}
	for (i = 0; h[i]; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	if (strspn(h, "0123456789.") == strlen(h)) {
		if (inet_pton(AF_INET, h, addr) != 1)
			return -EINVAL;
	} else if (!dns_name_ok(h))
		return -EINVAL;
	if (strlen(h) >= outlen)
		return -ENAMETOOLONG;
	strcpy(out, h);
	return 0;
}

static int
join(const char *host, unsigned port, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s_%u", host, port);

	if (n < 0 || (size_t)n >= outlen || n > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	return 0;
}

int
name_host_port(const char *in, char *out, size_t outlen)
{
	char host[256];
	const char *us;
	unsigned port;
	int rc;

	rc = name_check_file(in);
	if (rc != 0)
		return rc;
	us = strrchr(in, '_');
	if (us == NULL || parse_port(us + 1, &port) != 0)
		return -EINVAL;
	rc = host_normalize(in, (size_t)(us - in), host, sizeof(host));
	if (rc != 0)
		return rc;
	return join(host, port, out, outlen);
}

int
name_host_port_make(const char *host, unsigned port, char *out,
    size_t outlen)
{
	char h[256];
	int rc;

	if (host == NULL || port == 0 || port > 65535)
		return -EINVAL;
	rc = host_normalize(host, strlen(host), h, sizeof(h));
	if (rc != 0)
		return rc;
	return join(h, port, out, outlen);
}

int
name_host_port_split(const char *hp, char *host, size_t hostlen,
    unsigned *port)
{
	const char *us = strrchr(hp, '_');

	if (us == NULL || us == hp || parse_port(us + 1, port) != 0)
		return -EINVAL;
	if ((size_t)(us - hp) >= hostlen)
		return -ENAMETOOLONG;
	memcpy(host, hp, (size_t)(us - hp));
	host[us - hp] = '\0';
	return 0;
}

int
name_is_label(const char *name)
{
	size_t n;

	if (name_check_file(name) != 0 || name[0] == '.')
		return 0;
	n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".pem") == 0;
}

int
name_label_nth(const char *base, unsigned n, char *out, size_t outlen)
{
	int len = n <= 1 ? snprintf(out, outlen, "%s.pem", base) :
	    snprintf(out, outlen, "%s_%u.pem", base, n);

	if (len < 0 || (size_t)len >= outlen || len > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * The temporary names the daemon keeps in memory instead of the store:
 * what editors and config management write beside a file and then rename
 * over it, or leave beside it as a backup.  A backup that the mount
 * refused would fail the tool's whole write (Ansible's copy with
 * backup: yes fails on every run), and one it stored would be taken for
 * an entry.  None of these shapes is a LABEL.pem or HOST_PORT that an
 * entry can have: labels and hosts hold no '~' or '#'.
 */
int
name_is_temporary(const char *name)
{
	size_t i, n = strlen(name);

	/* Dot files: Ansible's .ansible_tmp*, vim's .NAME.swp, emacs's
	 * lock file .#NAME, rsync's .NAME.XXXXXX. */
	if (name[0] == '.')
		return 1;
	/* Backups ending in '~': NAME~ (vim, emacs, nano, cp --backup),
	 * NAME.~1~ (numbered), and Ansible's NAME.PID.YYYY-MM-DD@HH:MM:SS~
	 * (module_utils backup_local). */
	if (n >= 2 && name[n - 1] == '~')
		return 1;
	/* Emacs auto-save: #NAME#. */
	if (n >= 3 && name[0] == '#' && name[n - 1] == '#')
		return 1;
	/* sed -i's temporary file: "sed" and six letters or digits. */
	if (strncmp(name, "sed", 3) != 0 || n != 9)
		return 0;
	for (i = 3; i < 9; i++)
		if (!isalnum((unsigned char)name[i]))
			return 0;
	return 1;
}
