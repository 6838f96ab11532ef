/* trustctl update (update.c): the sources of MOUNT/sources, fetched. */
#ifndef TRUSTCTL_UPDATE_H
#define TRUSTCTL_UPDATE_H

/* Returns an exit status: 0 every source fetched was imported (or none
 * was due), 1 at least one failed (recorded and audited), 2 usage or
 * I/O error. */
int ctl_update(const char *store_dir, int argc, char **argv);

#endif
