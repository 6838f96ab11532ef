/*
 * bundle.pem and certs/: read-only views of roots/, rebuilt only when the
 * store has changed (LMDB's last transaction id tells, across processes).
 * And the other top-level files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "fs.h"
#include "policy.h"

static const char *const special_names[SPECIAL_NFILES] = {
	[SPECIAL_BUNDLE] = "bundle.pem",
	[SPECIAL_IMPORT] = "import",
	[SPECIAL_POLICY] = "policy",
	[SPECIAL_AUDIT] = "audit.log",
	[SPECIAL_STATUS] = "status",
	[SPECIAL_METRICS] = "metrics",
};

const char *
special_name(enum special_file f)
{
	return special_names[f];
}

int
special_lookup(const char *name, enum special_file *f)
{
	int i;

	for (i = 0; i < SPECIAL_NFILES; i++)
		if (strcmp(name, special_names[i]) == 0) {
			*f = (enum special_file)i;
			return 0;
		}
	return -ENOENT;
}

int
special_writable(enum special_file f)
{
	return f == SPECIAL_IMPORT || f == SPECIAL_POLICY;
}

static void
snapshot_free(struct snapshot *s)
{
	buf_free(&s->bundle);
	free(s->ents);
	free(s);
}

void
views_put(struct fs *fs, struct snapshot *s)
{
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&fs->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&fs->lock);
	if (last)
		snapshot_free(s);
}

struct build_ctx {
	struct snapshot *s;
	size_t cap;
	int rc;
};

static int
build_cb(const char *name, const struct store_rec *rec, void *arg)
{
	struct build_ctx *b = arg;
	struct snapshot *s = b->s;
	struct certs_ent *e;
	size_t off = s->bundle.len;

	if (rec->nkeys != 1)
		return 0;	/* a roots/ entry holds one certificate */
	/* The stored DER is the certificate: encode it, no need to decode. */
	b->rc = cert_pem_der(&s->bundle, rec->der, rec->der_len);
	if (b->rc != 0)
		return 1;
	if (s->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		e = realloc(s->ents, b->cap * sizeof(*e));
		if (e == NULL) {
			b->rc = -ENOMEM;
			return 1;
		}
		s->ents = e;
	}
	e = &s->ents[s->n++];
	snprintf(e->name, sizeof(e->name), "%08x.%u",
	    (unsigned)rec->keys[0].subject_hash, (unsigned)rec->slot);
	e->off = off;
	e->len = s->bundle.len - off;
	return 0;
}

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct certs_ent *)a)->name,
	    ((const struct certs_ent *)b)->name);
}

static struct snapshot *
views_build(struct fs *fs, uint64_t gen)
{
	struct build_ctx b = { 0 };
	struct store_txn *txn = NULL;
	struct tf_error err = { 0 };
	int rc;

	b.s = calloc(1, sizeof(*b.s));
	if (b.s == NULL)
		return NULL;
	b.s->gen = gen;
	rc = store_txn_begin(fs->st, 0, &txn, &err);
	if (rc == 0) {
		b.s->mtime = entry_last_change(txn);
		rc = store_foreach(txn, STORE_ROOTS, build_cb, &b);
		if (rc > 0)
			rc = b.rc;
	}
	store_txn_abort(txn);
	if (rc != 0) {
		fs_log(LOG_ERR, "building bundle.pem: %s", err.msg[0] ?
		    err.msg : strerror(-rc));
		snapshot_free(b.s);
		return NULL;
	}
	if (b.s->n > 1)
		qsort(b.s->ents, b.s->n, sizeof(*b.s->ents), ent_cmp);
	return b.s;
}

struct snapshot *
views_get(struct fs *fs)
{
	struct snapshot *s, *old;
	uint64_t gen = store_generation(fs->st);

	pthread_mutex_lock(&fs->lock);
	s = fs->views;
	if (s != NULL && s->gen == gen) {
		s->refs++;
		pthread_mutex_unlock(&fs->lock);
		return s;
	}
	pthread_mutex_unlock(&fs->lock);

	s = views_build(fs, gen);
	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&fs->lock);
	old = fs->views;
	/* A change elsewhere (a pin seen again) leaves the views as they
	 * were: keep the old snapshot, and with it the kernel's cache. */
	if (old != NULL && old->bundle.len == s->bundle.len &&
	    old->mtime == s->mtime &&
	    memcmp(old->bundle.data, s->bundle.data, s->bundle.len) == 0) {
		if (old->gen < gen)
			old->gen = gen;
		old->refs++;
		pthread_mutex_unlock(&fs->lock);
		snapshot_free(s);
		return old;
	}
	s->refs = 2;	/* fs->views and the caller */
	fs->views = s;
	pthread_mutex_unlock(&fs->lock);
	views_put(fs, old);
	return s;
}

const struct certs_ent *
views_find(const struct snapshot *s, const char *name)
{
	struct certs_ent key;

	if (strlen(name) >= sizeof(key.name))
		return NULL;
	strcpy(key.name, name);
	return bsearch(&key, s->ents, s->n, sizeof(*s->ents), ent_cmp);
}

int
special_getattr(struct fs *fs, enum special_file f, struct stat *st)
{
	struct snapshot *s;
	struct buf b = { 0 };
	int rc;

	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	if (f == SPECIAL_BUNDLE) {
		s = views_get(fs);
		if (s == NULL)
			return -EIO;
		st->st_mode = S_IFREG | 0444;
		st->st_size = (off_t)s->bundle.len;
		st->st_mtime = st->st_ctime = st->st_atime = s->mtime;
		views_put(fs, s);
		return 0;
	}
	rc = special_render(fs, f, &b);
	st->st_mode = S_IFREG | (special_writable(f) ?
	    (fs->group_write ? 0664 : 0644) : 0444);
	st->st_size = (off_t)b.len;
	st->st_mtime = st->st_ctime = st->st_atime = time(NULL);
	buf_free(&b);
	return rc;
}

static int
audit_line_cb(const char *line, size_t len, void *arg)
{
	struct buf *out = arg;

	if (buf_append(out, line, len) != 0 || buf_puts(out, "\n") != 0)
		return -ENOMEM;
	return 0;
}

int
special_render(struct fs *fs, enum special_file f, struct buf *out)
{
	struct store_txn *txn = NULL;
	char *v = NULL;
	size_t len;
	int rc;

	switch (f) {
	case SPECIAL_IMPORT:
		rc = store_txn_begin(fs->st, 0, &txn, NULL);
		if (rc == 0)
			rc = store_meta_get(txn, "import_report", &v, &len);
		store_txn_abort(txn);
		if (rc == -ENOENT)
			return buf_puts(out, "No import yet.  Copy a PKCS#7 or "
			    "PEM bundle here to add its certificates to "
			    "roots/.\n");
		if (rc == 0)
			rc = buf_append(out, v, len);
		free(v);
		return fs_errno(rc);
	case SPECIAL_POLICY:
		rc = store_txn_begin(fs->st, 0, &txn, NULL);
		if (rc == 0)
			rc = store_meta_get(txn, "policy", &v, &len);
		store_txn_abort(txn);
		if (rc == -ENOENT)
			return buf_puts(out, POLICY_DEFAULT_TEXT);
		if (rc == 0)
			rc = buf_append(out, v, len);
		free(v);
		return fs_errno(rc);
	case SPECIAL_STATUS:
		return report_status(fs, out);
	case SPECIAL_METRICS:
		return report_metrics(fs, out);
	case SPECIAL_AUDIT:
		rc = store_txn_begin(fs->st, 0, &txn, NULL);
		if (rc == 0)
			rc = store_audit_foreach(txn, audit_line_cb, out);
		store_txn_abort(txn);
		return fs_errno(rc);
	default:
		return -EINVAL;
	}
}

/* An import: every certificate of a bundle into roots/, in one
 * transaction, with a report that reading `import' returns. */
struct import_args {
	STACK_OF(X509) *sk;
	struct entry_actor *who;
	struct buf report;
	struct buf lines;
	size_t added, dup, distrusted, refused;
	struct tf_error err;
};

static int
import_txn(struct store_txn *txn, void *arg)
{
	struct import_args *a = arg;
	struct entry_result res;
	char tbuf[64], *subj;
	int i, rc = 0;

	/* store_write may run this again after growing the map. */
	buf_reset(&a->report);
	buf_reset(&a->lines);
	a->added = a->dup = a->distrusted = a->refused = 0;
	for (i = 0; i < sk_X509_num(a->sk) && rc == 0; i++) {
		X509 *x = sk_X509_value(a->sk, i);
		STACK_OF(X509) *one = sk_X509_new_null();

		if (one == NULL || !sk_X509_push(one, x)) {
			sk_X509_free(one);
			return -ENOMEM;
		}
		if (!cert_is_ca(x)) {
			subj = cert_name_str(X509_get_subject_name(x));
			a->refused++;
			rc = buf_printf(&a->lines, "refused %s: not a CA "
			    "certificate\n", subj ? subj : "?");
			free(subj);
			sk_X509_free(one);
			continue;
		}
		rc = entry_add(txn, STORE_ROOTS, NULL, one, ENTRY_AUTOLABEL,
		    a->who, &res, &a->err);
		sk_X509_free(one);
		if (rc != 0)
			break;
		switch (res.outcome) {
		case ENTRY_ADDED:
		case ENTRY_REPLACED:
			a->added++;
			rc = buf_printf(&a->lines, "added roots/%s\n", res.name);
			break;
		case ENTRY_UNCHANGED:
			a->dup++;
			rc = buf_printf(&a->lines, "duplicate roots/%s\n",
			    res.name);
			break;
		case ENTRY_SKIPPED_DISTRUSTED:
			a->distrusted++;
			rc = buf_printf(&a->lines, "distrusted distrusted/%s\n",
			    res.name);
			break;
		}
	}
	if (rc != 0)
		return rc;
	cert_time_str(time(NULL), tbuf, sizeof(tbuf));
	rc = buf_printf(&a->report, "Import: %s\nCertificates: %d\n"
	    "Added: %zu\nSkipped (duplicate): %zu\nSkipped (distrusted): %zu\n"
	    "Refused: %zu\n", tbuf, sk_X509_num(a->sk), a->added, a->dup,
	    a->distrusted, a->refused);
	if (rc == 0 && a->lines.len > 0)
		rc = buf_append(&a->report, a->lines.data, a->lines.len);
	if (rc == 0)
		rc = store_meta_put(txn, "import_report", a->report.data,
		    a->report.len);
	if (rc == 0)
		rc = entry_audit(txn, a->who, "import", "import", NULL, NULL);
	return rc;
}

static int
report_txn(struct store_txn *txn, void *arg)
{
	struct buf *b = arg;

	return store_meta_put(txn, "import_report", b->data, b->len);
}

struct policy_args {
	const char *text;
	size_t len;
	struct entry_actor *who;
};

static int
policy_txn(struct store_txn *txn, void *arg)
{
	struct policy_args *a = arg;
	int rc;

	rc = store_meta_put(txn, "policy", a->text, a->len);
	if (rc == 0)
		rc = entry_audit(txn, a->who, "policy", "policy", NULL, NULL);
	return rc;
}

/* A new policy replaces the old in one transaction, only if it parses. */
static int
policy_commit(struct fs *fs, const char *data, size_t len)
{
	struct policy_args a = { data, len, NULL };
	struct policy *p = NULL;
	struct entry_actor who;
	struct tf_error err = { 0 };
	char comm[64];
	int rc;

	rc = policy_parse(data, len, &p, &err);
	policy_free(p);
	if (rc != 0) {
		fs_refuse("policy", "policy", -rc, err.msg);
		return rc;
	}
	fs_actor(&who, comm, sizeof(comm));
	a.who = &who;
	rc = store_write(fs->st, policy_txn, &a, &err);
	if (rc != 0)
		fs_refuse("policy", "policy", -fs_errno(rc), err.msg);
	return fs_errno(rc);
}

int
special_commit(struct fs *fs, enum special_file f, const char *data,
    size_t len)
{
	struct import_args a = { 0 };
	struct entry_actor who;
	char comm[64], tbuf[64];
	int rc;

	if (f == SPECIAL_POLICY)
		return policy_commit(fs, data, len);
	if (f != SPECIAL_IMPORT)
		return -EROFS;
	fs_actor(&who, comm, sizeof(comm));
	a.who = &who;
	rc = cert_parse(data, len, CERT_INPUT_MAX_BUNDLE, &a.sk, &a.err);
	if (rc == 0)
		rc = store_write(fs->st, import_txn, &a, &a.err);
	if (rc == 0)
		fs_log(LOG_INFO, "import: %zu added, %zu duplicate, %zu "
		    "distrusted, %zu refused", a.added, a.dup, a.distrusted,
		    a.refused);
	else {
		if (!a.err.msg[0])
			tf_error_set(&a.err, rc, "import");
		fs_refuse("import", "import", -fs_errno(rc), a.err.msg);
		cert_time_str(time(NULL), tbuf, sizeof(tbuf));
		buf_reset(&a.report);
		if (buf_printf(&a.report, "Import: %s\nRefused: the whole "
		    "input: %s\nNothing was changed.\n", tbuf, a.err.msg) == 0)
			(void)store_write(fs->st, report_txn, &a.report, NULL);
	}
	sk_X509_pop_free(a.sk, X509_free);
	buf_free(&a.report);
	buf_free(&a.lines);
	return fs_errno(rc);
}
