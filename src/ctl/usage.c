/*
 * trustctl's usage texts, one per command, in one place so that
 * `trustctl --help', `trustctl COMMAND --help' and trustctl(1) can be
 * read side by side.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *cmd;
	const char *text;
} texts[] = {
	{ "connect",
	    "usage: trustctl [--store DIR] connect [--servername NAME] "
	    "[--mode MODE] [--json]\n"
	    "                [--save-chain NAME] HOST:PORT\n\n"
	    "A TLS handshake (TLS 1.2 or 1.3) with HOST:PORT ([IPv6]:PORT), "
	    "then the\npolicy's verdict on the certificate it presented. "
	    "May pin it (tofu).\nAsks for a stapled OCSP response and "
	    "checks it: a revoked status is not\ntrusted (the policy's "
	    "revocation= applies; not with --mode).\n\n"
	    "  --servername NAME  the name sent (SNI) and checked; default "
	    "HOST unless\n"
	    "                     HOST is an IP address\n"
	    "  --mode MODE        tofu, chain, chain-or-tofu or pinned, "
	    "instead of the\n"
	    "                     policy\n"
	    "  --save-chain NAME  store the intermediates the peer presented "
	    "in\n"
	    "                     chains/NAME.pem (Source \"TLS peer ...\")\n"
	    "  --json             the verdict as one JSON object: trusted, "
	    "mode, reason,\n"
	    "                     message, subject, sha256, entry "
	    "(reason \"error\" when\n"
	    "                     the check could not run)\n\n"
	    "Exit status: 0 trusted, 1 not trusted, 2 usage or I/O error.\n" },
	{ "verify",
	    "usage: trustctl [--store DIR] verify [--at TIME] [--purpose "
	    "PURPOSE]\n"
	    "       [--depth N] [--ip ADDR] [--crl FILE]... [--revocation M]\n"
	    "       [--no-strict] [--host NAME] [--json] FILE\n\n"
	    "Checks a PEM or DER chain (leaf first; - reads standard input) "
	    "offline\nagainst roots/, chains/, distrusted/ and crls/, as the "
	    "chain mode does.\nWrites nothing.\n\n"
	    "  --host NAME     also check that the leaf is for NAME (DNS name "
	    "or IP)\n"
	    "  --at TIME       verify as of TIME: RFC 3339 "
	    "(2026-01-02T03:04:05Z) or @EPOCH\n"
	    "  --purpose P     sslserver (default), sslclient or any\n"
	    "  --depth N       at most N intermediates (0 to 64)\n"
	    "  --ip ADDR       the leaf must hold this IPv4 or IPv6 address\n"
	    "  --crl FILE      check revocation against the CRLs of FILE too "
	    "(PEM or DER;\n"
	    "                  repeatable); they add to those of crls/\n"
	    "  --revocation M  off, prefer (default) or require, as the "
	    "policy option\n"
	    "  --no-strict     OpenSSL's default rules only, as strict=no "
	    "(legacy peers)\n"
	    "  --json          the verdict as one JSON object (see connect)\n\n"
	    "Exit status: 0 trusted, 1 not trusted, 2 usage or I/O error.\n" },
	{ "list",
	    "usage: trustctl [--store DIR] list [--json | -H] [--no-counters] "
	    "DIR\n\n"
	    "One line per entry of DIR: pinned, rejected, roots, distrusted "
	    "or chains.\n"
	    "  pinned:  HOST_PORT SHA256 FIRST_SEEN LAST_SEEN SEEN_COUNT "
	    "SUBJECT\n"
	    "  others:  NAME SHA256 NOT_AFTER STATUS SUBJECT\n"
	    "Times are ISO 8601 UTC (\"never\" when unset); STATUS is valid, "
	    "expiring,\nexpired or not-yet-valid.  Only SUBJECT may contain "
	    "spaces: it is last.\n\n"
	    "  -H, --scripted  no header, fields separated by one tab\n"
	    "  --json          a JSON array, one object per entry\n"
	    "  --no-counters   leave out FIRST_SEEN, LAST_SEEN and SEEN_COUNT, "
	    "which\n"
	    "                  differ between members of a cluster: "
	    "diff(1) of two\n"
	    "                  members' lists then shows what matters\n\n"
	    "Exit status: 0 listed, 2 usage or I/O error.\n" },
	{ "import",
	    "usage: trustctl [--store DIR] import [--json] [--quiet] "
	    "[--signer FILE]\n"
	    "       [--expect-sha256 HEX] [--dry-run] [--replace] "
	    "[--timeout SECONDS] SOURCE\n\n"
	    "Adds every CA or self-signed certificate of a PEM, DER or "
	    "PKCS#7 bundle\n(SOURCE: a file, - for standard input, or an "
	    "http://, https:// or file://\nURL) to roots/, in one "
	    "transaction, as copying\nit to a mount's import file does; "
	    "reading import shows the report.\nA certificate already in "
	    "roots/ is a duplicate, one in distrusted/ is\nskipped, an "
	    "end-entity certificate is refused with the reason; the rest\n"
	    "are added all the same.  On a terminal a progress line shows on "
	    "standard\nerror.\n\n"
	    "  --json   the report as one JSON object: file, time, "
	    "certificates, added,\n"
	    "           duplicate, distrusted, refused, and results (one "
	    "object per\n"
	    "           certificate: result, entry, subject, sha256, reason)\n"
	    "  --quiet  no progress line\n"
	    "  --signer FILE  the bundle must be a CMS/PKCS#7 SignedData whose "
	    "signature\n"
	    "           verifies to the certificate in FILE (or through a "
	    "chain to it)\n"
	    "  --expect-sha256 HEX  the bundle must hold a certificate with "
	    "this SHA-256\n"
	    "  --dry-run  report what would be added, skipped, replaced or "
	    "removed;\n"
	    "           change nothing\n"
	    "  --replace  remove the roots an earlier import from SOURCE added "
	    "and the\n"
	    "           bundle lacks (never roots added by hand)\n"
	    "  --timeout SECONDS  the whole fetch of a URL (default 60)\n\n"
	    "An https:// server must verify against roots/ (name, dates, "
	    "chain, nothing\ndistrusted).  Each root added records SOURCE "
	    "(cat shows Source:).\n\n"
	    "Exit status: 0 imported (refused certificates are listed, not an "
	    "error),\n1 refused: the server is not trusted, the signature or "
	    "the expected\ncertificate is missing, the body is not what its "
	    "Content-Type says;\n2 usage, I/O, network or parse error, or the "
	    "store refused the import.\nNothing is changed unless the exit "
	    "status is 0.\n" },
	{ "est",
	    "usage: trustctl [--store DIR] est [--label NAME] "
	    "[--expect-sha256 HEX]\n"
	    "       [--timeout SECONDS] URL\n\n"
	    "Gets the CA certificates of an EST server (RFC 7030: GET\n"
	    "URL/.well-known/est/cacerts) and stores the CA's root in "
	    "roots/NAME.pem and\nits intermediates in chains/NAME.pem, with "
	    "Source \"EST URL\".  The TLS\nserver must verify against roots/; "
	    "when its root is not there yet, the\nroot in the response is "
	    "taken only if its SHA-256 is the one given\n(--expect-sha256), "
	    "and only after the server verified against it.\n\n"
	    "  --label NAME         the entries' name (default: the root's "
	    "label)\n"
	    "  --expect-sha256 HEX  the root's SHA-256, from the CA out of "
	    "band\n"
	    "  --timeout SECONDS    each fetch (default 60)\n\n"
	    "Exit status: 0 stored, 1 refused (server not trusted, root not "
	    "the\nexpected one, a name held by other certificates), 2 usage, "
	    "I/O or\nnetwork error.  Nothing is changed unless it is 0.\n" },
	{ "export",
	    "usage: trustctl [--store DIR] export [--format FORMAT] "
	    "[-o FILE]\n\n"
	    "Writes the trust anchors of roots/ for another trust system.\n\n"
	    "  -f, --format FORMAT  pem (default), openssl-trusted (TRUSTED "
	    "CERTIFICATE\n"
	    "                       blocks), pkcs7 (DER) or pkcs12 (Java "
	    "trust store,\n"
	    "                       password \"changeit\")\n"
	    "  -o, --output FILE    write FILE (replaced at once) instead of "
	    "standard\n"
	    "                       output\n\n"
	    "Exit status: 0 written, 2 usage or I/O error.\n" },
	{ "backup",
	    "usage: trustctl [--store DIR] backup FILE\n\n"
	    "Writes a consistent, compacted copy of the store to FILE "
	    "(replaced at\nonce), while the store is in use.\n\n"
	    "Exit status: 0 written, 2 usage or I/O error.\n" },
	{ "restore",
	    "usage: trustctl [--store DIR] restore [--force] FILE\n\n"
	    "Checks a backup whole, then puts it in place of the store.  The "
	    "store must\nnot be in use (unmount it, stop programs using it).\n\n"
	    "  --force  replace a store that holds entries\n\n"
	    "Exit status: 0 restored, 2 refused, usage or I/O error (the "
	    "store is\nunchanged).\n" },
	{ "pin",
	    "usage: trustctl [--store DIR] pin [--servername NAME] [--yes] "
	    "[--replace]\n"
	    "                HOST:PORT\n\n"
	    "Pre-pins a host without trusting it first: a TLS handshake with "
	    "HOST:PORT,\nthen its certificate's subject, issuer, SHA-256 and "
	    "key SHA-256, and, on\n--yes or a y on the terminal, the "
	    "certificate is written to\npinned/NAME_PORT (NAME: --servername, "
	    "else HOST).  Nothing is judged or\ntrusted by the handshake "
	    "itself.\n\n"
	    "  --servername NAME  the name sent (SNI) and pinned; default "
	    "HOST\n"
	    "  --yes              pin without asking\n"
	    "  --replace          replace a different pin the host has "
	    "(refused without)\n\n"
	    "Exit status: 0 pinned (or pinned already), 1 refused or not "
	    "confirmed,\n2 usage or I/O error.\n" },
	{ "unpin",
	    "usage: trustctl [--store DIR] unpin HOST_PORT SHA256\n\n"
	    "Rewrites pinned/HOST_PORT without the certificate with that "
	    "SHA-256 (as\n`cat' shows it; colons optional); the last one "
	    "removes the pin, as rm does.\n\n"
	    "Exit status: 0 done, 1 no such pin or certificate, 2 usage or "
	    "I/O error.\n" },
	{ "import-known-hosts",
	    "usage: trustctl [--store DIR] import-known-hosts FILE\n\n"
	    "Reads a GnuTLS known_hosts file (~/.gnutls/known_hosts, as "
	    "gnutls-cli --tofu\nwrites it; - reads standard input) into key "
	    "pins: each |g0|HOST|PORT|\nEXPIRATION|BASE64-KEY line pins "
	    "pinned/HOST_PORT to its key until its\nexpiration (0: none).  "
	    "A host pinned already is left as it is.  Reports\nwhat was "
	    "added, skipped (pinned to the same key), refused (pinned\n"
	    "differently) and expired.  A bad line imports nothing.\n\n"
	    "Exit status: 0 imported, 1 some refused, 2 a bad file, usage or "
	    "I/O error.\n" },
};

void
ctl_usage(FILE *f, const char *cmd)
{
	size_t i;

	for (i = 0; cmd != NULL && i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(cmd, texts[i].cmd) == 0) {
			fputs(texts[i].text, f);
			fputs("See trustctl(1).\n", f);
			return;
		}
	fprintf(f, "usage: trustctl [--store DIR] COMMAND [ARGS]\n\n"
	    "commands:\n"
	    "  connect [--servername NAME] [--mode MODE] [--json] HOST:PORT\n"
	    "        TLS handshake (TLS 1.2 or 1.3), then the policy's verdict\n"
	    "  verify [--at TIME] [--purpose P] [--depth N] [--ip ADDR] "
	    "[--crl FILE]...\n"
	    "         [--host NAME] [--json] FILE\n"
	    "        check a PEM chain (leaf first) offline against roots/\n"
	    "  list [--json | -H] [--no-counters] DIR\n"
	    "        the entries of pinned, rejected, roots, distrusted or "
	    "chains\n"
	    "  import [--signer FILE] [--expect-sha256 HEX] [--dry-run] "
	    "[--replace] SOURCE\n"
	    "        add the CA certificates of a bundle (file or URL) to "
	    "roots/\n"
	    "  est [--label NAME] [--expect-sha256 HEX] URL\n"
	    "        the CA certificates of an EST server (RFC 7030 "
	    "/cacerts)\n"
	    "  export [--format pem|openssl-trusted|pkcs7|pkcs12] [-o FILE]\n"
	    "        the trust anchors of roots/ for another trust system\n"
	    "  backup FILE\n"
	    "        a consistent, compacted copy of the store, while in use\n"
	    "  restore [--force] FILE\n"
	    "        put a backup in place (the store must not be in use)\n"
	    "  pin [--servername NAME] [--yes] [--replace] HOST:PORT\n"
	    "        pre-pin a host's certificate without trusting it first\n"
	    "  unpin HOST_PORT SHA256\n"
	    "        take one certificate out of a pin\n"
	    "  import-known-hosts FILE\n"
	    "        GnuTLS known_hosts lines into key pins\n\n"
	    "  --store DIR   the store (default $TRUSTFS_STORE, else\n"
	    "                /var/lib/trustfs for root, else\n"
	    "                ${XDG_DATA_HOME:-~/.local/share}/trustfs)\n\n"
	    "`trustctl COMMAND --help' describes a command.\n"
	    "Exit status: 0 trusted (or done), 1 not trusted, 2 usage or I/O "
	    "error.\n"
	    "See trustctl(1).\n");
}
