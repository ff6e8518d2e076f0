/*
 * str.h - string assembly for hot paths.
 *
 * snprintf interprets its format on every call; keys and ARNs put together
 * on every invoke are plain concatenations, done here with memcpy.
 */
#ifndef LD_STR_H
#define LD_STR_H

#include <stddef.h>
#include <stdint.h>

/* Concatenates the strings that follow (a NULL ends the list) into out,
 * which has room for n bytes. The length written, or (size_t)-1 with out
 * "" when they do not fit. */
size_t str_join(char *out, size_t n, ...) __attribute__((sentinel));

/* v in decimal into out (room for 21 bytes); the length. */
size_t str_u64(char *out, uint64_t v);

/* Sets *c, *n to the next component of a '/'-separated path and advances
 * *p past it, skipping empty and "." components. Returns 0 at the end. */
int str_path_next(const char **p, const char **c, size_t *n);

#endif
