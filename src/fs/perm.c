/*
 * Who may change the trust store (DESIGN section 7), and refusals: every
 * refused change gets one audit line (action, path, reason) and one errno
 * per kind of refusal, checked in this order (trustfs(8), REFUSALS):
 *   1. a -o ro mount: EROFS for every change;
 *   2. a caller who is not root, the daemon's user or in --group: EACCES;
 *   3. what the change itself cannot do: a mode or owner other than the
 *      one shown (EPERM), an extended attribute (ENOTSUP), a link, special
 *      file or directory (EPERM), and the rules of each directory.
 * The daemon checks rather than the kernel (default_permissions, or the
 * kernel's own ro) so that every refusal reaches audit.log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

pid_t
fs_caller_tgid(void)
{
	struct fuse_context *c = fuse_get_context();
	char path[64], line[128];
	pid_t tgid = c->pid;
	FILE *f;

	/* The request carries the calling thread's id; a process is its
	 * thread group (proc(5), /proc/PID/status). */
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)c->pid);
	f = fopen(path, "re");
	if (f == NULL)
		return tgid;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Tgid:", 5) == 0) {
			tgid = (pid_t)strtol(line + 5, NULL, 10);
			break;
		}
	fclose(f);
	return tgid;
}

void
fs_actor(struct entry_actor *who, char *comm, size_t commlen)
{
	struct fuse_context *c = fuse_get_context();
	char path[64];
	FILE *f;
	size_t n;

	who->uid = c->uid;
	who->pid = fs_caller_tgid();
	snprintf(comm, commlen, "?");
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)c->pid);
	f = fopen(path, "re");
	if (f != NULL) {
		n = fread(comm, 1, commlen - 1, f);
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	who->comm = comm;
}

struct note_args {
	const char *action, *path, *reason;
};

static int
note_txn(struct store_txn *txn, void *arg)
{
	const struct note_args *a = arg;
	struct entry_actor who;
	char comm[64];

	fs_actor(&who, comm, sizeof(comm));
	return entry_audit(txn, &who, a->action, a->path, NULL, a->reason);
}

/* One audit line, or the log if the store cannot take it (read-only
 * store, full disk). */
static void
audit_line(const char *action, const char *path, const char *reason)
{
	struct fs *fs = fs_get();
	struct note_args a = { action, path, reason };
	struct tf_error e = { 0 };

	if (a.path[0] == '/')
		a.path++;
	if (fs->store_flags & STORE_RDONLY)
		return;
	if (store_write(fs->st, note_txn, &a, &e) != 0)
		fs_log(LOG_ERR, "audit.log: %s %s: %s (not recorded: %s)",
		    action, path, reason, e.msg);
}

void
fs_refuse(const char *action, const char *path, int err, const char *why)
{
	struct fuse_context *c = fuse_get_context();
	char reason[1200];

	if (path == NULL)
		path = "?";
	snprintf(reason, sizeof(reason), "%s%s%s", strerror(err),
	    why && *why ? ": " : "", why ? why : "");
	fs_log(LOG_WARNING, "refused %s %s (uid %ld): %s", action, path,
	    (long)c->uid, reason);
	audit_line(action, path, reason);
}

void
fs_add_refused(const char *path, int rc, int commit, const char *why)
{
	if (commit)
		fs_refuse("add", path, -fs_errno(rc), why);
	else
		fs_log(LOG_INFO, "%s: not stored yet, and would be refused: %s",
		    path, why);
}

void
fs_audit_note(const char *action, const char *path, const char *why)
{
	fs_log(LOG_WARNING, "%s %s: %s", action, path, why);
	audit_line(action, path, why);
}

static int
in_group(struct fs *fs)
{
	struct fuse_context *c = fuse_get_context();
	gid_t groups[256];
	int i, n;

	if (c->gid == fs->gid)
		return 1;
	n = fuse_getgroups(256, groups);
	for (i = 0; i < n && i < 256; i++)
		if (groups[i] == fs->gid)
			return 1;
	return 0;
}

int
fs_may_change(struct fs *fs, const char *action, const char *path)
{
	struct fuse_context *c = fuse_get_context();

	if (fs->ro) {
		fs_refuse(action, path, EROFS, "mounted read-only");
		return -EROFS;
	}
	if (c->uid == 0 || c->uid == fs->uid ||
	    (fs->group_write && in_group(fs)))
		return 0;
	fs_refuse(action, path, EACCES, fs->group_write ?
	    "only root and the trust group may change the trust store" :
	    "only root may change the trust store");
	return -EACCES;
}

/* Rules 1 and 2, then the refusal that the operation always gets. */
static int
refuse_op(const char *action, const char *path, int err, const char *why)
{
	int rc;

	rc = fs_may_change(fs_get(), action, path);
	if (rc != 0)
		return rc;
	fs_refuse(action, path, err, why);
	return -err;
}

/*
 * What a file shows: a mode or owner already shown is accepted as set
 * (Ansible's mode:, sed -i's fchown of its temporary).  So is any mode or
 * owner of a file still being written or of a temporary name: it is not a
 * trust entry yet, and install(1), cp -p and Ansible set them before the
 * close or rename that stores it with the fixed ones.  1: accept.
 */
static int
shown(const char *path, struct stat *st)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct node n;
	char name[256];
	int rc, temp, staged = 0;

	memset(st, 0, sizeof(*st));
	if (path == NULL)
		return -ENOENT;
	rc = fs_ops.getattr(path, st, NULL);
	if (rc == 0 && fs_route(path, &n) == 0 && (n.type == NODE_ENTRY ||
	    n.type == NODE_TOPTEMP || n.type == NODE_FILE) &&
	    fs_key_name(&n, name, sizeof(name), &temp, &err) == 0) {
		pthread_mutex_lock(&fs->lock);
		staged = staged_find(fs, fs_node_db(&n), name) != NULL;
		pthread_mutex_unlock(&fs->lock);
	}
	return rc != 0 ? rc : staged;
}

int
fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct stat st;
	int rc;

	rc = fs_may_change(fs_get(), "chmod", path);
	if (rc == 0)
		rc = shown(path, &st);
	if (rc > 0)
		rc = 0;
	else if (rc == 0 && (mode & 07777) != (st.st_mode & 07777)) {
		fs_refuse("chmod", path, EPERM, "modes and owners are fixed");
		rc = -EPERM;
	}
	return rc;
}

int
fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct stat st;
	int rc;

	rc = fs_may_change(fs_get(), "chown", path);
	if (rc == 0)
		rc = shown(path, &st);
	if (rc > 0)
		rc = 0;
	else if (rc == 0 && ((uid != (uid_t)-1 && uid != st.st_uid) ||
	    (gid != (gid_t)-1 && gid != st.st_gid))) {
		fs_refuse("chown", path, EPERM, "modes and owners are fixed");
		rc = -EPERM;
	}
	return rc;
}

int
fs_utimens(const char *path, const struct timespec tv[2],
    struct fuse_file_info *fi)
{
	struct stat st;
	int rc;

	/* mtimes are when a certificate changed; touch(1) succeeds and
	 * cannot fake them. */
	rc = fs_may_change(fs_get(), "utime", path);
	if (rc == 0)
		rc = shown(path, &st);
	return rc > 0 ? 0 : rc;
}

/*
 * 1 for a file that is no stored entry yet: a temporary name, or a file
 * being written.  Python's copy2 (Ansible's backup: yes) copies every
 * attribute of the file it copies onto the copy; on such a file that is
 * accepted and dropped, not refused nine times into audit.log.
 */
static int
xattr_dropped(const char *path)
{
	struct fs *fs = fs_get();
	struct tf_error err = { 0 };
	struct node n;
	char name[256];
	int temp, staged = 0;

	if (path == NULL || fs_route(path, &n) != 0)
		return 0;
	if (n.type == NODE_TOPTEMP)
		return 1;
	if (n.type != NODE_ENTRY ||
	    fs_key_name(&n, name, sizeof(name), &temp, &err) != 0)
		return 0;
	if (temp)
		return 1;
	pthread_mutex_lock(&fs->lock);
	staged = staged_find(fs, fs_node_db(&n), name) != NULL;
	pthread_mutex_unlock(&fs->lock);
	return staged;
}

/* Rights first, then: dropped on a temporary or a file being written,
 * refused on a stored entry. */
static int
xattr_change(const char *action, const char *path)
{
	int rc;

	rc = fs_may_change(fs_get(), action, path);
	if (rc != 0)
		return rc;
	if (xattr_dropped(path))
		return 0;
	/* ENOTSUP, not EPERM: cp -a and rsync -X skip attributes a file
	 * system does not support and still copy the file. */
	fs_refuse(action, path, ENOTSUP,
	    "the user.trustfs.* attributes are read-only");
	return -ENOTSUP;
}

int
fs_setxattr(const char *path, const char *name, const char *value,
    size_t size, int flags)
{
	return xattr_change("setxattr", path);
}

int
fs_removexattr(const char *path, const char *name)
{
	return xattr_change("removexattr", path);
}

int
fs_link(const char *from, const char *to)
{
	return refuse_op("link", to, EPERM, "no links in the trust store");
}

int
fs_symlink(const char *from, const char *to)
{
	return refuse_op("symlink", to, EPERM, "no links in the trust store");
}

int
fs_mknod(const char *path, mode_t mode, dev_t dev)
{
	return refuse_op("mknod", path, EPERM,
	    "only certificate files in the trust store");
}

int
fs_mkdir(const char *path, mode_t mode)
{
	return refuse_op("mkdir", path, EPERM, "the directories are fixed");
}

int
fs_rmdir(const char *path)
{
	return refuse_op("rmdir", path, EPERM, "the directories are fixed");
}
