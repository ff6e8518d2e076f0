/*
 * spool.h - a request body on its way in: small ones in memory, large ones
 * in an unlinked temporary file, hashed as they come.
 *
 * The HTTP front appends a body's bytes as they arrive. A body stays in
 * memory (a buf_t) while it is at most `threshold` bytes and the shared
 * budget (spool_budget_t: the bytes of all bodies held in memory at once)
 * has room for it; beyond either, it moves to a temporary file created
 * unlinked (O_TMPFILE) in `dir` and goes on there, its SHA-256 computed on
 * the way (hex, for SigV4's payload hash, without reading the file again).
 * A body declared larger than the threshold goes to the file from its
 * first byte. spool_finish() gives the whole body as one read-only view:
 * the buffer, or the file mapped (MAP_PRIVATE, PROT_READ), NUL-terminated
 * either way (the NUL not counted), as buf_t's data is.
 *
 * Ownership: the spool owns its buffer, file and mapping until
 * spool_free(); the caller owns the budget and the spool_t. Not thread-safe
 * (the daemon's loop is one thread).
 */
#ifndef LD_UTIL_SPOOL_H
#define LD_UTIL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct spool_budget {
	size_t limit; /* bytes of bodies held in memory at once */
	size_t used;  /* charged now (allocated buffer sizes) */
	uint64_t spilled; /* bodies moved to a file so far (a count, for logs and tests) */
} spool_budget_t;

typedef struct spool {
	spool_budget_t *budget;
	const char *dir;
	size_t threshold; /* the most a body keeps in memory */
	size_t cap;       /* the body's limit: appends past it fail with LD_ETOOBIG */
	int direct;       /* declared above the threshold: to the file from the first byte */
	buf_t mem;        /* the body while in memory */
	size_t charged;   /* what mem holds of the budget */
	int fd;           /* the file, -1 while in memory */
	uint64_t len;     /* bytes appended */
	void *sha;        /* the running SHA-256 (EVP_MD_CTX) once in a file */
	void *map;        /* spool_finish's mapping of the file, or NULL */
	size_t maplen;
	char hex[65];     /* the finished file's SHA-256, "" for a body in memory */
} spool_t;

/* Starts an empty spool. expect is the body's declared length (0 when not
 * known, a chunked body): above threshold, the first append goes straight
 * to a file. Never fails. */
void spool_init(spool_t *s, spool_budget_t *budget, const char *dir, size_t threshold, size_t cap,
		uint64_t expect);

/* Appends n bytes. 0; LD_ETOOBIG past the cap (nothing appended);
 * LD_ENOMEM; LD_EIO when the file cannot be created or written (errno
 * says why). After a failure the spool only takes spool_free(). */
int spool_append(spool_t *s, const void *p, size_t n);

/* 1 once the body is in a file. */
int spool_on_disk(const spool_t *s);

/* The whole body as a read-only, NUL-terminated view, valid until
 * spool_free(): *data, *len, and *sha256 the hex SHA-256 of a body in a
 * file, NULL for one in memory (whose bytes are at hand to hash). 0,
 * LD_EIO (the mapping failed), LD_ENOMEM. */
int spool_finish(spool_t *s, const char **data, size_t *len, const char **sha256);

/* The in-memory buffer, for a caller that takes it over (req_take_body):
 * NULL when the body is in a file. */
buf_t *spool_buffer(spool_t *s);

/* Releases the buffer (unless taken), the file, the mapping and the
 * budget's charge. Safe on a spool that failed, and twice. */
void spool_free(spool_t *s);

#endif
