/* A growable byte buffer used by the renderers and the file system. */
#ifndef TRUSTFS_BUF_H
#define TRUSTFS_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated when len > 0; owned */
	size_t len;
	size_t cap;
};

/* Each returns 0, or -ENOMEM and leaves the buffer as it was. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);	/* len = 0, keeps memory */
void buf_free(struct buf *b);	/* releases memory; NULL-safe */

#endif
