/*
 * pool.c - environments by function version, and provisioned
 * configurations (pool.h).
 */
#include "exec/pool.h"
#include "exec/extensions.h"
#include "exec/launch.h"
#include "exec/sandbox.h"
#include "exec/telemetry.h"
#include "loop.h"
#include "util/err.h"
#include "util/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void prov_fill(struct prov *pv);

void pool_notify_free(struct exec *x, const char *scope, const char *name)
{
	if (x->on_free && !x->stopping)
		x->on_free(x->on_free_ud, scope, name);
}

struct env *pool_env(struct exec *x, uint64_t id)
{
	char key[24];
	str_u64(key, id);
	return strmap_get(x->envs, key);
}

static void env_free_cb(void *ud)
{
	struct env *e = ud;
	struct pool *p = e->pool;
	struct exec *x = p->x;
	for (struct env **pp = &p->envs; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	struct prov *pv = e->prov;
	launch_destroy(e);
	/* a provisioned environment that died is replaced */
	if (pv && !x->stopping)
		prov_fill(pv);
}

void pool_kill(struct env *e)
{
	struct exec *x = e->pool->x;
	if (e->freeing)
		return;
	e->freeing = 1;
	e->state = ENV_DEAD;
	if (e->timer)
		loop_cancel(x->srv->loop, e->timer);
	e->timer = 0;
	if (e->waiting) {
		rapi_abandon(e->waiting);
		e->waiting = NULL;
	}
	sandbox_thaw(e->proc); /* it may have been idle, frozen */
	tele_thawed(e);        /* what its extensions were not sent while frozen */
	/* extensions subscribed to SHUTDOWN get their phase first */
	if (ext_shutdown(e, e->reset ? e->reset : "spindown"))
		return;
	pool_release(e);
}

void pool_release(struct env *e)
{
	sandbox_kill(e->proc);
	loop_defer(e->pool->x->srv->loop, env_free_cb, e);
}

/* freeze an idle e; a failure (it then runs on while idle) is said once */
static void freeze(struct env *e)
{
	struct exec *x = e->pool->x;
	if (sandbox_freeze(e->proc) == 0 || x->freeze_failed)
		return;
	x->freeze_failed = 1;
	fprintf(stderr, "lambdad: cannot freeze an idle environment (%s): idle environments run on "
		"(said once)\n", strerror(errno));
}

/* e's telemetry went out after it became idle (tele_quiesce): frozen if
 * it still is */
static void pool_drained(struct env *e)
{
	if (e->state == ENV_IDLE && !e->freeing)
		freeze(e);
}

static void on_idle_timeout(void *ud)
{
	struct env *e = ud;
	e->timer = 0;
	if (e->state == ENV_IDLE)
		pool_kill(e);
}

void pool_idle(struct env *e)
{
	struct exec *x = e->pool->x;
	e->cur = NULL;
	e->state = ENV_IDLE;
	if (e->retired) {
		pool_kill(e); /* abandons the waiting GET /next */
		return;
	}
	/* it has answered and waits (its runtime in GET /next, its extensions
	 * in event/next): nothing of it runs until the next invocation, as on
	 * Lambda (deliver() and pool_kill() thaw it). Lambda freezes "when
	 * there are no pending events": an extension subscribed to telemetry
	 * first takes what is waiting for it (pool_drained follows) */
	if (tele_quiesce(e, pool_drained))
		freeze(e);
	if (e->prov) {
		/* provisioned: kept initialised, never reaped by the idle timer */
		pool_prov_ready(e->prov);
		return;
	}
	e->timer = loop_timer(x->srv->loop, (uint64_t)x->idle_timeout_s * 1000, on_idle_timeout, e);
}

/* retires p's environments: idle and initialising ones now, busy ones
 * after their invocation (provisioned ones too when all is set) */
static void retire(struct pool *p, int all)
{
	for (struct env *e = p->envs; e; e = e->next) {
		if (e->prov && !all)
			continue;
		if (e->state == ENV_IDLE || e->state == ENV_INIT)
			pool_kill(e);
		else
			e->retired = 1;
	}
}

struct pool *pool_for(struct exec *x, const struct exec_request *in)
{
	const char *rev = json_string_value(json_object_get(in->cfg, "RevisionId"));
	const char *sha = json_string_value(json_object_get(in->cfg, "CodeSha256"));
	const char *mod = json_string_value(json_object_get(in->cfg, "LastModified"));
	char revision[40], key[300];
	/* the configuration that environments were started with: code and
	 * settings (LastModified changes with both), not tags or settle steps */
	const char *when = mod ? mod : (rev ? rev : "");
	size_t a = sha ? strnlen(sha, 8) : 0, b = strnlen(when, 31);
	memcpy(revision, sha ? sha : "", a);
	memcpy(revision + a, when, b);
	revision[a + b] = '\0';
	if (str_join(key, sizeof(key), in->scope, "\x1f", in->name, "\x1f", in->version, NULL) == (size_t)-1)
		return NULL;
	struct pool *p = strmap_get(x->pools, key);
	if (p) {
		if (strcmp(p->revision, revision) != 0) {
			/* the function changed: retire its environments (provisioned
			 * ones are replaced with the new configuration) */
			json_t *cfg = json_deep_copy(in->cfg);
			if (!cfg)
				return NULL;
			retire(p, 1);
			snprintf(p->revision, sizeof(p->revision), "%s", revision);
			json_decref(p->cfg);
			p->cfg = cfg;
		}
		return p;
	}
	quota_fn_t *fn = quota_fn(x->quota, in->scope, in->name);
	p = fn ? calloc(1, sizeof(*p)) : NULL;
	if (!p || !(p->cfg = json_deep_copy(in->cfg)) || strmap_put(x->pools, key, p)) {
		if (p)
			json_decref(p->cfg);
		free(p);
		return NULL;
	}
	p->x = x;
	p->fn = fn;
	snprintf(p->key, sizeof(p->key), "%s", key);
	snprintf(p->scope, sizeof(p->scope), "%s", in->scope);
	snprintf(p->name, sizeof(p->name), "%s", in->name);
	snprintf(p->version, sizeof(p->version), "%s", in->version);
	snprintf(p->revision, sizeof(p->revision), "%s", revision);
	return p;
}

struct env *pool_pick(struct pool *p, int provisioned)
{
	struct env *finishing = NULL;
	for (struct env *e = p->envs; e; e = e->next) {
		if (!e->prov != !provisioned || e->retired || e->freeing)
			continue;
		if (e->state == ENV_IDLE && e->waiting)
			return e;
		if (e->state == ENV_BUSY && !e->cur && !e->report.pending && !finishing)
			finishing = e;
	}
	return finishing;
}

struct retire_ctx {
	const char *scope, *name;
};

static void retire_cb(void *ud, const char *key, void *val)
{
	struct retire_ctx *c = ud;
	struct pool *p = val;
	if (strcmp(p->scope, c->scope) != 0 || strcmp(p->name, c->name) != 0)
		return;
	/* published versions do not change: only $LATEST's pool starts over
	 * (a deleted and re-created function is told apart by its revision
	 * in pool_for); provisioned environments stay until their
	 * configuration is released (exec_unprovision) */
	if (!strcmp(p->version, "$LATEST"))
		p->revision[0] = '\0';
	retire(p, 0);
}

void pool_retire(struct exec *x, const char *scope, const char *name)
{
	struct retire_ctx c = { scope, name };
	strmap_each(x->pools, retire_cb, &c);
}

/* ---- provisioned concurrency ---- */

struct prov_report {
	server_t *srv;
	exec_provision_fn fn;
	char scope[96], key[400];
	int64_t token;
	int ready;
	const char *failure;
};

static void prov_report_cb(void *ud)
{
	struct prov_report *r = ud;
	r->fn(r->srv, r->scope, r->key, r->token, r->ready, r->failure);
	free(r);
}

static void prov_report(struct prov *pv, int ready, const char *failure)
{
	struct exec *x = pv->pool->x;
	struct prov_report *r = calloc(1, sizeof(*r));
	pv->reported = 1;
	if (!r || !pv->report) {
		free(r);
		return;
	}
	r->srv = x->srv;
	r->fn = pv->report;
	snprintf(r->scope, sizeof(r->scope), "%s", pv->scope);
	snprintf(r->key, sizeof(r->key), "%s", pv->key);
	r->token = pv->token;
	r->ready = ready;
	r->failure = failure;
	if (loop_defer(x->srv->loop, prov_report_cb, r))
		free(r);
}

/* lets go of pv's environments: idle and initialising ones now, busy ones
 * after their invocation */
static void prov_detach(struct prov *pv)
{
	for (struct env *e = pv->pool->envs; e; e = e->next) {
		if (e->prov != pv)
			continue;
		e->prov = NULL;
		if (e->state == ENV_IDLE || e->state == ENV_INIT)
			pool_kill(e);
		else
			e->retired = 1;
	}
}

/* starts or stops environments until pv has what it wants */
static void prov_fill(struct prov *pv)
{
	int live = 0;
	if (pv->failed)
		return;
	for (struct env *e = pv->pool->envs; e; e = e->next)
		if (e->prov == pv && !e->freeing && !e->retired)
			live++;
	/* fewer wanted: idle and initialising ones go first, then busy ones
	 * after their invocation */
	for (int pass = 0; pass < 2 && live > pv->want; pass++) {
		for (struct env *e = pv->pool->envs; e && live > pv->want; e = e->next) {
			if (e->prov != pv || e->freeing || e->retired)
				continue;
			if (e->state == ENV_IDLE || e->state == ENV_INIT) {
				e->prov = NULL;
				pool_kill(e);
				live--;
			} else if (pass == 1) {
				e->prov = NULL;
				e->retired = 1;
				live--;
			}
		}
	}
	while (live < pv->want) {
		struct env *e = NULL;
		ld_error_t err = { 0 };
		int rc = launch_env(pv->pool, NULL, pv, &e, &err);
		ld_error_clear(&err);
		if (rc) {
			pool_prov_failed(pv);
			return;
		}
		live++;
	}
}

void pool_prov_ready(struct prov *pv)
{
	int ready = 0;
	if (pv->failed || pv->reported)
		return;
	for (struct env *e = pv->pool->envs; e; e = e->next)
		if (e->prov == pv && !e->freeing && !e->retired && (e->state == ENV_IDLE || e->state == ENV_BUSY))
			ready++;
	if (ready >= pv->want) {
		prov_report(pv, pv->want, NULL);
		pool_notify_free(pv->pool->x, pv->scope, pv->name);
	}
}

void pool_prov_failed(struct prov *pv)
{
	if (pv->failed)
		return;
	pv->failed = 1;
	prov_detach(pv);
	prov_report(pv, 0, "FUNCTION_ERROR_INIT_FAILURE");
}

static struct prov *prov_find(struct exec *x, const char *scope, const char *key)
{
	for (struct prov *pv = x->provs; pv; pv = pv->next)
		if (!strcmp(pv->key, key) && !strcmp(pv->scope, scope))
			return pv;
	return NULL;
}

void pool_unprovision(struct exec *x, const char *scope, const char *key)
{
	struct prov *pv = prov_find(x, scope, key);
	if (!pv)
		return;
	for (struct prov **pp = &x->provs; *pp; pp = &(*pp)->next) {
		if (*pp == pv) {
			*pp = pv->next;
			break;
		}
	}
	prov_detach(pv);
	quota_provision(x->quota, pv->fn, -pv->want);
	pool_notify_free(x, pv->scope, NULL); /* the unreserved pool gets its share back */
	free(pv);
}

int pool_provision(struct exec *x, const struct exec_request *in, const char *key, int n, int64_t token,
		   exec_provision_fn on_report)
{
	struct prov *pv = prov_find(x, in->scope, key);
	if (pv && strcmp(pv->version, in->version) != 0) {
		pool_unprovision(x, in->scope, key); /* an alias moved: its old version's go */
		pv = NULL;
	}
	if (n <= 0) {
		pool_unprovision(x, in->scope, key);
		return 0;
	}
	struct pool *p = pool_for(x, in);
	if (!p)
		return LD_ENOMEM;
	if (pv && pv->want == n && pv->token == token && !pv->failed)
		return 0; /* nothing changed */
	if (!pv) {
		if (!(pv = calloc(1, sizeof(*pv))))
			return LD_ENOMEM;
		snprintf(pv->scope, sizeof(pv->scope), "%s", in->scope);
		snprintf(pv->name, sizeof(pv->name), "%s", in->name);
		snprintf(pv->key, sizeof(pv->key), "%s", key);
		snprintf(pv->version, sizeof(pv->version), "%s", in->version);
		pv->fn = p->fn;
		pv->next = x->provs;
		x->provs = pv;
	}
	quota_provision(x->quota, pv->fn, n - pv->want);
	pv->pool = p;
	pv->want = n;
	pv->token = token;
	pv->report = on_report;
	pv->reported = 0;
	pv->failed = 0;
	prov_fill(pv);
	pool_prov_ready(pv);
	return 0;
}

void pool_provisioned_keys(struct exec *x, const char *scope, const char *name, void (*fn)(void *ud, const char *key),
			   void *ud)
{
	/* fn may unprovision the key it is given */
	struct prov *next;
	for (struct prov *pv = x->provs; pv; pv = next) {
		next = pv->next;
		if (!strcmp(pv->name, name) && !strcmp(pv->scope, scope))
			fn(ud, pv->key);
	}
}

static void free_pool(void *val)
{
	struct pool *p = val;
	while (p->envs) {
		struct env *e = p->envs;
		p->envs = e->next;
		if (e->waiting) {
			rapi_abandon(e->waiting);
			e->waiting = NULL;
		}
		sandbox_kill(e->proc);
		launch_destroy(e);
	}
	json_decref(p->cfg);
	free(p);
}

void pool_free_all(struct exec *x)
{
	strmap_free(x->pools, free_pool);
	x->pools = NULL;
	while (x->provs) {
		struct prov *pv = x->provs;
		x->provs = pv->next;
		free(pv);
	}
}
