/*
 * gc.h - garbage collection of the data directory's content-addressed
 * files: code archives (DATA/blobs), their extracted trees (DATA/code) and
 * container image layers (DATA/layers) that no function version and no
 * layer version references any more (docs/images.md).
 *
 * It runs once at start-up, after the environments of a previous run are
 * reaped and before anything can run or pull: then nothing uses a file
 * that no record names, so nothing is removed from under a running
 * environment. A record and the file it names are written in one handler
 * before its answer, so an acknowledged write never loses its file; a file
 * whose record a crash kept from being written is collected.
 */
#ifndef LD_API_GC_H
#define LD_API_GC_H

#include "server.h"

struct gc_stats {
	int blobs, code_dirs, layers;  /* removed */
	unsigned long long bytes;      /* of blobs removed */
};

/* Removes what no record references; *st (may be NULL) says what went.
 * 0, or the store's error (then nothing was removed). */
int gc_collect(server_t *srv, struct gc_stats *st);

#endif
