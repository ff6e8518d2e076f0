/*
 * file.h - small file helpers: a whole bounded file into memory, and the
 * one-value files of /proc and /sys (cgroups).
 */
#ifndef LD_UTIL_FILE_H
#define LD_UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Reads the file at path into a new buffer (*data, NUL-terminated past
 * *len bytes; free() it). Returns 0, LD_ENOTFOUND when it does not exist,
 * LD_ETOOBIG when it is larger than cap bytes, LD_ENOMEM, or LD_EIO. */
/* mkdir -p without allocating (safe in a forked child): 0, or -errno. */
int file_mkdir_p(const char *path, mode_t mode);

/* rm -rf: path and everything below it, without following symlinks. 0 (also
 * when it did not exist), or LD_EIO when something stayed. */
int file_rm_rf(const char *path);

int file_read(const char *path, size_t cap, void **data, size_t *len);

/* Writes val to DIR/NAME (opened for writing, not created). 0 or -errno. */
int file_put(const char *dir, const char *name, const char *val);

/* Reads DIR/NAME into buf (at most cap - 1 bytes, NUL-terminated). The
 * number of bytes, or -errno. */
int file_get(const char *dir, const char *name, char *buf, size_t cap);

#endif
