/*
 * request.h - what an invocation is: the request exec takes, the result it
 * gives back, and the callbacks and reasons around them. Shared by exec's
 * API (exec.h), its rooms (env.h) and its callers; declares no functions.
 */
#ifndef LD_EXEC_REQUEST_H
#define LD_EXEC_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "util/buf.h"
#include "util/err.h"

/* AWS's Reasons of a throttle (TooManyRequestsException) */
#define EXEC_THROTTLE_RESERVED "ReservedFunctionConcurrentInvocationLimitExceeded"
#define EXEC_THROTTLE_ACCOUNT "ConcurrentInvocationLimitExceeded"

/* A piece of a streamed response, as the runtime sends it (exec_request's
 * on_chunk): data is valid during the call only; content_type is the
 * runtime's Content-Type (or NULL), the same on every call. */
typedef void (*exec_chunk_fn)(void *ud, const char *data, size_t len, const char *content_type);

/* A streamed response may reach QUOTA_STREAM_RESPONSE (quotas.h); past it
 * the runtime gets 413 and the result is a Function.ResponseSizeTooLarge
 * error. */

/* What an invocation needs. The caller fills it; exec copies what it keeps. */
struct exec_request {
	const char *scope;          /* "ACCOUNT:REGION" */
	const char *name;           /* function name */
	const char *version;        /* "$LATEST" or "7" (the executed version) */
	json_t *cfg;                /* that version's configuration (borrowed) */
	const char *invoked_arn;    /* the ARN the caller used, with its qualifier */
	const char *payload;        /* event bytes (borrowed until exec_invoke returns) */
	size_t payload_len;
	/* optional: the buffer payload points into, which exec takes over
	 * (leaving it empty) instead of copying the bytes */
	buf_t *payload_buf;
	const char *client_context; /* decoded client context JSON, or NULL */
	int want_tail;              /* LogType Tail */
	const char *request_id;     /* the invocation's id (the API request's), or NULL for a new one */
	const char **throttle_reason; /* out, optional: set when exec_invoke returns LD_ETHROTTLED */
	/* optional: the caller takes streamed responses chunk by chunk (called
	 * on the loop, before done); without it a streamed response is
	 * collected and answered whole (6 MB + 100 at most), as AWS's Invoke
	 * does for streaming functions */
	exec_chunk_fn on_chunk;
};

/* How it ended. Owned by exec; valid during the callback only, except the
 * body, which the callback may take (move it out and buf_init it). */
struct exec_result {
	int ok;                     /* 1: the runtime answered (success or function error) */
	const char *function_error; /* "Unhandled" for errors, NULL on success */
	const char *payload;        /* response or error document (in body, or static) */
	size_t payload_len;
	buf_t body;                 /* the bytes payload points into, when they are exec's */
	const char *content_type;
	const char *log_tail;       /* base64 of the last 4 KB of this invocation's log, or NULL */
	int streamed;               /* the response went out through on_chunk (payload: only an error document) */
	const char *error_type;     /* for errors, when known: the runtime's error type or the platform's
				       (Sandbox.Timedout, Runtime.ExitError, Function.ResponseSizeTooLarge) */
	ld_error_t err;             /* when !ok: the AWS API error to answer with (e.g. an unusable runtime) */
	double duration_ms;         /* the function's run time (REPORT's Duration), -1 when it never ran */
};

/* an invocation ended (exec_invoke's done) */
typedef void (*exec_done_fn)(void *ud, struct exec_result *res);

/* provisioned concurrency is READY or FAILED (exec_provision in exec.h) */
typedef void (*exec_provision_fn)(server_t *srv, const char *scope, const char *key, int64_t token, int ready,
				  const char *failure);

/* room may be free for a function (exec_on_free in exec.h) */
typedef void (*exec_free_fn)(void *ud, const char *scope, const char *name);

#endif
