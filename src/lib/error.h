/*
 * One error channel for every layer of libtrustfs, after libtls's
 * struct tls_error: a failure is a negative errno plus a message for a
 * person.  Whoever starts an operation owns the structure and hands it
 * down; every layer writes into it instead of a buffer of its own, so a
 * message always belongs to the failure it is reported with.
 */
#ifndef TRUSTFS_ERROR_H
#define TRUSTFS_ERROR_H

struct tf_error {
	int code;		/* the failure as a negative errno; 0: none */
	char msg[1024];		/* for a person; "" when none */
};

/* Forgets any earlier failure.  NULL-safe. */
void tf_error_clear(struct tf_error *e);

/*
 * Record a failure and return `code', so that a caller can write
 * `return tf_error_setx(e, -EINVAL, "...")'.  tf_error_set appends
 * ": " and strerror(-code), tf_error_setx keeps the message as given.
 * Both accept e == NULL (the caller wants only the code).
 */
int tf_error_set(struct tf_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tf_error_setx(struct tf_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message: "" when there is none or e is NULL.  Valid while e is. */
const char *tf_error_msg(const struct tf_error *e);

#endif
