/*
 * quota.h - concurrency accounting, as AWS counts it (exec.h "concurrency").
 *
 * Per function (scope "ACCOUNT:REGION", name): its reservation (-1: none),
 * its on-demand invocations in flight, and the provisioned concurrency its
 * configurations hold. Per scope, running totals: the sum of reservations,
 * and the in-flight and provisioned units of the functions without one.
 * Every change updates the totals, so whether one more invocation fits is
 * answered in constant time, never by walking every function:
 *   - a function with reservation R: inflight + provisioned + 1 <= R;
 *   - any other: the scope's unreserved pool, the account limit less every
 *     reservation and less the provisioned units of functions without one,
 *     must hold one more than their in-flight invocations.
 * Pure bookkeeping: no loop, no processes (tests/unit/test_quota.c).
 */
#ifndef LD_QUOTA_H
#define LD_QUOTA_H

typedef struct quota quota_t;
typedef struct quota_fn quota_fn_t;

/* Accounting for an account limit of `limit` concurrent executions per
 * scope. *out the caller's (quota_free). 0 or LD_ENOMEM. */
int quota_new(int limit, quota_t **out);
void quota_free(quota_t *q);

/* The function's account, made on first use (NULL: out of memory). Lives
 * until quota_free. */
quota_fn_t *quota_fn(quota_t *q, const char *scope, const char *name);

/* NULL when one more on-demand invocation of f fits now, else AWS's Reason
 * (EXEC_THROTTLE_RESERVED or EXEC_THROTTLE_ACCOUNT of request.h). */
const char *quota_check(const quota_t *q, const quota_fn_t *f);

/* An on-demand invocation of f starts (taken) or ends (released). */
void quota_take(quota_t *q, quota_fn_t *f);
void quota_release(quota_t *q, quota_fn_t *f);

/* f's reservation becomes reserved (-1: none). Returns 1 if it changed. */
int quota_set_reserved(quota_t *q, quota_fn_t *f, int reserved);

/* The provisioned concurrency that f's configurations hold changes by delta. */
void quota_provision(quota_t *q, quota_fn_t *f, int delta);

/* Reading an account (scope and name are the function's). */
const char *quota_fn_scope(const quota_fn_t *f);
const char *quota_fn_name(const quota_fn_t *f);
int quota_fn_inflight(const quota_fn_t *f);
int quota_fn_reserved(const quota_fn_t *f);

/* The scope's unreserved pool and how much of it is in use (for tests and metrics). */
long quota_unreserved(const quota_t *q, const char *scope, long *in_use);

#endif
