/*
 * A progress line for a person watching a long command: on standard
 * error, only when it is a terminal, redrawn at most ten times a second
 * (a redraw per certificate would cost more than the work on a slow
 * terminal or ssh link), and erased when the command ends, so that what
 * the command prints afterwards starts on a clean line.
 */
#ifndef TRUSTCTL_PROGRESS_H
#define TRUSTCTL_PROGRESS_H

#include <stddef.h>
#include <time.h>

struct progress {
	int on;			/* standard error is a terminal, not --quiet */
	int drawn;		/* something is on the line now */
	struct timespec last;	/* of the last redraw */
	const char *what;	/* the step it showed */
};

/* Shows progress when standard error is a terminal and quiet is 0. */
void progress_init(struct progress *p, int quiet);
/*
 * "import: [#####-----] done/total what" (total 0: "import: done what",
 * no bar).  The first call of a step (another `what' pointer) draws at
 * once; the others of that step only 100 ms after the last redraw.
 */
void progress_show(struct progress *p, const char *task, size_t done,
    size_t total, const char *what);
/* Clears the line if anything is on it.  NULL-safe. */
void progress_end(struct progress *p);

#endif
