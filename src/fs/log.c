/* Daemon messages: stderr while in the foreground, syslog once detached.
 * Nothing is ever written to a user's terminal through the mount. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

static int log_stderr = 1;

void
fs_log_init(int foreground)
{
	log_stderr = foreground;
	if (!foreground)
		openlog("trustfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
fs_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_stderr) {
		fprintf(stderr, "trustfs: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else
		vsyslog(prio, fmt, ap);
	va_end(ap);
}

static int
refuse_txn(struct store_txn *txn, void *arg)
{
	const char *const *a = arg;
	struct entry_actor who;
	char comm[64];

	fs_actor(&who, comm, sizeof(comm));
	return entry_audit(txn, &who, a[0], a[1], NULL, a[2]);
}

void
fs_refuse(const char *action, const char *path, int err, const char *why)
{
	struct fuse_context *c = fuse_get_context();
	char reason[512];
	const char *a[3];
	struct fs *fs = fs_get();
	struct tf_error e = { 0 };

	snprintf(reason, sizeof(reason), "%s%s%s", strerror(err),
	    why && *why ? ": " : "", why ? why : "");
	fs_log(LOG_WARNING, "refused %s %s (uid %ld): %s", action, path,
	    (long)c->uid, reason);
	a[0] = action;
	a[1] = path[0] == '/' ? path + 1 : path;
	a[2] = reason;
	if (fs->store_flags & STORE_RDONLY)
		return;
	if (store_write(fs->st, refuse_txn, (void *)a, &e) != 0)
		fs_log(LOG_ERR, "audit.log: %s", e.msg);
}
