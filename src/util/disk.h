/*
 * disk.h - free-space headroom of the data directory, and reports of
 * writes the file system refused.
 *
 * One disk_t per process (server_t's, opened by main.c on the data
 * directory), used from the loop's thread. Bulk writers (the log store,
 * code blobs, extracted code and layers) ask disk_room() before they write:
 * it says no when the write would leave less than the reserve free on the
 * data directory's file system (statvfs), so that the metadata store
 * (SQLite), which does not ask, always finds room for its small writes.
 * Every writer that sees ENOSPC or EDQUOT (or is refused by disk_room)
 * calls disk_failed(), which prints one line to stderr with the errno text
 * and the path, once per burst: the first failure after a quiet period, then
 * at most every DISK_NOTICE_MS with the count of the ones not printed.
 *
 * A quarter of the reserve (at most DISK_BALLAST_MAX) is held as a file,
 * DIR/.ballast, so that a writer outside lambdad that fills the file system
 * to its last byte still leaves the store room: the store calls
 * disk_guard() before it writes, which deletes the ballast when less than
 * its size is free, and creates it again once the reserve is free beside it.
 *
 * Ownership: disk_t is main.c's (disk_open / disk_close); paths passed are
 * only read during the call. Functions return 0 or a negative LD_E* code.
 */
#ifndef LD_DISK_H
#define LD_DISK_H

#include <stdint.h>

typedef struct disk disk_t;

#define DISK_NOTICE_MS 10000 /* a burst of failures is reported at most this often */
#define DISK_BALLAST_MAX (4u * 1024 * 1024) /* the ballast file: a quarter of the reserve, at most this */

/* Parses --disk-reserve: bytes ("67108864") or a percentage of the file
 * system's size ("5%", 0-50). 0 with *bytes or *pct set (the other 0);
 * LD_EINVAL. */
int disk_parse_reserve(const char *text, uint64_t *bytes, unsigned *pct);

/* The reserve: bytes, or pct percent of the file system's size, or both 0
 * for the default (main.c passes quotas.h's QUOTA_DISK_RESERVE and
 * QUOTA_DISK_RESERVE_PCT): default_bytes, but at most default_pct percent
 * of the size, so that a small file system keeps most of itself usable. */
struct disk_reserve {
	uint64_t bytes;
	unsigned pct;
	uint64_t default_bytes;
	unsigned default_pct;
};

/* The reserve for a file system of `size` bytes. */
uint64_t disk_reserve_for(uint64_t size, const struct disk_reserve *r);

/* Watches dir's file system keeping the reserve r (copied). *out is the
 * caller's. 0, LD_EIO (statvfs failed), LD_ENOMEM. */
int disk_open(const char *dir, const struct disk_reserve *r, disk_t **out);
void disk_close(disk_t *d);
/* Changes the reserve (the ballast follows at the next disk_guard). */
void disk_set_reserve(disk_t *d, const struct disk_reserve *r);

/* 0 when writing `need` bytes leaves at least the reserve free; LD_ENOSPC
 * otherwise, reported as a refused write of path (what says who wanted to
 * write) unless path is NULL (the caller only asks). d NULL: always 0. */
int disk_room(disk_t *d, uint64_t need, const char *path, const char *what);

/* Reports that writing path failed with errno err (what: who wrote).
 * Printed for ENOSPC and EDQUOT only, once per burst; other errors are the
 * caller's to report. Returns LD_ENOSPC for those two, else LD_EIO, so
 * `return disk_failed(...)` gives the caller's code. d may be NULL. */
int disk_failed(disk_t *d, int err, const char *path, const char *what);

/* Before a metadata write: deletes the ballast when less than its size is
 * free (one line on stderr), creates it when it is missing and the reserve
 * is free beside it. d may be NULL. */
void disk_guard(disk_t *d);

/* errno of a failed write is ENOSPC or EDQUOT */
int disk_full_errno(int err);

struct disk_stats {
	uint64_t size, avail, reserve; /* bytes, as of the last look */
	uint64_t failures;             /* writes refused or failed for space, since open */
};
/* Looks at the file system now (statvfs) and fills *out. */
void disk_stats(disk_t *d, struct disk_stats *out);

#endif
