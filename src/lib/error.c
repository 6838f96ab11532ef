/* The library's one error channel (error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

void
tf_error_clear(struct tf_error *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

static int
error_vset(struct tf_error *e, int code, int with_errno, const char *fmt,
    va_list ap)
{
	size_t n;

	if (e == NULL)
		return code;
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	n = strlen(e->msg);
	if (with_errno && code < 0 && n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s",
		    strerror(-code));
	return code;
}

int
tf_error_set(struct tf_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = error_vset(e, code, 1, fmt, ap);
	va_end(ap);
	return code;
}

int
tf_error_setx(struct tf_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = error_vset(e, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

const char *
tf_error_msg(const struct tf_error *e)
{
	return e != NULL ? e->msg : "";
}
