/*
 * blobs.h - content-addressed storage of code and layer archives.
 *
 * An archive is stored once under DATA/blobs/<2 hex>/<sha256 hex>.zip, named
 * by the SHA-256 of its bytes, so identical uploads share one file and a
 * record only needs the digest. Files are written to a temporary name and
 * renamed into place, so a crash of lambdad never leaves a partial blob
 * under a real name; they are fsync'ed before the rename only when the store
 * makes every commit survive power loss too (LAMBDAD_SYNC_FULL=1, read once
 * at blobs_open: docs/store.md), so that a blob is exactly as durable as the
 * record that names it. Blobs are immutable once written.
 */
#ifndef LD_BLOBS_H
#define LD_BLOBS_H

#include <stddef.h>
#include <stdint.h>

typedef struct blobs blobs_t;
struct disk;

/* Opens (creating) DATA/blobs. *out owned by the caller. LD_EIO/LD_ENOMEM. */
int blobs_open(const char *data_dir, blobs_t **out);
void blobs_close(blobs_t *b);

/* Makes blobs_put keep d's reserve free and report a full file system
 * through it (util/disk.h; d borrowed, NULL: none). */
void blobs_use_disk(blobs_t *b, struct disk *d);

/* SHA-256 of data as 64 hex digits (hex[65]) and as base64 (b64[45], the
 * form of Lambda's CodeSha256). Either may be NULL. */
void blobs_digest(const void *data, size_t len, char hex[65], char b64[45]);

/* Stores data under hex, its digest as blobs_digest wrote it (the caller
 * has it already: the data is hashed once); 0, LD_ENOSPC (it would pass
 * the disk's reserve, or the file system is full), LD_EIO. */
int blobs_put(blobs_t *b, const void *data, size_t len, const char hex[65]);

/* Path of a stored blob into out; 0, or LD_ENOTFOUND if absent. */
int blobs_path(blobs_t *b, const char *hex, char *out, size_t outlen);

/* Reads a stored blob into *data (malloc'd, caller frees). */
int blobs_read(blobs_t *b, const char *hex, void **data, size_t *len);

#endif
