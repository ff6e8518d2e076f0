/*
 * door.h - the one door into execution.
 *
 * Everything that runs a function comes through door_invoke(): Invoke and
 * InvokeWithResponseStream (api/invoke.c), the async queue (exec/async.c,
 * which also carries destinations' Lambda targets), function URLs
 * (api/urlserve.c), and the event source pollers. The door resolves the
 * target as AWS does, from the function and the qualifier as invoked:
 * unqualified or $LATEST, a version, or an alias, whose RoutingConfig sends
 * a weighted share to its second version; refuses a version that is not
 * Active; and hands the invocation to exec_invoke() within the concurrency
 * limits. Callers word nothing themselves: every refusal comes back as
 * AWS's error in an ld_error_t.
 */
#ifndef LD_DOOR_H
#define LD_DOOR_H

#include <jansson.h>
#include <stddef.h>

#include "exec/exec.h"
#include "server.h"
#include "util/err.h"

struct door_call {
	/* in: borrowed until door_invoke returns */
	const char *scope;          /* "ACCOUNT:REGION" */
	const char *name;
	const char *qualifier;      /* as invoked: "" or NULL (unqualified), $LATEST, a version, an alias */
	const char *payload;        /* the event */
	size_t payload_len;
	buf_t *payload_buf;         /* optional: the buffer payload points into, taken over by exec (exec.h) */
	const char *client_context; /* decoded client context JSON, or NULL */
	int want_tail;              /* LogType Tail */
	const char *request_id;     /* the invocation's id, or NULL for a new one */
	exec_chunk_fn on_chunk;     /* the caller takes a streamed response as it comes (exec.h) */
	int resolve_only;           /* resolve and check, run nothing (DryRun, Event before queueing) */
	/* the caller's own checks of the request, run once the target is
	 * resolved and Active and before anything runs (so that AWS's order of
	 * errors holds): non-zero aborts door_invoke with that code; it may set
	 * client_context. NULL: none */
	int (*check)(void *ud, struct door_call *c);
	void *check_ud;
	/* out */
	char version[24];           /* the version that runs (or would run): ExecutedVersion */
	json_t *config;             /* its configuration, a shared read-only document (json_decref; may be NULL) */
};

/* Resolves c's target and, unless c->resolve_only, starts the invocation:
 * done(ud, res) runs later, on the loop, exactly once. Returns 0 then, or
 * LD_EAPI with *err set to AWS's error and nothing started:
 *   ResourceNotFoundException  "Function not found: arn:...:function:NAME:QUALIFIER" ($LATEST when unqualified)
 *   ResourceConflictException  the version is not Active (Pending, Failed, Inactive)
 *   TooManyRequestsException   "Rate Exceeded." with AWS's Reason (exec.h): no concurrency left now; the
 *                              call returns LD_ETHROTTLED instead of LD_EAPI so that a queue can hold it
 * or c->check's non-zero code, or another LD_E* (store, memory). c->version and c->config are set
 * whenever the target was resolved (success and throttles alike). */
int door_invoke(server_t *srv, struct door_call *c, exec_done_fn done, void *ud, ld_error_t *err);

#endif
