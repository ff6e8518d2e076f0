/*
 * launch.h - starting an execution environment, and taking it down (exec/
 * room, env.h).
 *
 * launch_env() does everything between "this pool needs an environment"
 * and a runtime process waiting to call GET /next: the function's code and
 * layers extracted once per digest under DATA/code and DATA/opt, a uid of
 * its own, a Runtime API port, the variables Lambda sets (and the
 * function's own), the execution role's credentials, the command line
 * (custom runtime bootstrap, or lambdad's runtime client behind
 * AWS_LAMBDA_EXEC_WRAPPER), the sandbox spec of the level (sandbox_ops:
 * the paths the function sees), the spawn, its trace in DATA/run, and its
 * output pipe, exit and init deadline on the loop, reported through
 * x->events. launch_destroy() releases all of it again.
 */
#ifndef LD_LAUNCH_H
#define LD_LAUNCH_H

#include "exec/env.h"
#include "util/err.h"

/* Starts an environment in pool p: for the invocation inv (taken from the
 * start: e->cur), or for the provisioned configuration prov (inv NULL).
 * The environment is in p's list and x->envs, in state ENV_INIT, when 0 is
 * returned (*out). Otherwise nothing is left and:
 *   LD_EAPI with *err: the runtime cannot run here (InvalidRuntimeException),
 *     no capacity (TooManyRequestsException "Rate Exceeded.");
 *   LD_ENOTFOUND with err->type "Runtime.InvalidEntrypoint": a custom
 *     runtime without a bootstrap (the invocation fails as on AWS);
 *   another LD_E* code. */
int launch_env(struct pool *p, struct invocation *inv, struct prov *prov, struct env **out, ld_error_t *err);

/* Reads what the runtime wrote that is still in its pipe into its log. */
void launch_drain(struct env *e);

/* Takes e's process tree and everything launch_env() gave it down (pipe,
 * pidfd, Runtime API port, cgroups, trace, credentials, uid, log) and frees
 * e. e must be out of its pool's list already. */
void launch_destroy(struct env *e);

/* Start-up: kills and removes what a killed daemon of this data directory
 * left (its traces in DATA/run), before anything runs. */
void launch_reap_leftovers(server_t *srv);

#endif
