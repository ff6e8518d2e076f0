/*
 * exec.h - execution: environments, their pools, and the Runtime API.
 *
 * An execution environment is one sandboxed runtime process for one
 * function version (exec/sandbox.h), initialised once and reused while warm,
 * one invocation at a time. It talks to lambdad through the genuine Runtime
 * API (/2018-06-01/runtime/...) on a loopback port of its own; lambdad serves
 * every environment's port from one libmicrohttpd daemon on the event loop,
 * and knows which environment a connection belongs to by the port it came
 * in on. Environments of one function version form a pool: an invocation
 * takes an idle one (its runtime is waiting in GET /next) or starts a new
 * one; idle environments are reaped after --idle-timeout; a configuration
 * change (a new RevisionId of the version) retires the old pool.
 *
 * Each environment's stdout and stderr go to the function's log stream
 * (exec/envlog.h) with Lambda's START / END / REPORT lines. The types of
 * an invocation (request, result, callbacks) are in exec/request.h; how
 * the work is split among exec/'s modules, in exec/env.h.
 */
#ifndef LD_EXEC_H
#define LD_EXEC_H

#include <jansson.h>
#include <stdint.h>

#include "exec/request.h"
#include "server.h"

struct exec_options {
	int idle_timeout_s;        /* reap environments idle this long (300) */
	const char *runtimes_dir;  /* where runtimes/python etc. live */
	const char *const *runtime_overrides; /* "ID=PATH", NULL-terminated */
	const char *python_sdk;    /* --python-sdk: the directory holding the boto3 python runtimes get, or NULL */
	int sandbox_level;         /* -1: best the host allows; 0 process; 1 full */
	int cpu_proportional;      /* --function-cpu: 1 proportional (after init, MemorySize / 1769
				    * of a CPU, as Lambda), 0 unlimited */
	int function_network;      /* --function-network: EXEC_NET_* */
};

/* where environments' network is (docs/sandbox.md, Network) */
enum {
	EXEC_NET_DEFAULT = 0,          /* not said: main.c decides from the auth mode */
	EXEC_NET_HOST,                 /* the host's namespace, as the daemon */
	EXEC_NET_ISOLATED,             /* a namespace each (netns.h); the start fails where it cannot be */
	EXEC_NET_ISOLATED_OR_HOST,     /* the same, but the host's (said at start) where it cannot be */
};

/* Probes the sandbox and runtimes and starts the Runtime API server on the
 * loop. Logs what it found. 0, or LD_EIO / LD_ENOMEM. */
int exec_start(server_t *srv, const struct exec_options *opt);

/* The runtimes this host can run (exec/runtimes.h), or NULL when execution
 * is not running (then every runtime counts as missing). */
struct runtimes;
const struct runtimes *exec_runtimes(server_t *srv);

/* Whether this host runs container image functions (the full sandbox, as
 * root): 0, or LD_EINVAL with the reason (static storage) in *why. */
int exec_runs_images(server_t *srv, const char **why);

/* Kills every environment and stops the Runtime API server. */
void exec_stop(server_t *srv);

/* The function changed or was deleted: its idle environments are killed
 * now, busy ones when their invocation ends. */
void exec_forget(server_t *srv, const char *scope, const char *name);

/* Starts an invocation; done(ud, res) runs once, later, on the loop (never
 * from inside exec_invoke). 0, LD_ENOMEM, or LD_ETHROTTLED when the
 * concurrency limits leave no room for it (below): then nothing was taken,
 * done is never called, and *in->throttle_reason (when given) is AWS's
 * Reason. A throttled caller may simply try again later (the async queue
 * retries throttles with backoff; Invoke answers 429). */
int exec_invoke(server_t *srv, const struct exec_request *in, exec_done_fn done, void *ud);

/* ---- concurrency ----
 *
 * Counted as AWS counts it. An on-demand invocation occupies one unit of its
 * function's concurrency from the moment exec accepts it (an environment
 * initialising for it, then running it) until it ends. Provisioned
 * concurrency occupies its requested amount whole, whether its environments
 * are busy or idle, and invocations that run on them take nothing more.
 * Limits, per account (scope):
 *   - a function with reserved concurrency R: its on-demand invocations plus
 *     its provisioned concurrency stay <= R (R = 0 blocks every invoke);
 *     past it: EXEC_THROTTLE_RESERVED;
 *   - functions without a reservation share the unreserved pool: the account
 *     limit (--account-concurrency) less every reservation and less the
 *     provisioned concurrency of functions without one; past it:
 *     EXEC_THROTTLE_ACCOUNT.
 * An invocation of a version (or alias) with an idle provisioned environment
 * runs there first and is never throttled; otherwise it spills over to an
 * on-demand environment within the limits above.
 */

/* Whether an invocation of in (scope, name, version, cfg) could start now,
 * taking nothing: 0, or LD_ETHROTTLED with *reason one of the above. The
 * answer holds until the loop next runs. */
int exec_can_run(server_t *srv, const struct exec_request *in, const char **reason);

/* Room may have been freed for function (scope, name): one of its
 * invocations ended, or an environment became free; name NULL when a limit
 * of scope changed (a reservation, provisioned concurrency). Called on the
 * loop, possibly inside exec's own callbacks: the listener only schedules
 * work. One listener at a time (the async queue); fn NULL removes it. */
void exec_on_free(server_t *srv, exec_free_fn fn, void *ud);

/* The function's reserved concurrency (-1: none). The control plane calls it
 * on every change and at start-up (concurrency.c). */
void exec_set_reserved(server_t *srv, const char *scope, const char *name, int reserved);

/* Provisioned concurrency: keep n initialised environments for version
 * in->version (in->cfg its configuration), started without an invocation
 * (AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency), never reaped by
 * the idle timer, replaced when one dies. key names the configuration (the
 * "pcc" record NAME/QUALIFIER); calling again with the same key changes n,
 * the version (an alias moved: the old environments go) or the token. When
 * all n are initialised, or one fails to initialise (then all of them go),
 * on_report(srv, scope, key, token, ready, failure) runs on the loop, never
 * from inside exec_provision: failure is NULL or AWS's StatusReason. n = 0,
 * or exec_unprovision, releases them (busy ones after their invocation).
 * 0, LD_ENOMEM, or LD_EIO when execution is not running. */
int exec_provision(server_t *srv, const struct exec_request *in, const char *key, int n, int64_t token,
		   exec_provision_fn on_report);
void exec_unprovision(server_t *srv, const char *scope, const char *key);

/* Calls fn(ud, key) for every provisioned configuration of the function
 * (scope, name) that exec holds (to release the ones the store lost). */
void exec_provisioned_keys(server_t *srv, const char *scope, const char *name, void (*fn)(void *ud, const char *key),
			   void *ud);

#endif
