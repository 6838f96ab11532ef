/* What trustctl's command modules share: exit statuses and usage texts. */
#ifndef TRUSTCTL_CTL_H
#define TRUSTCTL_CTL_H

#include <stdio.h>

#define EXIT_TRUSTED 0	/* trusted, or the command did what it was asked */
#define EXIT_REFUSED 1	/* not trusted */
#define EXIT_ERROR 2	/* usage or I/O error */

/* The usage of one command (cmd), or of trustctl (cmd NULL or unknown). */
void ctl_usage(FILE *f, const char *cmd);

/* trustctl list (list.c); returns an exit status. */
int ctl_list(const char *store_dir, int argc, char **argv);

/* trustctl import (import.c); returns an exit status. */
int ctl_import(const char *store_dir, int argc, char **argv);

#endif
