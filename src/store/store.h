/*
 * store.h - the metadata store: an interface, with SQLite as the default.
 *
 * Everything lambdad knows (functions, versions, aliases, tags, and later
 * layers, policies, queues) is a JSON document addressed by
 * (kind, scope, key): kind names the record type ("fn", "ver", "alias"...),
 * scope is "ACCOUNT:REGION", and key orders records within a kind (listing
 * and Marker paging walk keys in byte order). A backend is a table of
 * function pointers (struct store_ops); handlers only use the store_* calls
 * below, so a PostgreSQL backend can be added without touching them.
 *
 * Durability: a write is durable when store_commit() (or a single put/del
 * outside a transaction) returns 0: it survives kill -9 of the daemon.
 * Every call returns 0 or a negative LD_E* code (LD_ENOTFOUND for a missing
 * key, LD_ENOSPC when the file system is full, LD_ESTORE for other backend
 * failures). The store does not keep the data directory's reserve
 * (util/disk.h): the bulk writers do, so that its small writes find room.
 */
#ifndef LD_STORE_H
#define LD_STORE_H

#include <jansson.h>
#include <stddef.h>

typedef struct store store_t;

/* Called for each listed record; return non-zero to stop early. doc is only
 * valid during the call. */
typedef int (*store_iter_fn)(void *ud, const char *key, const char *doc, size_t len);

struct store_ops {
	const char *name;
	int (*open)(const char *data_dir, store_t **out);
	void (*close)(store_t *s);
	int (*begin)(store_t *s);
	int (*commit)(store_t *s);
	void (*rollback)(store_t *s);
	/* *doc is malloc'd, owned by the caller */
	int (*get)(store_t *s, const char *kind, const char *scope, const char *key, char **doc, size_t *len);
	int (*put)(store_t *s, const char *kind, const char *scope, const char *key, const char *doc, size_t len);
	int (*del)(store_t *s, const char *kind, const char *scope, const char *key);
	/* keys > after (or all when after is NULL) that start with prefix (NULL: any),
	 * in key order, at most limit (<= 0: no limit) */
	int (*list)(store_t *s, const char *kind, const char *scope, const char *prefix,
		    const char *after, int limit, store_iter_fn fn, void *ud);
	/* deletes every key of (kind, scope) that starts with prefix */
	int (*del_prefix)(store_t *s, const char *kind, const char *scope, const char *prefix);
	/* every scope with records of kind (for start-up recovery), as list does */
	int (*scopes)(store_t *s, const char *kind, store_iter_fn fn, void *ud);
};

/* The common part of every backend's store (the backend's struct starts
 * with it and zeroes it when it opens): the ops, and store.c's cache of
 * parsed documents. */
struct store {
	const struct store_ops *ops;
	json_t *cache;       /* "kind\x1fscope\x1fkey" -> parsed document */
	json_t *derived;     /* the same keys -> {tag: value made from that document} */
	int in_tx;           /* a transaction is open: reads do not fill the cache */
	struct disk *disk;   /* where a backend reports a full file system (util/disk.h), borrowed; may be NULL */
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops; /* pg.c: its open takes the conninfo for data_dir */

/* Opens the backend named by `backend`: "sqlite" (or NULL) in data_dir, or
 * PostgreSQL when backend is a libpq connection URI (postgresql://... or
 * postgres://...) or a key=value conninfo (data_dir is then not used). */
int store_open(const char *backend, const char *data_dir, store_t **out);
void store_close(store_t *s);

int store_begin(store_t *s);
int store_commit(store_t *s);
void store_rollback(store_t *s);
int store_del(store_t *s, const char *kind, const char *scope, const char *key);
int store_del_prefix(store_t *s, const char *kind, const char *scope, const char *prefix);
int store_list(store_t *s, const char *kind, const char *scope, const char *prefix,
	       const char *after, int limit, store_iter_fn fn, void *ud);
/* The stored text of a record, unparsed (*doc malloc'd, the caller's). */
int store_get(store_t *s, const char *kind, const char *scope, const char *key, char **doc, size_t *len);
/* Every scope with records of kind, as store_list calls fn (start-up recovery). */
int store_scopes(store_t *s, const char *kind, store_iter_fn fn, void *ud);

/* JSON conveniences: *out is a new reference owned by the caller.
 * store_get_json returns LD_ENOTFOUND when missing, LD_ECORRUPT when the
 * stored text is not JSON. */
int store_get_json(store_t *s, const char *kind, const char *scope, const char *key, json_t **out);
int store_put_json(store_t *s, const char *kind, const char *scope, const char *key, json_t *doc);

/* Called by store_list_json for each listed record with the parsed document,
 * shared with the cache: borrowed for the call (json_incref to keep it), never
 * modified. Return non-zero to stop early. */
typedef int (*store_iter_json_fn)(void *ud, const char *key, json_t *doc);

/* store_list with every document parsed once: a document in the cache is not
 * parsed again, and one parsed here enters the cache (outside transactions),
 * so listing the same records again costs the backend's range scan only.
 * Records whose text is not JSON are skipped. */
int store_list_json(store_t *s, const char *kind, const char *scope, const char *prefix,
		    const char *after, int limit, store_iter_json_fn fn, void *ud);

/* A value derived from doc, the shared document store_list_json or
 * store_peek_json handed out for (kind, scope, key): made by make(doc) once
 * and kept beside the cached document under tag until that document leaves
 * the cache (a put, a delete, a rollback), so a listing that answers the
 * same view of the same documents again does not rebuild it. A new
 * reference, read-only like doc; NULL when make fails. When doc is not the
 * cached document (read inside a transaction), make(doc) is returned as is. */
json_t *store_derived(store_t *s, const char *kind, const char *scope, const char *key, json_t *doc,
		      const char *tag, json_t *(*make)(json_t *doc));

/* Like store_get_json, but *out is a shared, read-only document (a new
 * reference the caller must json_decref and must never modify): the cheap
 * way for handlers that only read. */
int store_peek_json(store_t *s, const char *kind, const char *scope, const char *key, json_t **out);

#endif
