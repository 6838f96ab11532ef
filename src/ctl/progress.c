/* A throttled progress line on a terminal (progress.h). */
#include <stdio.h>
#include <unistd.h>

#include "progress.h"

#define PROGRESS_INTERVAL_NS 100000000L	/* at most ten redraws a second */
#define PROGRESS_BAR 24

void
progress_init(struct progress *p, int quiet)
{
	p->on = !quiet && isatty(STDERR_FILENO);
	p->drawn = 0;
	p->what = NULL;
	p->last.tv_sec = 0;
	p->last.tv_nsec = 0;
}

/* 1 if the last redraw is at least PROGRESS_INTERVAL_NS old (or none). */
static int
due(struct progress *p, const char *what)
{
	struct timespec now;
	long long ns;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ns = (long long)(now.tv_sec - p->last.tv_sec) * 1000000000LL +
	    (now.tv_nsec - p->last.tv_nsec);
	/* A new step (reading, parsing, adding) shows at once: there are
	 * few, and a fast one would otherwise never be seen. */
	if (p->drawn && ns < PROGRESS_INTERVAL_NS && what == p->what)
		return 0;
	p->last = now;
	p->what = what;
	return 1;
}

void
progress_show(struct progress *p, const char *task, size_t done,
    size_t total, const char *what)
{
	char bar[PROGRESS_BAR + 1];
	size_t i, fill;

	if (!p->on || !due(p, what))
		return;
	/* \r and "erase to end of line" (ECMA-48 EL, CSI K): the new text
	 * replaces the old whatever their lengths. */
	if (total == 0) {
		fprintf(stderr, "\r%s: %zu %s\033[K", task, done, what);
	} else {
		fill = done >= total ? PROGRESS_BAR :
		    (size_t)((double)done / (double)total * PROGRESS_BAR);
		for (i = 0; i < PROGRESS_BAR; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[PROGRESS_BAR] = '\0';
		fprintf(stderr, "\r%s: [%s] %zu/%zu %s\033[K", task, bar, done,
		    total, what);
	}
	fflush(stderr);
	p->drawn = 1;
}

void
progress_end(struct progress *p)
{
	if (p == NULL || !p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = 0;
}
