/*
 * test_store_pg.c - unit tests of the PostgreSQL store backend (store/pg.c)
 * through store.h, against Debian's PostgreSQL 15 started here: initdb and
 * pg_ctl into a temporary directory on a free loopback port (as the postgres
 * user when run as root), stopped at the end. Bytewise key order, prefix
 * ranges with multibyte and last-code-point prefixes, paging with `after`,
 * del_prefix, scopes, transactions, bytes in documents, keys the database
 * cannot hold, the schema version, and a connection the server ends (in and
 * out of a transaction). Skipped, saying why, when the binaries are missing.
 */
#include "store/store.h"
#include "t.h"
#include "util/err.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define PGBIN "/usr/lib/postgresql/15/bin"
#define S1 "000000000000:us-east-1"
#define S2 "000000000000:eu-west-1"

static char dir[256], uri[256], runas[64];
static int port;

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = 0;
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !getsockname(fd, (struct sockaddr *)&a, &n))
		p = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static int sh(const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof(full), "%s%s >>%s/pg.out 2>&1", runas, cmd, dir);
	return system(full);
}

static int pg_start(void)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 PGBIN "/pg_ctl -D %s/data -w -t 30 -l %s/pg.log -o '-p %d -k %s -c listen_addresses=127.0.0.1 "
		       "-c fsync=off' start",
		 dir, dir, port, dir);
	return sh(cmd);
}

static void pg_stop(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), PGBIN "/pg_ctl -D %s/data -m immediate -w stop", dir);
	sh(cmd);
}

/* runs sql on a connection of its own; its first value in out (if given) */
static int admin(const char *sql, char *out, size_t n)
{
	PGconn *c = PQconnectdb(uri);
	int rc = -1;
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK) {
			rc = 0;
			if (out)
				snprintf(out, n, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
		}
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}

/* ends lambdad's server session, as a server restart or a network failure would */
static void kill_session(void)
{
	char v[16] = "";
	CHECK(admin("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name='lambdad'",
		    v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
}

static store_t *open_store(void)
{
	store_t *s = NULL;
	CHECK(store_open(uri, "/nonexistent", &s) == 0);
	return s;
}

static int put(store_t *s, const char *kind, const char *scope, const char *key, const char *doc)
{
	return s->ops->put(s, kind, scope, key, doc, strlen(doc));
}

static char *get(store_t *s, const char *kind, const char *scope, const char *key)
{
	char *doc = NULL;
	size_t len = 0;
	if (s->ops->get(s, kind, scope, key, &doc, &len))
		return strdup("");
	return doc;
}

struct listing {
	char keys[512];
	char last[64];
	int n;
};

static int collect(void *ud, const char *key, const char *doc, size_t len)
{
	struct listing *l = ud;
	size_t used = strlen(l->keys);
	snprintf(l->keys + used, sizeof(l->keys) - used, "%s%s", used ? "," : "", key);
	snprintf(l->last, sizeof(l->last), "%s", key);
	l->n++;
	return 0;
}

static const char *list(store_t *s, const char *kind, const char *scope, const char *prefix, const char *after,
			int limit)
{
	static struct listing l;
	memset(&l, 0, sizeof(l));
	if (store_list(s, kind, scope, prefix, after, limit, collect, &l))
		return "(error)";
	return l.keys;
}

static void test_put_get_del(void)
{
	store_t *s = open_store();
	char *d, *doc = NULL;
	size_t len = 0;
	CHECK(put(s, "fn", S1, "f1", "{\"a\":1}") == 0);
	CHECK(put(s, "fn", S1, "f1", "{\"a\":2}") == 0);
	CHECK_STR(d = get(s, "fn", S1, "f1"), "{\"a\":2}");
	free(d);
	CHECK(s->ops->get(s, "fn", S2, "f1", &doc, &len) == LD_ENOTFOUND);
	CHECK(s->ops->put(s, "fn", S1, "bin", "a\0b\xff", 4) == 0); /* documents are bytes */
	CHECK(s->ops->get(s, "fn", S1, "bin", &doc, &len) == 0);
	CHECK(len == 4 && !memcmp(doc, "a\0b\xff", 4) && doc[4] == '\0');
	free(doc);
	doc = NULL;
	CHECK(store_del(s, "fn", S1, "f1") == 0);
	CHECK(store_del(s, "fn", S1, "f1") == LD_ENOTFOUND);
	/* keys the database cannot hold: not UTF-8, or too long */
	CHECK(s->ops->get(s, "fn", S1, "bad\xff", &doc, &len) == LD_ENOTFOUND);
	CHECK(put(s, "fn", S1, "bad\xc3", "{}") == LD_EINVAL);
	char big[2048];
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(put(s, "fn", S1, big, "{}") == LD_EINVAL);
	CHECK(store_del(s, "fn", S1, "bin") == 0);
	char v[16] = "";
	CHECK(admin("SELECT value FROM lambdad_meta WHERE name='schema_version'", v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
	store_close(s);
}

static void test_order_prefix_after(void)
{
	store_t *s = open_store();
	/* bytewise: 'B' < '_' < 'a', '0' < ':', é (c3 a9) and U+10FFFF (f4 8f bf bf) after ASCII */
	const char *keys[] = { "b", "a", "B", "_", "f1:2", "f1", "f10", "f1:10", "c", "\xc3\xa9", "\xc3\xa9x",
			       "\xc3\xaa", "z\xf4\x8f\xbf\xbf", "z\xf4\x8f\xbf\xbfq", "{" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(put(s, "ver", S1, keys[i], "{}") == 0);
	CHECK(put(s, "ver", S2, "zz", "{}") == 0);
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 0),
		  "B,_,a,b,c,f1,f10,f1:10,f1:2,z\xf4\x8f\xbf\xbf,z\xf4\x8f\xbf\xbfq,{,\xc3\xa9,\xc3\xa9x,\xc3\xaa");
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 3), "B,_,a");
	CHECK_STR(list(s, "ver", S1, "f1:", NULL, 0), "f1:10,f1:2");
	CHECK_STR(list(s, "ver", S1, "f1", NULL, 0), "f1,f10,f1:10,f1:2");
	CHECK_STR(list(s, "ver", S1, "\xc3\xa9", NULL, 0), "\xc3\xa9,\xc3\xa9x"); /* not ê */
	CHECK_STR(list(s, "ver", S1, "z\xf4\x8f\xbf\xbf", NULL, 0), "z\xf4\x8f\xbf\xbf,z\xf4\x8f\xbf\xbfq");
	CHECK_STR(list(s, "ver", S1, "z", NULL, 0), "z\xf4\x8f\xbf\xbf,z\xf4\x8f\xbf\xbfq"); /* not { */
	CHECK_STR(list(s, "ver", S1, "%", NULL, 0), ""); /* no LIKE wildcards */
	CHECK_STR(list(s, "ver", S1, "_", NULL, 0), "_");
	CHECK_STR(list(s, "ver", S1, "", NULL, 2), "B,_");
	CHECK_STR(list(s, "ver", S1, NULL, "b", 2), "c,f1");
	CHECK_STR(list(s, "ver", S1, NULL, "bb", 1), "c");
	CHECK_STR(list(s, "ver", S1, "f1:", "f1:10", 0), "f1:2");
	CHECK_STR(list(s, "ver", S1, "f1:", "a", 0), "f1:10,f1:2");
	CHECK_STR(list(s, "ver", S1, "f1:", "f2", 0), "");
	static struct listing walk;
	memset(&walk, 0, sizeof(walk));
	for (int pages = 0, before = -1; pages < 20 && walk.n != before; pages++) {
		before = walk.n;
		CHECK(store_list(s, "ver", S1, NULL, walk.last[0] ? walk.last : NULL, 4, collect, &walk) == 0);
	}
	CHECK(walk.n == (int)(sizeof(keys) / sizeof(keys[0])));
	/* del_prefix: the range only */
	CHECK(store_del_prefix(s, "ver", S1, "f1") == 0);
	CHECK(store_del_prefix(s, "ver", S1, "\xc3\xa9") == 0);
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 0), "B,_,a,b,c,z\xf4\x8f\xbf\xbf,z\xf4\x8f\xbf\xbfq,{,\xc3\xaa");
	static struct listing sc;
	memset(&sc, 0, sizeof(sc));
	CHECK(store_scopes(s, "ver", collect, &sc) == 0);
	CHECK_STR(sc.keys, S2 "," S1);
	CHECK(store_del_prefix(s, "ver", S1, "") == 0);
	CHECK(store_del_prefix(s, "ver", S2, "") == 0);
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 0), "");
	store_close(s);
}

static void test_transactions(void)
{
	store_t *s = open_store();
	char *d;
	CHECK(store_begin(s) == 0);
	CHECK(put(s, "fn", S1, "t1", "{}") == 0);
	CHECK(put(s, "fn", S1, "t2", "{}") == 0);
	CHECK(store_commit(s) == 0);
	CHECK(store_begin(s) == 0);
	CHECK(put(s, "fn", S1, "t3", "{}") == 0);
	CHECK(store_del(s, "fn", S1, "t1") == 0);
	store_rollback(s);
	CHECK_STR(list(s, "fn", S1, "t", NULL, 0), "t1,t2");
	/* uncommitted writes are not seen by another session, committed ones are */
	char v[16] = "";
	CHECK(store_begin(s) == 0);
	CHECK(put(s, "fn", S1, "t4", "{}") == 0);
	CHECK(admin("SELECT count(*) FROM docs WHERE key='t4'", v, sizeof(v)) == 0);
	CHECK_STR(v, "0");
	CHECK(store_commit(s) == 0);
	CHECK(admin("SELECT count(*) FROM docs WHERE key='t4'", v, sizeof(v)) == 0);
	CHECK_STR(v, "1");
	CHECK_STR(d = get(s, "fn", S1, "t4"), "{}");
	free(d);
	CHECK(store_del_prefix(s, "fn", S1, "t") == 0);
	store_close(s);
}

static void test_lost_connection(void)
{
	store_t *s = open_store();
	char *d;
	CHECK(put(s, "fn", S1, "k", "{\"v\":1}") == 0);
	kill_session();
	char *doc = NULL;
	size_t len = 0;
	CHECK(s->ops->get(s, "fn", S1, "k", &doc, &len) == LD_ESTORE); /* the loss is seen */
	CHECK_STR(d = get(s, "fn", S1, "k"), "{\"v\":1}");              /* and the next call connects */
	free(d);
	/* inside a transaction: every call fails until its end, none runs outside it */
	CHECK(store_begin(s) == 0);
	CHECK(put(s, "fn", S1, "k", "{\"v\":2}") == 0);
	kill_session();
	CHECK(put(s, "fn", S1, "k2", "{}") == LD_ESTORE);
	CHECK(put(s, "fn", S1, "k3", "{}") == LD_ESTORE);
	CHECK(store_commit(s) == LD_ESTORE);
	CHECK_STR(d = get(s, "fn", S1, "k"), "{\"v\":1}");
	free(d);
	CHECK_STR(list(s, "fn", S1, "k", NULL, 0), "k");
	/* the same with a rollback */
	CHECK(store_begin(s) == 0);
	kill_session();
	CHECK(put(s, "fn", S1, "k4", "{}") == LD_ESTORE);
	store_rollback(s);
	CHECK(put(s, "fn", S1, "k5", "{}") == 0);
	CHECK_STR(list(s, "fn", S1, "k", NULL, 0), "k,k5");
	CHECK(store_del_prefix(s, "fn", S1, "k") == 0);
	store_close(s);
}

static void test_one_lambdad_per_database(void)
{
	store_t *s = open_store(), *t = NULL;
	CHECK(store_open(uri, "/nonexistent", &t) == LD_ESTORE); /* waits for the lock, then refuses */
	store_close(s);
	t = open_store(); /* free again */
	store_close(t);
	CHECK(store_open("postgresql://lambdad@127.0.0.1:1/none", "/nonexistent", &t) == LD_ESTORE);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	if (access(PGBIN "/initdb", X_OK) || access(PGBIN "/pg_ctl", X_OK)) {
		printf("  skipped: PostgreSQL 15 is not installed (" PGBIN "; tools/deps.sh test)\n");
		return t_done("test_store_pg");
	}
	snprintf(dir, sizeof(dir), "%s/lambdad-test-pg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");
		if (!pw || chown(dir, pw->pw_uid, pw->pw_gid)) {
			printf("  skipped: running as root without a postgres user to run PostgreSQL as\n");
			rmdir(dir);
			return t_done("test_store_pg");
		}
		snprintf(runas, sizeof(runas), "runuser -u postgres -- ");
	}
	port = free_port();
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), PGBIN "/initdb -D %s/data -U lambdad -E UTF8 --locale=C -A trust --no-sync", dir);
	if (sh(cmd) || pg_start()) {
		fprintf(stderr, "  PostgreSQL did not start (see %s/pg.out)\n", dir);
		return 1;
	}
	snprintf(uri, sizeof(uri), "postgresql://lambdad@127.0.0.1:%d/postgres", port);
	T_RUN(test_put_get_del);
	T_RUN(test_order_prefix_after);
	T_RUN(test_transactions);
	T_RUN(test_lost_connection);
	T_RUN(test_one_lambdad_per_database);
	pg_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "  could not remove %s\n", dir);
	return t_done("test_store_pg");
}
