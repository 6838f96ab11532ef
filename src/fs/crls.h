/*
 * MOUNT/crls/ (DESIGN section 8, issue 13): one CRL per file, LABEL.crl.
 * route.c hands every crls/ path, and every open file of crls/, to these;
 * reads and writes of open files stay with io.c (a crls/ file is a
 * struct staged like any other, in the staged "database" STAGED_CRLS).
 */
#ifndef TRUSTFS_FS_CRLS_H
#define TRUSTFS_FS_CRLS_H

#include "fs.h"

/* The staged-file "database" of crls/. */
#define STAGED_CRLS (-3)

/* 1 if path is /crls or inside it. */
int crls_path(const char *path);
/* 1 if fi is an open file of crls/ being written. */
int crls_handle(struct fuse_file_info *fi);

int crls_getattr(const char *path, struct stat *st);
int crls_readdir(const char *path, void *buf, fuse_fill_dir_t filler);
int crls_open(const char *path, struct fuse_file_info *fi);
int crls_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int crls_flush(const char *path, struct fuse_file_info *fi);
int crls_truncate(const char *path, off_t size, struct fuse_file_info *fi);
int crls_unlink(const char *path);
int crls_rename(const char *from, const char *to, unsigned int flags);

#endif
