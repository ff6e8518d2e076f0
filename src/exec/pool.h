/*
 * pool.h - environments by function version (exec/ room, env.h).
 *
 * A pool holds the environments of one function version, keyed by scope,
 * name and version, with the configuration they were started with: when a
 * request brings a different one (code or settings changed), the old
 * environments are retired (idle ones killed, busy ones when their
 * invocation ends). pool_pick() finds an environment to take an invocation
 * now: an idle one, else one finishing its previous invocation. Idle
 * environments are reaped after the idle timeout; a killed environment is
 * freed at the end of the loop iteration, never inside its own callbacks.
 * Provisioned concurrency configurations (pool_provision: exec_provision)
 * keep their environments started and initialised, replace those that die,
 * and report READY or FAILED.
 */
#ifndef LD_POOL_H
#define LD_POOL_H

#include "exec/env.h"

/* The pool of in's function version, made on first use, its configuration
 * brought up to in->cfg's. NULL when out of memory. */
struct pool *pool_for(struct exec *x, const struct exec_request *in);

/* The environment with that id, or NULL. */
struct env *pool_env(struct exec *x, uint64_t id);

/* An environment of p that can take an invocation now (provisioned ones or
 * on-demand ones), or NULL. */
struct env *pool_pick(struct pool *p, int provisioned);

/* e waits in GET /next: parked idle (reaped after the idle timeout, unless
 * provisioned), or killed when it was retired. */
void pool_idle(struct env *e);

/* Kills e; it is freed at the end of this loop iteration, or after its
 * extensions' shutdown phase (e->reset says why it goes). */
void pool_kill(struct env *e);

/* Kills e's processes and frees it at the end of the loop iteration (the
 * end of pool_kill, or of e's shutdown phase: extensions.c). */
void pool_release(struct env *e);

/* The function (scope, name) changed or went: its idle environments are
 * killed, busy ones when their invocation ends ($LATEST starts over;
 * provisioned environments stay until released). */
void pool_retire(struct exec *x, const char *scope, const char *name);

/* Tells exec_on_free's listener that room may be free for (scope, name)
 * (name NULL: any function of scope). */
void pool_notify_free(struct exec *x, const char *scope, const char *name);

/* exec_provision, exec_unprovision and exec_provisioned_keys (exec.h) */
int pool_provision(struct exec *x, const struct exec_request *in, const char *key, int n, int64_t token,
		   exec_provision_fn on_report);
void pool_unprovision(struct exec *x, const char *scope, const char *key);
void pool_provisioned_keys(struct exec *x, const char *scope, const char *name, void (*fn)(void *ud, const char *key),
			   void *ud);

/* A provisioned environment initialised (READY once all have), or failed
 * to (FAILED: none of the configuration's are kept). */
void pool_prov_ready(struct prov *pv);
void pool_prov_failed(struct prov *pv);

/* Shutdown: frees every pool, environment and provisioned configuration
 * at once (their invocations were answered). */
void pool_free_all(struct exec *x);

#endif
