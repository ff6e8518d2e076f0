/*
 * rapi.h - the Runtime API server (/2018-06-01/runtime/...).
 *
 * One libmicrohttpd daemon without a listening socket of its own serves
 * every execution environment: each environment gets a loopback listening
 * socket (its AWS_LAMBDA_RUNTIME_API port), rapi accepts on it and hands the
 * connection to the daemon tagged with the environment's id, so a request
 * always knows which environment sent it. The protocol work is here; what a
 * request means for the environment is decided by exec.c through the
 * rapi_on_* callbacks below (which exec.c defines).
 */
#ifndef LD_RAPI_H
#define LD_RAPI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

struct loop;
typedef struct rapi rapi_t;
struct rapi_next;   /* a runtime waiting in GET /invocation/next */

struct rapi_hooks;

/* Starts the daemon on the loop; what requests mean is decided by hooks
 * (exec.c's, or a test's), which get ud as their first argument. *out owned
 * by the caller. */
int rapi_start(struct loop *loop, const struct rapi_hooks *hooks, void *ud, rapi_t **out);
void rapi_stop(rapi_t *r);

/* Opens a loopback listening socket for environment env_id; *port is what
 * goes into AWS_LAMBDA_RUNTIME_API. owner_uid is the uid the environment's
 * processes run as, as the daemon's user namespace sees it: a connection
 * whose client socket belongs to any other uid (the kernel's socket owner,
 * looked up with NETLINK_SOCK_DIAG on accept), whose client end is already
 * closed, or whose owner cannot be looked up, is reset unserved (so one
 * environment cannot take another's invocations); (uid_t)-1 accepts any.
 * Returns the socket (owned by rapi until rapi_close_env) or a negative
 * LD_E* code. */
int rapi_open_env(rapi_t *r, uint64_t env_id, uid_t owner_uid, int *port);

/* The same for a listening socket made elsewhere: one bound to 127.0.0.1 in
 * the environment's own network namespace (netns.h), which only that
 * environment can reach, so no owner check. rapi owns fd from this call on
 * (closed on failure). Returns fd or a negative LD_E* code. */
int rapi_adopt_env(rapi_t *r, uint64_t env_id, int fd, int *port);

/* Stops accepting for the environment (its open connections end with it). */
void rapi_close_env(rapi_t *r, int listen_fd);

/* An invocation for a waiting runtime. All strings are copied. */
struct rapi_event {
	const char *request_id;
	int64_t deadline_ms;
	const char *invoked_arn;
	const char *trace_id;
	const char *client_context;  /* or NULL */
	buf_t *payload;              /* the event: taken (left empty), freed once sent */
};

/* Answers a waiting GET /next with an event. The handle is consumed. */
void rapi_deliver(struct rapi_next *n, const struct rapi_event *ev);

/* Answers a waiting GET /next with 500 (the environment is going away),
 * which tells a runtime to exit. The handle is consumed. */
void rapi_abandon(struct rapi_next *n);

/* ---- the Extensions API (/2020-01-01/extension/...) and the Telemetry and
 * Logs APIs (PUT /2022-07-01/telemetry, PUT /2020-08-15/logs): same port, same
 * owner check; rapi parses, exec/extensions.c decides ---- */
enum rapi_ext_op {
	RAPI_EXT_REGISTER,   /* POST /2020-01-01/extension/register */
	RAPI_EXT_NEXT,       /* GET  /2020-01-01/extension/event/next */
	RAPI_EXT_INIT_ERROR, /* POST /2020-01-01/extension/init/error */
	RAPI_EXT_EXIT_ERROR, /* POST /2020-01-01/extension/exit/error */
	RAPI_EXT_TELEMETRY,  /* PUT  /2022-07-01/telemetry */
	RAPI_EXT_LOGS,       /* PUT  /2020-08-15/logs */
};

/* One call. Headers are NULL when absent. */
struct rapi_ext_call {
	enum rapi_ext_op op;
	const char *name;       /* Lambda-Extension-Name */
	const char *id;         /* Lambda-Extension-Identifier */
	const char *error_type; /* Lambda-Extension-Function-Error-Type */
	const char *features;   /* Lambda-Extension-Accept-Feature */
	const char *body;       /* NUL-terminated */
	size_t len;
};

/* An answer: status, the JSON body (malloc'd; rapi frees it; NULL: none)
 * and the identifier headers to send (NULL: none). */
struct rapi_answer {
	unsigned status;
	char *body;
	const char *ext_id;     /* Lambda-Extension-Identifier */
	const char *event_id;   /* Lambda-Extension-Event-Identifier */
};

/* Fills *out with an error answer: status and {"errorMessage","errorType"}.
 * Returns 0 (the hook's "answered"). */
int rapi_error_answer(struct rapi_answer *out, unsigned status, const char *type, const char *msg);

/* Answers a kept GET /extension/event/next. The handle and a->body are
 * consumed; the strings are copied. */
void rapi_answer(struct rapi_next *n, const struct rapi_answer *a);

/* ---- what a request means: exec.c's hooks (a fuzz harness has its own) ---- */
struct rapi_hooks {

	/* GET /next from env_id: exec keeps n (and later delivers or abandons it),
	 * or returns a negative LD_E* code to refuse (403 InvalidStateTransition). */
	int (*on_next)(void *ud, uint64_t env_id, struct rapi_next *n);

	/* POST /invocation/{id}/response (is_error 0) or /error (1), or a response
	 * past the 6 MB + 100 limit (2: body is NULL, the runtime gets 413). The
	 * body is rapi's buffer: the hook may take it (move it out, leaving it
	 * empty) instead of copying. Returns 0
	 * (202 accepted), LD_ENOTFOUND (400 InvalidRequestID) or LD_EINVAL (403
	 * InvalidStateTransition). */
	int (*on_result)(void *ud, uint64_t env_id, const char *request_id, int is_error, const char *error_type,
			 buf_t *body, const char *content_type);

	/* A streamed response (POST .../response with
	 * Lambda-Runtime-Function-Response-Mode: streaming, chunked): each piece of
	 * the body as it arrives. 0 to go on; LD_ETOOBIG when the response passed
	 * its limit (rapi discards the rest and reports the end with oversized 1);
	 * LD_ENOTFOUND / LD_EINVAL when the invocation is gone (the rest is
	 * discarded, the runtime gets the usual error). */
	int (*on_chunk)(void *ud, uint64_t env_id, const char *request_id, const char *data, size_t len,
			const char *content_type);

	/* The end of a streamed response: error_type and error_body are the
	 * Lambda-Runtime-Function-Error-Type / -Body trailers (the body base64 as
	 * sent) or NULL; oversized: the limit was passed. Same returns as
	 * rapi_on_result. */
	int (*on_stream_end)(void *ud, uint64_t env_id, const char *request_id, const char *content_type, int oversized,
			     const char *error_type, const char *error_body);

	/* POST /init/error. */
	void (*on_init_error)(void *ud, uint64_t env_id, const char *error_type, const char *body, size_t len);

	/* A call of the Extensions, Telemetry or Logs API. Returns 0 with the
	 * answer in *out, or (RAPI_EXT_NEXT only) 1: the hook kept n and
	 * answers later with rapi_answer() or rapi_abandon(). n is NULL for
	 * other calls. */
	int (*on_ext)(void *ud, uint64_t env_id, const struct rapi_ext_call *call, struct rapi_next *n,
		      struct rapi_answer *out);
};

#endif
