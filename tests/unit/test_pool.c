/*
 * test_pool.c - unit tests of exec/pool: pools keyed by scope, name and
 * version; a configuration change (code or settings: CodeSha256 and
 * LastModified) retires the pool's environments while a RevisionId-only
 * change (tags, settle steps) does not; pool_pick prefers an idle
 * environment waiting in GET /next, then one finishing its invocation, and
 * keeps provisioned and on-demand environments apart; environments by id.
 * Environments here are built by hand in the states the pool reads; nothing
 * is spawned.
 */
#include "exec/pool.h"
#include "loop.h"
#include "t.h"
#include "util/err.h"

#include <stdlib.h>

#define S1 "111111111111:us-east-1"
#define S2 "222222222222:us-east-1"

static server_t srv;
static struct exec x;

static struct pool *pool_of(const char *scope, const char *version, const char *sha, const char *mod, const char *rev)
{
	json_t *cfg = json_pack("{s:s,s:s,s:s}", "CodeSha256", sha, "LastModified", mod, "RevisionId", rev);
	struct exec_request in = { 0 };
	in.scope = scope;
	in.name = "f";
	in.version = version;
	in.cfg = cfg;
	struct pool *p = pool_for(&x, &in);
	json_decref(cfg);
	return p;
}

static struct env *env_in(struct pool *p, enum env_state st)
{
	struct env *e = calloc(1, sizeof(*e));
	e->pool = p;
	e->state = st;
	e->out_fd = e->pid_fd = e->listen_fd = -1;
	e->next = p->envs;
	p->envs = e;
	return e;
}

static void drop_envs(struct pool *p)
{
	while (p->envs) {
		struct env *e = p->envs;
		p->envs = e->next;
		free(e);
	}
}

static void test_pools_by_version(void)
{
	struct pool *a = pool_of(S1, "$LATEST", "aaaaaaaaaaaa", "2026-12-05T10:00:00.000+0000", "r1");
	CHECK(a != NULL);
	CHECK(pool_of(S1, "$LATEST", "aaaaaaaaaaaa", "2026-12-05T10:00:00.000+0000", "r1") == a);
	struct pool *v1 = pool_of(S1, "1", "aaaaaaaaaaaa", "2026-12-05T10:00:00.000+0000", "r1");
	struct pool *other = pool_of(S2, "$LATEST", "aaaaaaaaaaaa", "2026-12-05T10:00:00.000+0000", "r1");
	CHECK(v1 && v1 != a);
	CHECK(other && other != a && other != v1);
	CHECK_STR(a->version, "$LATEST");
	CHECK_STR(v1->version, "1");
	CHECK_STR(other->scope, S2);
}

static void test_change_retires(void)
{
	const char *t1 = "2026-12-05T11:00:00.000+0000", *t2 = "2026-12-05T11:05:00.000+0000";
	struct pool *p = pool_of(S1, "7", "bbbbbbbbbbbb", t1, "r1");
	struct env *busy = env_in(p, ENV_BUSY);
	/* a new RevisionId alone (tags, a settle step): same environments */
	CHECK(pool_of(S1, "7", "bbbbbbbbbbbb", t1, "r2") == p);
	CHECK(!busy->retired);
	/* settings changed (LastModified): busy environments end after their invocation */
	CHECK(pool_of(S1, "7", "bbbbbbbbbbbb", t2, "r3") == p);
	CHECK(busy->retired);
	CHECK_STR(json_string_value(json_object_get(p->cfg, "LastModified")), t2);
	busy->retired = 0;
	/* code changed */
	CHECK(pool_of(S1, "7", "cccccccccccc", t2, "r3") == p);
	CHECK(busy->retired);
	/* pool_retire does the same for every version of the function */
	busy->retired = 0;
	pool_retire(&x, S1, "f");
	CHECK(busy->retired);
	drop_envs(p);
}

static void test_pick(void)
{
	struct pool *p = pool_of(S1, "9", "dddddddddddd", "2026-12-05T12:00:00.000+0000", "r1");
	static int token;
	struct rapi_next *waiting = (struct rapi_next *)&token; /* only compared with NULL by the pool */
	CHECK(pool_pick(p, 0) == NULL);
	struct env *finishing = env_in(p, ENV_BUSY); /* posted its response, not yet back in GET /next */
	struct env *running = env_in(p, ENV_BUSY);
	running->cur = (struct invocation *)&token;
	CHECK(pool_pick(p, 0) == finishing);
	struct env *idle = env_in(p, ENV_IDLE);
	idle->waiting = waiting;
	CHECK(pool_pick(p, 0) == idle);
	idle->retired = 1;
	CHECK(pool_pick(p, 0) == finishing);
	idle->retired = 0;
	idle->freeing = 1;
	CHECK(pool_pick(p, 0) == finishing);
	idle->freeing = 0;
	/* provisioned environments serve provisioned picks only */
	struct prov pv;
	memset(&pv, 0, sizeof(pv));
	CHECK(pool_pick(p, 1) == NULL);
	idle->prov = &pv;
	CHECK(pool_pick(p, 1) == idle);
	CHECK(pool_pick(p, 0) == finishing);
	idle->prov = NULL;
	drop_envs(p);
}

static void test_env_by_id(void)
{
	struct pool *p = pool_of(S1, "$LATEST", "aaaaaaaaaaaa", "2026-12-05T10:00:00.000+0000", "r1");
	struct env *e = env_in(p, ENV_IDLE);
	e->id = 18446744073709551615u;
	CHECK(strmap_put(x.envs, "18446744073709551615", e) == 0);
	CHECK(pool_env(&x, e->id) == e);
	CHECK(pool_env(&x, 42) == NULL);
	strmap_del(x.envs, "18446744073709551615");
	drop_envs(p);
}

int main(void)
{
	if (loop_new(&srv.loop) || strmap_new(&x.pools) || strmap_new(&x.envs) || quota_new(1000, &x.quota))
		return 1;
	x.srv = &srv;
	x.idle_timeout_s = 300;
	T_RUN(test_pools_by_version);
	T_RUN(test_change_retires);
	T_RUN(test_pick);
	T_RUN(test_env_by_id);
	pool_free_all(&x);
	strmap_free(x.envs, NULL);
	quota_free(x.quota);
	loop_free(srv.loop);
	return t_done("test_pool");
}
