/*
 * logstore.h - the log store: CloudWatch Logs' groups, streams and events
 * on disk under DATA/logs/ (docs/logs.md describes the layout).
 *
 * One logstore_t per process (server_t's, opened by main.c), used from the
 * loop's thread only. It holds every log group of every ACCOUNT:REGION
 * scope with its streams in memory (names, times, sizes, and per stream the
 * list of its segment files with their timestamp range); events stay on
 * disk. A stream's events are appended to its active segment file with one
 * write(2) per batch, so an append that returned is in the kernel and
 * survives kill -9 of the daemon; opening the store scans only each
 * stream's last segment and truncates a torn last record. Readers seek by
 * time: segments whose timestamp range misses the asked window are never
 * read, the others are mapped and walked.
 *
 * Caps: the whole store is kept under max_bytes by dropping the oldest
 * segments first (by ingestion time, whatever their group), with one line
 * on stderr saying so (at most once a second, with counts). With a disk
 * (util/disk.h), an append first drops the oldest segments the same way
 * while the data directory's file system has less than its reserve free
 * beyond the append; when no segment is left, the append is refused
 * (LD_ENOSPC) and the stream's next stored append starts with a line
 * saying how many events were lost. Write failures for space are reported
 * through the disk, once per burst.
 *
 * Ownership: group and stream handles belong to the store and stay valid
 * until they are deleted (logstore_group_delete, logstore_stream_delete)
 * or the store is closed; names returned are the store's. Functions return
 * 0 or a negative LD_E* code (util/err.h).
 */
#ifndef LD_LOGSTORE_H
#define LD_LOGSTORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct logstore logstore_t;
struct disk;
typedef struct ls_group ls_group_t;
typedef struct ls_stream ls_stream_t;

#define LOGSTORE_DEFAULT_MAX (1024ull * 1024 * 1024) /* --logs-max-bytes: 1 GiB */
#define LOGSTORE_SEGMENT (4u * 1024 * 1024)          /* a segment file holds up to this */
#define LOGSTORE_MAX_EVENT (1024u * 1024)            /* a record's message, at most */
#define LOGSTORE_NAME_MAX 512                        /* group and stream names */

struct logstore_opts {
	uint64_t max_bytes;       /* the cap on all segments; 0: LOGSTORE_DEFAULT_MAX */
	uint32_t segment_bytes;   /* 0: LOGSTORE_SEGMENT, and never more than max_bytes / 16 */
	int readonly;             /* a reader beside the server (`lambdad logs`): nothing is changed on disk */
	const char *only_scope;   /* with only_group: load that one group (readonly readers) */
	const char *only_group;
	struct disk *disk;        /* the data directory's reserve (util/disk.h), borrowed; NULL: none kept */
};

/* Opens (creating DATA/logs) and loads the store. *out is the caller's
 * (logstore_close). 0, LD_EIO, LD_ENOMEM. */
int logstore_open(const char *data_dir, const struct logstore_opts *o, logstore_t **out);
void logstore_close(logstore_t *ls);

/* The wall clock in ms (CLOCK_REALTIME) the store stamps ingestion with. */
int64_t logstore_now_ms(void);

/* The file name a group or stream name gets on disk (at most 200 bytes
 * plus NUL: bytes outside [A-Za-z0-9_#-] and a leading '.' as %XX; a long
 * name as a prefix, '~' and a hash). The name itself is kept inside. */
void logstore_dirname(const char *name, char out[201]);

/* ---- groups ---- */
ls_group_t *logstore_group(logstore_t *ls, const char *scope, const char *name);
/* 0 with *out; LD_EEXIST; LD_EIO. */
int logstore_group_create(logstore_t *ls, const char *scope, const char *name, ls_group_t **out);
/* Removes the group, its streams and events; g is gone afterwards. */
int logstore_group_delete(logstore_t *ls, ls_group_t *g);
/* days 0: none. */
int logstore_group_set_retention(logstore_t *ls, ls_group_t *g, int days);
/* The scope's groups whose name starts with prefix (NULL: all), sorted by
 * name: *out (malloc'd array, the caller frees it, not the groups). The count. */
size_t logstore_groups(logstore_t *ls, const char *scope, const char *prefix, ls_group_t ***out);

struct logstore_group_info {
	const char *name;
	int64_t created;          /* ms */
	int retention_days;       /* 0: never expire */
	uint64_t bytes;
};
void logstore_group_info(const ls_group_t *g, struct logstore_group_info *out);

/* A place in a stream: before the record at byte off of segment seg. */
struct logstore_pos {
	uint32_t seg;
	uint64_t off;
};
#define LOGSTORE_POS_END ((struct logstore_pos){ UINT32_MAX, UINT64_MAX })

/* ---- streams ---- */
ls_stream_t *logstore_stream(ls_group_t *g, const char *name);
/* 0 with *out; LD_EEXIST; LD_EIO. */
int logstore_stream_create(logstore_t *ls, ls_group_t *g, const char *name, ls_stream_t **out);
int logstore_stream_delete(logstore_t *ls, ls_stream_t *s);
/* g's streams, sorted by name (*out as logstore_groups'). The count. */
size_t logstore_streams(ls_group_t *g, ls_stream_t ***out);

struct logstore_stream_info {
	const char *name;
	int64_t created;
	int64_t first_ts, last_ts, last_ingest; /* 0 when the stream holds no events */
	uint64_t bytes;
	uint64_t events;
	uint32_t id;              /* stable for the stream's life (event ids) */
	struct logstore_pos end;  /* the position after its last event */
};
void logstore_stream_info(const ls_stream_t *s, struct logstore_stream_info *out);

/* ---- events ---- */
struct logstore_event {
	int64_t ts;               /* ms since the epoch */
	int64_t ingest;           /* ms; 0 on append: now */
	const char *msg;
	size_t len;               /* at most LOGSTORE_MAX_EVENT */
};

/* Appends n events in one write (in the kernel when it returns), then keeps
 * the store under its cap. 0, LD_ETOOBIG (an event over LOGSTORE_MAX_EVENT),
 * LD_ENOSPC (no room even without any older segment: the events are
 * dropped, and counted in the next append's line), LD_EIO. */
int logstore_append(logstore_t *ls, ls_stream_t *s, const struct logstore_event *ev, size_t n);

/* Forward reading from a position, seeking by time: events with
 * start <= ts <= end (end < 0: no bound), in stored order. */
typedef struct logstore_cursor logstore_cursor_t;
int logstore_cursor_open(logstore_t *ls, ls_stream_t *s, struct logstore_pos from, int64_t start, int64_t end,
			 logstore_cursor_t **out);
/* 1 with *ev (its msg valid until the next call) and *at / *next (the
 * positions before and after it), 0 at the end, < 0 on error. */
int logstore_cursor_next(logstore_cursor_t *c, struct logstore_event *ev, struct logstore_pos *at,
			 struct logstore_pos *next);
void logstore_cursor_close(logstore_cursor_t *c);

/* The last `max` events before position `before` with start <= ts <= end
 * whose messages (with `overhead` bytes each) fit in max_bytes (at least
 * one), in stored order: fn is called for each (msg valid during the call);
 * *first gets the position of the first delivered (before itself when none). */
int logstore_read_back(logstore_t *ls, ls_stream_t *s, struct logstore_pos before, int64_t start, int64_t end,
		       size_t max, size_t max_bytes, size_t overhead,
		       void (*fn)(void *ud, const struct logstore_event *ev, struct logstore_pos at, struct logstore_pos next),
		       void *ud, struct logstore_pos *first);

/* ---- maintenance ---- */
/* Enforces the groups' retention: drops the segments whose newest event is
 * older than it and rewrites (a new file, renamed over) those holding
 * events on both sides of it. The number of segments dropped. */
int logstore_expire(logstore_t *ls, int64_t now_ms);

struct logstore_stats {
	uint64_t bytes, max_bytes;
	uint64_t dropped_segments, dropped_bytes; /* by the cap, since open */
	size_t groups, streams;
};
void logstore_stats(const logstore_t *ls, struct logstore_stats *out);

/* Parses a segment file's bytes (data, len) the way opening does: the
 * length of the prefix made of whole, intact records, and their count in
 * *count. For the fuzzer and the tests. */
size_t logstore_valid_prefix(const void *data, size_t len, uint64_t *count);

/* Tokens of GetLogEvents: "f/" or "b/" and 30 digits (segment, offset).
 * Parse: 0 with *dir ('f' or 'b') and *pos, LD_EINVAL. */
void logstore_token_format(char dir, struct logstore_pos pos, char out[40]);
int logstore_token_parse(const char *tok, char *dir, struct logstore_pos *pos);

#endif
