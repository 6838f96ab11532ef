/*
 * A store's roots and distrust rule as the trust of an HTTPS fetch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "nettrust.h"
#include "trustfs.h"

/* net_check_fn: nothing in the verified path may be in distrusted/
 * (DESIGN section 5, chain mode). */
static int
distrust_check(STACK_OF(X509) *chain, const char *host, void *arg,
    struct tf_error *e)
{
	struct trustfs_verdict v;
	struct trustfs *t = arg;
	int rc;

	memset(&v, 0, sizeof(v));
	rc = chain_check_distrusted(t, chain, &v);
	if (rc < 0)
		return tf_error_setx(e, -EIO, "%s", trustfs_error(t));
	if (rc == 1)
		return tf_error_setx(e, -EACCES, "certificate rejected: %s",
		    v.message);
	return 0;
}

/* net_check_fn for net_opts.verify: the chain mode of DESIGN section 5
 * on what the server presented (trustfs_verify_chain: intermediates from
 * chains/ too, strict rules, revocation, distrust). */
static int
chain_verify(STACK_OF(X509) *chain, const char *host, void *arg,
    struct tf_error *e)
{
	struct trustfs_verdict v;
	struct trustfs *t = arg;

	memset(&v, 0, sizeof(v));
	if (trustfs_verify_chain(t, host, chain, &v) != 0)
		return tf_error_setx(e, -EIO, "%s", trustfs_error(t));
	if (!v.trusted)
		return tf_error_setx(e, -EACCES, "%s", v.message);
	return 0;
}

int
nettrust_init(struct trustfs *t, struct net_opts *o, struct tf_error *e)
{
	o->trust = trustfs_x509_store(t);
	if (o->trust == NULL)
		return tf_error_setx(e, -EIO, "the roots of the store: %s",
		    trustfs_error(t) ? trustfs_error(t) : "out of memory");
	o->check = distrust_check;
	o->check_arg = t;
	o->verify = chain_verify;
	o->verify_arg = t;
	return 0;
}

void
nettrust_done(struct net_opts *o)
{
	X509_STORE_free(o->trust);
	o->trust = NULL;
}
