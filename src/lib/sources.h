/*
 * Trust material fetched from URLs and kept current (DESIGN section 8,
 * issue 12): the `sources' file at the top of the mount, edited like
 * `policy', one line per source,
 *
 *   NAME URL [signer=LABEL] [sha256=HEX] [replace] [every=DURATION]
 *       [type=bundle|est|crl]
 *
 * and what `trustctl update' last did with each (its state).  The text
 * is kept in the meta database under "sources", each source's state
 * under "source_state:NAME"; this file reads and writes both through
 * store_meta_get/put.
 */
#ifndef TRUSTFS_SOURCES_H
#define TRUSTFS_SOURCES_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "store.h"

#define SOURCES_META_KEY "sources"
#define SOURCES_NAME_MAX 64		/* NAME: [A-Za-z0-9._-], not '.' or
					 * '-' first */
#define SOURCES_URL_MAX 2048
#define SOURCES_MAX 1000		/* lines that name a source */
#define SOURCES_TEXT_MAX (1u << 20)	/* the whole file */
#define SOURCES_EVERY_DEFAULT 86400	/* every=1d */
#define SOURCES_EVERY_MIN 60
#define SOURCES_EVERY_MAX (366L * 86400)

/* The text of a store that has none saved. */
#define SOURCES_DEFAULT_TEXT \
	"# trustfs sources: NAME URL [signer=LABEL] [sha256=HEX] [replace]\n" \
	"#   [every=DURATION] [type=bundle|est|crl]; see trustfs(8).\n" \
	"# trustctl update fetches the sources that are due.\n"

enum source_type {
	SOURCE_BUNDLE,		/* a bundle imported into roots/ */
	SOURCE_EST,		/* EST /cacerts (RFC 7030 4.1) */
	SOURCE_CRL		/* a CRL stored in crls/ */
};

struct source {
	char name[SOURCES_NAME_MAX + 1];
	char *url;			/* malloc'd */
	char signer[256];		/* LABEL as written; "" for none */
	unsigned char sha256[32];
	int have_sha256;
	int replace;
	long every;			/* seconds */
	enum source_type type;
	int line;			/* where it was written */
};

struct sources {
	struct source *v;
	size_t n;
};

/*
 * Parses sources text.  Returns 0 and *out (free with sources_free), or
 * -EINVAL with e naming the line ("line 3: unknown option 'evry=1d'"),
 * -EFBIG for a text over SOURCES_TEXT_MAX, or -ENOMEM.  Rules: a NAME
 * is unique; URLs are http://, https:// or file:// (est: https://
 * only); sha256 is 64 hex digits (colons allowed); DURATION is N with
 * an optional unit s, m, h, d or w, from 1m to 366d; signer= and replace
 * go with bundles only, sha256= with bundles and est.
 */
int sources_parse(const char *text, size_t len, struct sources **out,
    struct tf_error *e);
void sources_free(struct sources *s);	/* NULL-safe */
const struct source *sources_find(const struct sources *s, const char *name);
const char *sources_type_name(enum source_type t);

/*
 * The saved sources of the store in txn (SOURCES_DEFAULT_TEXT's, none,
 * when nothing was saved): 0 with *out, or a store error / -EINVAL (a
 * saved text that no longer parses) with e set.
 */
int sources_load(struct store_txn *txn, struct sources **out,
    struct tf_error *e);
/* The saved text (*text malloc'd), or SOURCES_DEFAULT_TEXT's copy. */
int sources_text(struct store_txn *txn, char **text, size_t *len);

/* What trustctl update last did with a source. */
struct source_state {
	time_t attempt;		/* last fetch tried; 0: never */
	time_t success;		/* last one imported; 0: never */
	int ok;			/* the last attempt succeeded */
	size_t roots;		/* roots/ entries the source held at its
				 * last success (metrics count them now) */
	char result[512];	/* "ok: 3 added, 120 unchanged" or why not */
};

/* 0 with *st, -ENOENT (never tried: *st zeroed), or a store error. */
int source_state_get(struct store_txn *txn, const char *name,
    struct source_state *st);
int source_state_put(struct store_txn *txn, const char *name,
    const struct source_state *st);

/* 1 if s is due at `now' given its state: never succeeded, the last
 * attempt failed, or its last success is `every' seconds old. */
int source_due(const struct source *s, const struct source_state *st,
    time_t now);

/* The Source an entry from s records (origin.h): its URL, "EST URL". */
void source_origin(const struct source *s, char *out, size_t outlen);
/* The roots/ entries that record s as their Source now (0 if unknown). */
size_t source_roots(struct store_txn *txn, const struct source *s);

/*
 * For MOUNT/status: a "Sources:" section, one line per source:
 *   "  NAME: last attempt TIME, last success TIME, roots N, result: R"
 * ("never" for no time).  Nothing when no source is configured.
 */
int sources_status(struct store_txn *txn, struct buf *out);
/*
 * For MOUNT/metrics: trustfs_source_last_success_timestamp_seconds,
 * trustfs_source_last_attempt_timestamp_seconds, trustfs_source_up and
 * trustfs_source_roots, one sample each per source, {source="NAME"}.
 */
int sources_metrics(struct store_txn *txn, struct buf *out);

#endif
