/*
 * The top-level files: policy and import (written), status, metrics and
 * audit.log (read), bundle.pem's size, and temporaries renamed over policy
 * or import (sed -i).  The store is used with fs->lock released (fs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "fs.h"
#include "import.h"
#include "policy.h"
#include "viewfiles.h"

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

int
special_getattr(struct fs *fs, enum special_file f, struct stat *st)
{
	struct snapshot *s;
	struct buf b = { 0 };
	int rc;

	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	/* A link to the file the daemon wrote (viewfiles.c). */
	if (f == SPECIAL_BUNDLE && (rc = views_link_stat(fs, NULL, st)) != 0)
		return rc < 0 ? rc : 0;
	if (f == SPECIAL_BUNDLE) {
		rc = views_get(fs, &s);
		if (rc != 0)
			return rc;
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

/* Lines of a saved policy that can never match: a warning in the log
 * (and in status), never a refusal. */
static void
log_shadowed(const struct policy *p)
{
	struct buf b = { 0 };
	char *line, *nl;

	if (policy_shadowed(p, &b) <= 0)
		goto out;
	for (line = b.data; line != NULL && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		fs_log(LOG_WARNING, "policy: %s", line);
	}
out:
	buf_free(&b);
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
	if (rc != 0) {
		fs_refuse("policy", "policy", -rc, err.msg);
		return rc;
	}
	fs_actor(&who, comm, sizeof(comm));
	a.who = &who;
	rc = store_write(fs->st, policy_txn, &a, &err);
	if (rc != 0)
		fs_refuse("policy", "policy", -fs_errno(rc), err.msg);
	else
		log_shadowed(p);
	policy_free(p);
	return fs_errno(rc);
}

/* An import: every certificate of a bundle into roots/, in one
 * transaction, with the report that reading `import' returns -- the
 * library's entry_import(), as trustctl import does. */
static int
import_commit(struct fs *fs, const char *data, size_t len)
{
	struct import_result r = { 0 };
	struct entry_actor who;
	struct tf_error err = { 0 };
	char comm[64];
	int rc;

	fs_actor(&who, comm, sizeof(comm));
	rc = entry_import_input(fs->st, data, len, &who, NULL, NULL, &r, &err);
	if (rc == 0)
		fs_log(LOG_INFO, "import: %zu added, %zu duplicate, %zu "
		    "distrusted, %zu refused; CRLs: %zu added, %zu duplicate, "
		    "%zu refused", r.count[IMPORT_ADDED],
		    r.count[IMPORT_DUPLICATE], r.count[IMPORT_DISTRUSTED],
		    r.count[IMPORT_REFUSED], r.crl_count[IMPORT_ADDED],
		    r.crl_count[IMPORT_DUPLICATE], r.crl_count[IMPORT_REFUSED]);
	else {
		if (!err.msg[0])
			tf_error_set(&err, rc, "import");
		fs_refuse("import", "import", -fs_errno(rc), err.msg);
		(void)import_report_refused(fs->st, err.msg, NULL);
	}
	import_result_free(&r);
	return fs_errno(rc);
}

int
special_commit(struct fs *fs, enum special_file f, const char *data,
    size_t len)
{
	if (f == SPECIAL_POLICY)
		return policy_commit(fs, data, len);
	if (f != SPECIAL_IMPORT)
		return -EROFS;
	return import_commit(fs, data, len);
}

void
top_readdir(struct fs *fs, void *buf, fuse_fill_dir_t filler)
{
	char **names = NULL;
	size_t n = 0, i;

	/* Temporaries beside policy (sed -i): a failure to list them only
	 * leaves them out. */
	if (staged_names(fs, STAGED_TOP, &names, &n) != 0)
		return;
	for (i = 0; i < n; i++)
		filler(buf, names[i] + 1, NULL, 0, 0);
	staged_names_free(names, n);
}

static int
commit_node(struct fs *fs, const void *arg, const char *data, size_t len)
{
	const struct node *n = arg;

	return special_commit(fs, n->file, data, len);
}

int
top_rename(struct fs *fs, const char *from, const struct node *nf,
    const struct node *nt)
{
	struct staged *s;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, STAGED_TOP, nf->name);
	if (s == NULL) {
		rc = -ENOENT;
		goto out;
	}
	s->opens++;	/* keeps s while waiting and committing */
	staged_wait(fs, s);
	if (s->unlinked)
		rc = -ENOENT;
	else {
		/* Saved as if it had been written there. */
		rc = staged_commit_renamed(fs, s, commit_node, nt);
	}
	(void)staged_unref(fs, s);
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int
special_check(struct fs *fs, enum special_file f, const char *data,
    size_t len)
{
	struct tf_error err = { 0 };
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *sk = NULL;
	struct policy *p = NULL;
	int rc;

	if (f == SPECIAL_POLICY)
		rc = policy_parse(data, len, &p, &err);
	else
		rc = import_split(data, len, &sk, &crls, &err);
	policy_free(p);
	sk_X509_pop_free(sk, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	if (rc != 0)
		fs_log(LOG_INFO, "%s: not saved yet, and would be refused: %s",
		    special_name(f), err.msg);
	return fs_errno(rc);
}
