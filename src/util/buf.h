/*
 * buf.h - growable byte buffer with a hard cap.
 *
 * Every buffer that input can grow is a buf_t with a cap chosen at creation
 * (the payload, body and archive limits of the API). Appending past the cap
 * fails with LD_ETOOBIG and leaves the buffer as it was. The buffer owns its
 * memory; buf_free() releases it, buf_steal() hands it to the caller.
 * The data is always NUL-terminated (not counted in len) so text can be used
 * directly as a C string.
 */
#ifndef LD_BUF_H
#define LD_BUF_H

#include <stddef.h>
#include <stdarg.h>

typedef struct buf {
	char *data;   /* NULL until the first append */
	size_t len;
	size_t alloc;
	size_t cap;   /* maximum len; 0 means SIZE_MAX */
} buf_t;

void buf_init(buf_t *b, size_t cap);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);                       /* len = 0, keeps memory */
int buf_append(buf_t *b, const void *p, size_t n); /* 0, LD_ETOOBIG, LD_ENOMEM */
/* Ensures room for `extra` more bytes (plus the NUL) so that a writer can
 * fill b->data + b->len directly and then advance b->len itself, keeping
 * b->len within the cap. 0, LD_ETOOBIG, LD_ENOMEM. */
int buf_reserve(buf_t *b, size_t extra);
int buf_puts(buf_t *b, const char *s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Returns the data (caller frees) and leaves b empty; never NULL on success
 * of the earlier appends: an empty buffer yields an allocated "". */
char *buf_steal(buf_t *b, size_t *len_out);

#endif
