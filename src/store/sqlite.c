/*
 * sqlite.c - the embedded store backend: one SQLite database in WAL mode.
 *
 * One table holds every document: docs(kind, scope, key, doc), keyed and
 * ordered by (kind, scope, key), WITHOUT ROWID so a listing is one index
 * range scan. Statements are prepared once. synchronous=NORMAL in WAL mode
 * makes a committed transaction survive a crash of the process (kill -9);
 * surviving power loss as well needs synchronous=FULL, chosen with the
 * environment variable LAMBDAD_SYNC_FULL=1 (see docs/store.md).
 */
#include "store/store.h"
#include "util/disk.h"
#include "util/err.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The page size of a new database (an existing one keeps its own). With
 * 4 KB pages a function's configuration (about 1 KB) does not fit in a
 * WITHOUT ROWID leaf cell (at most ~1000 bytes there) and spills into an
 * overflow page: every put then writes and frees a page more, two more
 * WAL frames per write. 8 KB pages keep documents up to ~2 KB in the leaf
 * (CreateFunction measured: 8 KB pages cost the least CPU; 16 KB pages
 * write fewer frames but checksum and copy twice the bytes per frame). */
#define PAGE_SIZE 8192

enum { Q_GET, Q_PUT, Q_DEL, Q_LIST, Q_LIST_AFTER, Q_DEL_PREFIX, Q_SCOPES, Q_BEGIN, Q_COMMIT, Q_ROLLBACK, NQ };

static const char *const sql[NQ] = {
	[Q_GET] = "SELECT doc FROM docs WHERE kind=?1 AND scope=?2 AND key=?3",
	[Q_PUT] = "INSERT INTO docs(kind,scope,key,doc) VALUES(?1,?2,?3,?4) "
		  "ON CONFLICT(kind,scope,key) DO UPDATE SET doc=excluded.doc",
	[Q_DEL] = "DELETE FROM docs WHERE kind=?1 AND scope=?2 AND key=?3",
	/* prefix ranges use key >= prefix AND key < prefix||x'ff' so the index is used */
	[Q_LIST] = "SELECT key, doc FROM docs WHERE kind=?1 AND scope=?2 AND key>=?3 AND key<?4 "
		   "ORDER BY key LIMIT ?5",
	[Q_LIST_AFTER] = "SELECT key, doc FROM docs WHERE kind=?1 AND scope=?2 AND key>?3 AND key<?4 "
			 "ORDER BY key LIMIT ?5",
	[Q_DEL_PREFIX] = "DELETE FROM docs WHERE kind=?1 AND scope=?2 AND key>=?3 AND key<?4",
	[Q_SCOPES] = "SELECT DISTINCT scope, '' FROM docs WHERE kind=?1 ORDER BY scope",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

struct sqlite_store {
	store_t base;
	sqlite3 *db;
	sqlite3_stmt *st[NQ];
	int in_tx;
	char path[4096];
};

/* the code of a failed step: a full file system (SQLITE_FULL) is
 * reported (util/disk.h) and answered LD_ENOSPC, anything else LD_ESTORE */
static int failed(struct sqlite_store *s, int step)
{
	if (step == SQLITE_FULL || sqlite3_errcode(s->db) == SQLITE_FULL)
		return disk_failed(s->base.disk, ENOSPC, s->path, "store");
	return LD_ESTORE;
}

static int exec_simple(struct sqlite_store *s, int q)
{
	sqlite3_stmt *st = s->st[q];
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : failed(s, rc);
}

static void sq_close(store_t *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	for (int i = 0; i < NQ; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

static int sq_open(const char *dir, store_t **out)
{
	char path[4096];
	int rc = LD_ESTORE;
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (!s)
		return LD_ENOMEM;
	s->base.ops = &store_sqlite_ops;
	snprintf(path, sizeof(path), "%s/lambdad.db", dir);
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto out;
	const char *sync = getenv("LAMBDAD_SYNC_FULL");
	char setup[512];
	snprintf(setup, sizeof(setup),
		 "PRAGMA page_size=%d; PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
		 "CREATE TABLE IF NOT EXISTS docs(kind TEXT NOT NULL, scope TEXT NOT NULL,"
		 " key TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY(kind, scope, key)) WITHOUT ROWID;",
		 PAGE_SIZE, sync && *sync == '1' ? "FULL" : "NORMAL");
	if (sqlite3_exec(s->db, setup, NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (int i = 0; i < NQ; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
			goto out;
	*out = &s->base;
	s = NULL;
	rc = 0;
out:
	if (s) {
		if (s->db)
			fprintf(stderr, "lambdad: store: %s\n", sqlite3_errmsg(s->db));
		sq_close(&s->base);
	}
	return rc;
}

static int sq_begin(store_t *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	int rc = exec_simple(s, Q_BEGIN);
	if (!rc)
		s->in_tx = 1;
	return rc;
}

static int sq_commit(store_t *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	int rc = exec_simple(s, Q_COMMIT);
	if (rc)
		exec_simple(s, Q_ROLLBACK);
	s->in_tx = 0;
	return rc;
}

static void sq_rollback(store_t *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	if (s->in_tx)
		exec_simple(s, Q_ROLLBACK);
	s->in_tx = 0;
}

static void bind3(sqlite3_stmt *st, const char *kind, const char *scope, const char *key)
{
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
}

static int sq_get(store_t *base, const char *kind, const char *scope, const char *key, char **doc, size_t *len)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = s->st[Q_GET];
	int rc;
	bind3(st, kind, scope, key);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		*doc = malloc((size_t)n + 1);
		if (!*doc) {
			rc = LD_ENOMEM;
		} else {
			if (n)
				memcpy(*doc, p, (size_t)n);
			(*doc)[n] = '\0';
			*len = (size_t)n;
			rc = 0;
		}
	} else {
		rc = step == SQLITE_DONE ? LD_ENOTFOUND : LD_ESTORE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int sq_put(store_t *base, const char *kind, const char *scope, const char *key, const char *doc, size_t len)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = s->st[Q_PUT];
	bind3(st, kind, scope, key);
	sqlite3_bind_blob(st, 4, doc, (int)len, SQLITE_STATIC);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return step == SQLITE_DONE ? 0 : failed(s, step);
}

static int sq_del(store_t *base, const char *kind, const char *scope, const char *key)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = s->st[Q_DEL];
	bind3(st, kind, scope, key);
	int step = sqlite3_step(st);
	int changed = sqlite3_changes(s->db);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (step != SQLITE_DONE)
		return failed(s, step);
	return changed ? 0 : LD_ENOTFOUND;
}

/* upper bound of a prefix range: the prefix followed by byte 0xff */
static char *prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *e = malloc(n + 2);
	if (!e)
		return NULL;
	memcpy(e, prefix, n);
	e[n] = (char)0xff;
	e[n + 1] = '\0';
	return e;
}

static int sq_list(store_t *base, const char *kind, const char *scope, const char *prefix,
		   const char *after, int limit, store_iter_fn fn, void *ud)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	const char *lo = prefix ? prefix : "";
	if (after && strcmp(after, lo) >= 0)
		lo = after;
	else
		after = NULL;
	char *hi = prefix_end(prefix ? prefix : "");
	if (!hi)
		return LD_ENOMEM;
	sqlite3_stmt *st = s->st[after ? Q_LIST_AFTER : Q_LIST];
	bind3(st, kind, scope, lo);
	sqlite3_bind_text(st, 4, hi, (int)strlen(hi), SQLITE_STATIC);
	sqlite3_bind_int(st, 5, limit > 0 ? limit : -1);
	int rc = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *d = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (fn(ud, k, d ? d : "", n))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = LD_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(hi);
	return rc;
}

static int sq_del_prefix(store_t *base, const char *kind, const char *scope, const char *prefix)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	char *hi = prefix_end(prefix);
	if (!hi)
		return LD_ENOMEM;
	sqlite3_stmt *st = s->st[Q_DEL_PREFIX];
	bind3(st, kind, scope, prefix);
	sqlite3_bind_text(st, 4, hi, (int)strlen(hi), SQLITE_STATIC);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(hi);
	return step == SQLITE_DONE ? 0 : failed(s, step);
}

static int sq_scopes(store_t *base, const char *kind, store_iter_fn fn, void *ud)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_stmt *st = s->st[Q_SCOPES];
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	int rc = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ud, (const char *)sqlite3_column_text(st, 0), "", 0))
			break;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = LD_ESTORE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.get = sq_get,
	.put = sq_put,
	.del = sq_del,
	.list = sq_list,
	.del_prefix = sq_del_prefix,
	.scopes = sq_scopes,
};
