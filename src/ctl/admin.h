/* trustctl's store administration commands; each returns an exit status. */
#ifndef TRUSTCTL_ADMIN_H
#define TRUSTCTL_ADMIN_H

int admin_export(const char *store_dir, int argc, char **argv);
int admin_backup(const char *store_dir, int argc, char **argv);
int admin_restore(const char *store_dir, int argc, char **argv);

#endif
