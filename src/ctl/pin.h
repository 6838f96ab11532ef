/* trustctl pin, unpin and import-known-hosts (pin.c, issue 14). */
#ifndef TRUSTCTL_PIN_H
#define TRUSTCTL_PIN_H

#include <stddef.h>

#include <openssl/x509.h>

#include "error.h"

/* Each returns an exit status (ctl.h). */
int ctl_pin(const char *store_dir, int argc, char **argv);
int ctl_unpin(const char *store_dir, int argc, char **argv);
int ctl_import_known_hosts(const char *store_dir, int argc, char **argv);

/*
 * The handshake of `trustctl connect' (trustctl.c) for HOST:PORT
 * ([IPv6]:PORT) with SNI servername (NULL: HOST unless it is an IP
 * address), judging nothing: *chain gets the peer's chain, leaf first
 * (free with sk_X509_pop_free(sk, X509_free)); name gets the name checks
 * and pins use (servername, else HOST), *port the port.  0, or -1 with e
 * set (a bad argument is -EINVAL).
 */
int ctl_peer_chain(const char *hostport, const char *servername,
    STACK_OF(X509) **chain, char *name, size_t namelen, unsigned *port,
    struct tf_error *e);

#endif
