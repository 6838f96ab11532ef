/*
 * Files being written (staged in memory until they are closed, or renamed
 * when they have a temporary name) and open handles.  Bookkeeping only:
 * everything here runs under fs->lock (see fs.h) and never touches the
 * store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs.h"

struct staged *
staged_find(struct fs *fs, int db, const char *name)
{
	struct staged *s;

	for (s = fs->staged; s != NULL; s = s->next)
		if (s->db == db && !s->unlinked && strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

struct staged *
staged_new(struct fs *fs, int db, const char *name, int temp)
{
	struct staged *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->db = db;
	s->temp = temp;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->mtime = time(NULL);
	s->next = fs->staged;
	fs->staged = s;
	return s;
}

static void
staged_free(struct fs *fs, struct staged *s)
{
	struct staged **pp;

	for (pp = &fs->staged; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	buf_free(&s->data);
	free(s);
}

/* Drops a staged file now, or when its last handle closes. */
void
staged_drop(struct fs *fs, struct staged *s)
{
	if (s->opens > 0)
		s->unlinked = 1;
	else
		staged_free(fs, s);
}

void
staged_wait(struct fs *fs, struct staged *s)
{
	while (s->busy)
		pthread_cond_wait(&fs->idle, &fs->lock);
}

void
staged_done(struct fs *fs, struct staged *s)
{
	s->busy = 0;
	pthread_cond_broadcast(&fs->idle);
}

/* Sets a staged file's length, zero-filling growth. */
int
staged_resize(struct staged *s, size_t len)
{
	int rc;

	if (len > s->data.len) {
		rc = buf_reserve(&s->data, len - s->data.len);
		if (rc != 0)
			return rc;
		memset(s->data.data + s->data.len, 0, len - s->data.len);
	}
	s->data.len = len;
	if (s->data.data != NULL)
		s->data.data[len] = '\0';
	s->dirty = 1;
	s->written = 1;
	s->mtime = time(NULL);
	return 0;
}

int
staged_unref(struct fs *fs, struct staged *s)
{
	int lost = 0;

	if (--s->opens > 0 || (s->temp && !s->unlinked))
		return 0;
	/* Written after the opener's last close (a child that kept the
	 * descriptor), or by an opener that never closed: not stored. */
	lost = !s->unlinked && !s->temp && s->db != STAGED_TOP && s->dirty &&
	    s->written && !s->too_big;
	staged_free(fs, s);
	return lost;
}

int
staged_names(struct fs *fs, int db, char ***names, size_t *n)
{
	struct staged *s;
	char **v = NULL;
	size_t cap = 0, i = 0;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	for (s = fs->staged; s != NULL; s = s->next)
		if (s->db == db && !s->unlinked)
			cap++;
	if (cap > 0 && (v = calloc(cap, sizeof(*v))) == NULL)
		rc = -ENOMEM;
	for (s = fs->staged; rc == 0 && s != NULL; s = s->next) {
		if (s->db != db || s->unlinked)
			continue;
		/* A temporary's name is listed as it is; a file being
		 * written only while the store does not have it yet: the
		 * caller checks, so mark which is which. */
		v[i] = malloc(strlen(s->name) + 2);
		if (v[i] == NULL) {
			rc = -ENOMEM;
			break;
		}
		v[i][0] = s->temp ? 't' : 'w';
		strcpy(v[i] + 1, s->name);
		i++;
	}
	pthread_mutex_unlock(&fs->lock);
	if (rc != 0) {
		staged_names_free(v, i);
		v = NULL;
		i = 0;
	}
	*names = v;
	*n = i;
	return rc;
}

void
staged_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
handle_new(struct fs *fs, struct fuse_file_info *fi, struct handle **out)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return -ENOMEM;
	/* Only a writer's owner is ever asked for (its close commits), and
	 * finding it reads /proc: readers skip it. */
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		h->owner = fs_caller_tgid();
	pthread_mutex_lock(&fs->lock);
	h->next = fs->handles;
	if (h->next != NULL)
		h->next->prev = h;
	fs->handles = h;
	pthread_mutex_unlock(&fs->lock);
	fi->fh = (uint64_t)(uintptr_t)h;
	*out = h;
	return 0;
}

struct handle *
handle_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

static void
handle_unlink(struct fs *fs, struct handle *h)
{
	if (h->prev != NULL)
		h->prev->next = h->next;
	else if (fs->handles == h)
		fs->handles = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

void
handle_free(struct fs *fs, struct handle *h)
{
	pthread_mutex_lock(&fs->lock);
	handle_unlink(fs, h);
	pthread_mutex_unlock(&fs->lock);
	views_put(fs, h->snap);
	buf_free(&h->own);
	free(h);
}

int
staged_open(struct fs *fs, int db, const char *name, int temp, int trunc,
    int must_exist, int replace, struct buf *init, struct fuse_file_info *fi)
{
	struct staged *s;
	struct handle *h = NULL;
	int rc;

	rc = handle_new(fs, fi, &h);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	s = staged_find(fs, db, name);
	if (s == NULL) {
		s = staged_new(fs, db, name, temp);
		if (s == NULL) {
			pthread_mutex_unlock(&fs->lock);
			handle_free(fs, h);
			return -ENOMEM;
		}
		s->data = *init;
		memset(init, 0, sizeof(*init));
		s->dirty = trunc || !must_exist;
		s->replace = replace;
		/* An existing file opened to be edited in place is judged at
		 * its close only. */
		s->defer = !trunc;
	} else if (trunc) {
		s->opens++;	/* keeps s while waiting */
		staged_wait(fs, s);
		s->opens--;
		buf_reset(&s->data);
		s->dirty = 1;
		s->too_big = 0;
		s->refused = 0;
		s->defer = 0;
		s->checked = s->checked_lines = 0;
		s->append_from = 0;
		s->mtime = time(NULL);
	}
	s->opens++;
	s->writer = h->owner;
	h->stg = s;
	pthread_mutex_unlock(&fs->lock);
	fi->direct_io = 1;
	return 0;
}

int
staged_open_reader(struct fs *fs, int db, const char *name, int temp,
    int look, staged_render_fn render, const void *arg,
    struct fuse_file_info *fi)
{
	struct staged *s = NULL;
	struct handle *h;
	int rc;

	rc = handle_new(fs, fi, &h);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	if (look)
		s = staged_find(fs, db, name);
	if (s != NULL && !s->temp && s->writer != 0) {
		/* An entry being written is not trusted until its close
		 * commits it: another process reads what is stored (or
		 * ENOENT for a new name), never a half-written file.  Its
		 * writer reads back what it wrote.  The caller's thread
		 * group comes from /proc, read with fs->lock released. */
		pid_t writer = s->writer;

		pthread_mutex_unlock(&fs->lock);
		if (fs_caller_tgid() != writer)
			look = 0;
		pthread_mutex_lock(&fs->lock);
		s = look ? staged_find(fs, db, name) : NULL;
	}
	if (s != NULL)
		rc = buf_append(&h->own, s->data.data ? s->data.data : "",
		    s->data.len);
	pthread_mutex_unlock(&fs->lock);
	/* The store is read with fs->lock released (fs.h). */
	if (s == NULL)
		rc = temp ? -ENOENT : render(fs, arg, name, &h->own);
	if (rc != 0) {
		handle_free(fs, h);
		return fs_errno(rc);
	}
	h->data = h->own.data;
	h->len = h->own.len;
	/* Sizes of rendered files follow the clock ("expires in N days"):
	 * read them through, not from the page cache. */
	fi->direct_io = 1;
	return 0;
}

int
staged_run(struct fs *fs, struct staged *s, staged_commit_fn fn,
    const void *arg)
{
	int rc;

	s->busy = 1;
	pthread_mutex_unlock(&fs->lock);
	rc = fn(fs, arg, s->data.data ? s->data.data : "", s->data.len);
	pthread_mutex_lock(&fs->lock);
	staged_done(fs, s);
	return rc;
}

int
staged_commit_renamed(struct fs *fs, struct staged *s, staged_commit_fn fn,
    const void *arg)
{
	int rc = staged_run(fs, s, fn, arg);

	if (rc == 0)
		staged_drop(fs, s);
	return rc;
}

void
staged_free_all(struct fs *fs)
{
	struct handle *h;
	struct staged *s;

	/* The loop has stopped with files still open (SIGTERM, umount -l):
	 * their releases will never come. */
	while ((h = fs->handles) != NULL) {
		handle_unlink(fs, h);
		views_put(fs, h->snap);
		buf_free(&h->own);
		free(h);
	}
	while ((s = fs->staged) != NULL) {
		if (!s->temp && s->dirty && s->written && !s->unlinked)
			fs_log(LOG_WARNING, "stopping: %s%s%s was being "
			    "written and is not stored", s->db >= 0 ?
			    entry_db_dir((enum store_db)s->db) : "",
			    s->db >= 0 ? "/" : "", s->name);
		staged_free(fs, s);
	}
}
