/*
 * file.h - reading a whole (small or bounded) file into memory.
 */
#ifndef LD_UTIL_FILE_H
#define LD_UTIL_FILE_H

#include <stddef.h>

/* Reads the file at path into a new buffer (*data, NUL-terminated past
 * *len bytes; free() it). Returns 0, LD_ENOTFOUND when it does not exist,
 * LD_ETOOBIG when it is larger than cap bytes, LD_ENOMEM, or LD_EIO. */
int file_read(const char *path, size_t cap, void **data, size_t *len);

#endif
