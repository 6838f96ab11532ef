/* Daemon messages: stderr while in the foreground, syslog once detached.
 * Nothing is ever written to a user's terminal through the mount.  And
 * the one place that turns a failure into the errno a caller sees. */
#include <errno.h>
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

/*
 * As sshfs's sftp_error_to_errno: the errno a FUSE handler returns for a
 * failure of the store or the library (which report a negative errno and
 * say why in their struct tf_error).  The errors of DESIGN section 2 pass
 * through; anything else is a real store failure, EIO, and its message is
 * in the log already.
 */
int
fs_errno(int rc)
{
	if (rc >= 0)
		return 0;
	switch (-rc) {
	case ENOENT: case EINVAL: case EEXIST: case EACCES: case EROFS:
	case EFBIG: case ENAMETOOLONG: case ENOSPC: case EDQUOT: case EXDEV:
	case ENOMEM: case ENOTEMPTY: case EPERM: case ENOTSUP: case EISDIR:
	case ENOTDIR: case ERANGE: case ENODATA:
		return rc == -EDQUOT ? -ENOSPC : rc;
	default:
		return -EIO;
	}
}
