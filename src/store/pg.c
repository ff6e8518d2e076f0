/*
 * pg.c - the PostgreSQL store backend (store.h), with libpq.
 *
 * `--store postgresql://USER@HOST:PORT/DB` (any libpq connection URI or
 * "key=value" conninfo) keeps the documents in one table of that database:
 * docs(kind, scope, key, doc bytea), primary key (kind, scope, key), every
 * text column COLLATE "C" so keys compare bytewise as SQLite's do and Marker
 * paging walks the same order. lambdad creates the table, and a row of
 * lambdad_meta records the schema version for later migrations (a database
 * made by a newer lambdad is refused). Documents are stored and read back
 * as bytes (binary parameters and results): exactly the text written.
 *
 * Prefix listings are a range key >= prefix AND key < successor, where the
 * successor is the prefix with its last character's code point raised by
 * one (UTF-8 keeps code point order bytewise): every key in that range, and
 * only those, starts with the prefix, and the range uses the primary key.
 *
 * One connection, blocking calls, statements prepared once per connection.
 * A lost connection answers LD_ESTORE (the API: ServiceException) and the
 * next call connects again; inside a transaction every call until the
 * rollback (or the failing commit) answers LD_ESTORE, so the rest of a
 * transaction never runs outside it. store.c's document cache assumes one
 * writer: the backend holds a session advisory lock on the database while
 * connected and refuses to open where another lambdad holds it (several
 * nodes on one database need the cache invalidation of issue 21's next
 * step). Commits are as durable as the server makes them (synchronous_commit,
 * by default on); LAMBDAD_SYNC_FULL=1 forces synchronous_commit=on.
 */
#include "store/store.h"
#include "util/err.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_SCHEMA_VERSION 1
/* the advisory lock that keeps a database to one lambdad ("lamb") */
#define PG_LOCK_KEY "1818324322"
/* tenths of a second to wait for the lock at open, and when connecting
 * again: the server may not yet have noticed that a killed lambdad's (or the
 * lost) connection is gone */
#define PG_LOCK_WAIT_OPEN 50
#define PG_LOCK_WAIT_RECONNECT 10
#define PG_CONNECT_TIMEOUT "10"
/* the longest key, scope or kind the backend binds (keys are far shorter) */
#define PG_KEY_MAX 1024

enum {
	Q_GET, Q_PUT, Q_DEL, Q_LIST_GE, Q_LIST_GT, Q_LIST_GE_OPEN, Q_LIST_GT_OPEN, Q_DEL_PREFIX,
	Q_DEL_PREFIX_OPEN, Q_SCOPES, NQ
};

/* listings: $3 is the lower bound (the prefix, or the cursor after which
 * the page starts: the _GT forms), $4 the prefix's successor and $5 the
 * limit (NULL: none); the _OPEN forms have no upper bound, their limit is $4 */
static const struct {
	const char *name, *sql;
	int nparams;
} stmts[NQ] = {
	[Q_GET] = { "ld_get", "SELECT doc FROM docs WHERE kind=$1 AND scope=$2 AND key=$3", 3 },
	[Q_PUT] = { "ld_put",
		    "INSERT INTO docs(kind,scope,key,doc) VALUES($1,$2,$3,$4) "
		    "ON CONFLICT(kind,scope,key) DO UPDATE SET doc=excluded.doc",
		    4 },
	[Q_DEL] = { "ld_del", "DELETE FROM docs WHERE kind=$1 AND scope=$2 AND key=$3", 3 },
	[Q_LIST_GE] = { "ld_list_ge",
			"SELECT key, doc FROM docs WHERE kind=$1 AND scope=$2 AND key>=$3 AND key<$4 "
			"ORDER BY key LIMIT $5::bigint",
			5 },
	[Q_LIST_GT] = { "ld_list_gt",
			"SELECT key, doc FROM docs WHERE kind=$1 AND scope=$2 AND key>$3 AND key<$4 "
			"ORDER BY key LIMIT $5::bigint",
			5 },
	[Q_LIST_GE_OPEN] = { "ld_list_ge_open",
			     "SELECT key, doc FROM docs WHERE kind=$1 AND scope=$2 AND key>=$3 "
			     "ORDER BY key LIMIT $4::bigint",
			     4 },
	[Q_LIST_GT_OPEN] = { "ld_list_gt_open",
			     "SELECT key, doc FROM docs WHERE kind=$1 AND scope=$2 AND key>$3 "
			     "ORDER BY key LIMIT $4::bigint",
			     4 },
	[Q_DEL_PREFIX] = { "ld_del_prefix", "DELETE FROM docs WHERE kind=$1 AND scope=$2 AND key>=$3 AND key<$4", 4 },
	[Q_DEL_PREFIX_OPEN] = { "ld_del_prefix_open", "DELETE FROM docs WHERE kind=$1 AND scope=$2 AND key>=$3", 3 },
	[Q_SCOPES] = { "ld_scopes", "SELECT DISTINCT scope FROM docs WHERE kind=$1 ORDER BY scope", 1 },
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS docs(kind text COLLATE \"C\" NOT NULL, scope text COLLATE \"C\" NOT NULL,"
	" key text COLLATE \"C\" NOT NULL, doc bytea NOT NULL, PRIMARY KEY(kind, scope, key));"
	"CREATE TABLE IF NOT EXISTS lambdad_meta(name text PRIMARY KEY, value text NOT NULL);"
	"INSERT INTO lambdad_meta(name, value) VALUES('schema_version', '1') ON CONFLICT(name) DO NOTHING;";

struct pg_store {
	store_t base;
	PGconn *conn;  /* NULL after a lost connection: the next call connects */
	int in_tx;     /* BEGIN sent */
	int tx_broken; /* the connection was lost inside the transaction */
	char *conninfo;
};

static void say(const char *what, PGconn *c)
{
	const char *m = c ? PQerrorMessage(c) : "out of memory";
	size_t n = strlen(m);
	while (n && m[n - 1] == '\n')
		n--;
	fprintf(stderr, "lambdad: store (postgresql): %s: %.*s\n", what, (int)n, m);
}

/* a command that returns no rows; 0 or LD_ESTORE */
static int exec_cmd(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
	PQclear(r);
	return ok ? 0 : LD_ESTORE;
}

/* one value of a one-row query, copied into out; 0 or LD_ESTORE */
static int exec_value(PGconn *c, const char *sql, char *out, size_t n)
{
	PGresult *r = PQexec(c, sql);
	int rc = LD_ESTORE;
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 1) {
		snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
		rc = 0;
	}
	PQclear(r);
	return rc;
}

/* The schema, made or checked under a transaction-level advisory lock (two
 * lambdads starting on an empty database do not race to create it). */
static int setup_schema(PGconn *c)
{
	char v[32];
	if (exec_cmd(c, "BEGIN") || exec_cmd(c, "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ", 1)") ||
	    exec_cmd(c, schema_sql) ||
	    exec_value(c, "SELECT value FROM lambdad_meta WHERE name='schema_version'", v, sizeof(v))) {
		say("creating the schema", c);
		exec_cmd(c, "ROLLBACK");
		return LD_ESTORE;
	}
	if (atoi(v) > PG_SCHEMA_VERSION) {
		fprintf(stderr, "lambdad: store (postgresql): the database's schema version %s is newer than "
			"this lambdad's (%d): use a newer lambdad\n", v, PG_SCHEMA_VERSION);
		exec_cmd(c, "ROLLBACK");
		return LD_ESTORE;
	}
	/* migrations from older versions go here, before the commit */
	if (exec_cmd(c, "COMMIT")) {
		say("creating the schema", c);
		return LD_ESTORE;
	}
	return 0;
}

/* The session lock that keeps the database to this lambdad, tried `tries`
 * times 100 ms apart (a killed lambdad's session ends when its server
 * process notices; the event loop waits meanwhile). */
static int take_lock(PGconn *c, int tries)
{
	char v[16];
	for (int i = 0; i < tries; i++) {
		if (exec_value(c, "SELECT pg_try_advisory_lock(" PG_LOCK_KEY ", 0)", v, sizeof(v))) {
			say("locking the database", c);
			return LD_ESTORE;
		}
		if (!strcmp(v, "t"))
			return 0;
		if (i + 1 < tries)
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	fprintf(stderr, "lambdad: store (postgresql): another lambdad uses this database (it holds the "
		"advisory lock %s): one lambdad per database for now\n", PG_LOCK_KEY);
	return LD_ESTORE;
}

/* Connects, sets the session up and prepares every statement; tries for
 * the lock `tries` times. */
static int pg_connect(struct pg_store *s, int tries)
{
	const char *sync = getenv("LAMBDAD_SYNC_FULL");
	/* connect_timeout and application_name before dbname: the conninfo's own win */
	const char *const keys[] = { "connect_timeout", "application_name", "dbname", "client_encoding", NULL };
	const char *const vals[] = { PG_CONNECT_TIMEOUT, "lambdad", s->conninfo, "UTF8", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		say("connecting", c);
		goto fail;
	}
	if (exec_cmd(c, "SET client_min_messages = warning")) { /* no NOTICE of CREATE ... IF NOT EXISTS */
		say("setting client_min_messages", c);
		goto fail;
	}
	if (sync && *sync == '1' && exec_cmd(c, "SET synchronous_commit = on")) {
		say("setting synchronous_commit", c);
		goto fail;
	}
	if (take_lock(c, tries) || setup_schema(c))
		goto fail;
	for (int i = 0; i < NQ; i++) {
		PGresult *r = PQprepare(c, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL);
		int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok) {
			say("preparing a statement", c);
			goto fail;
		}
	}
	s->conn = c;
	return 0;
fail:
	PQfinish(c);
	return LD_ESTORE;
}

/* The connection for a call: connects again after a lost one, except in a
 * transaction the loss broke. NULL: answer LD_ESTORE. */
static PGconn *conn(struct pg_store *s)
{
	if (s->tx_broken)
		return NULL;
	if (!s->conn && !s->in_tx)
		pg_connect(s, PG_LOCK_WAIT_RECONNECT);
	return s->conn;
}

/* After a failed call: a lost connection is dropped (the next call connects
 * again); a failed statement inside a transaction leaves it aborted, which
 * the caller's rollback ends. Returns LD_ESTORE. */
static int failed(struct pg_store *s, const char *what)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_BAD) {
		say(what, s->conn);
		PQfinish(s->conn);
		s->conn = NULL;
		if (s->in_tx)
			s->tx_broken = 1;
	} else if (s->conn) {
		say(what, s->conn);
	}
	return LD_ESTORE;
}

static void pg_close(store_t *base)
{
	struct pg_store *s = (struct pg_store *)base;
	if (!s)
		return;
	PQfinish(s->conn);
	free(s->conninfo);
	free(s);
}

/* `data_dir` is the conninfo here (store_open passes --store's value) */
static int pg_open(const char *conninfo, store_t **out)
{
	struct pg_store *s = calloc(1, sizeof(*s));
	if (!s)
		return LD_ENOMEM;
	s->base.ops = &store_pg_ops;
	s->conninfo = strdup(conninfo);
	if (!s->conninfo) {
		free(s);
		return LD_ENOMEM;
	}
	int rc = pg_connect(s, PG_LOCK_WAIT_OPEN);
	if (rc) {
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static int pg_begin(store_t *base)
{
	struct pg_store *s = (struct pg_store *)base;
	PGconn *c = conn(s);
	if (!c)
		return LD_ESTORE;
	if (exec_cmd(c, "BEGIN"))
		return failed(s, "BEGIN");
	s->in_tx = 1;
	s->tx_broken = 0;
	return 0;
}

static int pg_commit(store_t *base)
{
	struct pg_store *s = (struct pg_store *)base;
	int rc = LD_ESTORE;
	if (s->conn && !s->tx_broken) {
		PGresult *r = PQexec(s->conn, "COMMIT");
		/* COMMIT of an aborted transaction answers ROLLBACK: a failure too */
		rc = r && PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "COMMIT") ? 0 : LD_ESTORE;
		PQclear(r);
		if (rc) {
			failed(s, "COMMIT");
			if (s->conn)
				exec_cmd(s->conn, "ROLLBACK");
		}
	}
	s->in_tx = 0;
	s->tx_broken = 0;
	return rc;
}

static void pg_rollback(store_t *base)
{
	struct pg_store *s = (struct pg_store *)base;
	if (s->in_tx && s->conn && exec_cmd(s->conn, "ROLLBACK"))
		failed(s, "ROLLBACK");
	s->in_tx = 0;
	s->tx_broken = 0;
}

/* A kind, scope or key the database can hold: UTF-8 (the server refuses
 * anything else in text) of at most PG_KEY_MAX bytes. */
static int key_ok(const char *k)
{
	const unsigned char *u = (const unsigned char *)k;
	size_t i = 0;
	while (u[i]) {
		if (i > PG_KEY_MAX)
			return 0;
		uint32_t cp, min;
		int more;
		if (u[i] < 0x80) {
			i++;
			continue;
		} else if ((u[i] & 0xE0) == 0xC0) {
			cp = u[i] & 0x1F, more = 1, min = 0x80;
		} else if ((u[i] & 0xF0) == 0xE0) {
			cp = u[i] & 0x0F, more = 2, min = 0x800;
		} else if ((u[i] & 0xF8) == 0xF0) {
			cp = u[i] & 0x07, more = 3, min = 0x10000;
		} else {
			return 0;
		}
		for (int j = 1; j <= more; j++) {
			if ((u[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (u[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += (size_t)more + 1;
	}
	return i <= PG_KEY_MAX;
}

static int bad_key(const char *kind, const char *scope, const char *key)
{
	return !key_ok(kind) || !key_ok(scope) || (key && !key_ok(key));
}

/* runs prepared statement q with text parameters (doc, when given, binary
 * as parameter 4), binary results */
static PGresult *run(PGconn *c, int q, const char *const *params, const char *doc, size_t len)
{
	int lens[6] = { 0 }, fmts[6] = { 0 };
	if (doc) {
		lens[3] = (int)len;
		fmts[3] = 1;
	}
	return PQexecPrepared(c, stmts[q].name, stmts[q].nparams, params, lens, fmts, 1);
}

static int pg_get(store_t *base, const char *kind, const char *scope, const char *key, char **doc, size_t *len)
{
	struct pg_store *s = (struct pg_store *)base;
	PGconn *c = conn(s);
	if (!c)
		return LD_ESTORE;
	if (bad_key(kind, scope, key))
		return LD_ENOTFOUND;
	const char *p[3] = { kind, scope, key };
	PGresult *r = run(c, Q_GET, p, NULL, 0);
	int rc;
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = failed(s, "get");
	} else if (PQntuples(r) == 0) {
		rc = LD_ENOTFOUND;
	} else {
		size_t n = (size_t)PQgetlength(r, 0, 0);
		*doc = malloc(n + 1);
		if (!*doc) {
			rc = LD_ENOMEM;
		} else {
			memcpy(*doc, PQgetvalue(r, 0, 0), n);
			(*doc)[n] = '\0';
			*len = n;
			rc = 0;
		}
	}
	PQclear(r);
	return rc;
}

static int pg_put(store_t *base, const char *kind, const char *scope, const char *key, const char *doc, size_t len)
{
	struct pg_store *s = (struct pg_store *)base;
	PGconn *c = conn(s);
	if (!c)
		return LD_ESTORE;
	if (bad_key(kind, scope, key) || len > INT32_MAX)
		return LD_EINVAL;
	const char *p[4] = { kind, scope, key, doc ? doc : "" };
	PGresult *r = run(c, Q_PUT, p, doc ? doc : "", len);
	int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : failed(s, "put");
	PQclear(r);
	return rc;
}

static int pg_del(store_t *base, const char *kind, const char *scope, const char *key)
{
	struct pg_store *s = (struct pg_store *)base;
	PGconn *c = conn(s);
	if (!c)
		return LD_ESTORE;
	if (bad_key(kind, scope, key))
		return LD_ENOTFOUND;
	const char *p[3] = { kind, scope, key };
	PGresult *r = run(c, Q_DEL, p, NULL, 0);
	int rc;
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = failed(s, "delete");
	else
		rc = atoi(PQcmdTuples(r)) > 0 ? 0 : LD_ENOTFOUND;
	PQclear(r);
	return rc;
}

/* The least string greater than every string that starts with prefix: the
 * prefix with its last character's code point raised by one (the code
 * point past the surrogates after U+D7FF; a last U+10FFFF is dropped and the
 * one before raised). NULL in *out when there is none (an empty prefix):
 * no upper bound. Keys are UTF-8 (the database's encoding; a stored key
 * that is not was refused by the server). */
static int prefix_end(const char *prefix, char **out)
{
	size_t n = strlen(prefix);
	*out = NULL;
	while (n) {
		size_t st = n - 1;
		while (st && ((unsigned char)prefix[st] & 0xC0) == 0x80)
			st--;
		const unsigned char *u = (const unsigned char *)prefix + st;
		size_t cl = n - st;
		uint32_t cp;
		if (cl == 1 && u[0] < 0x80)
			cp = u[0];
		else if (cl == 2 && (u[0] & 0xE0) == 0xC0)
			cp = (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
		else if (cl == 3 && (u[0] & 0xF0) == 0xE0)
			cp = (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
		else if (cl == 4 && (u[0] & 0xF8) == 0xF0)
			cp = (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 |
			     (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
		else
			return LD_EINVAL; /* not UTF-8 (bad_key refused it before) */
		if (cp >= 0x10FFFF) {
			n = st;
			continue;
		}
		cp = cp == 0xD7FF ? 0xE000 : cp + 1;
		char *e = malloc(st + 5);
		if (!e)
			return LD_ENOMEM;
		memcpy(e, prefix, st);
		unsigned char *w = (unsigned char *)e + st;
		if (cp < 0x80) {
			*w++ = (unsigned char)cp;
		} else if (cp < 0x800) {
			*w++ = (unsigned char)(0xC0 | cp >> 6);
			*w++ = (unsigned char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*w++ = (unsigned char)(0xE0 | cp >> 12);
			*w++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			*w++ = (unsigned char)(0x80 | (cp & 0x3F));
		} else {
			*w++ = (unsigned char)(0xF0 | cp >> 18);
			*w++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
			*w++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			*w++ = (unsigned char)(0x80 | (cp & 0x3F));
		}
		*w = '\0';
		*out = e;
		return 0;
	}
	return 0;
}

static int pg_list(store_t *base, const char *kind, const char *scope, const char *prefix,
		   const char *after, int limit, store_iter_fn fn, void *ud)
{
	struct pg_store *s = (struct pg_store *)base;
	PGconn *c = conn(s);
	if (!c)
		return LD_ESTORE;
	if (bad_key(kind, scope, prefix) || (after && !key_ok(after)))
		return 0;
	const char *lo = prefix ? prefix : "";
	int exclusive = after && strcmp(after, lo) >= 0;
	if (exclusive)
		lo = after;
	char *hi, lim[24];
	int rc = prefix_end(prefix ? prefix : "", &hi);
	if (rc)
		return rc == LD_EINVAL ? 0 : rc;
	snprintf(lim, sizeof(lim), "%d", limit);
	PGresult *r;
	if (hi) {
		const char *p[5] = { kind, scope, lo, hi, limit > 0 ? lim : NULL };
		r = run(c, exclusive ? Q_LIST_GT : Q_LIST_GE, p, NULL, 0);
	} else {
		const char *p[4] = { kind, scope, lo, limit > 0 ? lim : NULL };
		r = run(c, exclusive ? Q_LIST_GT_OPEN : Q_LIST_GE_OPEN, p, NULL, 0);
	}
	free(hi);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = failed(s, "list");
	} else {
		int rows = PQntuples(r);
		for (int i = 0; i < rows; i++)
			if (fn(ud, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)))
				break;
	}
	PQclear(r);
	return rc;
}

static int pg_del_prefix(store_t *base, const char *kind, const char *scope, const char *prefix)
{
	struct pg_store *s = (struct pg_store *)base;
	PGconn *c = conn(s);
	if (!c)
		return LD_ESTORE;
	if (bad_key(kind, scope, prefix))
		return 0;
	char *hi;
	int rc = prefix_end(prefix, &hi);
	if (rc)
		return rc == LD_EINVAL ? 0 : rc;
	const char *p[4] = { kind, scope, prefix, hi };
	PGresult *r = run(c, hi ? Q_DEL_PREFIX : Q_DEL_PREFIX_OPEN, p, NULL, 0);
	free(hi);
	rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : failed(s, "delete by prefix");
	PQclear(r);
	return rc;
}

static int pg_scopes(store_t *base, const char *kind, store_iter_fn fn, void *ud)
{
	struct pg_store *s = (struct pg_store *)base;
	PGconn *c = conn(s);
	if (!c)
		return LD_ESTORE;
	const char *p[1] = { kind };
	PGresult *r = run(c, Q_SCOPES, p, NULL, 0);
	int rc = 0;
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = failed(s, "scopes");
	} else {
		int rows = PQntuples(r);
		for (int i = 0; i < rows; i++)
			if (fn(ud, PQgetvalue(r, i, 0), "", 0))
				break;
	}
	PQclear(r);
	return rc;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.get = pg_get,
	.put = pg_put,
	.del = pg_del,
	.list = pg_list,
	.del_prefix = pg_del_prefix,
	.scopes = pg_scopes,
};
