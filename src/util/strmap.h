/*
 * strmap.h - a hash map from strings to pointers.
 *
 * Open addressing with linear probing and tombstones, FNV-1a hashing, kept
 * at most half full. Keys are copied; values are the caller's. For the
 * per-function and per-version tables of execution, where a lookup happens
 * on every invoke and a list walk would cost O(functions).
 */
#ifndef LD_STRMAP_H
#define LD_STRMAP_H

#include <stddef.h>

typedef struct strmap strmap_t;

/* A new empty map (*out, the caller's: strmap_free). 0 or LD_ENOMEM. */
int strmap_new(strmap_t **out);

/* Frees the map and its keys; free_val (may be NULL) is called for every value. */
void strmap_free(strmap_t *m, void (*free_val)(void *val));

/* The value of key, or NULL. */
void *strmap_get(const strmap_t *m, const char *key);

/* Sets key to val (replacing what it had). 0 or LD_ENOMEM (the map is unchanged). */
int strmap_put(strmap_t *m, const char *key, void *val);

/* Removes key; returns its value (NULL when absent). */
void *strmap_del(strmap_t *m, const char *key);

size_t strmap_size(const strmap_t *m);

/* Calls fn for every entry, in no particular order; fn must not change the map. */
void strmap_each(const strmap_t *m, void (*fn)(void *ud, const char *key, void *val), void *ud);

#endif
