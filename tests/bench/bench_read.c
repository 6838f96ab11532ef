/*
 * bench_read: warm open + read + close of whole files, in one process,
 * side by side.  Runs are interleaved (one run of each file in turn), so
 * that a loaded machine slows every file alike.
 *
 * bench_read [-n OPS] [-r RUNS] [-w WARMUP] LABEL=PATH...
 *
 * Each run times OPS open/read/close of the whole file; a run's figure is
 * its time per operation.  Prints, per file, one line:
 *   LABEL  median_us  p10_us  p90_us  bytes  runs
 * Exit status 1 if a read fails or a file's size changes between reads
 * (a reader must always see the whole file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXFILES 16

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of sorted v, nearest rank. */
static double
pct(const double *v, int n, int p)
{
	int i = (p * n + 99) / 100 - 1;

	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* One open + read of the whole file + close: its size, or -errno. */
static long
read_once(const char *path, char *buf, size_t bufsz)
{
	long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, bufsz)) > 0)
		total += n;
	if (n < 0)
		total = -errno;
	close(fd);
	return total;
}

int
main(int argc, char *argv[])
{
	const char *label[MAXFILES], *path[MAXFILES];
	double *t[MAXFILES] = { NULL };
	long size[MAXFILES];
	int ops = 200, runs = 31, warm = 20, nf = 0, c, i, r, k, rc = 1;
	size_t bufsz = 1 << 20;
	char *buf = NULL;

	while ((c = getopt(argc, argv, "n:r:w:")) != -1) {
		switch (c) {
		case 'n': ops = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (ops < 1 || runs < 1 || warm < 0 || optind >= argc ||
	    argc - optind > MAXFILES)
		goto usage;
	for (i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq == NULL)
			goto usage;
		*eq = '\0';
		label[nf] = argv[i];
		path[nf] = eq + 1;
		nf++;
	}
	if ((buf = malloc(bufsz)) == NULL)
		goto out;
	for (k = 0; k < nf; k++) {
		if ((t[k] = calloc((size_t)runs, sizeof(double))) == NULL)
			goto out;
		/* Warm every cache there is, and learn the size. */
		for (i = 0; i < warm + 1; i++)
			if ((size[k] = read_once(path[k], buf, bufsz)) < 0) {
				fprintf(stderr, "bench_read: %s: %s\n",
				    path[k], strerror((int)-size[k]));
				goto out;
			}
	}
	for (r = 0; r < runs; r++)
		for (k = 0; k < nf; k++) {
			double s = now_us();

			for (i = 0; i < ops; i++) {
				long got = read_once(path[k], buf, bufsz);

				if (got != size[k]) {
					fprintf(stderr, "bench_read: %s: read "
					    "%ld bytes, expected %ld\n",
					    path[k], got, size[k]);
					goto out;
				}
			}
			t[k][r] = (now_us() - s) / ops;
		}
	for (k = 0; k < nf; k++) {
		qsort(t[k], (size_t)runs, sizeof(double), cmp_double);
		printf("%s\t%.2f\t%.2f\t%.2f\t%ld\t%d\n", label[k],
		    pct(t[k], runs, 50), pct(t[k], runs, 10),
		    pct(t[k], runs, 90), size[k], runs);
	}
	rc = 0;
	goto out;
usage:
	fprintf(stderr, "usage: bench_read [-n OPS] [-r RUNS] [-w WARMUP] "
	    "LABEL=PATH...\n");
	rc = 2;
out:
	for (k = 0; k < MAXFILES; k++)
		free(t[k]);
	free(buf);
	return rc;
}
